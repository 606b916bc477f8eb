"""Filling `$name`, `${expr}` and text with `${expr}` in it from a scope of values.

A string's layout (its text pieces and parsed expressions) is worked out once per
distinct string; a walk fills it through an Evaluator, which answers a question it was
asked before from memory and bounds the work of all expressions together, so that a
repeat or a block used a million times cannot run for hours.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from .expr import MAX_SOURCE_LENGTH, ExpressionError, check_length, evaluate_tree, lookup, parse

# Expression steps (syntax-tree nodes, and one per `${...}`) one walk may evaluate, repeats
# included: about 10 s of work, 10 steps for each of a million layers (the bundled
# ResNet-50 spec takes 3 a layer, MobileNet v2 4).
MAX_WORK = 10_000_000
_WORTH_KEEPING = 8  # steps: `${i}` and `${c * 2}` cost less to evaluate than to look up
KEPT = 100_000  # distinct results an Evaluator keeps: bounded memory on a million-layer spec
_NAME_REFERENCE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


class _Expression(NamedTuple):
    source: str
    tree: ast.expr


class Template(NamedTuple):
    """A string with `${...}` in it: literal text and expressions, in order."""

    parts: tuple[str | _Expression, ...]
    names: tuple[str, ...]  # what the expressions read, once each
    steps: int
    whole: bool  # one `${...}` and nothing else: the result keeps its type


def contains_expression(value: object) -> bool:
    """True when resolve() could change the value: a string with a `$` in it."""
    return isinstance(value, str) and "$" in value


def resolve(value: object, scope: Mapping[str, object], evaluator: Evaluator | None = None) -> object:
    """Replace `$name`, `${expr}` or text with `${expr}` in it; anything else as is.

    `$name` or `${expr}` as the whole string keeps the value's type; inside text each
    `${expr}` becomes str(value), so "conv${i}" is "conv3". A `${` without its `}` is an
    error rather than text, because it is almost always a typo.
    """
    if not isinstance(value, str) or "$" not in value:
        return value
    if match := _NAME_REFERENCE.fullmatch(value):
        return lookup(match[1], scope)
    if evaluator is not None:
        return evaluator.fill(value, scope)
    return fill(template(value), scope)


class Evaluator:
    """The expressions of one walk: each distinct (string, values of its names) is filled
    once, and all of them together take at most MAX_WORK steps."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = MAX_WORK if limit is None else limit
        self.work = 0
        self.known: dict[Any, object] = {}
        self.journal: list[tuple[int, Any, object]] | None = None  # fills charged, while walk/reuse.py records

    def fill(self, text: str, scope: Mapping[str, object]) -> object:
        layout = template(text)
        key = None
        if layout.steps >= _WORTH_KEEPING:
            try:
                key = (text, tuple(_frozen(scope[name]) if name in scope else None for name in layout.names))
                if key in self.known:
                    return self.known[key]
            except TypeError:  # a value that cannot be a key: filled every time
                key = None
        self.work += layout.steps
        if self.work > self.limit:
            raise ExpressionError(f"the spec's expressions take more than {self.limit:,} steps to evaluate; "
                                  "a repeat or block evaluates them again for every instance: "
                                  "compute a value once in params and refer to it")
        value = fill(layout, scope)
        if key is not None and len(self.known) < KEPT:
            self.known[key] = value
        if self.journal is not None:
            self.journal.append((layout.steps, key, value))
        return value


def reads(text: str, name: str) -> bool:
    """Whether resolving `text` reads `name` from the scope."""
    if match := _NAME_REFERENCE.fullmatch(text):
        return match[1] == name
    return "${" in text and name in template(text).names


def fill(layout: Template, scope: Mapping[str, object]) -> object:
    if layout.whole:
        expression = layout.parts[0]
        assert isinstance(expression, _Expression)
        return evaluate_tree(expression.tree, expression.source, scope)
    pieces, length = [], 0
    for part in layout.parts:
        piece = part if isinstance(part, str) else str(evaluate_tree(part.tree, part.source, scope))
        length += len(piece)
        if length > MAX_SOURCE_LENGTH:  # checked as it grows: "${b}${b}" over "${a}${a}" doubles each time
            raise ExpressionError(f"string too long (over {MAX_SOURCE_LENGTH:,} characters once its ${{...}} "
                                  "are filled in); names and labels are for people: keep them short")
        pieces.append(piece)
    return "".join(pieces)


@functools.lru_cache(maxsize=4096)  # the same text comes again in every repeat
def template(text: str) -> Template:
    parts: list[str | _Expression] = []
    names: dict[str, None] = {}
    steps, position = 0, 0
    for start, end in _expression_spans(text):
        source = text[start + 2 : end - 1]
        check_length(source)
        tree, read, size = parse(source)
        names.update(dict.fromkeys(read))
        steps += size + 1
        if start > position:
            parts.append(text[position:start])
        parts.append(_Expression(source, tree))
        position = end
    if position < len(text):
        parts.append(text[position:])
    whole = len(parts) == 1 and isinstance(parts[0], _Expression)
    return Template(tuple(parts), tuple(names), steps, whole)


def _expression_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each `${...}` in text, end just past its closing brace."""
    spans: list[tuple[int, int]] = []
    start = text.find("${")
    while start != -1:
        end = _closing_brace(text, start + 2) + 1
        spans.append((start, end))
        start = text.find("${", end)
    return spans


def _closing_brace(text: str, position: int) -> int:
    # Braces inside quotes don't count, so "${'}' + x}" ends at the last brace.
    depth, quote, index = 0, "", position
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\":
                index += 1  # an escaped character cannot end the string
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return index
            depth -= 1
        index += 1
    raise ExpressionError(f"'${{' without its closing '}}' in '{text}'")


def _frozen(value: object) -> object:
    """A cache key for a value in scope; types keep 1, 1.0 and true apart."""
    if isinstance(value, (list, tuple)):
        return (list, tuple(_frozen(item) for item in value))
    if isinstance(value, dict):
        return (dict, tuple((key, _frozen(item)) for key, item in value.items()))
    return (type(value), value)
