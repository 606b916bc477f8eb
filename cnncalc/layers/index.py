"""Layers that pick, stack, broadcast or rotate elements without arithmetic."""

from __future__ import annotations

from ..errors import ShapeError
from . import fields as f
from .activation import normalize_dim
from .base import NO_FIELD, Cost, Layer, Shape, option, register


@register("select")
class Select(Layer):
    """One index of one per-sample axis, which disappears (x[:, 0], ViT's class token; torch.select); a view.

    Unbinding an axis into its slices is one select per index.
    """

    dim: int = option(0, parse=f.integer, doc="axis to index (0 = channels)")
    index: int = option(parse=f.integer, doc="the index kept, negative from the end")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        (shape,) = inputs
        if len(shape) < 2:
            raise ShapeError(f"select of {list(shape)} leaves nothing per sample",
                             "select from a tensor of 2 axes or more")
        axis = normalize_dim(self.dim, len(shape))
        if not -shape[axis] <= self.index < shape[axis]:
            raise ShapeError(f"index {self.index} is out of range for an axis of {shape[axis]}",
                             f"index counts from 0 to {shape[axis] - 1}, or back from -1")
        return Cost(shape=shape[:axis] + shape[axis + 1:], view=True, field=NO_FIELD)


@register("stack")
class Stack(Layer):
    """Inputs of one shape joined along a new per-sample axis at dim (torch.stack); a copy."""

    arity = "many"

    dim: int = option(0, parse=f.integer, doc="where the new axis goes (0 = first)")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        first = inputs[0]
        if any(shape != first for shape in inputs):
            listed = " and ".join("x".join(map(str, shape)) for shape in inputs)
            raise ShapeError(f"stack of different shapes {listed}", "every input must have the same shape")
        axis = normalize_dim(self.dim, len(first) + 1)
        return Cost(shape=first[:axis] + (len(inputs),) + first[axis:], field=NO_FIELD)


@register("expand")
class Expand(Layer):
    """Axes of size 1 repeated to a larger size without a copy (torch.expand); a view.

    shape lists the per-sample output, -1 keeps an axis; extra leading entries add axes.
    """

    shape: tuple[int, ...] = option(parse=f.int_list, doc="per-sample output shape, -1 keeps an axis")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        (source,) = inputs
        added = len(self.shape) - len(source)
        if added < 0:
            raise ShapeError(f"expand to {list(self.shape)} has fewer axes than {list(source)}",
                             "give one entry per axis (-1 keeps it), and any new axes first")
        out = []
        for index, size in enumerate(self.shape):
            have = source[index - added] if index >= added else None
            if size == -1 and have is not None:
                out.append(have)
            elif size >= 1 and have in (None, 1, size):
                out.append(size)
            else:
                raise ShapeError(f"cannot expand {list(source)} to {list(self.shape)}",
                                 "only axes of size 1 grow; -1 keeps an axis; new axes go first and need a size")
        return Cost(shape=tuple(out), view=True, field=NO_FIELD)


@register("roll")
class Roll(Layer):
    """Elements shifted cyclically along axes (torch.roll; Swin's shifted windows); a copy."""

    shifts: tuple[int, ...] = option(parse=f.int_or_list, doc="shift per axis, negative to the front")
    dims: tuple[int, ...] = option(parse=f.int_or_list, doc="axes to roll (0 = channels)")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        (shape,) = inputs
        if len(self.shifts) != len(self.dims):
            raise ShapeError(f"roll has {len(self.shifts)} shifts for {len(self.dims)} dims",
                             "give one shift per axis in dims")
        for dim in self.dims:
            normalize_dim(dim, len(shape), "dims entry")
        return Cost(shape=shape, field=NO_FIELD)
