"""A stored JSON report (`analyze --format json`), read back for `cnncalc diff` and checked
against the schema render/formats.py's report_json writes, so that a hand-edited, truncated
or hostile baseline is one message naming the file and the JSON path of the bad value.

Python's json module takes NaN and Infinity, turns 1e400 into infinity, refuses integers of
over 4,300 digits with a ValueError and recurses once per level of nesting: each is caught
here. Only what diff reads is kept; unknown keys are dropped.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any, Callable

from .errors import Mark, SpecError
from .files import read_bounded
from .yamlread import decode

REPORT_DIGITS = 30  # digits of an integer in a report: no network counts past 10^30
REPORT_DEPTH = 100  # levels of nesting: a report has 4; Python's reader fails near 1,000
HINT = "give a report written by `cnncalc analyze --format json`"
CONVENTIONS = ("2mac", "mac", "full")
TOP_KEYS = ("cnncalc", "convention", "inputs", "layers", "totals")
TOTALS = ("params", "buffers", "macs", "flops", "weights_bytes", "activation_bytes", "peak_activation_bytes",
          "training_bytes")


class _Unusable:
    """A number JSON's grammar (or Python's reader) allows but a report cannot hold: kept in
    place while parsing, so that the check below names its JSON path."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _integer(text: str) -> int | _Unusable:
    return int(text) if len(text.lstrip("-")) <= REPORT_DIGITS else _Unusable(text)


def _real(text: str) -> float | _Unusable:
    value = float(text)
    return value if math.isfinite(value) else _Unusable(text)


def read_report(source: Path) -> dict[str, Any]:
    """The report in `source`, with only the keys diff reads, each of the writer's type."""
    data = read_bounded(source, hint=HINT)
    try:
        text = decode(data, str(source))
    except SpecError as error:  # its hint speaks of specs
        raise SpecError(error.problem, mark=error.mark, hint=HINT) from None
    try:
        report = json.loads(text, parse_int=_integer, parse_float=_real, parse_constant=_Unusable)
    except json.JSONDecodeError as error:
        raise SpecError(f"not JSON: {error.msg}", mark=Mark(str(source), error.lineno, error.colno),
                        hint=HINT) from None
    except RecursionError:
        line, column = _too_deep(text)
        raise SpecError(f"JSON nested more than {REPORT_DEPTH} levels deep", mark=Mark(str(source), line, column),
                        hint=HINT) from None
    return _Checker(str(source)).report(report)


def _too_deep(text: str) -> tuple[int, int]:
    """Line and column where nesting first passes REPORT_DEPTH (strings skipped)."""
    depth = 0
    for match in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', text):
        token = match.group()
        depth += 1 if token in "[{" else -1 if token in "]}" else 0
        if depth > REPORT_DEPTH:
            line = text.count("\n", 0, match.start()) + 1
            return line, match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
    return 1, 1


def _kind(value: Any) -> str:
    if isinstance(value, _Unusable):
        digits = len(value.text.lstrip("-"))
        return f"a {digits:,}-digit integer" if value.text.lstrip("-").isdigit() else value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)  # at most 30 digits (REPORT_DIGITS), or a finite float
    names = {dict: "an object", list: "a list", str: "a string"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


class _Checker:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, problem: str) -> SpecError:
        return SpecError(f"{self.source}: {path}: {problem}", hint=HINT)

    def expect(self, value: Any, path: str, wanted: str, fits: Callable[[Any], bool]) -> Any:
        if isinstance(value, _Unusable) or not fits(value):
            raise self.fail(path, f"expected {wanted}, got {_kind(value)}")
        return value

    def count(self, value: Any, path: str) -> int:
        return int(self.expect(value, path, "a whole number >= 0", lambda item: isinstance(item, int)
                               and not isinstance(item, bool) and item >= 0))

    def text(self, value: Any, path: str) -> str:
        return str(self.expect(value, path, "a string", lambda item: isinstance(item, str)))

    def mapping(self, value: Any, path: str, keys: tuple[str, ...] = ()) -> dict[str, Any]:
        self.expect(value, path, "an object", lambda item: isinstance(item, dict))
        for key in keys:
            if key not in value:
                raise self.fail(path, f"no '{key}'")
        return dict(value)

    def items(self, value: Any, path: str, read: Callable[[Any, str], Any]) -> list[Any]:
        self.expect(value, path, "a list", lambda item: isinstance(item, list))
        return [read(item, f"{path}[{index}]") for index, item in enumerate(value)]

    def report(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict) or not set(TOP_KEYS) <= set(data):
            what = f"no '{next(key for key in TOP_KEYS if key not in data)}'" if isinstance(data, dict) \
                else f"expected an object, got {_kind(data)}"
            raise self.fail("the top level", f"{what}: not a cnncalc report")
        convention = self.mapping(data["convention"], "convention", ("flops",))
        kept = {"flops": self.expect(convention["flops"], "convention.flops", f"one of {', '.join(CONVENTIONS)}",
                                     lambda item: item in CONVENTIONS)}
        for key, read in (("dtype", self.text), ("batch", self.count), ("optimizer", self.text),
                          ("bytes_per_element", self.count)):
            if key in convention:
                kept[key] = read(convention[key], f"convention.{key}")
        inputs = self.mapping(data["inputs"], "inputs")
        totals = self.mapping(data["totals"], "totals", TOTALS)
        return {"cnncalc": data["cnncalc"], "convention": kept,
                "inputs": {name: self.items(shape, f"inputs.{name}", self.count) for name, shape in inputs.items()},
                "totals": {key: self.count(totals[key], f"totals.{key}") for key in TOTALS},
                "layers": self.items(data["layers"], "layers", self.layer)}

    def layer(self, value: Any, path: str) -> dict[str, Any]:
        layer = self.mapping(value, path, ("name", "type", "output_shape", "params", "macs", "flops"))
        kept: dict[str, Any] = {"name": self.text(layer["name"], f"{path}.name"),
                                "type": self.text(layer["type"], f"{path}.type")}
        if "from" in layer:
            kept["from"] = self.items(layer["from"], f"{path}.from", self.text)
        kept["output_shape"] = self.items(layer["output_shape"], f"{path}.output_shape", self.count)
        for key in ("params", "buffers", "macs", "flops", "activation_bytes"):
            if key in layer:
                kept[key] = self.count(layer[key], f"{path}.{key}")
        if "view" in layer:
            kept["view"] = self.expect(layer["view"], f"{path}.view", "true or false", lambda item: item in (True, False)
                                       and isinstance(item, bool))
        if layer.get("receptive_field") is not None:
            field = self.mapping(layer["receptive_field"], f"{path}.receptive_field", ("size", "jump", "start"))
            kept["receptive_field"] = {key: self.items(field[key], f"{path}.receptive_field.{key}", self.number)
                                       for key in ("size", "jump", "start")}
        elif "receptive_field" in layer:
            kept["receptive_field"] = None
        return kept

    def number(self, value: Any, path: str) -> float:
        return self.expect(value, path, "a number", lambda item: isinstance(item, (int, float))  # type: ignore[no-any-return]
                           and not isinstance(item, bool))
