"""Where a chain of the spec runs: the names `from:` can reach, the parameters in scope,
and what an expression error tells the user."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from . import expr
from .graph import Tensor


@dataclass
class Names:
    """What `from:` can name inside one chain; inline chains also see their parent's."""

    local: dict[str, Tensor] = field(default_factory=dict)
    bound: dict[str, Tensor] = field(default_factory=dict)  # `input`, a block's named inputs
    parent: Names | None = None

    def find(self, name: str) -> Tensor | None:
        names: Names | None = self
        while names is not None:
            found = names.local.get(name) or names.bound.get(name)
            if found is not None:
                return found
            names = names.parent
        return None

    def known(self) -> list[str]:
        result: list[str] = []
        names: Names | None = self
        while names is not None:
            result += list(names.local) + list(names.bound)
            names = names.parent
        return list(dict.fromkeys(result))  # the only input is both 'input' and a local name


class Context(NamedTuple):
    """Where a chain runs: its scope of parameters, name prefix and enclosing instances.
    (A NamedTuple: a repeat of a million layers makes one per instance.)"""

    scope: MutableMapping[str, Any]  # a dict, or ChainMaps over one: scopes are layered, never copied
    prefix: str
    path: tuple[str, ...]
    block_types: tuple[str, ...]
    active_blocks: tuple[str, ...]
    fanout: int = 1  # how often this chain may still run: the repeats around it, multiplied


GRAMMAR = ("an expression takes numbers, strings, names in scope, + - * / // % **, comparisons, and/or/not, "
           "x if c else y, indexing like in_shape[1], and the functions " + " ".join(expr.FUNCTIONS))


def expression_problem(error: expr.ExpressionError) -> tuple[str, str]:
    """(problem, hint) of an expression error: its own hint, else what the grammar accepts."""
    problem, _, hint = str(error).partition("; ")
    return problem, hint or GRAMMAR
