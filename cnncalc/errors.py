"""Errors that carry where they come from: file, line, column and layer."""

from __future__ import annotations

from typing import NamedTuple


class Mark(NamedTuple):
    """A place in a spec file; line and column count from 1, like editors do. (A NamedTuple:
    every layer record carries one, and a 100,000-layer spec builds them fast.)"""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class SpecError(Exception):
    """A spec (or a command-line value standing in for one) that cannot be analysed.

    Rendered as `file:line:col: layer 'name' (type): problem; hint`, the form
    the spec format promises. The CLI prints it and exits with status 2.
    """

    def __init__(
        self,
        problem: str,
        *,
        mark: Mark | None = None,
        layer: tuple[str, str] | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(problem)
        self.problem = problem
        self.mark = mark
        self.layer = layer
        self.hint = hint

    def __str__(self) -> str:
        parts = []
        if self.mark is not None:
            parts.append(f"{self.mark}: ")
        if self.layer is not None:
            name, type_name = self.layer
            parts.append(f"layer '{_capped(name)}' ({_capped(type_name)}): ")
        parts.append(_capped(self.problem))
        if self.hint:
            parts.append(f"; {_capped(self.hint)}")
        return "".join(parts)


MESSAGE_LIMIT = 500  # characters of a problem or a hint: a message quotes what the user wrote


def _capped(text: str, limit: int = MESSAGE_LIMIT) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit:,} more characters)"


class FieldError(Exception):
    """A bad value in one field of a layer; the walker adds the mark and layer."""

    def __init__(self, field: str | None, problem: str, hint: str | None = None) -> None:
        super().__init__(problem)
        self.field = field
        self.problem = problem
        self.hint = hint


class ShapeError(Exception):
    """A layer that cannot take the shapes it is given; the walker adds the mark."""

    def __init__(self, problem: str, hint: str | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.hint = hint
