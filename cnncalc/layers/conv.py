"""Convolutions, transposed convolutions and the dense (linear) layer."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..errors import ShapeError
from . import fields as f
from .base import NO_FIELD, Cost, Layer, Resample, Shape, Window, option, per_axis, product, register
from .base import resolve_padding, spatial_rank, window_outputs
from .scatter import landing


def _check_channels(declared: int | None, actual: int, name: str) -> None:
    if declared is not None and declared != actual:
        raise ShapeError(f"{name} is {declared} but the input has {actual}", f"remove {name} or make it {actual}")


def _check_groups(groups: int, in_channels: int, out_channels: int) -> None:
    if in_channels % groups or out_channels % groups:
        raise ShapeError(
            f"groups {groups} does not divide in_channels {in_channels} and out_channels {out_channels}",
            "groups must divide both channel counts",
        )


@register("conv", "conv1d", "conv2d", "conv3d")
@dataclass(frozen=True, kw_only=True)
class Convolution(Layer):
    """Convolution over 1, 2 or 3 spatial axes (torch.nn.Conv1d/2d/3d).

    out = floor((in + p_begin + p_end - d*(k-1) - 1) / s) + 1 per axis
    params = out_c * (in_c/groups) * prod(k) + out_c if bias
    MACs = out_c * prod(out) * (in_c/groups) * prod(k)
    """

    full_rule = "per output element: 2*fan_in - 1, +1 with bias (fan_in = in_c/groups * prod(k))"

    out_channels: int = option(parse=f.count, doc="output channels")
    kernel_size: Any = option(parse=f.sizes, doc="kernel size, one number or one per axis")
    stride: Any = option(1, parse=f.sizes, doc="step between windows")
    padding: Any = option(0, parse=f.paddings, doc="zeros added: n, [n, ...], [[begin, end], ...], same, valid")
    dilation: Any = option(1, parse=f.sizes, doc="spacing between kernel taps")
    groups: int = option(1, parse=f.count, doc="channel groups (in_c for depthwise)")
    bias: bool = option(True, parse=f.flag, doc="learned bias per output channel")
    in_channels: int | None = option(None, parse=f.optional(f.count), doc="must agree with the input")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        (shape,) = inputs
        rank = spatial_rank(self.kind, shape, "convolution")
        in_channels, sizes = shape[0], shape[1:]
        _check_channels(self.in_channels, in_channels, "in_channels")
        _check_groups(self.groups, in_channels, self.out_channels)
        kernel = per_axis("kernel_size", self.kernel_size, rank)
        stride = per_axis("stride", self.stride, rank)
        dilation = per_axis("dilation", self.dilation, rank)
        pads = resolve_padding(self.padding, sizes, kernel, stride, dilation)
        out_sizes = window_outputs(sizes, kernel, stride, pads, dilation)
        fan_in = in_channels // self.groups * product(kernel)
        outputs = self.out_channels * product(out_sizes)
        return Cost(
            shape=(self.out_channels, *out_sizes),
            params=self.out_channels * fan_in + (self.out_channels if self.bias else 0),
            macs=outputs * fan_in,
            full_flops=outputs * (2 * fan_in - 1 + self.bias),
            field=Window(kernel, stride, dilation, tuple(pad[0] for pad in pads)),
        )


@register("conv_transpose", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
@dataclass(frozen=True, kw_only=True)
class TransposedConvolution(Layer):
    """Transposed convolution (torch.nn.ConvTranspose1d/2d/3d).

    out = (in-1)*s - p_begin - p_end + d*(k-1) + output_padding + 1 per axis
    params = in_c * (out_c/groups) * prod(k) + out_c if bias
    MACs = in_c * prod(in) * (out_c/groups) * prod(k): every input element meets every tap
    """

    full_rule = ("a multiply per MAC, and per output element one add fewer than the products that land on it "
                 "(2*MACs - output elements when every product lands and every output gets one), "
                 "+ output elements with bias")

    out_channels: int = option(parse=f.count, doc="output channels")
    kernel_size: Any = option(parse=f.sizes, doc="kernel size, one number or one per axis")
    stride: Any = option(1, parse=f.sizes, doc="upsampling step")
    padding: Any = option(0, parse=f.paddings, doc="cropped from each side: n, [n, ...], [[begin, end], ...]")
    output_padding: Any = option(0, parse=f.sizes_or_zero, doc="added to one side of the output")
    dilation: Any = option(1, parse=f.sizes, doc="spacing between kernel taps")
    groups: int = option(1, parse=f.count, doc="channel groups")
    bias: bool = option(True, parse=f.flag, doc="learned bias per output channel")
    in_channels: int | None = option(None, parse=f.optional(f.count), doc="must agree with the input")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        (shape,) = inputs
        rank = spatial_rank(self.kind, shape, "transposed convolution")
        in_channels, sizes = shape[0], shape[1:]
        _check_channels(self.in_channels, in_channels, "in_channels")
        _check_groups(self.groups, in_channels, self.out_channels)
        if self.padding in ("same", "valid"):
            raise ShapeError(f"padding '{self.padding}' does not apply to a transposed convolution",
                             "give the cropping as numbers")
        kernel = per_axis("kernel_size", self.kernel_size, rank)
        stride = per_axis("stride", self.stride, rank)
        dilation = per_axis("dilation", self.dilation, rank)
        extra = per_axis("output_padding", self.output_padding, rank)
        pads = resolve_padding(self.padding, sizes, kernel, stride, dilation)
        out_sizes = []
        for size, k, s, d, (begin, end), more in zip(sizes, kernel, stride, dilation, pads, extra):
            if more >= max(s, d):
                raise ShapeError(f"output_padding {more} must be smaller than stride {s} or dilation {d}")
            out = (size - 1) * s - begin - end + d * (k - 1) + more + 1
            if out < 1:
                raise ShapeError(f"output size {out} from input {size}: padding {begin}+{end} crops too much")
            out_sizes.append(out)
        macs = product(shape) * self.out_channels // self.groups * product(kernel)
        outputs = self.out_channels * product(tuple(out_sizes))
        # Products cropped away are multiplies without an add; outputs no product reaches
        # (output_padding, stride gaps) take no add either.
        axes = [landing(*axis) for axis in zip(sizes, kernel, stride, dilation, (pad[0] for pad in pads), out_sizes)]
        adds = (in_channels * self.out_channels // self.groups * product(tuple(landed for landed, _ in axes))
                - self.out_channels * product(tuple(touched for _, touched in axes)))
        return Cost(
            shape=(self.out_channels, *out_sizes),
            params=in_channels * self.out_channels // self.groups * product(kernel)
            + (self.out_channels if self.bias else 0),
            macs=macs,
            full_flops=macs + adds + (outputs if self.bias else 0),
            field=Resample(tuple(Fraction(s) for s in stride), 0, kernel, dilation, tuple(pad[0] for pad in pads)),
        )


@register("linear")
@dataclass(frozen=True, kw_only=True)
class Linear(Layer):
    """Dense layer on the last axis (torch.nn.Linear).

    params = in * out + out if bias; MACs = prod(shape[:-1]) * in * out
    """

    full_rule = "per output element: 2*in_features - 1, +1 with bias"

    out_features: int = option(parse=f.count, doc="output features")
    bias: bool = option(True, parse=f.flag, doc="learned bias per output feature")
    in_features: int | None = option(None, parse=f.optional(f.count), doc="must agree with the input")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        (shape,) = inputs
        in_features = shape[-1]
        _check_channels(self.in_features, in_features, "in_features")
        out_shape = (*shape[:-1], self.out_features)
        outputs = product(out_shape)
        return Cost(
            shape=out_shape,
            params=in_features * self.out_features + (self.out_features if self.bias else 0),
            macs=outputs * in_features,
            full_flops=outputs * (2 * in_features - 1 + self.bias),
            field=NO_FIELD,
        )
