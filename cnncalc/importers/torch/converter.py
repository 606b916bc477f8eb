"""The state and helpers every PyTorch call handler shares (see convert.py): the spec being built,
the spec name of each call's result, and adding a layer with the call's name and location."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from ...errors import SpecError
from ..builder import SpecBuilder, Where
from ..common import drop, entry
from .trace import INPUT, Call, Const, Ref

Shape = tuple[int, ...]
Layout = tuple[int, bool]  # where PyTorch's batch axis is, and whether other samples' windows are folded into it
UNBATCHED: Layout = (-1, False)  # no batch axis: computed once for every sample (a relative-position MLP's input)

RECORD_BATCH = 2
"""Modules are recorded at this batch whatever the spec's: an axis that folds windows or heads
into the batch ([B, C, H, W] -> [B*nW, ws*ws, C]) is then B*nW, told apart from the batch and
divided out (at batch 1 it could not be); every shape of the spec stays per sample."""


class Unsupported(Exception):
    """A call with no cnncalc layer: what it is and, optionally, what would be accepted."""

    def __init__(self, what: str, hint: str | None = None) -> None:
        super().__init__(what)
        self.what, self.hint = what, hint


class BaseConverter:
    def __init__(self, label: str, batch: int, calls: list[Call]) -> None:
        self.label = label
        self.batch = batch
        self.calls = calls
        self.builder = SpecBuilder()
        self.values: dict[int, Any] = {}  # call index -> spec name, or list of names (a tuple result)
        self.makers: dict[str, int] = {}  # spec name -> index of the call that made it
        self.pads: dict[str, tuple[str, list[tuple[int, int]], float, str]] = {}  # pad layer -> source, pairs...
        self.call = Call("", INPUT, (), {}, None)  # the call being converted, for names and errors
        self.layouts: dict[str, Layout] = {}  # spec name -> its layout when not (0, False)
        self.hint: Layout | None = None  # the layout a handler says its result has
        self.parameters_known: dict[str, tuple[int, Shape]] = {}  # parameter name -> (elements, shape)
        self.parameter_layers: dict[str, str] = {}  # parameter name -> the `parameter` layer counting it

    # -- helpers -----------------------------------------------------------------------

    def value(self, ref: Ref) -> str:
        found = self.values[ref.index]
        if ref.item is not None:
            found = found[ref.item]
        if not isinstance(found, str):
            raise Unsupported("reads a tuple of tensors as one tensor")
        return found

    def source(self, call: Call, position: int = 0, keyword: str = "input") -> str:
        item = self.arg(call, position, keyword)
        if isinstance(item, Const) and isinstance(call.target, nn.Module) and position == 0 and item.shape:
            # a module run on a tensor made without the inputs: XCiT's position encoding (one sample, broadcast
            # later), a relative-position MLP's coordinates (no batch axis: computed once for all samples)
            result = tuple(getattr(call.result, "shape", ()))
            batched = len(item.shape) == len(result) and result[0] in (1, self.batch) and (
                item.shape[0] == self.batch or (item.shape[0] == 1 and not isinstance(call.target, nn.Linear)))
            self.hint = None if batched else UNBATCHED
            name = self.add("constant", [], {"shape": list(item.shape[1:] if batched else item.shape)},
                            comment=f"{', '.join(item.origin) or 'made in forward'}: not computed from the inputs")
            self.hint = None
            return name
        if not isinstance(item, Ref):
            raise Unsupported(f"argument {position} is {describe(item)}, not a tensor computed from the inputs")
        return self.value(item)

    @staticmethod
    def arg(call: Call, position: int, keyword: str, default: Any = None) -> Any:
        if len(call.args) > position:
            return call.args[position]
        return call.kwargs.get(keyword, default)

    def shape(self, name: str) -> Shape:
        return self.builder.shape(name)

    def full(self, name: str) -> Shape:
        """The shape PyTorch sees: the batch axis put back where it is (and the folded windows into it)."""
        shape = self.shape(name)
        axis, folded = self.layouts.get(name, (0, False))
        if axis < 0:
            return shape
        if folded:
            return (*shape[:axis], self.batch * shape[axis], *shape[axis + 1:])
        return (*shape[:axis], self.batch, *shape[axis:])

    def layout(self, name: str) -> Layout:
        return self.layouts.get(name, (0, False))

    def axis(self, source: str, dim: int) -> int:
        """A PyTorch dim of `source` (batch included) as a spec dim (per sample, channels = 0)."""
        rank = len(self.full(source))
        if not -rank <= dim < rank:
            raise Unsupported(f"dim {dim} is out of range for {rank} axes")
        dim %= rank
        batch_axis, folded = self.layout(source)
        if batch_axis < 0:
            return dim
        if dim == batch_axis:
            raise Unsupported("acts on the batch axis", "cnncalc's layers act on each sample")
        return dim if folded or dim < batch_axis else dim - 1

    def aligned(self, name: str, against: str) -> str:
        """`name` (computed once for all samples, no batch axis) without its axis of 1 that lines up
        with the batch axis of `against` (a relative-position bias [1, heads, N, N] against scores)."""
        if self.layout(name) != UNBATCHED or self.layout(against) == UNBATCHED:
            return name
        shape = self.shape(name)
        at = self.layout(against)[0] - (len(self.full(against)) - len(shape))
        if at < 0 or shape[at] != 1 or len(shape) < 2:
            return name
        self.hint = UNBATCHED
        name = self.add("reshape", [name], {"shape": list(shape[:at] + shape[at + 1:])})
        self.hint = None
        return name

    def per_sample(self, theirs: Shape, layout: Layout) -> Shape | None:
        """PyTorch's shape of a result without its batch axis at `layout`, None if it has none there."""
        axis, folded = layout
        if axis < 0:
            return theirs
        if axis >= len(theirs) or theirs[axis] % self.batch:
            return None
        if folded:
            return (*theirs[:axis], theirs[axis] // self.batch, *theirs[axis + 1:])
        return (*theirs[:axis], *theirs[axis + 1:]) if theirs[axis] == self.batch else None

    def settle(self, name: str, theirs: Shape, sources: list[str]) -> bool:
        """Find the layout in which PyTorch's `theirs` is cnncalc's shape of `name` and keep it; False if none."""
        ours = self.shape(name)
        candidates = [self.layout(name)] + [self.layout(source) for source in sources] + [
            (axis, folded) for axis in range(len(theirs)) for folded in (False, True)]
        for candidate in candidates:
            if self.per_sample(theirs, candidate) == ours:
                if candidate != (0, False):
                    self.layouts[name] = candidate
                return True
        # one sample for the whole batch, broadcast later (XCiT's position encoding, made at batch 1)
        return bool(theirs) and theirs[0] == 1 and theirs[1:] == ours and self.layout(name) == (0, False)

    def add(self, kind: str, sources: list[str], fields: dict[str, Any], comment: str | None = None) -> str:
        call = self.call
        fields = {key: value for key, value in fields.items() if value is not None}
        where = Where(None, (call.name, describe(call.target)))
        try:
            name = self.builder.add(kind, call.name, sources, fields, where, comment)
        except SpecError as error:
            raise SpecError(f"{self.label}: {error}", hint=error.hint) from None
        layout = self.hint or (self.layout(sources[0]) if sources else (0, False))
        if layout != (0, False):
            self.layouts[name] = layout
        return name

    def users(self, name: str) -> int:
        index = self.makers.get(name)
        return self.calls[index].users if index is not None else 2

    def reshaped(self, source: str, result: Any) -> str:
        """The layer turning `source` into PyTorch's result shape: none, flatten or reshape. The axes
        before the batch axis stay; an axis of B*k at the batch's place (windows or heads folded into
        the batch) is k per sample."""
        full = tuple(result.shape)
        batch_axis = self.layout(source)[0]
        if batch_axis < 0:
            self.hint = UNBATCHED
            return self.add("reshape", [source], {"shape": list(full)}) if full != self.shape(source) else source
        if len(full) <= batch_axis or full[:batch_axis] != self.full(source)[:batch_axis] or \
                full[batch_axis] % self.batch:
            raise Unsupported(f"the result {list(full)} does not keep the batch axis",
                              "cnncalc's layers reshape each sample")
        folded = full[batch_axis] != self.batch
        shape = self.per_sample(full, (batch_axis, folded)) or ()
        if shape == self.shape(source) and (batch_axis, folded) == self.layout(source):
            return source
        if not shape:
            raise Unsupported(f"the result {list(full)} leaves no axis per sample")
        self.hint = (batch_axis, folded)
        if len(shape) == 1 and len(self.shape(source)) > 1:
            return self.add("flatten", [source], {})
        return self.add("reshape", [source], {"shape": list(shape)})

    def slices(self, source: str, bounds: list[tuple[int, int, int]]) -> str:
        """(axis with batch = 0, start, end) of the axes kept in part, one slice layer each."""
        for axis, start, end in bounds:
            size = self.full(source)[axis]
            begin, stop, step = slice(start, end).indices(size)
            if step != 1:
                raise Unsupported("a slice with a step", "cnncalc's slice takes every element")
            if begin == 0 and stop == size:
                continue
            dim = self.axis(source, axis)
            source = self.add("slice", [source], {"dim": dim or None, "start": begin or None,
                                                  "end": stop if stop != size else None})
        return source

    def take_pad(self, source: str, accept: Callable[[list[tuple[int, int]], float, str], bool]
                 ) -> tuple[str, list[tuple[int, int]]] | None:
        """The pad layer making `source`, removed, when only the next layer reads it and `accept` says it folds."""
        record = self.pads.get(source)
        if record is None or self.users(source) != 1:
            return None
        origin, pairs, value, mode = record
        if not accept(pairs, value, mode):
            return None
        layer = entry(self.builder, source)
        if layer is not None:
            drop(self.builder, layer)
        del self.pads[source]
        return origin, pairs


def _module(call: Call) -> Any:
    """The module a call ran (its handler knows the type)."""
    return call.target


def _is_fake(tensor: Any) -> bool:
    from torch._subclasses.fake_tensor import FakeTensor

    return isinstance(tensor, FakeTensor)


def _all_refs(value: Any) -> list[Ref]:
    if isinstance(value, Ref):
        return [value]
    if isinstance(value, (tuple, list)):
        return [ref for item in value for ref in _all_refs(item)]
    if isinstance(value, dict):
        return [ref for item in value.values() for ref in _all_refs(item)]
    return []


def describe(value: Any) -> str:
    """A call's target or an argument, as an error names it: Conv2d, relu, a tensor of 3x4."""
    if isinstance(value, nn.Module):
        return type(value).__name__
    if isinstance(value, Const):
        return f"a constant of shape {list(value.shape)}"
    if isinstance(value, Ref):
        return "a tensor"
    return str(value)
