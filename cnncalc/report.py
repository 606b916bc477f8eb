"""From a walked Graph to a Report: FLOPs under a convention, memory, peak
activations by liveness, the training estimate and totals. Pure functions over
frozen records; renderers only read what this module returns."""

from __future__ import annotations

from typing import NamedTuple

from .graph import Field, Graph, LayerRecord
from .layers import Shape
from .spec import DTYPE_BYTES

CONVENTIONS = {
    "2mac": "FLOPs = 2 x MACs (PyTorch FlopCounterMode, Darknet, chip TOPS ratings)",
    "mac": "FLOPs = MACs (fvcore, the '4.1 GFLOPs' of the ResNet-50 paper)",
    "full": "FLOPs = every multiply, add, comparison and function (`cnncalc explain TYPE` per layer)",
}
# Copies of the weights kept while training: the weights, their gradients, optimizer state.
OPTIMIZER_COPIES = {"sgd": 2, "momentum": 3, "adam": 4}


class Assumptions(NamedTuple):
    """What every figure of a report assumes; printed under every table. (Assumptions and
    Totals are NamedTuples: frozen, and 0.5 ms less start-up each than a dataclass.)"""

    convention: str
    dtype: str
    bytes_per_element: int
    batch: int
    optimizer: str

    @property
    def convention_text(self) -> str:
        return CONVENTIONS[self.convention]


class LayerRow(NamedTuple):
    """One primitive layer's figures for the whole batch (a NamedTuple: built once per layer)."""

    name: str
    type: str
    inputs: tuple[str, ...]
    output_shape: Shape  # batch first
    params: int
    buffers: int
    macs: int
    flops: int
    activation_bytes: int
    receptive_field: Field
    path: tuple[str, ...]
    block_types: tuple[str, ...]
    view: bool


class Totals(NamedTuple):
    params: int
    buffers: int
    macs: int
    flops: int
    weights_bytes: int
    activation_bytes: int
    peak_activation_bytes: int
    peak_layer: str
    training_bytes: int


class Report(NamedTuple):
    name: str
    source: str
    assumptions: Assumptions
    inputs: dict[str, Shape]  # batch first
    layers: tuple[LayerRow, ...]
    totals: Totals
    outputs: dict[str, Shape]  # batch first
    graph: Graph


def flops(convention: str, macs: int, full_flops: int) -> int:
    if convention == "2mac":
        return 2 * macs
    if convention == "mac":
        return macs
    return full_flops


def summarize(graph: Graph, convention: str = "2mac", optimizer: str = "adam") -> Report:
    """Every figure of the report, for the whole batch."""
    if convention not in CONVENTIONS:
        raise ValueError(f"convention {convention!r}; conventions: {', '.join(CONVENTIONS)}")
    if optimizer not in OPTIMIZER_COPIES:
        raise ValueError(f"optimizer {optimizer!r}; optimizers: {', '.join(OPTIMIZER_COPIES)}")
    batch, width = graph.batch, DTYPE_BYTES[graph.dtype]
    rows = _rows(graph.layers, batch, width, convention)
    params = sum(row.params for row in rows)
    buffers = sum(row.buffers for row in rows)
    activations = sum(row.activation_bytes for row in rows)
    peak, peak_layer = peak_activations(graph, rows, width)
    kept = sum(row.activation_bytes for row in rows if not row.view)
    kept += sum(_size(shape) for shape in graph.inputs.values()) * batch * width
    totals = Totals(
        params=params,
        buffers=buffers,
        macs=sum(row.macs for row in rows),
        flops=sum(row.flops for row in rows),
        weights_bytes=params * width,
        activation_bytes=activations,
        peak_activation_bytes=peak,
        peak_layer=peak_layer,
        training_bytes=(params * OPTIMIZER_COPIES[optimizer] + buffers) * width + kept,
    )
    return Report(
        name=graph.name,
        source=graph.source,
        assumptions=Assumptions(convention, graph.dtype, width, batch, optimizer),
        inputs={name: (batch, *shape) for name, shape in graph.inputs.items()},
        layers=rows,
        totals=totals,
        outputs={name: (batch, *tensor.shape) for name, tensor in graph.outputs.items()},
        graph=graph,
    )


