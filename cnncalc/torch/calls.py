"""What a mapping returns: a module class and its arguments, or why PyTorch has none."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class Unsupported(Exception):
    """A layer PyTorch has no exact module for: what it is, and why; the plan adds the layer's name and place."""

    def __init__(self, what: str, why: str) -> None:
        super().__init__(what)
        self.what, self.why = what, why


@dataclass(frozen=True)
class Call:
    """A module to build: its class (`nn.Conv2d`, or a class of cnncalc.torch.modules) and arguments."""

    factory: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()


def call(factory: str, *args: Any, **kwargs: Any) -> Call:
    return Call(factory, args, tuple(kwargs.items()))


def options(**values: tuple[Any, Any]) -> dict[str, Any]:
    """Keyword arguments whose value differs from PyTorch's default: name=(value, default)."""
    return {name: value for name, (value, default) in values.items() if value != default}
