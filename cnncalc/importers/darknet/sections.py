"""Reading a cfg: its [section]s with the line and column of every option, and typed access to them."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from ...errors import Mark, SpecError
from ..builder import Where
from ..common import brief, printable_text
from .tables import ALIASES, PREFIX

LINE_LIMIT = 2_000_000  # lines of a cfg: yolov4.cfg has 1,158; 40,000 layers of the speed benchmark some 300,000
SECTION_LIMIT = 100_000  # layers ([sections] after [net]): yolov4.cfg has 162; the speed benchmark imports 40,000
INTEGER_RANGE = (-(2**31), 2**31 - 1)  # Darknet reads whole numbers with atoi into a C int: past it, Darknet overflows
_DIGITS = len(str(INTEGER_RANGE[1]))  # a number with more digits is out of range without being converted
_WHOLE = re.compile(r"[-+]?[0-9]+")
_SPACE = re.compile(r"\s")
_TEXT_HINT = "a cfg is plain text: [section] and key=value lines"


class Option(NamedTuple):  # a NamedTuple: one is made per cfg line, and a frozen dataclass is slower to build
    value: str
    line: int
    column: int  # of the value
    key_column: int


@dataclass
class Section:
    """One [section] of the cfg: its kind as written and its options, first one of a key kept (as Darknet)."""

    written: str
    line: int
    column: int
    index: int  # Darknet's layer number; -1 for [net]
    options: dict[str, Option] = field(default_factory=dict)
    repeated: dict[str, Option] = field(default_factory=dict)

    @functools.cached_property
    def kind(self) -> str:
        name = self.written.lower()
        return ALIASES.get(name, name)

    @functools.cached_property
    def prefix(self) -> str:
        return PREFIX.get(self.kind, self.kind)


def repeated_note(section: Section) -> str | None:
    """What the spec's description says of the keys a section gives more than once, or None."""
    if not section.repeated:
        return None
    where = "[net]" if section.index < 0 else f"[{section.written}] (layer {section.index})"
    listed = ", ".join(f"{key} (lines {section.options[key].line} and {again.line})"
                       for key, again in section.repeated.items())
    return f"{where} gives {listed} more than once: Darknet reads the first, and so does cnncalc."


def read_cfg(text: str, filename: str) -> list[Section]:
    """The sections of a cfg, with the line and column of everything; malformed lines are errors."""
    sections: list[Section] = []
    index = -1
    for number, raw in _lines(printable_text(text, filename, _TEXT_HINT), filename):
        content = raw.strip()
        if not content or content[0] in "#;":
            continue
        column = len(raw) - len(raw.lstrip()) + 1
        if "#" in content or ";" in content:  # a comment after a value
            for marker in "#;":
                content = content.split(marker, 1)[0].rstrip()
        if content.startswith("["):
            name = content[1:-1].strip() if content.endswith("]") else ""
            if not content.endswith("]") or not name or "[" in name or "]" in name:
                raise SpecError(f"malformed section header '{brief(content)}'", mark=Mark(filename, number, column),
                                hint="a section is a name in brackets on a line of its own, e.g. [convolutional]")
            if len(sections) > SECTION_LIMIT:
                raise SpecError(f"the file has more than {SECTION_LIMIT:,} layers", mark=Mark(filename, number, column),
                                hint="the largest Darknet cfgs have some 500: a generated or corrupt file?")
            sections.append(Section(name, number, column, index))
            index += 1
            continue
        key, sep, value = content.partition("=")
        key = "".join(key.split()) if _SPACE.search(key) else key  # Darknet drops every space (utils.c, strip)
        if not sections:
            raise SpecError(f"'{brief(content)}' comes before the first [section]", mark=Mark(filename, number, column),
                            hint="a Darknet cfg starts with [net]")
        section = sections[-1]
        if not sep or not key:
            raise SpecError(f"[{section.written}]: expected key=value, found '{brief(content)}'",
                            mark=Mark(filename, number, column),
                            hint="a truncated or mistyped line? cfg lines are [section] or key=value")
        value = "".join(value.split()) if _SPACE.search(value) else value
        option = Option(value, number, raw.index("=") + 2, column)
        if key in section.options:
            section.repeated.setdefault(key, option)
        else:
            section.options[key] = option
    if not sections:
        raise SpecError("the file has no [sections]", mark=Mark(filename, 1, 1),
                        hint="a Darknet cfg starts with [net], then one section per layer")
    return sections