def _rows(records: tuple[LayerRecord, ...], batch: int, width: int, convention: str) -> tuple[LayerRow, ...]:
    """Each record's figures for the whole batch; records share Cost objects (the walk infers
    each distinct layer once), so the figures of each Cost are computed once too."""
    figures: dict[int, tuple[Shape, int, int, int, int, int]] = {}
    rows = []
    for record in records:
        cost = record.cost
        known = figures.get(id(cost))
        if known is None:
            known = figures[id(cost)] = (
                (batch, *cost.shape), cost.params, cost.buffers, batch * cost.macs,
                batch * flops(convention, cost.macs, cost.full_flops), batch * _size(cost.shape) * width)
        shape, params, buffers, macs, counted, activation_bytes = known
        rows.append(LayerRow(record.name, record.type, record.inputs, shape, params, buffers, macs, counted,
                             activation_bytes, record.field, record.path, record.block_types, cost.view))
    return tuple(rows)


def peak_activations(graph: Graph, rows: tuple[LayerRow, ...], width: int) -> tuple[int, str]:
    """The largest sum of live tensors while running the layers in order, and where.

    A tensor lives from the layer that makes it until its last consumer has run; the
    inputs live from the start, the outputs to the end. Views (flatten, reshape,
    identity, dropout) allocate nothing and keep the tensor they view alive.
    """
    alias: dict[str, str] = {}  # a view's name -> the tensor whose memory it uses
    size: dict[str, int] = {}
    for name, shape in graph.inputs.items():
        size[name] = graph.batch * _size(shape) * width
    last_use: dict[str, int] = {}
    for step, row in enumerate(rows):
        for source in row.inputs:
            last_use[alias.get(source, source)] = step
        if row.view:
            alias[row.name] = alias.get(row.inputs[0], row.inputs[0])
        else:
            size[row.name] = row.activation_bytes
    end = len(rows)
    for tensor in graph.outputs.values():
        last_use[alias.get(tensor.producer, tensor.producer)] = end
    frees: dict[int, int] = {}
    for name, step in last_use.items():
        frees[step] = frees.get(step, 0) + size[name]
    live = sum(size[name] for name in graph.inputs)
    peak, peak_layer = live, next(iter(graph.inputs))
    for step, row in enumerate(rows):
        if not row.view:
            live += row.activation_bytes
            if live > peak:
                peak, peak_layer = live, row.name
            if row.name not in last_use:  # read by nothing: freed as soon as it is made
                live -= row.activation_bytes
        live -= frees.get(step, 0)
    return peak, peak_layer


def _size(shape: Shape) -> int:
    result = 1
    for value in shape:
        result *= value
    return result


def fold(rows: tuple[LayerRow, ...], depth: int | None) -> tuple[LayerRow, ...]:
    """Rows with block instances nested deeper than `depth` folded into one row each.

    Depth 1 shows the top-level entries (each block instance one row), depth 2 one
    level inside, like torchinfo's depth; None keeps every primitive layer. Totals
    are unchanged: a folded row sums its layers and shows the last one's output.
    """
    if depth is None:
        return rows
    result: list[LayerRow] = []
    group: list[LayerRow] = []
    for row in rows:
        key = row.path[depth - 1] if len(row.path) >= depth else None
        if group and key != group[0].path[depth - 1]:
            result.append(_folded(group, depth))
            group = []
        if key is None:
            result.append(row)
        else:
            group.append(row)
    if group:
        result.append(_folded(group, depth))
    return tuple(result)


def _folded(group: list[LayerRow], depth: int) -> LayerRow:
    first, last = group[0], group[-1]
    inside = {row.name for row in group}
    external = tuple(dict.fromkeys(source for row in group for source in row.inputs if source not in inside))
    return LayerRow(
        name=first.path[depth - 1],
        type=first.block_types[depth - 1],
        inputs=external,
        output_shape=last.output_shape,
        params=sum(row.params for row in group),
        buffers=sum(row.buffers for row in group),
        macs=sum(row.macs for row in group),
        flops=sum(row.flops for row in group),
        activation_bytes=sum(row.activation_bytes for row in group),
        receptive_field=last.receptive_field,
        path=first.path[: depth - 1],
        block_types=first.block_types[: depth - 1],
        view=False,
    )
