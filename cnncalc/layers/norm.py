"""Normalizations and the learned per-channel scale."""

from __future__ import annotations

from typing import Any

from ..errors import ShapeError
from . import fields as f
from .base import Cost, Layer, Shape, option, product, register, spatial_rank


def _channels(declared: int | None, shape: Shape) -> int:
    if not shape:
        raise ShapeError("normalization expects at least a channel axis")
    if declared is not None and declared != shape[0]:
        raise ShapeError(f"num_features is {declared} but the input has {shape[0]} channels",
                         f"remove num_features or make it {shape[0]}")
    return shape[0]


@register("batchnorm", "batchnorm1d", "batchnorm2d", "batchnorm3d")
class BatchNorm(Layer):
    """Batch normalization (torch.nn.BatchNorm1d/2d/3d).

    params = 2*C if affine (weight, bias); buffers = 2*C if track_running_stats
    (running mean and variance; PyTorch's one-element num_batches_tracked counter is not counted).
    batchnorm1d takes [C] or [C, L], as PyTorch does.
    """

    full_rule = "per element: 2 (inference: the statistics fold into one multiply and one add)"

    affine: bool = option(True, parse=f.flag, doc="learned weight and bias per channel")
    track_running_stats: bool = option(True, parse=f.flag, doc="keep running mean and variance (buffers)")
    num_features: int | None = option(None, parse=f.optional(f.count), doc="must agree with the input")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        (shape,) = inputs
        if self.kind == "batchnorm1d":
            if len(shape) not in (1, 2):
                raise ShapeError(f"batchnorm1d expects input [C] or [C, L]; got {list(shape)}")
        elif self.kind != "batchnorm":
            spatial_rank(self.kind, shape, "batch normalization")
        channels = _channels(self.num_features, shape)
        return Cost(shape=shape, params=2 * channels if self.affine else 0,
                    buffers=2 * channels if self.track_running_stats else 0, full_flops=2 * product(shape))


_STATISTICS_FLOPS = 6  # mean (1 add), variance (subtract, square, add), normalize (subtract, multiply)
_AFFINE_FLOPS = 2


@register("layernorm")
class LayerNorm(Layer):
    """Layer normalization (torch.nn.LayerNorm).

    By default over the channels at each position (ConvNeXt's LayerNorm2d): params 2*C.
    With normalized_shape, over those trailing axes as PyTorch does: params 2*prod(normalized_shape).
    """

    full_rule = "per element: 6 (statistics and normalization), +2 with affine; per-group eps and rsqrt not counted"

    normalized_shape: Any = option(None, parse=f.optional(f.count_or_list), doc="trailing axes to normalize over")
    affine: bool = option(True, parse=f.flag, doc="learned weight and bias (elementwise_affine)")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        (shape,) = inputs
        if self.normalized_shape is None:
            normalized = shape[0]
        else:
            axes = (self.normalized_shape,) if isinstance(self.normalized_shape, int) else self.normalized_shape
            if tuple(shape[len(shape) - len(axes):]) != tuple(axes) or len(axes) > len(shape):
                raise ShapeError(f"normalized_shape {list(axes)} does not match the trailing axes of {list(shape)}")
            normalized = product(axes)
        per_element = _STATISTICS_FLOPS + (_AFFINE_FLOPS if self.affine else 0)
        return Cost(shape=shape, params=2 * normalized if self.affine else 0,
                    full_flops=per_element * product(shape))


@register("rmsnorm")
class RMSNorm(Layer):
    """Root-mean-square normalization over the given trailing axes (torch.nn.RMSNorm):
    x / sqrt(mean(x^2) + eps) * weight; params prod(normalized_shape) if affine."""

    full_rule = ("per element: 3 (square, add, multiply by the inverse root), +1 with affine; "
                 "per-group rsqrt not counted")

    normalized_shape: Any = option(parse=f.count_or_list, doc="trailing axes to normalize over, e.g. C")
    affine: bool = option(True, parse=f.flag, doc="learned weight (elementwise_affine)")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        (shape,) = inputs
        axes = (self.normalized_shape,) if isinstance(self.normalized_shape, int) else self.normalized_shape
        if len(axes) > len(shape) or tuple(shape[len(shape) - len(axes):]) != tuple(axes):
            raise ShapeError(f"normalized_shape {list(axes)} does not match the trailing axes of {list(shape)}",
                             f"give the sizes of the last axes, e.g. {shape[-1]}")
        return Cost(shape=shape, params=product(axes) if self.affine else 0,
                    full_flops=(3 + self.affine) * product(shape))


