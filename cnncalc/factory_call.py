"""`factory(num_classes=10, weights=None)`: the arguments of a `torch:package.module:factory(...)`
source, read as literals and never evaluated.

Python's own parser reads the text (`ast.parse`), then only keyword arguments whose values
are literals are accepted: numbers, strings, True, False, None, and tuples, lists, sets and
dicts of them (`ast.literal_eval`'s rules, which build values without running code). A
name, a call, an attribute, an operator other than a sign, `*args` or `**kwargs` is an
error naming the argument, so that `torch:m:f(weights=download())` cannot run anything.
"""

from __future__ import annotations

import ast
from typing import Any

from .errors import SpecError

CALL_LIMIT = 2_000  # characters of `factory(...)`: far past any real list of keyword arguments


def split_call(text: str, source: str) -> tuple[str, dict[str, Any]]:
    """`resnet50(num_classes=10)` -> ("resnet50", {"num_classes": 10}); `resnet50` -> ("resnet50", {})."""
    name, parenthesis, _ = text.partition("(")
    if not parenthesis:
        return text, {}
    hint = "write factory(name=literal, ...): keyword arguments with numbers, strings, True, False, None or lists"
    if len(text) > CALL_LIMIT:
        raise SpecError(f"{source}: the factory's arguments pass {CALL_LIMIT:,} characters", hint=hint)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        problem = getattr(error, "msg", None) or type(error).__name__
        raise SpecError(f"{source}: cannot read the factory call: {problem}", hint=hint) from None
    call = tree.body
    if not isinstance(call, ast.Call) or _dotted(call.func) != name.strip():
        raise SpecError(f"{source}: '{text}' is not one call of {name.strip()}", hint=hint)
    if call.args:
        raise SpecError(f"{source}: positional arguments are not taken", hint=hint)
    arguments: dict[str, Any] = {}
    for keyword in call.keywords:
        if keyword.arg is None:
            raise SpecError(f"{source}: **arguments are not taken", hint=hint)
        try:
            arguments[keyword.arg] = ast.literal_eval(keyword.value)
        except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
            raise SpecError(f"{source}: argument '{keyword.arg}' is not a literal "
                            f"({ast.get_source_segment(text.strip(), keyword.value) or 'an expression'})",
                            hint=hint) from None
    return name.strip(), arguments


def _dotted(node: ast.expr) -> str | None:
    """`a.b.c` as text; None for anything that is not a plain dotted name."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None