def _lines(text: str, filename: str) -> Iterator[tuple[int, str]]:
    """(number, line) split at newlines only, as Darknet reads them, a Windows line end's '\\r' dropped."""
    lines = text.split("\n")
    if len(lines) > LINE_LIMIT + 1 or (len(lines) == LINE_LIMIT + 1 and lines[-1]):
        raise SpecError(f"the file has more than {LINE_LIMIT:,} lines", mark=Mark(filename, LINE_LIMIT + 1, 1),
                        hint="the largest Darknet cfgs have some 3,000: a generated or corrupt file?")
    for number, line in enumerate(lines, 1):
        yield number, line[:-1] if line.endswith("\r") else line


def whole(text: str) -> int:
    """A whole number as Darknet's atoi reads a sane one: ValueError if it is none, OverflowError past a C int."""
    if text.isascii() and text.isdigit() and len(text) < _DIGITS:  # the usual case, plainly in range
        return int(text)
    if not _WHOLE.fullmatch(text):
        raise ValueError(text)
    if len(text.lstrip("-+").lstrip("0")) > _DIGITS or not INTEGER_RANGE[0] <= int(text) <= INTEGER_RANGE[1]:
        raise OverflowError(text)
    return int(text)


class Reader:
    """Typed access to one section's options; every problem names the line and the layer."""

    def __init__(self, filename: str, section: Section) -> None:
        self.filename = filename
        self.section = section
        name = f"{section.prefix}_{section.index}" if section.index >= 0 else "net"
        self.where = Where(Mark(filename, section.line, section.column), (name, f"[{section.written}]"))

    def fail(self, key: str | None, problem: str, hint: str | None = None, at_key: bool = False) -> SpecError:
        """An error at the value of `key` (at the key itself with at_key), else at the section's header."""
        option = self.section.options.get(key) if key else None
        mark = self.where.mark
        if option is not None:
            mark = Mark(self.filename, option.line, option.key_column if at_key else option.column)
        return SpecError(problem, mark=mark, layer=self.where.layer, hint=hint)

    def has(self, key: str) -> bool:
        return key in self.section.options

    def raw(self, key: str) -> Option | None:
        """The key's option; a key given twice is read from its first line, as Darknet's option_find does
        (the spec's description says so, see `repeated_note`)."""
        return self.section.options.get(key)

    def text(self, key: str, default: str) -> str:
        option = self.raw(key)
        return default if option is None else option.value

    def integer(self, key: str, default: int | None = None, minimum: int = 0) -> int:
        option = self.raw(key)
        if option is None:
            if default is None:
                raise self.fail(None, f"[{self.section.written}] needs {key}=", "a truncated section?")
            return default
        try:
            value = whole(option.value)
        except ValueError:
            raise self.fail(key, f"{key}={brief(option.value)} is not a whole number") from None
        except OverflowError:
            raise self.out_of_range(key) from None
        if value < minimum:
            raise self.fail(key, f"{key}={value} is below {minimum}")
        return value

    def number(self, key: str, default: float) -> float:
        option = self.raw(key)
        if option is None:
            return default
        try:
            value = float(option.value)
        except ValueError:
            raise self.fail(key, f"{key}={brief(option.value)} is not a number") from None
        if not math.isfinite(value):
            raise self.fail(key, f"{key}={brief(option.value)} is not a finite number")
        return value

    def integers(self, key: str) -> list[int]:
        option = self.raw(key)
        if option is None:
            raise self.fail(None, f"[{self.section.written}] needs {key}=", "e.g. layers=-1,-4")
        try:
            return [whole(item) for item in option.value.split(",") if item != ""]
        except ValueError:
            raise self.fail(key, f"{key}={brief(option.value)} is not a list of whole numbers") from None
        except OverflowError:
            raise self.out_of_range(key) from None

    def out_of_range(self, key: str) -> SpecError:
        return self.fail(key, f"{key}={brief(self.text(key, ''))} is out of range",
                         "Darknet reads whole numbers into a C int, -2**31 to 2**31 - 1")

    def strides(self) -> tuple[int | list[int], int]:
        """(stride as cnncalc takes it: one number, or [y, x]; the plain `stride`)."""
        stride = self.integer("stride", 1, 1)
        across = self.integer("stride_x", stride, 1)
        down = self.integer("stride_y", stride, 1)
        return (across if across == down else [down, across]), stride
