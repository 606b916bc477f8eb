"""Layer fusion as deployment compilers do it: which layers cost no memory round trip of
their own, and the elements each fused kernel reads, keeps as weights and writes.

The rules (docs/fps.md gives what TensorRT, TIDL, Hailo's Dataflow Compiler, RKNN and the
Edge TPU compiler document):

- a view (flatten, reshape, slice, identity, dropout) moves nothing;
- a concat is written in place: its producers write into its buffer, it moves nothing;
- batchnorm or scale right after a conv or linear is folded into its weights;
- activations, per-channel scales and biases, and an elementwise add, sub, mul or div are
  epilogues of the kernel that produced one of their inputs, when that input feeds nothing
  else (so it need not be written) and the output has its shape (no broadcast growth);
  the epilogue reads its other inputs and the kernel writes only the epilogue's output.

With fusion off each layer that is not a view is a kernel of its own reading its inputs and
parameters and writing its output: cnncalc's per-layer roofline before fusion.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .layers import REGISTRY
from .report import LayerRow, Report

FOLDED = frozenset({"batchnorm", "batchnorm1d", "batchnorm2d", "batchnorm3d", "scale"})
WEIGHTED = frozenset({"conv", "conv1d", "conv2d", "conv3d", "conv_transpose", "conv_transpose1d",
                      "conv_transpose2d", "conv_transpose3d", "linear"})
ELEMENTWISE = frozenset({"add", "sub", "mul", "div"})
NOT_EPILOGUE = frozenset({"softmax", "log_softmax"})  # activations that reduce over an axis


def is_epilogue(layer_type: str) -> bool:
    """True for the layer types that can run in the epilogue of the kernel before them."""
    if layer_type in FOLDED or layer_type in ELEMENTWISE:
        return True
    family = getattr(REGISTRY.get(layer_type), "__module__", "")
    return family.endswith(".activation") and layer_type not in NOT_EPILOGUE


@dataclass(frozen=True)
class Kernel:
    """One launch after fusion: its first layer, the layers folded into it, its work and
    its traffic in elements (bytes = elements x bytes per element)."""

    name: str  # the first layer: the table shows the kernel's time on its row
    members: tuple[str, ...]  # the layers folded into it, in order
    ops: int  # 2 per MAC, over the batch
    read: int  # elements of input tensors read, each distinct tensor once
    weights: int  # parameters read (once per batch)
    written: int  # elements written

    @property
    def elements(self) -> int:
        return self.read + self.weights + self.written


@dataclass(frozen=True)
class Fusion:
    """The kernels of a report; `into` maps each folded layer to its kernel's name."""

    fused: bool
    kernels: tuple[Kernel, ...]
    into: dict[str, str] = field(default_factory=dict)
    free: frozenset[str] = frozenset()  # views and in-place concats: no kernel at all

    @property
    def elements(self) -> int:
        return sum(kernel.elements for kernel in self.kernels)


@dataclass
class _Open:
    """A kernel being built."""

    name: str
    members: list[str]
    ops: int
    reads: dict[str, int]
    weights: int
    tail: str
    extra_written: int = 0


def fuse(report: Report, enabled: bool = True) -> Fusion:
    """The kernels of `report` under the rules above (or one per layer with `enabled` False)."""
    elements = {name: _size(shape) for name, shape in report.inputs.items()}
    rows = report.layers
    for row in rows:
        elements[row.name] = _size(row.output_shape)
    consumers = _consumers(rows, {tensor.producer for tensor in report.graph.outputs.values()})
    types = {row.name: row.type for row in rows}
    free: set[str] = set()
    kernels: list[_Open] = []
    tail_of: dict[str, _Open] = {}  # the layer whose output a kernel currently ends with -> kernel
    into: dict[str, str] = {}
    for row in rows:
        if row.view or (enabled and row.type == "concat"):
            free.add(row.name)
            continue
        host = _host(row, tail_of, consumers, elements) if enabled and is_epilogue(row.type) else None
        if host is None:
            kernel = _Open(row.name, [], 2 * row.macs, {source: elements[source] for source in row.inputs},
                           row.params, row.name)
            kernels.append(kernel)
            tail_of[row.name] = kernel
            continue
        source = host.tail
        folded = row.type in FOLDED and not host.members and types[host.name] in WEIGHTED
        host.members.append(row.name)
        host.ops += 2 * row.macs
        host.weights += 0 if folded else row.params
        for other in row.inputs:
            if other != source:
                host.reads.setdefault(other, elements[other])
        del tail_of[source]
        host.tail = row.name
        tail_of[row.name] = host
        into[row.name] = host.name
    done = tuple(Kernel(kernel.name, tuple(kernel.members), kernel.ops, sum(kernel.reads.values()), kernel.weights,
                        elements[kernel.tail]) for kernel in kernels)
    return Fusion(enabled, done, into, frozenset(free))


def _host(row: LayerRow, tail_of: dict[str, _Open], consumers: dict[str, set[str]],
          elements: dict[str, int]) -> _Open | None:
    """The kernel `row` joins as an epilogue: the latest one whose output only `row` reads."""
    for source in reversed(row.inputs):
        kernel = tail_of.get(source)
        if kernel is not None and consumers[source] == {row.name} and elements[source] == elements[row.name]:
            return kernel
    return None


def _consumers(rows: tuple[LayerRow, ...], outputs: set[str]) -> dict[str, set[str]]:
    """Who reads each tensor; a view's readers read its source; a network output has a reader
    outside the network."""
    source_of = {row.name: row.inputs[0] for row in rows if row.view and row.inputs}

    def stored(name: str) -> str:
        while name in source_of:
            name = source_of[name]
        return name

    readers: dict[str, set[str]] = {}
    for row in rows:
        readers.setdefault(row.name, set())
        for source in row.inputs:
            readers.setdefault(stored(source), set()).add(row.name)
            if source in source_of:  # read through a view: the view is a second name for it
                readers[stored(source)].add("<view>")
    for name in outputs:
        readers.setdefault(stored(name), set()).add("<output>")
    return readers


def _size(shape: tuple[int, ...]) -> int:
    result = 1
    for value in shape:
        result *= value
    return result
