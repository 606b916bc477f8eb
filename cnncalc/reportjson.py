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
from typing import Any, Callable, cast

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
        try:
            report = _parse(text, bounded_integers=False)
        except ValueError as error:
            if isinstance(error, json.JSONDecodeError):
                raise
            report = _parse(text, bounded_integers=True)  # an integer past Python's 4,300 digits: find it
    except json.JSONDecodeError as error:
        raise SpecError(f"not JSON: {error.msg}", mark=Mark(str(source), error.lineno, error.colno),
                        hint=HINT) from None
    except RecursionError:
        line, column = _too_deep(text)
        raise SpecError(f"JSON nested more than {REPORT_DEPTH} levels deep", mark=Mark(str(source), line, column),
                        hint=HINT) from None
    return _Checker(str(source)).report(report)


def _parse(text: str, bounded_integers: bool) -> Any:
    """json.loads; a hook on every integer costs a third of the time, so only when one is too long."""
    return json.loads(text, parse_float=_real, parse_constant=_Unusable,
                      parse_int=_integer if bounded_integers else None)


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
    if isinstance(value, int) and abs(value) >= COUNT_LIMIT:
        return f"a {len(str(abs(value))):,}-digit integer"
    if isinstance(value, (int, float)):
        return repr(value)
    names: dict[type, str] = {dict: "an object", list: "a list", str: "a string"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


COUNT_LIMIT = 10**REPORT_DIGITS


def _is_count(value: Any) -> bool:
    return type(value) is int and 0 <= value < COUNT_LIMIT  # type(), not isinstance: true is no count


def _is_number(value: Any) -> bool:
    return type(value) is int or type(value) is float  # floats are finite (_real); ints under 4,300 digits


def _is_text(value: Any) -> bool:
    return type(value) is str


class _Checker:
    """Each check is one type test on the way through; the JSON path is only spelled out for a message."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, problem: str) -> SpecError:
        return SpecError(f"{self.source}: {path}: {problem}", hint=HINT)

    def value(self, value: Any, path: str, key: str, fits: Callable[[Any], bool], wanted: str) -> Any:
        if fits(value):
            return value
        raise self.fail(f"{path}.{key}" if path else key, f"expected {wanted}, got {_kind(value)}")

    def values(self, value: Any, path: str, key: str, fits: Callable[[Any], bool], wanted: str) -> list[Any]:
        if type(value) is list and all(map(fits, value)):
            return value
        self.value(value, path, key, lambda item: type(item) is list, "a list")
        for index, item in enumerate(value):
            self.value(item, path, f"{key}[{index}]", fits, wanted)
        return cast(list[Any], value)

    def mapping(self, value: Any, path: str, required: tuple[str, ...] = ()) -> dict[str, Any]:
        if type(value) is not dict:
            raise self.fail(path, f"expected an object, got {_kind(value)}")
        for key in required:
            if key not in value:
                raise self.fail(path, f"no '{key}'")
        return value

    def report(self, data: Any) -> dict[str, Any]:
        if type(data) is not dict or not set(TOP_KEYS) <= set(data):
            what = f"no '{next(key for key in TOP_KEYS if key not in data)}'" if type(data) is dict \
                else f"expected an object, got {_kind(data)}"
            raise self.fail("the top level", f"{what}: not a cnncalc report")
        convention = self.mapping(data["convention"], "convention", ("flops",))
        kept = {"flops": self.value(convention["flops"], "convention", "flops", CONVENTIONS.__contains__,
                                    f"one of {', '.join(CONVENTIONS)}")}
        for key, fits, wanted in (("dtype", _is_text, "a string"), ("batch", _is_count, "a whole number >= 0"),
                                  ("optimizer", _is_text, "a string"),
                                  ("bytes_per_element", _is_count, "a whole number >= 0")):
            if key in convention:
                kept[key] = self.value(convention[key], "convention", key, fits, wanted)
        inputs = self.mapping(data["inputs"], "inputs")
        totals = self.mapping(data["totals"], "totals", TOTALS)
        layers = self.values(data["layers"], "", "layers", lambda item: True, "")
        return {"cnncalc": data["cnncalc"], "convention": kept,
                "inputs": {name: self.values(shape, "inputs", name, _is_count, "a whole number >= 0")
                           for name, shape in inputs.items()},
                "totals": {key: self.value(totals[key], "totals", key, _is_count, "a whole number >= 0")
                           for key in TOTALS},
                "layers": layers if all(map(_plain_layer, layers)) else
                [self.layer(layer, f"layers[{index}]") for index, layer in enumerate(layers)]}

    def layer(self, value: Any, path: str) -> dict[str, Any]:
        """The fields diff reads or prints, checked; unknown ones dropped."""
        layer = self.mapping(value, path, LAYER_REQUIRED)
        kept = {key: self.value(layer[key], path, key, _is_text, "a string") for key in ("name", "type")}
        if "from" in layer:
            kept["from"] = self.values(layer["from"], path, "from", _is_text, "a string")
        kept["output_shape"] = self.values(layer["output_shape"], path, "output_shape", _is_count,
                                           "a whole number >= 0")
        for key in LAYER_COUNTS:
            if key in layer:
                kept[key] = self.value(layer[key], path, key, _is_count, "a whole number >= 0")
        if "view" in layer:
            kept["view"] = self.value(layer["view"], path, "view", lambda item: type(item) is bool, "true or false")
        field = layer.get("receptive_field")
        if field is not None:
            where = f"{path}.receptive_field"
            self.mapping(field, where, FIELD_KEYS)
            kept["receptive_field"] = {key: self.values(field[key], where, key, _is_number, "a number")
                                       for key in FIELD_KEYS}
        elif "receptive_field" in layer:
            kept["receptive_field"] = None
        return kept


LAYER_REQUIRED = ("name", "type", "output_shape", "params", "macs", "flops")
LAYER_COUNTS = ("params", "buffers", "macs", "flops", "activation_bytes")
LAYER_KEYS = ("name", "type", "from", "output_shape", *LAYER_COUNTS, "view", "receptive_field")
FIELD_KEYS = ("size", "jump", "start")


def _plain_layer(layer: Any) -> bool:
    """A layer as the writer writes it, tested with C-level calls and no JSON paths (about 3 us);
    anything else goes through _Checker.layer, which names what is wrong. Never more lenient."""
    if type(layer) is not dict or not layer.keys() <= _LAYER_KEY_SET:
        return False
    get = layer.get
    counts: list[Any] = [get("params"), get("macs"), get("flops")]
    shape, sources = get("output_shape"), get("from", [])
    field, view = get("receptive_field"), get("view", False)
    if type(shape) is not list or type(sources) is not list or (view is not True and view is not False):
        return False
    counts += shape
    counts.append(get("buffers", 0))
    counts.append(get("activation_bytes", 0))
    if field is not None:
        if type(field) is not dict or field.keys() != _FIELD_KEY_SET:
            return False
        size, jump, start = field["size"], field["jump"], field["start"]
        if type(size) is not list or type(jump) is not list or type(start) is not list \
                or not set(map(type, size + jump + start)) <= _NUMBER_TYPES:
            return False
    return (type(get("name")) is str and type(get("type")) is str and set(map(type, sources)) <= _TEXT_TYPES
            and set(map(type, counts)) == _COUNT_TYPES and min(counts) >= 0 and max(counts) < COUNT_LIMIT)


_NUMBER_TYPES, _TEXT_TYPES, _COUNT_TYPES = {int, float}, {str}, {int}
_FIELD_KEY_SET = {"size", "jump", "start"}
_LAYER_KEY_SET = frozenset(LAYER_KEYS)
