"""Layers that move, select, pad or resize data without weights."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import ShapeError
from . import fields as f
from .activation import normalize_dim
from .base import NO_FIELD, Cost, Layer, Shape, Window, interpolation, option, per_axis, product, register
from .base import resolve_padding


@register("identity", "dropout", "drop_path", "stochastic_depth")
@dataclass(frozen=True, kw_only=True)
class Passthrough(Layer):
    """Output = input: dropout and stochastic depth (drop_path, torchvision's StochasticDepth) at
    inference; a view, allocates nothing."""

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        return Cost(shape=inputs[0], view=True)


@register("flatten")
@dataclass(frozen=True, kw_only=True)
class Flatten(Layer):
    """All per-sample axes into one, [C, H, W] -> [C*H*W] (torch.nn.Flatten()); a view."""

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        return Cost(shape=(product(inputs[0]),), view=True, field=NO_FIELD)


@register("reshape")
@dataclass(frozen=True, kw_only=True)
class Reshape(Layer):
    """A new per-sample shape with the same element count; -1 once for the inferred size; a view."""

    shape: tuple[int, ...] = option(parse=f.int_list, doc="per-sample shape, -1 allowed once")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        total = product(inputs[0])
        known = product(tuple(size for size in self.shape if size != -1))
        unknown = self.shape.count(-1)
        if unknown > 1 or any(size < 1 and size != -1 for size in self.shape):
            raise ShapeError(f"shape {list(self.shape)} is not valid", "sizes >= 1, with -1 at most once")
        if (unknown and total % known) or (not unknown and known != total):
            raise ShapeError(f"cannot reshape {list(inputs[0])} ({total} elements) to {list(self.shape)}")
        out = tuple(total // known if size == -1 else size for size in self.shape)
        return Cost(shape=out, view=True, field=NO_FIELD)


@register("permute")
@dataclass(frozen=True, kw_only=True)
class Permute(Layer):
    """Reorders the per-sample axes (0 = channels); counted as a copy, as .contiguous() makes one."""

    dims: tuple[int, ...] = option(parse=f.int_list, doc="new order of the per-sample axes")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        (shape,) = inputs
        order = tuple(normalize_dim(dim, len(shape), "dims entry") for dim in self.dims)
        if sorted(order) != list(range(len(shape))):
            raise ShapeError(f"dims {list(self.dims)} is not a permutation of the {len(shape)} axes")
        return Cost(shape=tuple(shape[axis] for axis in order), field=NO_FIELD)


@register("slice")
@dataclass(frozen=True, kw_only=True)
class Slice(Layer):
    """Elements start..end (end excluded, negative from the end) of one axis, channels by default."""

    dim: int = option(0, parse=f.integer, doc="axis to slice (0 = channels)")
    start: int = option(0, parse=f.integer, doc="first index kept")
    end: int | None = option(None, parse=f.optional(f.integer), doc="index after the last kept (default: the end)")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        (shape,) = inputs
        axis = normalize_dim(self.dim, len(shape))
        size = len(range(shape[axis])[self.start:self.end])
        if size < 1:
            raise ShapeError(f"slice {self.start}:{self.end} of an axis of {shape[axis]} is empty")
        return Cost(shape=shape[:axis] + (size,) + shape[axis + 1:], field=NO_FIELD if axis else "pointwise")


@register("pad")
@dataclass(frozen=True, kw_only=True)
class Pad(Layer):
    """Padding of the spatial axes, in the forms a convolution takes."""

    padding: Any = option(parse=f.paddings, doc="n, [n, ...] or [[begin, end], ...] per spatial axis")
    mode: str = option("constant", parse=f.choice("constant", "reflect", "replicate", "circular"),
                       doc="what fills the border")
    value: float = option(0.0, parse=f.number, doc="fill value for constant mode")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        (shape,) = inputs
        rank = len(shape) - 1
        if rank < 1 or self.padding in ("same", "valid"):
            raise ShapeError("pad expects spatial axes and numbers for padding")
        pads = resolve_padding(self.padding, shape[1:], (1,) * rank, (1,) * rank, (1,) * rank)
        for size, pair in zip(shape[1:], pads):  # PyTorch's limits: reflect mirrors, circular wraps once
            if (self.mode == "reflect" and max(pair) >= size) or (self.mode == "circular" and max(pair) > size):
                limit = "smaller than" if self.mode == "reflect" else "at most"
                raise ShapeError(f"{self.mode} padding {max(pair)} on an axis of {size}",
                                 f"{self.mode} padding must be {limit} the size of the axis it pads")
        out = tuple(size + begin + end for size, (begin, end) in zip(shape[1:], pads))
        window = Window((1,) * rank, (1,) * rank, (1,) * rank, tuple(pad[0] for pad in pads))
        return Cost(shape=(shape[0], *out), field=window)


@register("channel_shuffle")
@dataclass(frozen=True, kw_only=True)
class ChannelShuffle(Layer):
    """ShuffleNet's channel shuffle: shape unchanged, a copy."""

    groups: int = option(parse=f.count, doc="groups the channels are interleaved from")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        (shape,) = inputs
        if len(shape) < 2:
            raise ShapeError(f"channel_shuffle expects [C, spatial...]; got {list(shape)}", "as PyTorch's does")
        if shape[0] % self.groups:
            raise ShapeError(f"groups {self.groups} does not divide {shape[0]} channels")
        return Cost(shape=shape)


@register("pixel_shuffle")
@dataclass(frozen=True, kw_only=True)
class PixelShuffle(Layer):
    """[C*r*r, H, W] -> [C, H*r, W*r] (torch.nn.PixelShuffle)."""

    upscale_factor: int = option(parse=f.count, doc="r")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        (shape,) = inputs
        r = self.upscale_factor
        if len(shape) != 3 or shape[0] % (r * r):
            raise ShapeError(f"pixel_shuffle with factor {r} needs [C, H, W] with C divisible by {r * r}; "
                             f"got {list(shape)}")
        return Cost(shape=(shape[0] // (r * r), shape[1] * r, shape[2] * r),
                    field=interpolation(shape[1:], (shape[1] * r, shape[2] * r), 1))  # o reads o // r


# Output elements are weighted sums of 2**axes neighbours: 2**axes multiplies, 2**axes - 1 adds.
_INTERPOLATION = {"nearest": (None, 0), "linear": (1, 3), "bilinear": (2, 7), "bicubic": (2, 31),
                  "trilinear": (3, 15)}
_TAPS = {"nearest": 1, "linear": 2, "bilinear": 2, "bicubic": 4, "trilinear": 2}  # input positions per axis


@register("upsample")
@dataclass(frozen=True, kw_only=True)
class Upsample(Layer):
    """Resize by scale_factor (out = floor(in * scale)), to size, or with from: [x, ref] to ref's size."""

    arity = "many"
    full_rule = ("per output element: nearest 0, linear 3, bilinear 7, bicubic 31 (16 multiplies, 15 adds), "
                 "trilinear 15; computing the weights is not counted")

    scale_factor: Any = option(None, parse=f.optional(f.scales), doc="factor, one number or one per axis")
    size: Any = option(None, parse=f.optional(f.sizes), doc="output size, one number or one per axis")
    mode: str = option("nearest", parse=f.choice(*_INTERPOLATION), doc="interpolation")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        shape, rank = inputs[0], len(inputs[0]) - 1
        axes, per_output = _INTERPOLATION[self.mode]
        if rank < 1 or (axes is not None and axes != rank):
            raise ShapeError(f"mode {self.mode} does not apply to input {list(shape)}")
        given = [name for name, value in (("scale_factor", self.scale_factor), ("size", self.size))
                 if value is not None] + (["a reference input"] if len(inputs) > 1 else [])
        if len(given) != 1 or len(inputs) > 2:
            raise ShapeError(f"upsample takes exactly one of scale_factor, size or from: [x, ref]; got "
                             f"{', '.join(given) or 'none'}")
        if len(inputs) == 2:
            if len(inputs[1]) != len(shape):
                raise ShapeError(f"reference {list(inputs[1])} has a different rank from {list(shape)}")
            out = inputs[1][1:]
        elif self.size is not None:
            out = per_axis("size", self.size, rank)
        else:
            scales = self.scale_factor if isinstance(self.scale_factor, tuple) else (self.scale_factor,) * rank
            if len(scales) != rank:
                raise ShapeError(f"scale_factor has {len(scales)} entries for {rank} spatial axes")
            try:
                out = tuple(int(size * scale) for size, scale in zip(shape[1:], scales))
            except OverflowError:  # past the largest float
                raise ShapeError(f"scale_factor {self.scale_factor} makes an output too large to count from "
                                 f"{list(shape)}", "give a scale factor that keeps the output a real size") from None
            if min(out) < 1:
                raise ShapeError(f"scale_factor {self.scale_factor} makes an empty output from {list(shape)}")
        return Cost(shape=(shape[0], *out), full_flops=per_output * shape[0] * product(out),
                    field=interpolation(shape[1:], tuple(out), _TAPS[self.mode]))
