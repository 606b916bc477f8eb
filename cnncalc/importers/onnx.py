"""ONNX models as cnncalc specs (`cnncalc import model.onnx`, `cnncalc analyze model.onnx`).

Needs the `onnx` package (`pip install 'cnncalc[onnx]'`), not onnxruntime: nothing is
run. The graph is read node by node in its (topological) order:

- Graph inputs that are not initializers are the spec's inputs. The first axis is the
  batch; any other size the file leaves open (`dim_param`) must come from `--input`,
  else the error names the input and its open sizes. An open batch is `--batch`, or 1.
- Initializers and Constant nodes are constants. Only their shapes matter for weights
  (out_channels, kernel size, a bias input or not); the small integer programs that
  exporters write to compute shapes (Shape, Gather, Unsqueeze, Concat ...) are folded
  with NumPy (onnx_fold.py), so that Reshape, Pad, Resize, Slice see plain numbers.
- Every other node becomes one cnncalc layer (a few become none: Identity, a Reshape
  that changes nothing; Slice over several axes becomes one slice per axis; Split one
  slice per output), named after the node: the last module scope of PyTorch's names
  ('/layer1/layer1.0/conv1/Conv' -> 'layer1.0.conv1'), unique.
- Shapes are inferred by cnncalc's own layer classes as each layer is added, so a
  problem names the node, not the converted spec.

Exactness notes (also in the README):

- BatchNormalization folded into the convolution by the exporter (torch.onnx.export in
  eval mode does it) is not in the graph: the convolution then has a bias (C
  parameters) and the batch norm's 2C parameters and 2C buffers are gone; MACs are the
  same. Export with `do_constant_folding=False` (or in training mode) to keep it.
- A constant per-channel Mul (or Div) is a `scale` layer (C parameters); a constant
  per-channel Add right after a convolution, linear or scale without a bias becomes
  its bias; a scalar Add/Sub/Mul/Div is an `identity` with a comment (no parameters,
  no MACs). Any other constant operand is an error.
- PyTorch's decompositions are recognised: Sigmoid * x is silu, HardSigmoid * x is
  hardswish, x * tanh(softplus(x)) is mish, x * 0.5 * (1 + erf(x / sqrt 2)) is gelu,
  and the Reshape / InstanceNormalization / Reshape of nn.GroupNorm is groupnorm
  (its weight and bias follow as a `scale` with a bias: the same 2C parameters).
- A zero Pad that only feeds a convolution (or a -inf Pad before a max pool) is folded
  into the layer's [begin, end] padding, as PyTorch's ZeroPad + Conv means.
- Pooling with ceil_mode follows PyTorch's rule (a last window that would start in the
  right padding is dropped), as the MaxPool operator text says; onnx's shape inference
  (1.23) does not drop it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ..errors import SpecError
from ..layers.base import product
from .builder import SpecBuilder, Where
from .common import compact, drop, entry, fold_bias, is_per_channel, padding_field
from .onnx_fold import FOLDERS, FoldError, fold

if TYPE_CHECKING:
    from . import ImportOptions

Shape = tuple[int, ...]
Pairs = list[tuple[int, int]]
STANDARD_DOMAINS = ("", "ai.onnx")


@dataclass(frozen=True)
class NodeWhere(Where):
    """An ONNX node, for errors: `model.onnx: node '/layer1/Conv' (Conv): problem; hint`."""

    file: str = ""

    def fail(self, problem: str, hint: str | None = None) -> SpecError:
        name, op_type = self.layer or ("?", "?")
        return SpecError(f"{self.file}: node '{name}' ({op_type}): {problem}", hint=hint)


@dataclass
class PadRecord:
    """A pad layer that the next convolution or pool may fold into its own padding."""

    tensor: str  # the ONNX tensor the Pad node makes
    source: str  # the spec name of what it pads
    pairs: Pairs
    value: float
    mode: str
    entry: dict[str, Any]


def to_spec(path: Path, options: ImportOptions) -> dict[str, Any]:
    """The spec (a dict, see cnncalc.importers) of the ONNX model at `path`."""
    return _Converter(load(path), path, options).convert()


def load(path: Path) -> onnx.ModelProto:
    """The model, or a SpecError naming the file when it is missing, truncated or not ONNX.

    External weights are not loaded: only their shapes, which the file itself holds, are needed.
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SpecError(f"cannot read {path}: {error.strerror or error}") from None
    hint = "give a .onnx file written by an exporter (torch.onnx.export, tf2onnx ...), complete"
    try:
        model = onnx.load_model_from_string(data)
    except Exception as error:  # protobuf's DecodeError and friends: the bytes are not a ModelProto
        raise SpecError(f"{path}: not an ONNX model, or a truncated one ({_first_line(error)})", hint=hint) from None
    if not model.ir_version or not model.HasField("graph") or not model.graph.node:
        raise SpecError(f"{path}: not an ONNX model, or a truncated one (no graph nodes)", hint=hint)
    return model


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _attributes(node: onnx.NodeProto) -> dict[str, Any]:
    result = {}
    for attribute in node.attribute:
        value = helper.get_attribute_value(attribute)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        elif isinstance(value, list) and value and isinstance(value[0], bytes):
            value = [item.decode("utf-8", "replace") for item in value]
        result[attribute.name] = value
    return result


