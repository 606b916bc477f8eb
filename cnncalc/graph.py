"""The records a walk of a spec yields: frozen, per sample, convention-free."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from .errors import Mark
from .layers import Cost, Layer, Shape

# Per spatial axis: (size, jump, start) in input positions; None where undefined. Size and
# jump are whole numbers until an upsampling divides the jump (cnncalc/field.py).
Field = tuple[tuple[int | float, int | float, float], ...] | None


# Tensor and LayerRecord are NamedTuples, not frozen dataclasses: a 100,000-layer spec
# builds one of each per layer, and a NamedTuple is built three times faster.
class Tensor(NamedTuple):
    """A value flowing along the graph: its shape, who made it, and its receptive field."""

    shape: Shape
    producer: str  # a layer's full name, or an input's name
    field: Field


class LayerRecord(NamedTuple):
    """One primitive layer as walked: name, type, inputs and its per-sample cost."""

    name: str
    type: str
    inputs: tuple[str, ...]
    layer: Layer
    cost: Cost
    field: Field
    path: tuple[str, ...]  # the block or chain instances it sits in, outermost first
    block_types: tuple[str, ...]  # the type of each of those instances
    where: Any  # the spec's raw mark of the entry; `mark_of` turns it into file:line:col


@dataclass(frozen=True)
class Graph:
    """A spec walked: what `report.summarize` turns into totals under a convention."""

    name: str
    source: str
    inputs: dict[str, Shape]
    batch: int
    dtype: str
    layers: tuple[LayerRecord, ...]
    outputs: dict[str, Tensor]
    budgets: Any  # the spec's `budgets:` as read, with its marks (cnncalc.budgets parses it)


def mark_of(graph: Graph, record: LayerRecord) -> Mark:
    """Where a layer was written. Made on demand: a 100,000-layer spec would build them all."""
    from .yamlread import position

    line, column = position(record.where)
    return Mark(graph.source, line, column)
