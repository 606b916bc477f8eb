"""Pooling: windowed, adaptive and global, max and average."""

from __future__ import annotations

import math
from typing import Any

from ..errors import ShapeError
from . import fields as f
from .base import NO_FIELD, Cost, Layer, Shape, Window, option, per_axis, product, register
from .base import resolve_padding, spatial_rank, window_outputs


def _pooled(
    layer: Any, shape: Shape, dilation_value: Any
) -> tuple[Shape, tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[tuple[int, int], ...]]:
    """Output shape, kernel, stride, dilation and padding of a windowed pool."""
    rank = spatial_rank(layer.kind, shape, "pooling")
    sizes = shape[1:]
    kernel = per_axis("kernel_size", layer.kernel_size, rank)
    stride = per_axis("stride", layer.stride if layer.stride is not None else layer.kernel_size, rank)
    dilation = per_axis("dilation", dilation_value, rank)
    pads = resolve_padding(layer.padding, sizes, kernel, stride, dilation)
    if layer.padding != "same":
        for k, (begin, end) in zip(kernel, pads):
            if max(begin, end) > k // 2:  # PyTorch's rule
                raise ShapeError(f"padding {max(begin, end)} is more than half the kernel {k}",
                                 "pooling padding must be at most kernel_size // 2")
    out = window_outputs(sizes, kernel, stride, pads, dilation, layer.ceil_mode)
    return (shape[0], *out), kernel, stride, dilation, pads


def _kernel() -> Any:
    return option(parse=f.sizes, doc="window size, one number or one per axis")


def _stride() -> Any:
    return option(None, parse=f.optional(f.sizes), doc="step between windows (default: kernel_size)")


def _padding() -> Any:
    return option(0, parse=f.paddings, doc="implicit padding, at most half the kernel")


def _ceil_mode() -> Any:
    return option(False, parse=f.flag, doc="round the output size up, keeping a last partial window")


@register("maxpool", "maxpool1d", "maxpool2d", "maxpool3d")
class MaxPool(Layer):
    """Max pooling (torch.nn.MaxPool1d/2d/3d); output size as convolution, ceil_mode as PyTorch."""

    full_rule = "per output element: prod(kernel) - 1 comparisons"

    kernel_size: Any = _kernel()
    stride: Any = _stride()
    padding: Any = _padding()
    dilation: Any = option(1, parse=f.sizes, doc="spacing between window taps")
    ceil_mode: bool = _ceil_mode()

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        out, kernel, stride, dilation, pads = _pooled(self, inputs[0], self.dilation)
        return Cost(shape=out, full_flops=product(out) * (product(kernel) - 1),
                    field=Window(kernel, stride, dilation, tuple(p[0] for p in pads)))


@register("avgpool", "avgpool1d", "avgpool2d", "avgpool3d")
class AvgPool(Layer):
    """Average pooling (torch.nn.AvgPool1d/2d/3d); output size as convolution, ceil_mode as PyTorch."""

    full_rule = "per output element: prod(kernel) (prod(kernel) - 1 adds and one divide)"

    kernel_size: Any = _kernel()
    stride: Any = _stride()
    padding: Any = _padding()
    ceil_mode: bool = _ceil_mode()
    count_include_pad: bool = option(True, parse=f.flag, doc="divide by the window size, padding included")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        out, kernel, stride, dilation, pads = _pooled(self, inputs[0], 1)
        return Cost(shape=out, full_flops=product(out) * product(kernel),
                    field=Window(kernel, stride, dilation, tuple(p[0] for p in pads)))


def _adaptive_reads(size: int, out: int) -> int:
    """Input elements all windows of one axis read: windows run floor(i*in/out) to ceil((i+1)*in/out).

    Summed, that is in + out - gcd(in, out): the windows cover the input once, plus one
    element shared at each inner boundary i*in/out that is not whole (out - gcd of them).
    A closed form, so that a huge output_size is not a loop of that length.
    """
    return size + out - math.gcd(size, out)


@register("adaptive_avgpool", "adaptive_avgpool1d", "adaptive_avgpool2d", "adaptive_avgpool3d",
          "adaptive_maxpool", "adaptive_maxpool1d", "adaptive_maxpool2d", "adaptive_maxpool3d")
class AdaptivePool(Layer):
    """Adaptive pooling (torch.nn.AdaptiveAvgPool2d ...): output = output_size, windows as PyTorch's.

    The receptive field is exact when output_size divides the input (window = stride =
    in/out); otherwise the windows differ in size and the output is marked as having none.
    """

    full_rule = ("reads = prod over axes of the summed window lengths; avg: reads (adds and a divide "
                 "per output), max: reads - output elements (comparisons)")

    output_size: Any = option(parse=f.count_or_list, doc="output size, one number or one per axis")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        (shape,) = inputs
        rank = spatial_rank(self.kind.replace("adaptive_", ""), shape, "adaptive pooling")
        sizes = shape[1:]
        out = per_axis("output_size", self.output_size, rank)
        reads = shape[0] * product(tuple(_adaptive_reads(size, o) for size, o in zip(sizes, out)))
        outputs = shape[0] * product(out)
        exact = all(size % o == 0 for size, o in zip(sizes, out))
        steps = tuple(size // o for size, o in zip(sizes, out))
        field = Window(steps, steps, (1,) * rank, (0,) * rank) if exact else NO_FIELD
        is_max = "max" in self.kind
        return Cost(shape=(shape[0], *out), full_flops=reads - outputs if is_max else reads, field=field)


@register("global_avgpool", "global_maxpool")
class GlobalPool(Layer):
    """Pooling over every spatial position: output [C, 1, ...] (AdaptiveAvgPool to 1)."""

    full_rule = "avg: one add or divide per input element; max: input elements - C comparisons"

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        (shape,) = inputs
        if len(shape) < 2:
            raise ShapeError(f"global pooling expects spatial axes; got {list(shape)}")
        sizes = shape[1:]
        reads = product(shape)
        field = Window(sizes, sizes, (1,) * len(sizes), (0,) * len(sizes))
        full = reads - shape[0] if self.kind == "global_maxpool" else reads
        return Cost(shape=(shape[0],) + (1,) * len(sizes), full_flops=full, field=field)
