"""Layers that pick or sample elements at computed positions: top-k, index_select and
grid_sample (RT-DETR's query selection and deformable attention). None of them
multiplies by weights, so none has MACs; FlopCounterMode counts none of them either."""

from __future__ import annotations


from ..errors import ShapeError
from . import fields as f
from .activation import normalize_dim
from .base import NO_FIELD, Cost, Layer, Shape, option, product, register

# Per output element of grid_sample in the `full` convention, as upsample counts its modes.
_SAMPLING = {"nearest": 0, "bilinear": 7, "bicubic": 31}


@register("topk")
class TopK(Layer):
    """The positions of the k largest elements along one per-sample axis (torch.topk's
    indices; its values are an index_select of the input at them); the axis becomes k.

    Selecting costs comparisons, no MACs.
    """

    full_rule = "per output element: n - 1 comparisons over the n elements of its axis (k passes of a max)"

    k: int = option(parse=f.count, doc="how many positions to keep")
    dim: int = option(-1, parse=f.integer, doc="axis to search (0 = channels; -1 the last)")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        (shape,) = inputs
        axis = normalize_dim(self.dim, len(shape))
        if self.k > shape[axis]:
            raise ShapeError(f"topk of {self.k} from an axis of {shape[axis]}",
                             f"k must be at most {shape[axis]}, the axis' size")
        out = shape[:axis] + (self.k,) + shape[axis + 1:]
        return Cost(shape=out, full_flops=product(out) * (shape[axis] - 1), field=NO_FIELD)


@register("index_select")
class IndexSelect(Layer):
    """Entries of the first input along dim at the positions the second holds, from: [x, index]
    (torch.index_select, per sample; the index is one axis, e.g. a topk's): [.., N, ..] -> [.., k, ..]; a copy."""

    arity = "many"
    full_rule = "0 (a copy of the picked entries)"

    dim: int = option(0, parse=f.integer, doc="axis to pick along (0 = channels)")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        if len(inputs) != 2:
            raise ShapeError(f"index_select takes 2 inputs; got {len(inputs)}", "list them in from: [x, index]")
        shape, index = inputs
        if len(index) != 1:
            raise ShapeError(f"index_select's index must have one per-sample axis; got {list(index)}",
                             "reshape the index to [k] first")
        axis = normalize_dim(self.dim, len(shape))
        return Cost(shape=shape[:axis] + index + shape[axis + 1:], field=NO_FIELD)


@register("grid_sample")
class GridSample(Layer):
    """Values of a map read at computed points (F.grid_sample, 2-D), from: [x, grid]:
    x [..., C, H, W] and grid [..., Ho, Wo, 2] (x, y in -1..1) -> [..., C, Ho, Wo];
    leading axes (RT-DETR's heads) must agree. Interpolation weights are not MACs,
    as for upsample; FlopCounterMode counts nothing for it either.
    """

    arity = "many"
    full_rule = "per output element: nearest 0, bilinear 7 (4 multiplies, 3 adds), bicubic 31; the weights not counted"

    mode: str = option("bilinear", parse=f.choice(*_SAMPLING), doc="interpolation")
    padding_mode: str = option("zeros", parse=f.choice("zeros", "border", "reflection"),
                               doc="what points outside the map read")
    align_corners: bool = option(False, parse=f.flag, doc="-1 and 1 are the corner pixels' centres")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        if len(inputs) != 2:
            raise ShapeError(f"grid_sample takes 2 inputs; got {len(inputs)}", "list them in from: [x, grid]")
        shape, grid = inputs
        if len(shape) < 3 or len(grid) != len(shape) or grid[-1] != 2:
            raise ShapeError(f"grid_sample of {list(shape)} at {list(grid)}",
                             "x is [..., C, H, W] and grid [..., Ho, Wo, 2] with the same leading axes")
        if shape[:-3] != grid[:-3]:
            raise ShapeError(f"grid_sample's leading axes {list(shape[:-3])} and {list(grid[:-3])} differ",
                             "x and grid need the same axes before C, H, W and Ho, Wo, 2")
        out = (*shape[:-2], *grid[-3:-1])
        return Cost(shape=out, full_flops=product(out) * _SAMPLING[self.mode], field=NO_FIELD)
