"""Primitive layers: each built from its fields and inferred from its input shapes once per
distinct (fields, shapes), then recorded as a frozen LayerRecord."""

from __future__ import annotations

from typing import Any

from ..errors import FieldError, ShapeError
from ..field import receptive_field
from ..graph import Field, LayerRecord, Tensor
from ..layers import POINTWISE, Cost, Layer, build
from ..layers.base import ENTRY_FIELDS
from ..limits import LIMIT_HINT, over_limit
from ..scope import Context
from ..yamlread import Map
from .values import Values, has_dollar, hashable


class Inference:
    def __init__(self, values: Values) -> None:
        self.values = values
        self.records: list[LayerRecord] = []
        self._layers: dict[Any, Layer] = {}
        self._inferred: dict[Any, tuple[Layer, Cost]] = {}
        self._fields: dict[Any, Field] = {}
        self._fixed: dict[int, tuple[dict[str, Any], tuple[Any, ...]]] = {}  # see fields()

    def primitive(self, entry: Map, kind: str, name: str, context: Context, inputs: list[Tensor]) -> Tensor:
        full_name = context.prefix + name
        layer_id = (full_name, kind)
        # Chains repeat the same layer on the same shapes thousands of times: infer each once,
        # keyed by the field values (with their types: 1, 1.0 and true differ) and the shapes.
        fixed = self._fixed.get(id(entry))
        if fixed is not None:
            values, parts = fixed
        else:
            values, parts = self.fields(entry, context, inputs, layer_id)
        shapes = (inputs[0].shape,) if len(inputs) == 1 else tuple(tensor.shape for tensor in inputs)
        key = (kind, parts, shapes)
        known = self._inferred.get(key)
        if known is None:
            known = self._inferred[key] = self.infer(kind, values, entry, layer_id, inputs)
        layer, cost = known
        receptive = self.field_of(cost, layer, inputs)
        producers = (inputs[0].producer,) if len(inputs) == 1 else tuple(tensor.producer for tensor in inputs)
        self.records.append(LayerRecord(full_name, kind, producers, layer, cost, receptive, context.path,
                                        context.block_types, entry.mark))
        return Tensor(cost.shape, full_name, receptive)

    def fields(self, entry: Map, context: Context, inputs: list[Tensor], layer_id: tuple[str, str]) -> tuple[
            dict[str, Any], tuple[Any, ...]]:
        """The entry's field values, `$` filled in, and their key. Kept for an entry without `$`
        that runs more than once (a repeat, a block, an inline chain): it is the same each time."""
        values: dict[str, Any] = {}
        parts = []
        filled = False
        for name, raw in entry.items():
            if name in ENTRY_FIELDS:
                continue
            kind_of = type(raw)
            if kind_of is not int and kind_of is not float and kind_of is not bool and has_dollar(raw):
                first = inputs[0] if inputs else None  # a parameter has no input: no in_shape
                raw = self.values.value(entry, name, context.scope, first, layer_id)
                kind_of, filled = type(raw), True
            values[name] = raw
            parts.append((name, kind_of, hashable(raw) if isinstance(raw, (list, dict)) else raw))
        key = tuple(parts)
        if not filled and (context.path or "repeat" in entry):
            self._fixed[id(entry)] = (values, key)  # the spec's entries live as long as the walk: ids stay theirs
        return values, key

    def field_of(self, cost: Cost, layer: Layer, inputs: list[Tensor]) -> Field:
        """The receptive field after the layer; computed once per distinct step and input field."""
        if len(inputs) == 1 and cost.field == POINTWISE:
            return inputs[0].field
        fields = (cost.field, inputs[0].field) if len(inputs) == 1 else None
        receptive = self._fields.get(fields) if fields else None
        if receptive is None:
            receptive = receptive_field(cost.field, inputs, layer.arity)
            if fields:
                self._fields[fields] = receptive
        return receptive

    def infer(self, kind: str, values: dict[str, Any], entry: Map, layer_id: tuple[str, str],
              inputs: list[Tensor]) -> tuple[Layer, Cost]:
        fail = self.values.fail
        layer = self.layer(kind, values, entry, layer_id)
        if layer.arity == "one" and len(inputs) != 1:
            raise fail(f"from names {len(inputs)} inputs, but {kind} takes one", entry.value_marks["from"],
                       layer_id, "give from one name or offset (add, sub, mul and concat merge several)")
        shapes = tuple(tensor.shape for tensor in inputs)
        try:
            cost = layer.infer(shapes)
        except ShapeError as error:
            described = " and ".join("x".join(map(str, shape)) for shape in shapes)
            problem = f"{error.problem} (input {described})" if shapes else error.problem
            raise fail(problem, entry.mark, layer_id, error.hint) from None
        if any(size < 1 for size in cost.shape):
            raise fail(f"output size {list(cost.shape)} is below 1", entry.mark, layer_id)
        problem = over_limit(cost)
        if problem:
            raise fail(problem, entry.mark, layer_id, LIMIT_HINT)
        return layer, cost

    def layer(self, kind: str, values: dict[str, Any], entry: Map, layer_id: tuple[str, str]) -> Layer:
        key = (kind, hashable(values))
        cached = self._layers.get(key)
        if cached is not None:
            return cached
        try:
            layer = build(kind, values)
        except FieldError as error:
            if error.problem.startswith("unknown field") and error.field in entry.key_marks:
                at = entry.key_marks[error.field]  # first: a YAML key may itself be null
            elif error.field is None:
                at = entry.mark
            else:
                at = entry.value_marks.get(error.field, entry.mark)
            raise self.values.fail(error.problem, at, layer_id, error.hint) from None
        self._layers[key] = layer
        return layer
