"""Warnings: a spec that analyses but is probably not what its author meant. Pure
functions over a walked Graph; the CLI prints them on standard error, one per line,
each naming the layer. None of them changes a number.

- A dim other than 0 on a channels-first image (concat, softmax, log_softmax, slice,
  permute): the PyTorch habit counts the batch (`torch.cat(..., dim=1)` is the channels),
  cnncalc's dims do not, so `dim: 1` is H. A negative dim says it on purpose and never warns.
- Layers whose output reaches no output: counted, but reported nowhere (usually a head
  left out of `outputs:`).

And one hint for an error: an input size the network's strides do not divide fails at
a merge, far from the cause; `stride_hint` says which stride needs which divisor.
"""

from __future__ import annotations

from typing import Callable

from .errors import SpecError
from .graph import Graph, LayerRecord
from .layers import Shape
from .report import Report

# Types whose output keeps the channels-first layout of their first input; every other
# type with a different layout (reshape, permute, linear, attention ...) ends an "image".
_LAYOUT_BREAKERS = frozenset({
    "flatten", "reshape", "permute", "linear", "matmul", "attention", "multihead_attention", "einsum",
    "embedding", "select", "stack", "expand", "parameter", "constant", "mean", "sum", "max", "min",
})
_DIM_TYPES = frozenset({"concat", "softmax", "log_softmax", "slice"})
_MERGES = frozenset({"add", "sub", "mul", "div", "concat"})  # an image if any input is one
UNREACHED_LISTED = 8  # names shown before "and N more"


def _is_image(shape: tuple[int, ...]) -> bool:
    """[C, H, W] or [C, D, H, W] per sample: 2 or 3 spatial axes."""
    return len(shape) in (3, 4)


def dim_warnings(graph: Graph) -> list[str]:
    """concat, softmax, log_softmax, slice or permute given a non-negative dim other than 0
    (permute: a first dim other than 0) on a channels-first image."""
    candidates = [record for record in graph.layers if record.type in _DIM_TYPES or record.type == "permute"]
    if not candidates:  # most specs: nothing to look at
        return []
    # Which tensors are channels-first images, in one pass up to the last candidate.
    image: dict[str, bool] = {name: _is_image(shape) for name, shape in graph.inputs.items()}
    get, last = image.get, candidates[-1].name
    input_image: dict[str, bool] = {}
    for record in graph.layers:
        inputs = record.inputs
        if record.type in _MERGES:
            source = any(get(name, False) for name in inputs)
        else:
            source = bool(inputs) and get(inputs[0], False)
        input_image[record.name] = source
        image[record.name] = source and record.type not in _LAYOUT_BREAKERS and len(record.cost.shape) in (3, 4)
        if record.name == last:
            break

    def on_image(record: LayerRecord) -> bool:
        return input_image.get(record.name, False)

    found = []
    for record in candidates:
        if not on_image(record):
            continue
        if record.type in _DIM_TYPES:
            dim = getattr(record.layer, "dim", 0)
            if isinstance(dim, int) and dim > 0:
                axis = "CDHW"[dim] if len(record.cost.shape) == 4 else "CHW"[dim]
                found.append(f"layer '{record.name}' ({record.type}): dim {dim} is {axis} of a channels-first "
                             f"image, not the channels: dims count per sample (0 = channels, the batch is never "
                             f"named); write dim: 0 for the channels, or dim: {dim - len(record.cost.shape)} to "
                             f"mean {axis}")
        else:
            dims = tuple(getattr(record.layer, "dims", ()))
            if dims and all(dim >= 0 for dim in dims) and dims[0] != 0:
                negative = [dim - len(dims) for dim in dims]
                found.append(f"layer '{record.name}' (permute): dims {list(dims)} move the channels of a "
                             f"channels-first image: dims count per sample (0 = channels, the batch is never "
                             f"named); write dims: {negative} to mean it")
    return found


def unreached(graph: Graph) -> list[str]:
    """Layers whose output reaches none of the graph's outputs, in execution order."""
    needed = {tensor.producer for tensor in graph.outputs.values()}
    for record in reversed(graph.layers):
        if record.name in needed:
            needed.update(record.inputs)
    return [record.name for record in graph.layers if record.name not in needed]


def unreached_warning(graph: Graph) -> list[str]:
    names = unreached(graph)
    if not names:
        return []
    shown = ", ".join(names[:UNREACHED_LISTED]) + (f" and {len(names) - UNREACHED_LISTED} more"
                                                    if len(names) > UNREACHED_LISTED else "")
    outputs = ", ".join(graph.outputs)
    counted = "1 layer reaches" if len(names) == 1 else f"{len(names)} layers reach"
    return [f"{counted} no output ({outputs}) but {'is' if len(names) == 1 else 'are'} counted: "
            f"{shown}; list every head under outputs: (`cnncalc explain outputs`)"]


def spec_warnings(graph: Graph) -> list[str]:
    """Every warning about a walked spec, in the order a reader meets them."""
    return dim_warnings(graph) + unreached_warning(graph)


# What a merge of two sizes that a stride rounded differently says (merge.py, upsample to a reference).
MISMATCH_WORDS = ("do not broadcast", "other axes differ")
_ROUNDINGS = (32, 64, 128, 256)


def stride_hint(analyse: Callable[[dict[str, Shape]], Report], inputs: dict[str, Shape]) -> str | None:
    """Why an input size failed at a merge: the network's strides reach D on some axis and
    the size is not a multiple of D. Found by analysing again with every spatial size
    rounded up (to 32, else 64, 128, 256) and reading the largest jump per axis; None when
    no rounding analyses or every size was already a multiple."""
    for rounding in _ROUNDINGS:
        rounded = {name: shape[:1] + tuple(-(-size // rounding) * rounding for size in shape[1:])
                   for name, shape in inputs.items()}
        try:
            report = analyse(rounded)
        except SpecError:
            continue
        return _divisor_text(report, inputs)
    return None


def _divisor_text(report: Report, inputs: dict[str, Shape]) -> str | None:
    parts = []
    for name, shape in inputs.items():
        spatial = shape[1:]
        jumps: list[int | float] = [1] * len(spatial)
        first = [""] * len(spatial)
        for row in report.layers:
            if row.receptive_field is not None and len(row.receptive_field) == len(spatial):
                for axis, figures in enumerate(row.receptive_field):
                    jump = figures[1]  # (size, jump, start[, phases])
                    if jump > jumps[axis]:
                        jumps[axis], first[axis] = jump, row.name
        bad = [axis for axis, size in enumerate(spatial) if size % jumps[axis]]
        if not bad:
            continue
        sizes = [-(-size // jumps[axis]) * jumps[axis] for axis, size in enumerate(spatial)]
        axes = "DHW"[-len(spatial):] if len(spatial) <= 3 else ""
        said = "; ".join(f"{axes[axis] if axes else axis} {spatial[axis]} is not a multiple of {jumps[axis]}, "
                         f"the stride reached at '{first[axis]}'" for axis in bad)
        label = "" if len(inputs) == 1 else f"{name}="
        parts.append(f"{said}: merges after upsampling need every size divisible by the network's stride; "
                     f"try --input {label}{'x'.join(map(str, (shape[0], *sizes)))}")
    return "; ".join(parts) or None
