"""Layers that Darknet cfgs and Caffe prototxts need and PyTorch models rarely do: Darknet's
shortcut of unequal shapes, the space-to-depth reorg, the locally connected layer of YOLOv1,
and the elementwise maximum (Caffe's Eltwise MAX)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ShapeError
from . import fields as f
from .base import NO_FIELD, Cost, Layer, Shape, Window, option, product, register
from .base import spatial_rank, window_outputs
from .merge import broadcast


@register("shortcut")
@dataclass(frozen=True, kw_only=True)
class Shortcut(Layer):
    """Darknet's [shortcut]: the first input plus each other one where they overlap.

    out = first input's shape; element i (counted in C, H, W order) gets element i of
    every other input k while i < size_k, as AlexeyAB's shortcut_multilayer_cpu
    (src/blas.c) does: inputs of other channel counts or sizes are added over
    min(size_0, size_k) elements. weights: per_feature learns one weight per input
    (params = inputs), per_channel one per input and channel (params = inputs * C);
    each input is then multiplied by its weight (src/shortcut_layer.c).
    """

    arity = "many"
    full_rule = "per other input k: min(size_0, size_k) adds; with weights, one multiply per element of every input"

    weights: str = option("none", parse=f.choice("none", "per_feature", "per_channel"),
                          doc="learned weights on the inputs (Darknet's weights_type)")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        if len(inputs) < 2:
            raise ShapeError(f"shortcut takes at least 2 inputs; got {len(inputs)}", "list them in from: [a, b]")
        first = inputs[0]
        size = product(first)
        adds = sum(min(size, product(shape)) for shape in inputs[1:])
        params = {"none": 0, "per_feature": len(inputs), "per_channel": len(inputs) * first[0]}[self.weights]
        multiplies = size + adds if self.weights != "none" else 0
        return Cost(shape=first, params=params, full_flops=adds + multiplies)


@register("maximum")
@dataclass(frozen=True, kw_only=True)
class Maximum(Layer):
    """The elementwise maximum of its inputs (torch.maximum; Caffe's Eltwise MAX, maxout), broadcast like add."""

    arity = "many"
    full_rule = "per output element: inputs - 1 comparisons"

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        if len(inputs) < 2:
            raise ShapeError(f"maximum takes at least 2 inputs; got {len(inputs)}", "list them in from: [a, b]")
        shape = broadcast(inputs)
        return Cost(shape=shape, full_flops=(len(inputs) - 1) * product(shape))


@register("pixel_unshuffle")
@dataclass(frozen=True, kw_only=True)
class PixelUnshuffle(Layer):
    """[C, H*r, W*r] -> [C*r*r, H, W] (torch.nn.PixelUnshuffle): space to depth, a copy.
    Darknet's [reorg] stride=r makes this shape (out_w = w/stride, out_c = c*stride^2,
    src/reorg_layer.c), in its own element order."""

    full_rule = "0 (a copy)"

    downscale_factor: int = option(parse=f.count, doc="r")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        (shape,) = inputs
        r = self.downscale_factor
        if len(shape) != 3 or shape[1] % r or shape[2] % r:
            raise ShapeError(f"pixel_unshuffle with factor {r} needs [C, H, W] with H and W divisible by {r}; "
                             f"got {list(shape)}")
        return Cost(shape=(shape[0] * r * r, shape[1] // r, shape[2] // r), field=NO_FIELD)


@register("local2d")
@dataclass(frozen=True, kw_only=True)
class LocallyConnected(Layer):
    """A convolution whose weights differ at every output position (Darknet's [local], YOLOv1).

    out = floor((in + 2*padding - k) / s) + 1 per axis, as a convolution
    params = out_H * out_W * (out_c * in_c * k * k + out_c): weights and a bias per position
    (src/local_layer.c: c*n*size*size*locations weights, outputs biases)
    MACs = out_c * out_H * out_W * in_c * k * k
    """

    full_rule = "per output element: 2*in_c*k*k (multiplies and adds, the bias included)"

    out_channels: int = option(parse=f.count, doc="output channels")
    kernel_size: int = option(parse=f.count, doc="kernel size (square)")
    stride: int = option(1, parse=f.count, doc="step between windows")
    padding: int = option(0, parse=f.integer, doc="zeros added on each side")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        (shape,) = inputs
        spatial_rank("local2d", shape, "local2d")
        if self.padding < 0:
            raise ShapeError(f"padding {self.padding} is negative")
        kernel, stride, pads = (self.kernel_size,) * 2, (self.stride,) * 2, ((self.padding, self.padding),) * 2
        out = window_outputs(shape[1:], kernel, stride, pads, (1, 1))
        fan_in = shape[0] * self.kernel_size ** 2
        outputs = self.out_channels * product(out)
        return Cost(shape=(self.out_channels, *out), params=outputs * fan_in + outputs, macs=outputs * fan_in,
                    full_flops=outputs * 2 * fan_in, field=Window(kernel, stride, (1, 1), (self.padding,) * 2))