def same_pairs(sizes: Shape, kernel: list[int], stride: list[int], dilation: list[int], upper: bool) -> Pairs:
    """auto_pad SAME_UPPER / SAME_LOWER: out = ceil(in / s), the odd pad at the end / at the start."""
    pairs = []
    for size, k, s, d in zip(sizes, kernel, stride, dilation):
        out = -(-size // s)
        total = max((out - 1) * s + d * (k - 1) + 1 - size, 0)
        small, large = total // 2, total - total // 2
        pairs.append((small, large) if upper else (large, small))
    return pairs


class _Converter:
    def __init__(self, model: onnx.ModelProto, path: Path, options: ImportOptions) -> None:
        self.model = model
        self.graph = model.graph
        self.file = str(path)
        self.stem = path.stem
        self.options = options
        self.opset = next((entry.version for entry in model.opset_import if entry.domain in STANDARD_DOMAINS), 1)
        self.builder = SpecBuilder()
        self.values: dict[str, str] = {}  # ONNX tensor -> spec name of the layer or input making it
        self.constants: dict[str, Any] = {}  # ONNX tensor -> TensorProto (lazily read) or ndarray
        self.pads: dict[str, PadRecord] = {}  # spec name of a pad layer -> what it pads
        self.absorbed: set[int] = set()  # indices of nodes a pattern already converted
        self.notes: list[str] = []
        self.batch = 1  # the batch the graph's constant shapes were computed for
        self.consumers: dict[str, list[int]] = {}
        self.graph_outputs = {output.name for output in self.graph.output}
        for index, node in enumerate(self.graph.node):
            for name in node.input:
                if name:
                    self.consumers.setdefault(name, []).append(index)

    # -- the whole graph --------------------------------------------------------------

    def convert(self) -> dict[str, Any]:
        for initializer in self.graph.initializer:
            self.constants[initializer.name] = initializer
        spec_batch = self.read_inputs()
        self.check_operators()
        for index, node in enumerate(self.graph.node):
            if index in self.absorbed:
                continue
            where = self.where(node, index)
            if self.foldable(node):
                self.fold(node, where)
                continue
            HANDLERS[node.op_type](self, node, index, where)
        outputs = []
        for output in self.graph.output:
            if output.name not in self.values:
                raise SpecError(f"{self.file}: graph output '{output.name}' is "
                                f"{'a constant' if output.name in self.constants else 'made by no node'}",
                                hint="cnncalc counts what is computed from the inputs")
            if self.values[output.name] not in outputs:
                outputs.append(self.values[output.name])
        for details in self.builder.inputs.values():
            details["batch"] = spec_batch
        producer = " ".join(filter(None, [self.model.producer_name, self.model.producer_version]))
        description = f"ONNX opset {self.opset}" + (f", written by {producer}" if producer else "")
        if self.notes:
            description += ". " + " ".join(self.notes)
        return self.builder.spec(self.stem, outputs, description)

    def read_inputs(self) -> int:
        """Add the graph's inputs to the spec; returns the spec's batch."""
        inputs = [item for item in self.graph.input if item.name not in self.constants]
        if not inputs:
            raise SpecError(f"{self.file}: the graph has no inputs", hint="cnncalc needs the network's input tensor")
        names = [item.name for item in inputs]
        for key in self.options.inputs:
            if key and key not in names:
                raise SpecError(f"{self.file}: --input {key}=...: the model has no input '{key}'",
                                hint=f"inputs: {', '.join(names)}")
        if "" in self.options.inputs and len(inputs) > 1:
            raise SpecError(f"{self.file}: the model has inputs {', '.join(names)}",
                            hint="name the one --input sets: --input NAME=3x224x224")
        batches = set()
        for item in inputs:
            tensor_type = item.type.tensor_type
            if not item.type.HasField("tensor_type") or not tensor_type.HasField("shape"):
                raise SpecError(f"{self.file}: input '{item.name}' has no tensor shape",
                                hint=f"give it: --input {item.name}=3x224x224")
            dims = tensor_type.shape.dim
            if len(dims) < 2:
                raise SpecError(f"{self.file}: input '{item.name}' has {len(dims)} axes",
                                hint="cnncalc takes a batch axis, then 1 to 4 axes per sample")
            if dims[0].dim_value > 0:
                batches.add(dims[0].dim_value)
            given = self.options.inputs.get(item.name, self.options.inputs.get("") if len(inputs) == 1 else None)
            if given is not None:
                if len(given) != len(dims) - 1:
                    raise SpecError(f"{self.file}: --input for '{item.name}' has {len(given)} sizes; the model's "
                                    f"input has {len(dims) - 1} per sample", hint="sizes per sample, channels first")
                shape = tuple(given)
            else:
                open_sizes = [dim.dim_param or "?" for dim in dims[1:] if dim.dim_value <= 0]
                if open_sizes:
                    raise SpecError(f"{self.file}: input '{item.name}' has sizes the file leaves open: "
                                    f"{', '.join(open_sizes)}",
                                    hint=f"give them: --input {item.name}=" + "x".join(
                                        str(dim.dim_value) if dim.dim_value > 0 else (dim.dim_param or "N")
                                        for dim in dims[1:]))
                shape = tuple(dim.dim_value for dim in dims[1:])
            if len(shape) > 4:
                raise SpecError(f"{self.file}: input '{item.name}' has {len(shape)} axes per sample",
                                hint="cnncalc takes 1 to 4: [F], [C, L], [C, H, W] or [C, D, H, W]")
            self.values[item.name] = self.builder.add_input(item.name, shape, 1)
        if len(batches) > 1:
            raise SpecError(f"{self.file}: the inputs have different batch sizes {sorted(batches)}")
        self.batch = batches.pop() if batches else (self.options.batch or 1)
        return self.options.batch or self.batch

    def check_operators(self) -> None:
        """Every node cnncalc cannot map, all at once: op types nothing handles, outside constant code."""
        constant = set(self.constants)
        missing: dict[str, list[str]] = {}
        for index, node in enumerate(self.graph.node):
            inputs = [name for name in node.input if name]
            if node.domain in STANDARD_DOMAINS and (
                    node.op_type in ("Constant", "Shape", "Size")
                    or (node.op_type in FOLDERS and all(name in constant for name in inputs))):
                constant.update(node.output)
                continue
            if node.domain not in STANDARD_DOMAINS or node.op_type not in HANDLERS:
                op_type = f"{node.domain}.{node.op_type}" if node.domain not in STANDARD_DOMAINS else node.op_type
                missing.setdefault(op_type, []).append(f"'{self.node_name(node, index)}'")
        if missing:
            count = sum(len(names) for names in missing.values())
            listing = "; ".join(f"{op_type}: {', '.join(names)}" for op_type, names in missing.items())
            raise SpecError(f"{self.file}: {count} node{'s' if count > 1 else ''} with operators cnncalc cannot "
                            f"map: {listing}", hint="operators cnncalc maps: " + ", ".join(sorted(HANDLERS)))

    # -- helpers -----------------------------------------------------------------------

    @staticmethod
    def node_name(node: onnx.NodeProto, index: int) -> str:
        return node.name or f"{node.op_type}_{index}"

    def where(self, node: onnx.NodeProto, index: int) -> NodeWhere:
        return NodeWhere(None, (self.node_name(node, index), node.op_type), self.file)

    def layer_name(self, node: onnx.NodeProto, index: int, suffix: str = "") -> str:
        """'/layer1/layer1.0/conv1/Conv' -> 'layer1.0.conv1': the last module scope of PyTorch's names."""
        raw = node.name or node.output[0] or node.op_type.lower()
        parts = [part for part in raw.split("/") if part]
        if len(parts) > 1 and re.fullmatch(rf"{re.escape(node.op_type)}(_\d+)?", parts[-1]):
            parts = parts[:-1]
        name = parts[-1] if parts else node.op_type.lower()
        if len(parts) == 1 and re.fullmatch(rf"{re.escape(node.op_type)}(_\d+)?", name):
            name = name.lower()
        return name + suffix

    def foldable(self, node: onnx.NodeProto) -> bool:
        if node.op_type == "Constant":
            return True
        inputs = [name for name in node.input if name]
        if node.op_type in ("Shape", "Size"):
            return all(name in self.constants or name in self.values for name in inputs)
        return node.op_type in FOLDERS and all(name in self.constants for name in inputs)

    def fold(self, node: onnx.NodeProto, where: NodeWhere) -> None:
        attrs = _attributes(node)
        if node.op_type == "Constant":
            self.constants[node.output[0]] = self.constant_attribute(attrs, where)
            return
        if node.op_type in ("Shape", "Size"):
            shape = self.full_shape(node.input[0]) if node.input[0] in self.values else \
                self.constant_shape(node.input[0])
            if node.op_type == "Size":
                self.constants[node.output[0]] = np.array(product(shape), dtype=np.int64)
            else:
                start, end = attrs.get("start", 0), attrs.get("end")
                self.constants[node.output[0]] = np.array(shape[slice(start, end)], dtype=np.int64)
            return
        inputs = [self.value(name, where) if name else None for name in node.input]
        try:
            results = fold(node.op_type, inputs, attrs, self.opset)
        except FoldError as error:
            raise where.fail(f"cannot compute this constant: {error}") from None
        for name, result in zip(node.output, results):
            self.constants[name] = result

    def constant_attribute(self, attrs: dict[str, Any], where: NodeWhere) -> Any:
        if "value" in attrs:
            return attrs["value"]
        for key in ("value_float", "value_int"):
            if key in attrs:
                return np.array(attrs[key], dtype=np.float32 if key == "value_float" else np.int64)
        for key in ("value_floats", "value_ints"):
            if key in attrs:
                return np.array(attrs[key], dtype=np.float32 if key == "value_floats" else np.int64)
        raise where.fail("a Constant without a value cnncalc reads", "value, value_float(s) or value_int(s)")

    def value(self, name: str, where: NodeWhere) -> Any:
        """A constant's NumPy value (initializers are read only when an operator needs the numbers)."""
        if name not in self.constants:
            raise where.fail(f"input '{name}' must be a constant here", "cnncalc reads this operand's numbers")
        found = self.constants[name]
        if isinstance(found, onnx.TensorProto):
            if found.data_location == onnx.TensorProto.EXTERNAL:
                raise where.fail(f"the numbers of '{name}' are stored outside the file",
                                 "cnncalc needs them for this operand; keep small constants in the model file")
            found = numpy_helper.to_array(found)
            self.constants[name] = found
        return found

    def constant_shape(self, name: str) -> Shape:
        found = self.constants[name]
        if isinstance(found, onnx.TensorProto):
            return tuple(int(size) for size in found.dims)
        return tuple(int(size) for size in np.shape(found))

    def ints(self, name: str, where: NodeWhere) -> list[int]:
        return [int(item) for item in np.asarray(self.value(name, where)).reshape(-1)]

    def floats(self, name: str, where: NodeWhere) -> list[float]:
        return [float(item) for item in np.asarray(self.value(name, where)).reshape(-1)]

    def optional_input(self, node: onnx.NodeProto, index: int) -> str | None:
        return node.input[index] if len(node.input) > index and node.input[index] else None

    def data(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> str:
        """The spec name of a computed tensor input (not a constant)."""
        name = node.input[index] if len(node.input) > index else ""
        if name in self.values:
            return self.values[name]
        if name in self.constants:
            raise where.fail(f"input {index} ('{name}') is a constant",
                             "cnncalc maps this operator on a tensor computed from the network's input")
        raise where.fail(f"input {index} ('{name}') is made by no earlier node",
                         "is the file truncated, or its nodes out of order?")

    def shape(self, source: str) -> Shape:
        """Per-sample shape of a spec layer or input."""
        return self.builder.shape(source)

    def full_shape(self, tensor: str) -> Shape:
        return (self.batch, *self.shape(self.values[tensor]))

    def weight_shape(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> Shape:
        name = node.input[index] if len(node.input) > index else ""
        if name not in self.constants:
            raise where.fail(f"the weight ('{name}') is not a constant",
                             "cnncalc counts weights stored in the file (initializers)")
        return self.constant_shape(name)

    def emit(self, node: onnx.NodeProto, index: int, kind: str, sources: list[str], fields: dict[str, Any],
             where: NodeWhere, output: int | None = 0, suffix: str = "", comment: str | None = None) -> str:
        fields = {key: value for key, value in fields.items() if value is not None}
        name = self.builder.add(kind, self.layer_name(node, index, suffix), sources, fields, where, comment)
        if output is not None and len(node.output) > output:
            self.values[node.output[output]] = name
        return name

    def alias(self, node: onnx.NodeProto, source: str) -> None:
        self.values[node.output[0]] = source

    def entry(self, name: str) -> dict[str, Any] | None:
        return entry(self.builder, name)

    def drop(self, layer: dict[str, Any]) -> None:
        drop(self.builder, layer)

    def single_consumer(self, tensor: str) -> int | None:
        """The index of the only node reading `tensor`, when it is not also a graph output."""
        readers = self.consumers.get(tensor, [])
        if len(readers) == 1 and tensor not in self.graph_outputs:
            return readers[0]
        return None

    def other_input(self, node: onnx.NodeProto, tensor: str) -> str | None:
        """For a binary node reading `tensor` once: its other input."""
        if len(node.input) != 2 or list(node.input).count(tensor) != 1:
            return None
        other: str = node.input[1] if node.input[0] == tensor else node.input[0]
        return other

    def scalar_constant(self, name: str | None, where: NodeWhere) -> float | None:
        if name is None or name not in self.constants or product(self.constant_shape(name)) != 1:
            return None
        return float(np.asarray(self.value(name, where)).reshape(-1)[0])

    def rank_axis(self, axis: int, rank: int, where: NodeWhere, what: str = "axis") -> int:
        """An ONNX axis (batch = 0) as a per-sample dim (channels = 0); the batch axis is an error."""
        if not -rank <= axis < rank:
            raise where.fail(f"{what} {axis} is out of range for {rank} axes")
        axis %= rank
        if axis == 0:
            raise where.fail(f"{what} 0 is the batch axis", "cnncalc layers act on each sample")
        return axis - 1

    # -- convolution and dense ----------------------------------------------------------

    def window(self, node: onnx.NodeProto, attrs: dict[str, Any], sizes: Shape, kernel: list[int],
               stride: list[int], dilation: list[int], where: NodeWhere) -> tuple[Pairs, bool]:
        """(begin, end) padding per spatial axis, and whether it is auto_pad SAME_UPPER (the spec's `same`)."""
        rank = len(sizes)
        auto = attrs.get("auto_pad", "NOTSET")
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            return same_pairs(sizes, kernel, stride, dilation, auto == "SAME_UPPER"), auto == "SAME_UPPER"
        if auto == "VALID":
            return [(0, 0)] * rank, False
        if auto != "NOTSET":
            raise where.fail(f"auto_pad '{auto}' is not known", "NOTSET, SAME_UPPER, SAME_LOWER or VALID")
        pads = [int(pad) for pad in attrs.get("pads", [0] * (2 * rank))]
        if len(pads) != 2 * rank:
            raise where.fail(f"pads has {len(pads)} entries for {rank} spatial axes", f"give {2 * rank}")
        if min(pads) < 0:
            raise where.fail(f"negative pads {pads}", "cnncalc pads with zeros or more")
        return [(pads[axis], pads[axis + rank]) for axis in range(rank)], False

    def spatial(self, node: onnx.NodeProto, where: NodeWhere, source: str, what: str) -> int:
        rank = len(self.shape(source)) - 1
        if not 1 <= rank <= 3:
            raise where.fail(f"{what} over {rank} spatial axes (input {list(self.shape(source))})",
                             "cnncalc takes 1 to 3")
        return rank

    def take_pad(self, tensor: str, source: str, accept: Callable[[PadRecord], bool]) -> PadRecord | None:
        """The pad layer making `tensor`, removed, when only this node reads it and `accept` says it folds."""
        record = self.pads.get(source)
        if record is None or record.tensor != tensor or self.single_consumer(tensor) is None or not accept(record):
            return None
        self.drop(record.entry)
        del self.pads[source]
        return record

    def conv(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        rank = self.spatial(node, where, source, "convolution")
        weight = self.weight_shape(node, 1, where)
        attrs = _attributes(node)
        if len(weight) != rank + 2:
            raise where.fail(f"weight shape {list(weight)} does not fit an input of {rank} spatial axes")
        kernel = [int(k) for k in attrs.get("kernel_shape", weight[2:])]
        stride = [int(s) for s in attrs.get("strides", [1] * rank)]
        dilation = [int(d) for d in attrs.get("dilations", [1] * rank)]
        groups = int(attrs.get("group", 1))
        channels = self.shape(source)[0]
        if weight[1] * groups != channels:
            raise where.fail(f"weight shape {list(weight)} with group {groups} expects {weight[1] * groups} "
                             f"input channels; the input has {channels}")
        pairs, same = self.window(node, attrs, self.shape(source)[1:], kernel, stride, dilation, where)
        padding: Any = "same" if same else padding_field(pairs)
        record = self.take_pad(node.input[0], source, lambda pad: pad.mode == "constant" and pad.value == 0)
        if record is not None:
            source = record.source
            padding = padding_field([(b + pb, e + pe) for (b, e), (pb, pe) in zip(pairs, record.pairs)])
        fields = {"out_channels": weight[0], "kernel_size": compact(kernel),
                  "stride": compact(stride) if set(stride) != {1} else None, "padding": padding,
                  "dilation": compact(dilation) if set(dilation) != {1} else None,
                  "groups": groups if groups != 1 else None,
                  "bias": None if self.optional_input(node, 2) else False}
        if source in self.builder.inputs:  # the weights fix the channels: a wrong --input is an error
            fields["in_channels"] = channels
        self.emit(node, index, f"conv{rank}d", [source], fields, where)

    def conv_transpose(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        rank = self.spatial(node, where, source, "transposed convolution")
        weight = self.weight_shape(node, 1, where)
        attrs = _attributes(node)
        if len(weight) != rank + 2:
            raise where.fail(f"weight shape {list(weight)} does not fit an input of {rank} spatial axes")
        shape = self.shape(source)
        groups = int(attrs.get("group", 1))
        if weight[0] != shape[0]:
            raise where.fail(f"weight shape {list(weight)} expects {weight[0]} input channels; the input has "
                             f"{shape[0]}")
        kernel = [int(k) for k in attrs.get("kernel_shape", weight[2:])]
        stride = [int(s) for s in attrs.get("strides", [1] * rank)]
        dilation = [int(d) for d in attrs.get("dilations", [1] * rank)]
        extra = [int(p) for p in attrs.get("output_padding", [0] * rank)]
        auto = attrs.get("auto_pad", "NOTSET")
        wanted = [int(size) for size in attrs.get("output_shape", [])]
        if len(wanted) == rank + 2:
            wanted = wanted[2:]
        if not wanted and auto in ("SAME_UPPER", "SAME_LOWER"):
            wanted = [size * s for size, s in zip(shape[1:], stride)]
        if wanted:  # ONNX's rule: pads from the output shape
            pairs = []
            for size, k, s, d, more, out in zip(shape[1:], kernel, stride, dilation, extra, wanted):
                total = s * (size - 1) + more + (k - 1) * d + 1 - out
                if total < 0:
                    raise where.fail(f"output_shape {wanted} is larger than the transposed convolution makes",
                                     "cnncalc takes output_padding smaller than the stride")
                small, large = total // 2, total - total // 2
                pairs.append((small, large) if auto == "SAME_UPPER" else (large, small))
        else:
            pairs, _ = self.window(node, {**attrs, "auto_pad": "NOTSET" if auto != "VALID" else "VALID"},
                                   shape[1:], kernel, stride, dilation, where)
        fields = {"out_channels": weight[1] * groups, "kernel_size": compact(kernel),
                  "stride": compact(stride) if set(stride) != {1} else None, "padding": padding_field(pairs),
                  "output_padding": compact(extra) if set(extra) != {0} else None,
                  "dilation": compact(dilation) if set(dilation) != {1} else None,
                  "groups": groups if groups != 1 else None,
                  "bias": None if self.optional_input(node, 2) else False}
        self.emit(node, index, f"conv_transpose{rank}d", [source], fields, where)

    def gemm(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        attrs = _attributes(node)
        if attrs.get("transA", 0):
            raise where.fail("transA = 1 puts the batch on the second axis", "cnncalc's linear acts on each sample")
        if len(self.shape(source)) != 1:
            raise where.fail(f"Gemm takes a matrix; the input is {list(self.full_shape(node.input[0]))}")
        weight = self.weight_shape(node, 1, where)
        if len(weight) != 2:
            raise where.fail(f"weight shape {list(weight)} is not a matrix")
        features, out_features = (weight[1], weight[0]) if attrs.get("transB", 0) else weight
        self.linear(node, index, where, source, features, out_features, bool(self.optional_input(node, 2)))

    def matmul(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        if node.input[0] in self.constants or node.input[1] not in self.constants:
            raise where.fail("MatMul of two computed tensors, or with the constant first, has no layer type",
                             "cnncalc maps x @ W with a constant matrix W (a linear layer)")
        source = self.data(node, 0, where)
        weight = self.weight_shape(node, 1, where)
        if len(weight) != 2:
            raise where.fail(f"weight shape {list(weight)} is not a matrix", "cnncalc maps x @ W, W a matrix")
        self.linear(node, index, where, source, weight[0], weight[1], False)

    def linear(self, node: onnx.NodeProto, index: int, where: NodeWhere, source: str, features: int,
               out_features: int, bias: bool) -> None:
        if self.shape(source)[-1] != features:
            raise where.fail(f"the weight takes {features} features; the input has {self.shape(source)[-1]}")
        self.emit(node, index, "linear", [source], {"out_features": out_features, "bias": None if bias else False,
                                                    "in_features": features}, where)

    # -- pooling -----------------------------------------------------------------------

    def pool(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        rank = self.spatial(node, where, source, "pooling")
        attrs = _attributes(node)
        is_max = node.op_type == "MaxPool"
        if len(node.output) > 1 and node.output[1] and node.output[1] in self.consumers:
            raise where.fail("the indices output is used", "cnncalc counts max pooling's values only")
        kernel = [int(k) for k in attrs["kernel_shape"]]
        stride = [int(s) for s in attrs.get("strides", [1] * rank)]
        dilation = [int(d) for d in attrs.get("dilations", [1] * rank)]
        ceil_mode = bool(attrs.get("ceil_mode", 0))
        include_pad = bool(attrs.get("count_include_pad", 0))
        pairs, same = self.window(node, attrs, self.shape(source)[1:], kernel, stride, dilation, where)
        padding: Any = "same" if same else padding_field(pairs)

        def folds(pad: PadRecord) -> bool:
            if ceil_mode or pad.mode != "constant":
                return False
            total = [(b + pb, e + pe) for (b, e), (pb, pe) in zip(pairs, pad.pairs)]
            if any(max(pair) > k // 2 for pair, k in zip(total, kernel)):
                return False  # beyond what cnncalc's pools (PyTorch's) pad themselves
            if is_max:
                return pad.value < -3.0e38  # -inf, or float32's lowest
            return pad.value == 0 and (include_pad or not any(b or e for b, e in pairs))

        record = self.take_pad(node.input[0], source, folds)
        if record is not None:
            source = record.source
            padding = padding_field([(b + pb, e + pe) for (b, e), (pb, pe) in zip(pairs, record.pairs)])
            include_pad = True  # the zeros the Pad node wrote count in the average
        fields: dict[str, Any] = {"kernel_size": compact(kernel),
                                  "stride": compact(stride) if stride != kernel else None, "padding": padding}
        if is_max:
            fields["dilation"] = compact(dilation) if set(dilation) != {1} else None
        fields["ceil_mode"] = True if ceil_mode else None
        if not is_max and padding is not None and not include_pad:
            fields["count_include_pad"] = False
        self.emit(node, index, f"{'max' if is_max else 'avg'}pool{rank}d", [source], fields, where)

    def global_pool(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        kind = "global_maxpool" if node.op_type == "GlobalMaxPool" else "global_avgpool"
        self.emit(node, index, kind, [source], {}, where)

    def reduce(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        """ReduceMean / ReduceMax over every spatial axis: global pooling (then flatten without keepdims)."""
        source = self.data(node, 0, where)
        attrs = _attributes(node)
        rank = len(self.shape(source)) + 1
        axes_name = self.optional_input(node, 1)
        axes = [int(axis) for axis in attrs["axes"]] if "axes" in attrs else (
            self.ints(axes_name, where) if axes_name else list(range(rank)))
        axes = sorted(axis % rank for axis in axes)
        if axes != list(range(2, rank)):
            raise where.fail(f"{node.op_type} over axes {axes}: no layer type",
                             "cnncalc maps a reduction over every spatial axis (global pooling)")
        kind = "global_maxpool" if node.op_type == "ReduceMax" else "global_avgpool"
        keep = bool(attrs.get("keepdims", 1))
        name = self.emit(node, index, kind, [source], {}, where)
        if not keep:
            self.emit(node, index, "flatten", [name], {}, where, suffix=".flatten")

    # -- normalization -------------------------------------------------------------------

    def batchnorm(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        if any(name in self.consumers or name in self.graph_outputs for name in node.output[1:] if name):
            raise where.fail("the running statistics outputs (training mode) are used",
                             "cnncalc counts the normalized output")
        shape = self.shape(source)
        channels = self.weight_shape(node, 1, where)
        if product(channels) != shape[0]:
            raise where.fail(f"scale has {product(channels)} entries for {shape[0]} channels")
        self.emit(node, index, f"batchnorm{max(len(shape) - 1, 1)}d", [source], {}, where)

    def instancenorm(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        group_norm = self.group_norm_source(node, source, where)
        if group_norm is not None:
            original, groups = group_norm
            self.emit(node, index, "groupnorm", [original], {"num_groups": groups, "affine": False}, where,
                      comment="nn.GroupNorm as PyTorch exports it: reshape, instance norm, reshape; its weight "
                              "and bias follow as a scale with a bias")
            return
        rank = self.spatial(node, where, source, "instance normalization")
        self.emit(node, index, f"instancenorm{rank}d", [source], {"affine": True}, where)

    def group_norm_source(self, node: onnx.NodeProto, source: str, where: NodeWhere) -> tuple[str, int] | None:
        """(what was reshaped, num_groups) when this instance norm is PyTorch's GroupNorm: a Reshape of
        [C, ...] to [G, rest], constant ones and zeros for the G scales and biases."""
        entry = self.entry(source)
        if entry is None or entry["type"] != "reshape" or self.single_consumer(node.input[0]) is None:
            return None
        original = entry["from"]
        groups = self.shape(source)[0]
        if not isinstance(original, str) or len(self.shape(source)) != 2 or self.shape(original)[0] % groups:
            return None
        scale, bias = self.optional_input(node, 1), self.optional_input(node, 2)
        if scale not in self.constants or bias not in self.constants:
            return None
        if not (np.all(self.value(scale, where) == 1) and np.all(self.value(bias, where) == 0)):
            return None
        self.drop(entry)
        return original, groups

    def layernorm(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        shape = self.shape(source)
        axis = self.rank_axis(int(_attributes(node).get("axis", -1)), len(shape) + 1, where)
        comment = None
        if not self.optional_input(node, 2):
            comment = "the file has no bias here: cnncalc counts a weight and a bias"
        self.emit(node, index, "layernorm", [source], {"normalized_shape": compact(list(shape[axis:]))
                                                       if len(shape[axis:]) > 1 else shape[axis]},
                  where, comment=comment)

    def groupnorm(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        groups = int(_attributes(node)["num_groups"])
        self.emit(node, index, "groupnorm", [source], {"num_groups": groups}, where)

    def lrn(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        attrs = _attributes(node)
        self.emit(node, index, "lrn", [source], {"size": int(attrs["size"]), "alpha": float(attrs.get("alpha", 1e-4)),
                                                 "beta": float(attrs.get("beta", 0.75)),
                                                 "k": float(attrs.get("bias", 1.0))}, where)

    # -- activations ---------------------------------------------------------------------

    def activation(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        attrs = _attributes(node)
        kind = ACTIVATIONS[node.op_type]
        fields: dict[str, Any] = {}
        chain: list[int] = []
        if node.op_type in ("Sigmoid", "HardSigmoid"):
            chain = self.follow(node, ["Mul"]) or []
            if chain and self.other_input(self.graph.node[chain[0]], node.output[0]) == node.input[0]:
                kind = "silu" if node.op_type == "Sigmoid" else "hardswish"  # f(x) * x, as exporters write them
            else:
                chain = []
        if node.op_type == "LeakyRelu":
            fields["negative_slope"] = float(attrs.get("alpha", 0.01))
        elif node.op_type == "Elu":
            fields["alpha"] = float(attrs.get("alpha", 1.0))
        elif node.op_type == "Gelu" and attrs.get("approximate", "none") != "none":
            fields["approximate"] = attrs["approximate"]
        self.emit_pattern(node, index, chain, kind, fields, where)

    def softplus(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        """x * tanh(softplus(x)): mish; Softplus alone has no layer type."""
        chain = self.follow(node, ["Tanh", "Mul"])
        if chain is None or self.other_input(self.graph.node[chain[1]], self.graph.node[chain[0]].output[0]) \
                != node.input[0]:
            raise where.fail("Softplus has no layer type", "cnncalc maps it inside x * tanh(softplus(x)) (mish)")
        self.emit_pattern(node, index, chain, "mish", {}, where)

    def erf(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        """Erf alone (outside x * 0.5 * (1 + erf(x / sqrt 2)), which is gelu) has no layer type."""
        raise where.fail("Erf has no layer type", "cnncalc maps it inside x * 0.5 * (1 + erf(x / sqrt(2))) (gelu)")

    def follow(self, node: onnx.NodeProto, op_types: list[str]) -> list[int] | None:
        """The indices of the chain of single readers after `node`, when their op types are `op_types`."""
        chain, current = [], node
        for op_type in op_types:
            reader = self.single_consumer(current.output[0])
            if reader is None or self.graph.node[reader].op_type != op_type:
                return None
            current = self.graph.node[reader]
            chain.append(reader)
        return chain

    def emit_pattern(self, node: onnx.NodeProto, index: int, chain: list[int], kind: str, fields: dict[str, Any],
                     where: NodeWhere) -> None:
        """One layer for `node` and the nodes of `chain` after it (a decomposed activation)."""
        source = self.data(node, 0, where)
        name = self.emit(node, index, kind, [source], fields, where)
        for member in chain:
            self.absorbed.add(member)
            self.values[self.graph.node[member].output[0]] = name

    def gelu_chain(self, node: onnx.NodeProto, where: NodeWhere) -> list[int] | None:
        """x / sqrt(2) -> Erf -> + 1 -> * x -> * 0.5: PyTorch's exact GELU as its exporter writes it."""
        chain = self.follow(node, ["Erf", "Add", "Mul", "Mul"])
        if chain is None:
            return None
        erf, add, times_x, half = (self.graph.node[member] for member in chain)
        if (self.other_input(times_x, add.output[0]) != node.input[0]
                or self.scalar_constant(self.other_input(add, erf.output[0]), where) != 1.0
                or self.scalar_constant(self.other_input(half, times_x.output[0]), where) != 0.5):
            return None
        return chain

    def softmax(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        rank = len(self.shape(source)) + 1
        default = -1 if self.opset >= 13 else 1
        axis = int(_attributes(node).get("axis", default)) % rank
        if self.opset < 13 and any(size != 1 for size in self.full_shape(node.input[0])[axis + 1:]):
            raise where.fail(f"before opset 13, Softmax on axis {axis} runs over every axis from it on",
                             "cnncalc's softmax runs over one axis; export with opset 13 or later")
        dim = self.rank_axis(axis, rank, where)
        kind = "softmax" if node.op_type == "Softmax" else "log_softmax"
        self.emit(node, index, kind, [source], {"dim": dim if dim else None}, where)

    def prelu(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        slopes = product(self.weight_shape(node, 1, where))
        self.emit(node, index, "prelu", [source], {"num_parameters": slopes if slopes != 1 else None}, where)

    def clip(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        attrs = _attributes(node)
        if self.opset < 11:
            low, high = attrs.get("min"), attrs.get("max")
        else:
            low = self.scalar_constant(self.optional_input(node, 1), where)
            high = self.scalar_constant(self.optional_input(node, 2), where)
            for position in (1, 2):
                name = self.optional_input(node, position)
                if name is not None and name not in self.constants:
                    raise where.fail("Clip with computed bounds has no layer type")
        if low == 0 and high == 6:
            self.emit(node, index, "relu6", [source], {}, where)
        elif low == 0 and (high is None or math.isinf(high) or high >= 3.0e38):
            self.emit(node, index, "relu", [source], {}, where)
        else:
            raise where.fail(f"Clip to [{low}, {high}] has no layer type",
                             "cnncalc maps Clip to [0, 6] (relu6) and to [0, inf) (relu)")

    # -- elementwise ------------------------------------------------------------------------

    def elementwise(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        first, second = node.input[0], node.input[1]
        kind = {"Add": "add", "Sub": "sub", "Mul": "mul", "Div": "div"}[node.op_type]
        if first in self.values and second in self.values:
            if kind == "div":
                raise where.fail("Div of two computed tensors has no layer type", "cnncalc has add, sub and mul")
            self.emit(node, index, kind, [self.data(node, 0, where), self.data(node, 1, where)], {}, where)
            return
        if first in self.values:
            tensor, constant, constant_first = first, second, False
        else:
            tensor, constant, constant_first = second, first, True
        source = self.data(node, 0 if not constant_first else 1, where)
        if constant not in self.constants:
            self.data(node, 1 if not constant_first else 0, where)  # the error for a missing input
        scalar = self.scalar_constant(constant, where)
        if scalar is not None:
            if kind == "div" and not constant_first:
                chain = self.gelu_chain(node, where)
                if chain is not None:
                    self.emit_pattern(node, index, chain, "gelu", {}, where)
                    return
            self.emit(node, index, "identity", [source], {}, where,
                      comment=f"{node.op_type} by the constant {scalar:g}: no layer type; counted as an identity "
                              "(no parameters, no MACs)")
            return
        shape = self.constant_shape(constant)
        if not is_per_channel(self.builder, source, shape, self.batch) or constant_first and kind in ("sub", "div"):
            raise where.fail(f"{node.op_type} with a constant of shape {list(shape)} on a tensor "
                             f"{list(self.full_shape(tensor))}: no layer type", "cnncalc maps a scalar constant "
                             "(identity) and a per-channel one (scale, or the bias of the layer before)")
        if kind in ("mul", "div"):
            self.emit(node, index, "scale", [source], {}, where,
                      comment=f"a constant per-channel {node.op_type} ('{constant}'), counted as a learned scale")
            return
        if self.single_consumer(tensor) is not None and fold_bias(self.builder, source):
            self.alias(node, source)
            return
        raise where.fail(f"{node.op_type} of a per-channel constant ('{constant}') that is not the bias of the "
                         "layer before: no layer type",
                         "cnncalc folds it into a convolution, linear or scale without a bias that only it reads")

    def concat(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        sources = [self.data(node, position, where) for position in range(len(node.input))]
        rank = len(self.shape(sources[0])) + 1
        dim = self.rank_axis(int(_attributes(node)["axis"]), rank, where)
        self.emit(node, index, "concat", sources, {"dim": dim if dim else None}, where)

    # -- reshaping ----------------------------------------------------------------------------

    def reshaped(self, node: onnx.NodeProto, index: int, where: NodeWhere, source: str, full: list[int]) -> None:
        """A new shape (batch first): none when it changes nothing, flatten when flat, else reshape."""
        if not full or full[0] != self.batch:
            raise where.fail(f"the new shape {full} does not keep the batch ({self.batch}) first",
                             "cnncalc's layers reshape each sample")
        shape = tuple(full[1:])
        if product(shape) != product(self.shape(source)):
            raise where.fail(f"cannot reshape {list(self.full_shape(node.input[0]))} to {full}")
        if shape == self.shape(source):
            self.alias(node, source)
        elif not shape:
            raise where.fail(f"the new shape {full} leaves no axis per sample")
        elif len(shape) == 1:
            self.emit(node, index, "flatten", [source], {}, where)
        else:
            self.emit(node, index, "reshape", [source], {"shape": list(shape)}, where)

    def reshape(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        full = list(self.full_shape(node.input[0]))
        target = self.ints(node.input[1], where)
        if not _attributes(node).get("allowzero", 0):
            target = [full[axis] if size == 0 and axis < len(full) else size for axis, size in enumerate(target)]
        if target.count(-1) == 1:
            known = product(tuple(size for size in target if size != -1))
            target[target.index(-1)] = product(tuple(full)) // max(known, 1)
        self.reshaped(node, index, where, source, target)

    def flatten(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        full = self.full_shape(node.input[0])
        axis = int(_attributes(node).get("axis", 1)) % (len(full) + 1)
        self.reshaped(node, index, where, source, [product(full[:axis]), product(full[axis:])])

    def squeeze(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        full = self.full_shape(node.input[0])
        attrs = _attributes(node)
        axes_name = self.optional_input(node, 1)
        axes = attrs.get("axes") or (self.ints(axes_name, where) if axes_name else None)
        if node.op_type == "Squeeze":
            drop = {axis % len(full) for axis in axes} if axes else {a for a, size in enumerate(full) if size == 1}
            new = [size for axis, size in enumerate(full) if axis not in drop]
        else:
            rank = len(full) + len(axes or [])
            new = list(full)
            for axis in sorted(axis % rank for axis in axes or []):
                new.insert(axis, 1)
        self.reshaped(node, index, where, source, new)

    def transpose(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        rank = len(self.shape(source)) + 1
        perm = [int(p) % rank for p in _attributes(node).get("perm", list(reversed(range(rank))))]
        if perm[0] != 0:
            raise where.fail(f"perm {perm} moves the batch axis", "cnncalc permutes the axes of each sample")
        if perm == list(range(rank)):
            self.alias(node, source)
            return
        self.emit(node, index, "permute", [source], {"dims": [p - 1 for p in perm[1:]]}, where)

    def slice_axis(self, node: onnx.NodeProto, index: int, where: NodeWhere, source: str, axis: int, start: int,
                   end: int | None, suffix: str, output: int = 0) -> str:
        """One axis (batch = 0) of a Slice or Split as a cnncalc slice; the whole axis is no layer."""
        full = (self.batch, *self.shape(source))
        begin, stop, step = slice(start, end).indices(full[axis])
        if step != 1:
            raise where.fail("a slice with a step has no layer type", "cnncalc's slice takes every element")
        if begin == 0 and stop == full[axis]:
            return source
        dim = self.rank_axis(axis, len(full), where)
        return self.emit(node, index, "slice", [source], {"dim": dim if dim else None, "start": begin or None,
                                                          "end": stop if stop != full[axis] else None},
                         where, output=None, suffix=suffix)

    def slice(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        attrs = _attributes(node)
        rank = len(self.shape(source)) + 1
        if self.opset < 10:
            starts, ends = list(attrs["starts"]), list(attrs["ends"])
            axes = list(attrs.get("axes", range(len(starts))))
            steps = [1] * len(starts)
        else:
            starts, ends = self.ints(node.input[1], where), self.ints(node.input[2], where)
            axes_name, steps_name = self.optional_input(node, 3), self.optional_input(node, 4)
            axes = self.ints(axes_name, where) if axes_name else list(range(len(starts)))
            steps = self.ints(steps_name, where) if steps_name else [1] * len(starts)
        if any(step != 1 for step in steps):
            raise where.fail(f"steps {steps}: a slice with a step has no layer type",
                             "cnncalc's slice takes every element")
        for position, (start, end, axis) in enumerate(zip(starts, ends, axes)):
            suffix = f".{position}" if len(starts) > 1 else ""
            source = self.slice_axis(node, index, where, source, int(axis) % rank, int(start), int(end), suffix)
        self.alias(node, source)

    def split(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        attrs = _attributes(node)
        full = (self.batch, *self.shape(source))
        axis = int(attrs.get("axis", 0)) % len(full)
        sizes_name = self.optional_input(node, 1)
        if "split" in attrs:
            sizes = [int(size) for size in attrs["split"]]
        elif sizes_name:
            sizes = self.ints(sizes_name, where)
        else:
            parts = int(attrs.get("num_outputs", len(node.output)))
            chunk = -(-full[axis] // parts)
            sizes = [min(chunk, full[axis] - chunk * part) for part in range(parts)]
        if sum(sizes) != full[axis]:
            raise where.fail(f"split sizes {sizes} do not add up to the axis' {full[axis]}")
        start = 0
        for position, (output, size) in enumerate(zip(node.output, sizes)):
            if output and (output in self.consumers or output in self.graph_outputs):
                self.values[output] = self.slice_axis(node, index, where, source, axis, start, start + size,
                                                      f".{position}")
            start += size

    def resize(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        attrs = _attributes(node)
        full = self.full_shape(node.input[0])
        rank = len(full) - 2
        if rank < 1:
            raise where.fail(f"resizing {list(full)}, which has no spatial axes")
        if attrs.get("keep_aspect_ratio_policy", "stretch") != "stretch":
            raise where.fail(f"keep_aspect_ratio_policy {attrs['keep_aspect_ratio_policy']} has no equivalent",
                             "cnncalc's upsample stretches each axis")
        if node.op_type == "Upsample" and "scales" in attrs:
            scales_name, sizes_name = None, None
            scales: list[float] | None = [float(s) for s in attrs["scales"]]
        else:
            position = 1 if node.op_type == "Upsample" or self.opset < 11 else 2
            scales_name, sizes_name = self.optional_input(node, position), self.optional_input(node, 3)
            scales = self.floats(scales_name, where) if scales_name else None
            if scales is not None and not scales:
                scales = None
        axes = [int(axis) % len(full) for axis in attrs.get("axes", range(len(full)))]
        fields: dict[str, Any] = {}
        if sizes_name and self.ints(sizes_name, where):
            wanted = list(full)
            for axis, size in zip(axes, self.ints(sizes_name, where)):
                wanted[axis] = size
            if wanted[:2] != list(full[:2]):
                raise where.fail(f"sizes {wanted} change the batch or the channels",
                                 "cnncalc's upsample resizes the spatial axes")
            fields["size"] = compact(wanted[2:])
        elif scales is not None:
            factors = [1.0] * len(full)
            for axis, factor in zip(axes, scales):
                factors[axis] = factor
            if factors[:2] != [1.0, 1.0]:
                raise where.fail(f"scales {factors} change the batch or the channels",
                                 "cnncalc's upsample resizes the spatial axes")
            fields["scale_factor"] = compact(factors[2:])
        else:
            raise where.fail("neither scales nor sizes are given")
        mode = attrs.get("mode", "nearest")
        if mode == "linear":
            mode = {1: "linear", 2: "bilinear", 3: "trilinear"}[min(rank, 3)]
        elif mode == "cubic":
            if rank != 2:
                raise where.fail(f"cubic resizing of {rank} spatial axes", "cnncalc takes bicubic in 2D")
            mode = "bicubic"
        elif mode != "nearest":
            raise where.fail(f"mode '{mode}' is not known", "nearest, linear or cubic")
        fields["mode"] = mode if mode != "nearest" else None
        self.emit(node, index, "upsample", [source], fields, where)

    def pad(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        attrs = _attributes(node)
        full = self.full_shape(node.input[0])
        rank = len(full)
        if self.opset < 11:
            pads, value = [int(p) for p in attrs["pads"]], float(attrs.get("value", 0.0))
        else:
            pads = self.ints(node.input[1], where)
            value_name = self.optional_input(node, 2)
            value = self.scalar_constant(value_name, where) or 0.0
            axes_name = self.optional_input(node, 3)
            if axes_name:
                axes = [axis % rank for axis in self.ints(axes_name, where)]
                expanded = [0] * (2 * rank)
                for position, axis in enumerate(axes):
                    expanded[axis], expanded[axis + rank] = pads[position], pads[position + len(axes)]
                pads = expanded
        if len(pads) != 2 * rank:
            raise where.fail(f"pads has {len(pads)} entries for {rank} axes")
        if any(pads[axis] or pads[axis + rank] for axis in (0, 1)):
            raise where.fail(f"pads {pads} pad the batch or the channels", "cnncalc pads the spatial axes")
        if min(pads) < 0:
            raise where.fail(f"negative pads {pads} (cropping) have no layer type", "cnncalc pads with zeros or more")
        pairs = [(pads[axis], pads[axis + rank]) for axis in range(2, rank)]
        mode = {"constant": "constant", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}.get(
            attrs.get("mode", "constant"))
        if mode is None:
            raise where.fail(f"mode '{attrs.get('mode')}' is not known", "constant, reflect, edge or wrap")
        if not any(b or e for b, e in pairs):
            self.alias(node, source)
            return
        name = self.emit(node, index, "pad", [source], {
            "padding": padding_field(pairs), "mode": mode if mode != "constant" else None,
            "value": value if mode == "constant" and value != 0 else None}, where)
        self.pads[name] = PadRecord(node.output[0], source, pairs, value, mode, self.builder.layers[-1])

    def depth_to_space(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        self.emit(node, index, "pixel_shuffle", [source],
                  {"upscale_factor": int(_attributes(node)["blocksize"])}, where)

    def passthrough(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        """Identity and Cast change nothing cnncalc counts; Dropout is kept as a (free) dropout layer."""
        source = self.data(node, 0, where)
        if node.op_type == "Dropout":
            if len(node.output) > 1 and node.output[1] in self.consumers:
                raise where.fail("the dropout mask is used", "cnncalc counts the dropout's output")
            self.emit(node, index, "dropout", [source], {}, where)
        else:
            self.alias(node, source)


ACTIVATIONS = {"Relu": "relu", "LeakyRelu": "leaky_relu", "Elu": "elu", "Selu": "selu", "Sigmoid": "sigmoid",
               "Tanh": "tanh", "HardSigmoid": "hardsigmoid", "HardSwish": "hardswish", "Gelu": "gelu",
               "Mish": "mish"}

Handler = Callable[[_Converter, onnx.NodeProto, int, NodeWhere], None]

HANDLERS: dict[str, Handler] = {
    "Conv": _Converter.conv, "ConvTranspose": _Converter.conv_transpose, "Gemm": _Converter.gemm,
    "MatMul": _Converter.matmul,
    "MaxPool": _Converter.pool, "AveragePool": _Converter.pool, "GlobalAveragePool": _Converter.global_pool,
    "GlobalMaxPool": _Converter.global_pool, "ReduceMean": _Converter.reduce, "ReduceMax": _Converter.reduce,
    "BatchNormalization": _Converter.batchnorm, "InstanceNormalization": _Converter.instancenorm,
    "LayerNormalization": _Converter.layernorm, "GroupNormalization": _Converter.groupnorm, "LRN": _Converter.lrn,
    **{op_type: _Converter.activation for op_type in ACTIVATIONS},
    "PRelu": _Converter.prelu, "Softmax": _Converter.softmax, "LogSoftmax": _Converter.softmax,
    "Clip": _Converter.clip, "Softplus": _Converter.softplus, "Erf": _Converter.erf,
    "Add": _Converter.elementwise, "Sub": _Converter.elementwise, "Mul": _Converter.elementwise,
    "Div": _Converter.elementwise, "Concat": _Converter.concat, "Split": _Converter.split,
    "Slice": _Converter.slice, "Reshape": _Converter.reshape, "Flatten": _Converter.flatten,
    "Squeeze": _Converter.squeeze, "Unsqueeze": _Converter.squeeze, "Transpose": _Converter.transpose,
    "Resize": _Converter.resize, "Upsample": _Converter.resize, "Pad": _Converter.pad,
    "DepthToSpace": _Converter.depth_to_space,
    "Dropout": _Converter.passthrough, "Identity": _Converter.passthrough, "Cast": _Converter.passthrough,
}
