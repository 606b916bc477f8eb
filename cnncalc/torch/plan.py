"""A walked spec as a plan of PyTorch modules: one step per record, each with the module
that runs it, its place among the modules, and the values it reads.

`modules.Network` builds a plan, `source.module_source` writes it out as Python; both
take the module places from here, so their `named_modules()` agree.
"""

from __future__ import annotations

import keyword
from collections.abc import Collection
from dataclasses import dataclass

from ..errors import SpecError
from ..graph import Graph, LayerRecord, mark_of
from ..layers import Shape
from .mapping import MAPPERS, Call, Unsupported


@dataclass(frozen=True)
class Step:
    """One record of the graph: the module that runs it, where it sits, what it reads."""

    name: str  # the record's full dotted name
    type: str
    call: Call
    path: tuple[str, ...]  # its place among the modules: the dotted name split, where PyTorch allows
    inputs: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    """A graph as PyTorch modules: inputs in order, steps in execution order, outputs in order."""

    name: str
    source: str
    inputs: dict[str, Shape]  # per sample
    batch: int
    steps: tuple[Step, ...]
    outputs: tuple[str, ...]  # the producer of each output: a step's name or an input's


def plan(graph: Graph, reserved: Collection[str]) -> Plan:
    """The modules of `graph`; `reserved` are names a module may not take (nn.Module's attributes)."""
    shapes: dict[str, Shape] = dict(graph.inputs)
    paths = _Paths(reserved)
    steps = []
    for record in graph.layers:
        inputs = tuple(shapes[name] for name in record.inputs)
        # A parameter reads nothing; its module takes the batch size from the first input,
        # as timm's `cls_token.expand(x.shape[0], -1, -1)` does.
        sources = record.inputs or (next(iter(graph.inputs)),)
        steps.append(Step(record.name, record.type, _module_call(graph, record, inputs), paths.place(record.name),
                          sources))
        shapes[record.name] = record.cost.shape
    outputs = tuple(tensor.producer for tensor in graph.outputs.values())
    return Plan(graph.name, graph.source, dict(graph.inputs), graph.batch, tuple(steps), outputs)


def _module_call(graph: Graph, record: LayerRecord, inputs: tuple[Shape, ...]) -> Call:
    mapper = MAPPERS[type(record.layer)]
    try:
        return mapper(record.layer, inputs, record.cost.shape)
    except Unsupported as error:
        raise SpecError(f"{error.what} has no exact PyTorch equivalent", mark=mark_of(graph, record),
                        layer=(record.name, record.type), hint=error.why) from None


class _Paths:
    """Module places that read like cnncalc's names: `layer2.0.bn2` is layer2 -> 0 -> bn2.

    A name PyTorch cannot nest (an empty part, a part that is an attribute of
    nn.Module, a layer whose name is also the prefix of another) goes at the top
    level with its dots written as '__'.
    """

    def __init__(self, reserved: Collection[str]) -> None:
        self.reserved = reserved
        self.leaves: set[tuple[str, ...]] = set()
        self.containers: set[tuple[str, ...]] = set()

    def place(self, name: str) -> tuple[str, ...]:
        path = tuple(name.split("."))
        prefixes = [path[:end] for end in range(1, len(path))]
        if (all(part and part not in self.reserved for part in path) and path not in self.leaves
                and path not in self.containers and not any(prefix in self.leaves for prefix in prefixes)):
            self.containers.update(prefixes)
            self.leaves.add(path)
            return path
        flat = name.replace(".", "__")
        while flat in self.reserved or (flat,) in self.leaves or (flat,) in self.containers:
            flat += "_"
        self.leaves.add((flat,))
        return (flat,)


def identifier(name: str, taken: Collection[str]) -> str:
    """A Python name for a value or class, from a layer's name: `layer2.0.bn2` -> layer2_0_bn2."""
    text = "".join(char if char.isascii() and (char.isalnum() or char == "_") else "_" for char in name)
    if text[0].isdigit() or keyword.iskeyword(text):
        text = "_" + text
    candidate, index = text, 2
    while candidate in taken:
        candidate, index = f"{text}_{index}", index + 1
    return candidate
