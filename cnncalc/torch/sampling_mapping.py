"""Which PyTorch module stands for each sampling layer (sampling_modules.py's helpers),
without importing PyTorch. The batch axis is first in PyTorch, so every per-sample axis
moves up by one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..layers import Shape
from ..layers.activation import normalize_dim
from ..layers.sampling import GridSample, IndexSelect, TopK
from .calls import Call, call, options


def topk(layer: TopK, inputs: tuple[Shape, ...], output: Shape) -> Call:
    return call("TopK", layer.k, normalize_dim(layer.dim, len(inputs[0])) + 1)


def index_select(layer: IndexSelect, inputs: tuple[Shape, ...], output: Shape) -> Call:
    return call("IndexSelect", normalize_dim(layer.dim, len(inputs[0])) + 1)


def grid_sample(layer: GridSample, inputs: tuple[Shape, ...], output: Shape) -> Call:
    return call("GridSample", **options(mode=(layer.mode, "bilinear"), padding_mode=(layer.padding_mode, "zeros"),
                                        align_corners=(layer.align_corners, False)))


SAMPLING_MAPPERS: dict[type, Callable[[Any, tuple[Shape, ...], Shape], Call]] = {
    TopK: topk, IndexSelect: index_select, GridSample: grid_sample,
}
