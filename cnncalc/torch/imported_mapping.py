"""Which PyTorch module stands for each layer of cnncalc/layers/imported.py, without importing PyTorch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..layers import Shape
from ..layers.imported import LocallyConnected, Maximum, PixelUnshuffle, Shortcut
from .calls import Call, call


def shortcut(layer: Shortcut, inputs: tuple[Shape, ...], output: Shape) -> Call:
    if layer.weights == "none":
        return call("Shortcut", len(inputs), output[0])
    return call("Shortcut", len(inputs), output[0], weights=layer.weights)


def maximum(layer: Maximum, inputs: tuple[Shape, ...], output: Shape) -> Call:
    return call("Maximum")


def pixel_unshuffle(layer: PixelUnshuffle, inputs: tuple[Shape, ...], output: Shape) -> Call:
    return call("nn.PixelUnshuffle", layer.downscale_factor)


def locally_connected(layer: LocallyConnected, inputs: tuple[Shape, ...], output: Shape) -> Call:
    return call("LocallyConnected", inputs[0][0], layer.out_channels, layer.kernel_size, layer.stride, layer.padding,
                tuple(output[1:]))


IMPORTED_MAPPERS: dict[type, Callable[[Any, tuple[Shape, ...], Shape], Call]] = {
    Shortcut: shortcut, Maximum: maximum, PixelUnshuffle: pixel_unshuffle, LocallyConnected: locally_connected,
}
