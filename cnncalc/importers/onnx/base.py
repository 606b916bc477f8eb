"""The converter's state and the helpers every operator mapping uses: names, constants, inputs, emitting."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import onnx

from ...errors import SpecError
from ...layers.base import product
from ..builder import SpecBuilder
from ..common import drop, entry
from .foldsize import shape_of
from .layout import NO_BATCH, STANDARD, Layout, spec_axis, whole_shape
from .model import STANDARD_DOMAINS, NodeWhere, PadRecord, Shape, printable
from .tensors import TensorError, Unread, tensor_numbers, tensor_shape

if TYPE_CHECKING:
    from .. import ImportOptions


def is_op_name(part: str, op_type: str) -> bool:
    """'Conv' or 'Conv_12' for op type Conv: an exporter's node name, not a module's."""
    rest = part[len(op_type):] if part.startswith(op_type) else None
    return rest is not None and (not rest or (rest[0] == "_" and rest[1:].isdecimal()))


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
        self.layouts: dict[str, Layout] = {}  # ONNX tensor -> where its batch is, when not first and apart
        self.origins: dict[str, frozenset[str]] = {}  # folded constant -> the initializers it is computed from
        self.materialized: dict[str, str] = {}  # constant -> the parameter or constant layer standing for it
        self.claimed: set[str] = set()  # initializers a parameter layer already counts
        self.initializer_names = {tensor.name for tensor in self.graph.initializer}
        self.checked_shapes: dict[str, tuple[onnx.TensorProto, Shape]] = {}
        self.gelus: dict[int, str] = {}  # index of the last node of an exact GELU -> its input tensor
        self.consumers: dict[str, list[int]] = {}
        self.producers: dict[str, int] = {}
        self.graph_outputs = {output.name for output in self.graph.output}
        for index, node in enumerate(self.graph.node):
            for name in node.input:
                if name:
                    self.consumers.setdefault(name, []).append(index)
            for name in node.output:
                if name:
                    self.producers.setdefault(name, index)

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
        if len(parts) > 1 and is_op_name(parts[-1], node.op_type):
            parts = parts[:-1]
        name = parts[-1] if parts else node.op_type.lower()
        if len(parts) == 1 and is_op_name(name, node.op_type):
            name = name.lower()
        return name + suffix

    def constant_input(self, name: str, where: NodeWhere) -> Any:
        """A constant's NumPy array, or `Unread` (shape only); initializers are read when first needed."""
        found = self.constants[name]
        if isinstance(found, onnx.TensorProto):
            try:
                found = tensor_numbers(found, f"the constant '{name}'")
            except TensorError as error:
                raise where.fail(error.problem, error.hint) from None
            self.constants[name] = found
        return found

    def value(self, name: str, where: NodeWhere) -> Any:
        """A constant's NumPy value, for an operator that needs the numbers."""
        if name not in self.constants:
            raise where.fail(f"input '{name}' must be a constant here", "cnncalc reads this operand's numbers")
        found = self.constant_input(name, where)
        if isinstance(found, Unread):
            raise self.unread(found, where)
        return found

    def unread(self, found: Unread, where: NodeWhere) -> SpecError:
        """The error for numbers cnncalc does not have: at the node that would have computed them, if any."""
        if found.origin is None:
            return where.fail(found.problem, found.hint)
        name, op_type = where.layer or ("?", "?")
        return NodeWhere(None, found.origin, self.file).fail(
            f"{found.problem}, and node '{name}' ({op_type}) needs its numbers", found.hint)

    def constant_shape(self, name: str, where: NodeWhere) -> Shape:
        found = self.constants[name]
        if isinstance(found, onnx.TensorProto):
            known = self.checked_shapes.get(name)
            if known is not None and known[0] is found:
                return known[1]  # a weight many nodes share is checked once
            try:
                shape = tensor_shape(found, f"the constant '{name}'")
            except TensorError as error:
                raise where.fail(error.problem, error.hint) from None
            self.checked_shapes[name] = (found, shape)
            return shape
        return shape_of(found)

    def numbers(self, name: str, where: NodeWhere) -> Any:
        """A constant's numbers, flat; strings (or no element type NumPy computes with) are an error."""
        array = np.asarray(self.value(name, where)).reshape(-1)
        if array.dtype.kind not in "biuf":
            what = "strings" if array.dtype.kind in "USO" else f"{array.dtype} values"
            raise where.fail(f"the constant '{name}' holds {what}, not numbers",
                             "this operand is a list of numbers")
        return array

    def ints(self, name: str, where: NodeWhere) -> list[int]:
        array = self.numbers(name, where)
        if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
            raise where.fail(f"the constant '{name}' holds {array.tolist()[:8]}, not integers",
                             "this operand is a list of sizes or indices")
        return [int(item) for item in array]

    def floats(self, name: str, where: NodeWhere) -> list[float]:
        return [float(item) for item in self.numbers(name, where)]

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
        return whole_shape(self.shape(self.values[tensor]), self.layout(tensor), self.batch)

    def layout(self, tensor: str) -> Layout:
        return self.layouts.get(tensor, STANDARD)

    def set_layout(self, tensor: str, layout: Layout) -> None:
        if layout == STANDARD:
            self.layouts.pop(tensor, None)
        else:
            self.layouts[tensor] = layout

    def axis(self, tensor: str, axis: int, where: NodeWhere, what: str = "axis") -> int:
        """cnncalc's axis for ONNX axis `axis` of a computed tensor; the batch axis is an error."""
        rank = len(self.full_shape(tensor))
        if not -rank <= axis < rank:
            raise where.fail(f"{what} {axis} is out of range for {rank} axes")
        layout = self.layout(tensor)
        if layout.folded and axis % rank == layout.axis and self.batch == 1:
            # at batch 1 a folded axis is only a guess, and its shape is the ONNX one: read it as no batch
            self.set_layout(tensor, NO_BATCH)
            return axis % rank
        found = spec_axis(layout, axis % rank)
        if found is None or (layout.folded and axis % rank == layout.axis):
            raise where.fail(f"{what} {axis} holds the batch ({list(self.full_shape(tensor))})",
                             "cnncalc layers act on each sample")
        return found

    def weight_shape(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> Shape:
        name = node.input[index] if len(node.input) > index else ""
        if name not in self.constants:
            raise where.fail(f"the weight ('{name}') is not a constant",
                             "cnncalc counts weights stored in the file (initializers)")
        return self.constant_shape(name, where)

    def emit(self, node: onnx.NodeProto, index: int, kind: str, sources: list[str], fields: dict[str, Any],
             where: NodeWhere, output: int | None = 0, suffix: str = "", comment: str | None = None) -> str:
        fields = {key: value for key, value in fields.items() if value is not None}
        comment = printable(comment) if comment else comment  # a name from the file must not end the comment
        name = self.builder.add(kind, self.layer_name(node, index, suffix), sources, fields, where, comment)
        if output is not None and len(node.output) > output:
            self.values[node.output[output]] = name
            self.set_layout(node.output[output], self.input_layout(node))
        return name

    def alias(self, node: onnx.NodeProto, source: str) -> None:
        self.values[node.output[0]] = source
        self.set_layout(node.output[0], self.input_layout(node))

    def learned(self, name: str) -> bool:
        """A constant the file holds as an initializer, or computes from initializers: model weights."""
        return name in self.initializer_names or bool(self.origins.get(name))

    def named_weight(self, name: str) -> bool:
        """An initializer named as a submodule's parameter ('blocks.0.act.scale'), not as an exporter's
        constant ('onnx::Mul_12', 'val_3', '/Constant_output_0', 'c'): a learned scalar, not a fixed one."""
        return name in self.initializer_names and "." in name and not name.startswith(("onnx::", "val_", "_val_",
                                                                                       "/"))

    def check_layouts(self, node: onnx.NodeProto, where: NodeWhere) -> None:
        """Operators that only know batch-first tensors refuse a tensor whose batch moved or folded."""
        for name in node.input:
            layout = self.layout(name) if name in self.values else STANDARD
            if layout != STANDARD:
                where_batch = "has no batch axis" if layout.axis < 0 else f"holds the batch in axis {layout.axis}" + (
                    " with other samples folded in" if layout.folded else "")
                raise where.fail(f"input '{name}' {list(self.full_shape(name))} {where_batch}",
                                 f"cnncalc maps {node.op_type} on tensors whose first axis is the batch")

    def picked(self, node: onnx.NodeProto, index: int, where: NodeWhere, source: str, dim: int, count: int,
               output: int | None = 0, suffix: str = "") -> str:
        """Elements picked along `dim` by constant indices (a relative-position table read by its index,
        Swin V2; LeViT's x[:, ::2] of an odd size): a copy without arithmetic, written as the first element
        expanded to `count`, which has the gather's shape and cost (none); a view in cnncalc's memory
        count, where PyTorch copies."""
        shape = list(self.shape(source))
        comment = f"{count} elements picked by constant indices along axis {dim}: the first, expanded (no cost)"
        if shape[dim] != 1:
            source = self.emit(node, index, "slice", [source], {"dim": dim or None, "end": 1}, where, output=None,
                               suffix=f"{suffix}.first", comment=comment)
        return self.emit(node, index, "expand", [source], {"shape": shape[:dim] + [count] + shape[dim + 1:]}, where,
                         output=output, suffix=suffix, comment=comment)

    def input_layout(self, node: onnx.NodeProto) -> Layout:
        """The layout of the node's first computed input: what an elementwise result keeps."""
        if not self.layouts:
            return STANDARD
        computed = next((name for name in node.input if name in self.values), None)
        return STANDARD if computed is None else self.layout(computed)

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
        if name is None or name not in self.constants or product(self.constant_shape(name, where)) != 1:
            return None
        return self.floats(name, where)[0]

    def rank_axis(self, axis: int, rank: int, where: NodeWhere, what: str = "axis") -> int:
        """An ONNX axis (batch = 0) as a per-sample dim (channels = 0); the batch axis is an error."""
        if not -rank <= axis < rank:
            raise where.fail(f"{what} {axis} is out of range for {rank} axes")
        axis %= rank
        if axis == 0:
            raise where.fail(f"{what} 0 is the batch axis", "cnncalc layers act on each sample")
        return axis - 1

    def constant_attribute(self, attrs: dict[str, Any], where: NodeWhere) -> Any:
        if "value" in attrs:
            return attrs["value"]  # a TensorProto, read (checked) when first needed
        for key in ("value_float", "value_int"):
            if key in attrs:
                return np.array(attrs[key], dtype=np.float32 if key == "value_float" else np.int64)
        for key in ("value_floats", "value_ints"):
            if key in attrs:
                return np.array(attrs[key], dtype=np.float32 if key == "value_floats" else np.int64)
        raise where.fail("a Constant without a value cnncalc reads", "value, value_float(s) or value_int(s)")
