"""The converter's state and the helpers every operator mapping uses: names, constants, inputs, emitting."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import onnx
from onnx import numpy_helper

from ...layers.base import product
from ..builder import SpecBuilder
from ..common import drop, entry
from .fold import FOLDERS, FoldError, fold
from .model import STANDARD_DOMAINS, NodeWhere, PadRecord, Shape, _attributes

if TYPE_CHECKING:
    from .. import ImportOptions


class _Base:
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
