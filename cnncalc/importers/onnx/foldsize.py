"""The shape of a constant node's result, from its inputs' shapes (and the few small inputs that say a
size), computed before NumPy allocates anything: a 126-byte model can ask ConstantOfShape, Expand,
Tile, Range, Gather, Concat or a broadcasting operator for billions of elements.

The same shapes let a constant cnncalc does not compute (`Unread`: outside the file, or past the
budget) flow on as a shape, which is all a weight needs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .fold import Array, FoldError
from .model import Shape
from .tensors import Unread

SAME_SHAPE = {"ScatterND", "CastLike", "Sin", "Cos", "CumSum", "Clip", "Exp", "Log", "Sigmoid", "Identity", "Cast",
              "Neg", "Sqrt", "Floor", "Ceil", "Abs", "Not", "Reciprocal"}
BROADCAST = {"Add", "Sub", "Mul", "Div", "Pow", "Min", "Max", "Equal", "Less", "Greater", "Mod", "Where"}


def shape_of(item: Array | Unread) -> Shape:
    return item.shape if isinstance(item, Unread) else tuple(int(size) for size in np.shape(item))


def _sizes(item: Array | Unread | None, what: str) -> list[int] | None:
    """The numbers of a small size-giving input; None when cnncalc does not have them."""
    if item is None or isinstance(item, Unread):
        return None
    values = np.asarray(item).reshape(-1)
    if values.dtype.kind not in "biu":
        raise FoldError(f"the {what} must be integers, not {values.dtype}")
    return [int(value) for value in values]


def _range_count(inputs: list[Array | Unread | None]) -> Shape | None:
    if len(inputs) < 3 or any(item is None or isinstance(item, Unread) or np.size(item) != 1
                              for item in inputs[:3]):
        return None
    if any(np.asarray(item).dtype.kind not in "biuf" for item in inputs[:3]):
        raise FoldError("Range takes numbers")
    start, limit, delta = (float(np.asarray(item).reshape(-1)[0]) for item in inputs[:3])
    length = (limit - start) / delta if delta else math.inf
    if not all(map(math.isfinite, (start, limit, delta, length))):
        raise FoldError(f"Range({start:g}, {limit:g}, {delta:g}) has no finite length")
    return (max(math.ceil(length), 0),)


def _gather(shapes: list[Shape], attrs: dict[str, Any]) -> Shape:
    data, indices = shapes[0], shapes[1]
    axis = int(attrs.get("axis", 0))
    if not -len(data) <= axis < max(len(data), 1):
        raise FoldError(f"axis {axis} is out of range for {len(data)} axes")
    axis %= max(len(data), 1)
    return (*data[:axis], *indices, *data[axis + 1:])


def _concat(shapes: list[Shape], attrs: dict[str, Any]) -> Shape:
    axis = int(attrs["axis"])
    rank = len(shapes[0])
    if not -rank <= axis < rank or any(len(shape) != rank for shape in shapes):
        raise FoldError(f"cannot concatenate shapes {[list(shape) for shape in shapes]} on axis {axis}")
    axis %= rank
    return (*shapes[0][:axis], sum(shape[axis] for shape in shapes), *shapes[0][axis + 1:])


def result_shape(op_type: str, inputs: list[Array | Unread | None], attrs: dict[str, Any]) -> Shape | None:
    """The result's shape, or None for an operator whose result is never larger than its input and whose
    shape needs its numbers (Slice, Reshape, Squeeze ...). FoldError when the shapes do not fit."""
    shapes = [shape_of(item) for item in inputs if item is not None]
    try:
        if op_type in SAME_SHAPE:
            return shapes[0]
        if op_type in BROADCAST:
            return tuple(np.broadcast_shapes(*shapes))
        if op_type == "Transpose":
            perm = attrs.get("perm", list(reversed(range(len(shapes[0])))))
            if sorted(int(axis) for axis in perm) != list(range(len(shapes[0]))):
                raise FoldError(f"perm {list(perm)} does not fit {len(shapes[0])} axes")
            return tuple(shapes[0][int(axis)] for axis in perm)
        if op_type == "ConstantOfShape":
            sizes = _sizes(inputs[0], "shape")
            return None if sizes is None else tuple(sizes)
        if op_type == "Expand":
            sizes = _sizes(inputs[1], "shape")
            return None if sizes is None else tuple(np.broadcast_shapes(shapes[0], tuple(sizes)))
        if op_type == "Tile":
            repeats = _sizes(inputs[1], "repeats")
            if repeats is None:
                return None
            if len(repeats) != len(shapes[0]):
                raise FoldError(f"repeats {repeats} do not fit {len(shapes[0])} axes")
            return tuple(size * repeat for size, repeat in zip(shapes[0], repeats))
        if op_type == "Range":
            return _range_count(inputs)
        if op_type == "Gather":
            return _gather(shapes, attrs)
        if op_type == "Concat":
            return _concat(shapes, attrs)
    except (ValueError, IndexError) as error:  # broadcast_shapes on shapes that do not fit, a short list
        raise FoldError(str(error) or type(error).__name__) from None
    return None


def checked(shape: Shape) -> Shape:
    if any(size < 0 for size in shape):
        raise FoldError(f"a negative size in {list(shape)}")
    return shape
