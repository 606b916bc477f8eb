"""Where a walk's errors point, and how it reads a field: `$name` and `${...}` filled in
from the scope, through one Evaluator for the whole walk (interpolate.py)."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping, MutableMapping
from typing import Any

from .. import interpolate
from ..errors import Mark, SpecError
from ..expr import ExpressionError
from ..graph import Tensor
from ..scope import expression_problem
from ..yamlread import Map, position


class Values:
    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.evaluator = interpolate.Evaluator()

    def mark(self, raw: Any) -> Mark:
        line, column = position(raw)
        return Mark(self.filename, line, column)

    def fail(self, problem: str, raw: Any, layer: tuple[str, str] | None = None, hint: str | None = None) -> SpecError:
        return SpecError(problem, mark=self.mark(raw), layer=layer, hint=hint)

    def value(self, entry: Map, key: str, scope: MutableMapping[str, Any], first: Tensor | None,
              layer: tuple[str, str]) -> Any:
        """A field's value, with `$name` and `${...}` evaluated in scope."""
        raw = entry[key]
        if not has_dollar(raw):
            return raw
        full: Mapping[str, Any] = scope
        if first is not None:
            shape_names: dict[str, Any] = {}
            shape_scope(shape_names, first)
            full = ChainMap(shape_names, scope)  # not a copy: a scope may hold thousands of params
        return self.resolve(raw, full, entry.value_marks[key], layer)

    def resolve(self, raw: Any, scope: Mapping[str, Any], mark: Any, layer: tuple[str, str] | None) -> Any:
        try:
            if isinstance(raw, list):
                return [self.resolve(item, scope, mark, layer) for item in raw]
            return interpolate.resolve(raw, scope, self.evaluator)
        except ExpressionError as error:
            problem, hint = expression_problem(error)
            raise self.fail(problem, mark, layer, hint) from None


def shape_scope(scope: dict[str, Any], tensor: Tensor) -> None:
    scope["in_channels"] = tensor.shape[0]
    scope["in_shape"] = list(tensor.shape)


def has_dollar(value: Any) -> bool:
    if isinstance(value, str):
        return "$" in value
    if isinstance(value, list):
        return any(has_dollar(item) for item in value)
    return False


def hashable(value: Any) -> Any:
    """A cache key for field values; the types keep 1, 1.0 and true apart."""
    if isinstance(value, dict):  # isinstance: the reader's Seq and Map are list and dict too
        return tuple((key, type(item), hashable(item) if isinstance(item, (list, dict)) else item)
                     for key, item in value.items())
    return tuple((type(item), hashable(item) if isinstance(item, (list, dict)) else item) for item in value)