@register("groupnorm")
class GroupNorm(Layer):
    """Group normalization (torch.nn.GroupNorm): params 2*C if affine; num_groups divides C."""

    full_rule = "per element: 6 (statistics and normalization), +2 with affine; per-group eps and rsqrt not counted"

    num_groups: int = option(parse=f.count, doc="groups the channels are split into")
    affine: bool = option(True, parse=f.flag, doc="learned weight and bias per channel")
    num_channels: int | None = option(None, parse=f.optional(f.count), doc="must agree with the input")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        (shape,) = inputs
        channels = _channels(self.num_channels, shape)
        if channels % self.num_groups:
            raise ShapeError(f"num_groups {self.num_groups} does not divide {channels} channels")
        per_element = _STATISTICS_FLOPS + (_AFFINE_FLOPS if self.affine else 0)
        return Cost(shape=shape, params=2 * channels if self.affine else 0,
                    full_flops=per_element * product(shape))


@register("instancenorm", "instancenorm1d", "instancenorm2d", "instancenorm3d")
class InstanceNorm(Layer):
    """Instance normalization (torch.nn.InstanceNorm1d/2d/3d): affine off by default as in PyTorch;
    params 2*C if affine, buffers 2*C if track_running_stats."""

    full_rule = "per element: 6 (statistics and normalization), +2 with affine; per-group eps and rsqrt not counted"

    affine: bool = option(False, parse=f.flag, doc="learned weight and bias per channel")
    track_running_stats: bool = option(False, parse=f.flag, doc="keep running mean and variance (buffers)")
    num_features: int | None = option(None, parse=f.optional(f.count), doc="must agree with the input")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        (shape,) = inputs
        spatial_rank(self.kind, shape, "instance normalization")
        channels = _channels(self.num_features, shape)
        per_element = _STATISTICS_FLOPS + (_AFFINE_FLOPS if self.affine else 0)
        return Cost(shape=shape, params=2 * channels if self.affine else 0,
                    buffers=2 * channels if self.track_running_stats else 0,
                    full_flops=per_element * product(shape))


@register("lrn")
class LocalResponseNorm(Layer):
    """Local response normalization across channels (torch.nn.LocalResponseNorm); no parameters.

    b = a / (k + alpha/size * sum of a^2 over `size` neighbouring channels)^beta
    """

    full_rule = "per element: 2*size + 3 (size squares, size-1 adds, scale, add k, power, divide)"

    size: int = option(parse=f.count, doc="neighbouring channels summed over")
    alpha: float = option(1e-4, parse=f.number, doc="scale of the sum")
    beta: float = option(0.75, parse=f.number, doc="exponent")
    k: float = option(1.0, parse=f.number, doc="additive constant")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        (shape,) = inputs
        if len(shape) < 2:
            raise ShapeError(f"lrn expects [C, spatial...]; got {list(shape)}", "as PyTorch's LocalResponseNorm does")
        return Cost(shape=shape, full_flops=(2 * self.size + 3) * product(shape))


@register("scale")
class Scale(Layer):
    """A learned per-channel multiply (ConvNeXt layer scale, Caffe Scale): C params, +C with bias."""

    full_rule = "per element: 1 multiply, +1 add with bias"

    bias: bool = option(False, parse=f.flag, doc="learned bias per channel")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        (shape,) = inputs
        channels = _channels(None, shape)
        return Cost(shape=shape, params=channels * (2 if self.bias else 1),
                    full_flops=(1 + self.bias) * product(shape))
