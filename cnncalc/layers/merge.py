"""Merges: elementwise add, sub, mul with NumPy broadcasting, and concat."""

from __future__ import annotations

from ..errors import ShapeError
from . import fields as f
from .activation import normalize_dim
from .base import Cost, Layer, Shape, option, product, register


def _shape_list(shapes: tuple[Shape, ...]) -> str:
    return " and ".join("x".join(map(str, shape)) for shape in shapes)


def broadcast(shapes: tuple[Shape, ...]) -> Shape:
    """NumPy's rule on per-sample shapes: align at the end, sizes equal or 1."""
    rank = max(len(shape) for shape in shapes)
    out = []
    for axis in range(-rank, 0):
        sizes = {shape[axis] for shape in shapes if len(shape) >= -axis} - {1}
        if len(sizes) > 1:
            raise ShapeError(f"shapes {_shape_list(shapes)} do not broadcast",
                             "sizes must be equal or 1 on every axis, aligned at the end")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


@register("add", "sub", "mul", "div")
class Elementwise(Layer):
    """Elementwise sum, difference, product or quotient of its inputs, broadcast like NumPy
    (sub and div take exactly two: a - b, a / b)."""

    arity = "many"
    full_rule = "per output element: inputs - 1 (one add, subtract, multiply or divide per extra input)"

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        pair = self.kind in ("sub", "div")
        if len(inputs) < 2 or (pair and len(inputs) != 2):
            wanted = "exactly 2" if pair else "at least 2"
            raise ShapeError(f"{self.kind} takes {wanted} inputs; got {len(inputs)}",
                             "list them in from: [a, b]")
        shape = broadcast(inputs)
        return Cost(shape=shape, full_flops=(len(inputs) - 1) * product(shape))


@register("concat")
class Concat(Layer):
    """Concatenation along one per-sample axis (0 = channels); other axes must agree."""

    arity = "many"
    full_rule = "0 (a copy)"

    dim: int = option(0, parse=f.integer, doc="axis to join along (0 = channels)")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        first = inputs[0]
        if any(len(shape) != len(first) for shape in inputs):
            raise ShapeError(f"concat of inputs with different ranks: {_shape_list(inputs)}")
        axis = normalize_dim(self.dim, len(first))
        for shape in inputs[1:]:
            if shape[:axis] + shape[axis + 1:] != first[:axis] + first[axis + 1:]:
                raise ShapeError(f"concat along dim {self.dim} of {_shape_list(inputs)}: other axes differ",
                                 "every axis except dim must agree")
        size = sum(shape[axis] for shape in inputs)
        return Cost(shape=first[:axis] + (size,) + first[axis + 1:])
