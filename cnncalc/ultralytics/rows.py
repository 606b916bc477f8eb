"""What converting one row needs and gives: its context (the model, the row, its inputs'
channels, its scaled repeat count) and the result (a block instance, its output channels,
the blocks written for it); Ultralytics' channel rounding; argument helpers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .model import ACTIVATIONS, Model, Row

Entry = dict[str, Any]


@dataclass(frozen=True)
class Built:
    entry: Entry
    channels: Any  # an int; CBLinear's is the list of its outputs' channels, as in parse_model
    blocks: dict[str, Any]  # blocks written for this row's counts (name -> block)


def make_divisible(value: float, divisor: int = 8) -> int:
    """Ultralytics' channel rounding: up to the next multiple of `divisor`."""
    if not math.isfinite(value):  # a huge width multiple: reported as the row's bad arguments
        raise ValueError(f"channels {value} are not a finite number")
    return math.ceil(value / divisor) * divisor


@dataclass(frozen=True)
class Context:
    model: Model
    row: Row
    inputs: tuple[Any, ...]  # channels of each `from` tensor
    repeats: int  # scaled by depth

    def width(self, channels: Any) -> int:
        return make_divisible(min(channels, self.model.max_channels) * self.model.width)


def arg(args: tuple[Any, ...], index: int, default: Any) -> Any:
    return args[index] if len(args) > index else default


def keyword(name: str, value: Any) -> dict[str, Any]:
    """A block parameter from a module argument: None and act=True keep the block's default."""
    if value is None or (name == "act" and value is True):
        return {}
    if name == "act":
        if value is False:
            return {name: "identity"}  # no activation
        if isinstance(value, str) and value.removeprefix("torch.") in ACTIVATIONS:
            return {name: ACTIVATIONS[value.removeprefix("torch.")]}
        raise ValueError(f"act {value!r} is not True, False or one of {', '.join(ACTIVATIONS)}")
    return {name: value}
