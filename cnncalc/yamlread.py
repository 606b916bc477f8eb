"""Read a spec's YAML into plain values that remember where they were written.

The only module that knows YAML. It builds values straight from the parser's
events (LibYAML's when present): one pass, no recursion, so 5,000-deep nesting is
an error with a location rather than a crash, and composing node objects first
(three times slower) is skipped. Scalars follow YAML 1.2's core schema (`1e-6` is
a number; only true/false are booleans), no tag builds an object, and aliases are
counted as they expand so an alias bomb stops early.
"""

from __future__ import annotations

import re
from typing import Any

import yaml  # type: ignore[import-untyped]

from .errors import Mark, SpecError

MAX_DEPTH = 100
MAX_EXPANDED_NODES = 1_000_000

_Parser: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {f"{_CORE}{name}" for name in ("str", "int", "float", "bool", "null", "seq", "map")}
_INT = re.compile(r"[-+]?[0-9]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_MISSING = object()
_NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE
_SPECIAL = {
    "": None, "~": None, "null": None, "Null": None, "NULL": None,
    "true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False,
    ".inf": float("inf"), "+.inf": float("inf"), "-.inf": float("-inf"),
    ".nan": float("nan"), ".NaN": float("nan"), ".NAN": float("nan"),
}


class Map(dict[Any, Any]):
    """A mapping with the marks of itself, of each key and of each value (see `position`)."""

    __slots__ = ("mark", "key_marks", "value_marks")

    def __init__(self, mark: Any) -> None:
        super().__init__()
        self.mark = mark
        self.key_marks: dict[Any, Any] = {}
        self.value_marks: dict[Any, Any] = {}


class Seq(list[Any]):
    """A sequence with the marks of itself and of each item (see `position`)."""

    __slots__ = ("mark", "item_marks")

    def __init__(self, mark: Any) -> None:
        super().__init__()
        self.mark = mark
        self.item_marks: list[Any] = []


def decode(data: bytes, filename: str) -> str:
    """UTF-8 text, or an error at the line and column of the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        good = data[: error.start].decode("utf-8")
        line = good.count("\n") + 1
        column = error.start - (good.rfind("\n") + 1) + 1 if "\n" in good else len(good) + 1
        raise SpecError(
            f"byte 0x{data[error.start]:02x} is not UTF-8",
            mark=Mark(filename, line, column),
            hint="save the spec as UTF-8 text",
        ) from None


def load(text: str, filename: str) -> Any:
    """The one YAML document in `text`, as Map, Seq and plain scalars."""
    try:
        return _load(_Parser(text), text, filename)
    except SpecError as error:
        if _Parser is yaml.SafeLoader or not error.problem.endswith(_LIBYAML_DEPTH):
            raise
    # LibYAML 0.2.6 (PyYAML 6.0.4) stops at 1,000 levels while scanning ahead of the
    # events; the pure-Python parser has no limit, so cnncalc's own answers, at its place.
    return _load(yaml.SafeLoader(text), text, filename)


_LIBYAML_DEPTH = "exceeded maximum nesting depth"


def _load(parser: Any, text: str, filename: str) -> Any:
    try:
        return _Builder(parser, filename).document()
    except yaml.MarkedYAMLError as error:
        place = error.problem_mark or error.context_mark
        mark = Mark(filename, place.line + 1, place.column + 1) if place else Mark(filename, 1, 1)
        raise SpecError(f"YAML syntax error: {error.problem or error.context}", mark=mark,
                        hint=_syntax_hint(error)) from None
    except yaml.reader.ReaderError:
        raise _unprintable(text, filename) from None
    except yaml.YAMLError as error:
        raise SpecError(f"YAML error: {error}", mark=Mark(filename, 1, 1)) from None
    finally:
        parser.dispose()


def _unprintable(text: str, filename: str) -> SpecError:
    """A control character YAML refuses, at its own line and column (PyYAML gives an offset)."""
    found = _NON_PRINTABLE.search(text)
    at = found.start() if found else 0
    line = text.count("\n", 0, at) + 1
    column = at - (text.rfind("\n", 0, at) + 1) + 1
    character = f"U+{ord(text[at]):04X}" if found else "a control character"
    return SpecError(f"character {character} is not allowed in YAML", mark=Mark(filename, line, column),
                     hint="remove it: YAML text holds no control characters but tab, newline and carriage return")


class _Frame:
    """A mapping or sequence being built, with the number of nodes below it."""

    __slots__ = ("value", "key", "key_mark", "has_key", "size", "anchor")

    def __init__(self, value: Map | Seq, anchor: str | None) -> None:
        self.value = value
        self.key: Any = None
        self.key_mark: Any = None
        self.has_key = False
        self.size = 1
        self.anchor = anchor


class _Builder:
    def __init__(self, parser: Any, filename: str) -> None:
        self.parser = parser
        self.filename = filename
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.expanded = 0  # nodes that aliases stand for, counted where they are used

    def error(self, problem: str, at: Any, hint: str | None = None) -> SpecError:
        line, column = position(at)
        return SpecError(problem, mark=Mark(self.filename, line, column), hint=hint)

    def document(self) -> Any:
        get = self.parser.get_event
        get()  # StreamStart
        event = get()
        if isinstance(event, yaml.StreamEndEvent):
            raise self.error("the spec is empty", None, "write a mapping with at least 'input' and 'layers'")
        root = self.node(get)
        get()  # DocumentEnd
        event = get()
        if not isinstance(event, yaml.StreamEndEvent):
            raise self.error("a second YAML document starts here", event.start_mark,
                             "a spec is one document: remove the '---' or split the file")
        return root

    def node(self, get: Any) -> Any:
        """Build the node whose start event comes next, iteratively.

        The hot loop of a 100,000-layer spec: marks stay LibYAML's objects until
        an error or a caller asks for a position, plain scalars are cached by text.
        """
        stack: list[_Frame] = []
        plain_cache: dict[str, Any] = {}
        scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
        mapping_start, sequence_start = yaml.MappingStartEvent, yaml.SequenceStartEvent
        while True:
            event = get()
            kind = type(event)
            start = event.start_mark
            at = (start.line << 20) | start.column  # packed: LibYAML's Mark objects cost ~300 bytes each
            size = 1
            if kind is scalar_event:
                text = event.value
                if event.tag is None and event.implicit[0]:
                    value = plain_cache.get(text, _MISSING)
                    if value is _MISSING:
                        value = plain_cache[text] = self.plain(text, event)
                else:
                    value = self.scalar(event)
                if event.anchor is not None:
                    self.anchors[event.anchor] = (value, size)
            elif kind is alias_event:
                value, size = self.alias(event)
            elif kind is mapping_start or kind is sequence_start:
                if event.tag is not None:
                    self.check_tag(event)
                if len(stack) >= MAX_DEPTH:
                    raise self.error(f"nesting deeper than {MAX_DEPTH} levels", at,
                                     "blocks and repeat replace deep nesting")
                stack.append(_Frame(Map(at) if kind is mapping_start else Seq(at), event.anchor))
                continue
            else:  # the end of a mapping or a sequence
                frame = stack.pop()
                value, size, at = frame.value, frame.size, frame.value.mark
                if type(value) is Map and "<<" in value:
                    _merge_keys(value)
                if frame.anchor is not None:
                    self.anchors[frame.anchor] = (value, size)
            if not stack:
                return value
            frame = stack[-1]
            frame.size += size
            container = frame.value
            if type(container) is Seq:
                container.append(value)
                container.item_marks.append(at)
            elif not frame.has_key:
                if isinstance(value, (Map, Seq)):
                    raise self.error("a mapping key must be a plain value", at)
                frame.key, frame.key_mark, frame.has_key = value, at, True
            elif frame.key in container or frame.key == "<<":
                self.set_item(frame, value, at)  # a duplicate key, or a merge key
            else:  # the common case, inline: a 100,000-layer spec has half a million of these
                assert type(container) is Map  # a Seq took the first branch
                key = frame.key
                container[key] = value
                container.key_marks[key] = frame.key_mark
                container.value_marks[key] = at
                frame.has_key = False

    def set_item(self, frame: _Frame, value: Any, at: Any) -> None:
        key, container = frame.key, frame.value
        assert isinstance(container, Map)  # set_item is only called for mappings
        if key in container and key != "<<":
            raise self.error(f"key '{key}' appears twice in this mapping", frame.key_mark,
                             "keep one of the two")
        container[key] = value
        container.key_marks[key] = frame.key_mark
        container.value_marks[key] = at
        frame.has_key = False

    def alias(self, event: Any) -> tuple[Any, int]:
        if event.anchor not in self.anchors:
            raise self.error(f"alias *{event.anchor} refers to no anchor", event.start_mark,
                             f"mark the value first with &{event.anchor}, above this alias")
        value, size = self.anchors[event.anchor]
        self.expanded += size
        if self.expanded > MAX_EXPANDED_NODES:
            raise self.error(
                f"aliases expand to more than {MAX_EXPANDED_NODES:,} nodes", event.start_mark,
                "use blocks and 'repeat' rather than aliases that repeat aliases")
        return value, size

    def scalar(self, event: Any) -> Any:
        tag = event.tag
        text: str = event.value
        if tag is not None and tag != "!":
            self.check_tag(event)
            if tag == f"{_CORE}str":
                return text
        elif not event.implicit[0]:  # quoted or block scalar: always a string
            return text
        return self.plain(text, event)

    def plain(self, text: str, event: Any) -> Any:
        if text in _SPECIAL:
            return _SPECIAL[text]
        try:
            if _INT.fullmatch(text):
                return int(text)
            if text.startswith(("0x", "0o")):
                return int(text, 0)
            if _FLOAT.fullmatch(text):
                return float(text)
        except ValueError:
            raise self.error(f"number '{text[:20]}...' is too long", event.start_mark) from None
        return text

    def check_tag(self, event: Any) -> None:
        tag = event.tag
        if tag is None or tag == "!" or tag in _ALLOWED_TAGS:
            return
        raise self.error(
            f"YAML tag '{tag.replace(_CORE, '!!', 1)}' is not allowed",  # as written: !!python/...
            event.start_mark,
            "a spec is plain data: mappings, lists, numbers, strings, true/false",
        )


def _syntax_hint(error: yaml.MarkedYAMLError) -> str:
    """Where the construct that broke began ("while parsing a flow mapping" at 1:8), else a general hint."""
    context, where = error.context, error.context_mark
    problem = error.problem_mark
    if context and where is not None and (problem is None or (where.line, where.column) != (problem.line, problem.column)):
        return f"{context} that starts at line {where.line + 1}, column {where.column + 1}"
    return "check the indentation (spaces, not tabs), colons, quotes and brackets"


def position(mark: Any) -> tuple[int, int]:
    """(line, column) from 1 of a mark kept by Map and Seq (packed int) or a YAML mark; (1, 1) when unknown."""
    if mark is None:
        return (1, 1)
    if isinstance(mark, int):
        return ((mark >> 20) + 1, (mark & 0xFFFFF) + 1)
    return (mark.line + 1, mark.column + 1)


def _merge_keys(mapping: Map) -> None:
    """YAML's `<<: *defaults` merge key: entries written beside it win."""
    if "<<" not in mapping:
        return
    merged = mapping.pop("<<")
    mark = mapping.value_marks.pop("<<")
    mapping.key_marks.pop("<<")
    sources = merged if isinstance(merged, Seq) else [merged]
    for source in sources:
        if not isinstance(source, Map):
            continue
        for key, value in source.items():
            if key not in mapping:
                mapping[key] = value
                mapping.key_marks[key] = mark
                mapping.value_marks[key] = source.value_marks.get(key, mark)
