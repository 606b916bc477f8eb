"""The whole graph: to_spec, the inputs, the operator check, and the table of operator -> mapping."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import onnx

from ...errors import SpecError
from .activations import ACTIVATIONS, _Activations
from .attributes import missing_inputs
from .conv import _Convolution
from .folding import _Folding
from .fold import FOLDERS
from .model import STANDARD_DOMAINS, NodeWhere, first_line, load, printable
from .norm import _Normalization
from .pool import _Pooling
from .resize import _Resizing
from .shapes import _Shapes
from .tensors import TensorError, sparse_constant
from .tokens import REDUCTIONS, UNARY

if TYPE_CHECKING:
    from .. import ImportOptions


def to_spec(path: Path, options: ImportOptions) -> dict[str, Any]:
    """The spec (a dict, see cnncalc.importers) of the ONNX model at `path`."""
    try:
        with warnings.catch_warnings():  # NumPy's on hostile constants (ComplexWarning ...): errors say enough
            warnings.simplefilter("ignore")
            return _Converter(load(path), path, options).convert()
    except SpecError as error:  # names from the file may hold newlines: a message is one line
        raise SpecError(printable(error.problem), mark=error.mark, layer=error.layer,
                        hint=printable(error.hint) if error.hint else None) from None



class _Converter(_Folding, _Pooling, _Normalization, _Convolution, _Activations, _Shapes, _Resizing):
    # -- the whole graph --------------------------------------------------------------

    def convert(self) -> dict[str, Any]:
        for initializer in self.graph.initializer:
            self.constants[initializer.name] = initializer
        for sparse in self.graph.sparse_initializer:
            try:
                self.constants[sparse.values.name] = sparse_constant(sparse, sparse.values.name)
            except TensorError as error:
                raise SpecError(f"{self.file}: {error.problem}", hint=error.hint) from None
        spec_batch = self.read_inputs()
        self.check_operators()
        self.check_inputs()
        self.find_gelus()
        for index, node in enumerate(self.graph.node):
            if index in self.absorbed:
                continue
            where = self.where(node, index)
            try:
                if index in self.gelus:
                    self.gelu(node, index, where)
                elif self.foldable(node):
                    self.fold(node, where)
                else:
                    if node.op_type == "Conv" and node.input[0] in self.constants:
                        self.constant_operand(node.input[0], where)  # XCiT's sine position encoding, projected
                    if self.layouts and node.op_type not in MOVES_THE_BATCH:
                        self.standardize(list(node.input), where)
                    if self.layouts and node.op_type not in LAYOUT_AWARE:
                        self.check_layouts(node, where)
                    HANDLERS[node.op_type](self, node, index, where)
            except (ValueError, TypeError, KeyError, IndexError, ZeroDivisionError, OverflowError) as error:
                # the last guard: a node that breaks its operator's definition in a way no check above caught
                raise where.fail(f"cannot convert this node ({type(error).__name__}: {first_line(error)})",
                                 "the node does not follow its operator's definition") from None
        if self.layouts:
            self.standardize([output.name for output in self.graph.output],
                             NodeWhere(None, ("graph outputs", "output"), self.file))
        outputs = []
        for output in self.graph.output:
            if output.name not in self.values:
                raise SpecError(f"{self.file}: graph output '{output.name}' is "
                                f"{'a constant' if output.name in self.constants else 'made by no node'}",
                                hint="cnncalc counts what is computed from the inputs")
            if self.values[output.name] not in outputs:
                outputs.append(self.values[output.name])
        if not self.builder.layers:  # the builder's own error would not name the file
            raise SpecError(f"{self.file}: the graph has no layer cnncalc can count: its outputs are its inputs, "
                            "passed through (Identity, Cast, a Reshape that changes nothing)",
                            hint="cnncalc counts what is computed from the inputs")
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

    def check_inputs(self) -> None:
        """Every node reads graph inputs, initializers or earlier nodes' outputs (a cycle reads none of them)."""
        known = {item.name for item in self.graph.input} | set(self.constants)
        for index, node in enumerate(self.graph.node):
            missing_inputs(node, self.opset, lambda: self.where(node, index))  # noqa: B023 - called at once
            for position, name in enumerate(node.input):
                if name and name not in known:
                    raise self.where(node, index).fail(f"input {position} ('{name}') is made by no earlier node",
                                                       "is the file truncated, or its nodes out of order?")
            if not any(node.output):
                raise self.where(node, index).fail("the node has no output")
            known.update(node.output)

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


Handler = Callable[[_Converter, onnx.NodeProto, int, NodeWhere], None]


def _gemm(converter: _Converter, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
    """Gemm with a constant B is a linear layer; with a computed one, a matmul."""
    if len(node.input) > 1 and node.input[1] in converter.values:
        converter.gemm_of_tensors(node, index, where)
        return
    if node.input and node.input[0] in converter.constants:  # a table computed in forward (Swin V2's MLP)
        converter.constant_operand(node.input[0], where)
    converter.gemm(node, index, where)


HANDLERS: dict[str, Handler] = {
    "Conv": _Converter.conv, "ConvTranspose": _Converter.conv_transpose, "Gemm": _gemm,
    "MatMul": _Converter.matmul, "Gather": _Converter.gather, "Einsum": _Converter.einsum,
    "Expand": _Converter.expand, "ReduceL2": _Converter.l2_normalize, "Tile": _Converter.tile,
    "Where": _Converter.where_select, "Pow": _Converter.power,
    **{op_type: _Converter.unary for op_type in UNARY},
    **{op_type: _Converter.reduction for op_type in REDUCTIONS},
    "MaxPool": _Converter.pool, "AveragePool": _Converter.pool, "GlobalAveragePool": _Converter.global_pool,
    "GlobalMaxPool": _Converter.global_pool,
    "BatchNormalization": _Converter.batchnorm, "InstanceNormalization": _Converter.instancenorm,
    "LayerNormalization": _Converter.layernorm, "GroupNormalization": _Converter.groupnorm, "LRN": _Converter.lrn,
    **{op_type: _Converter.activation for op_type in ACTIVATIONS},
    "PRelu": _Converter.prelu, "Softmax": _Converter.softmax, "LogSoftmax": _Converter.softmax,
    "Clip": _Converter.clip, "Softplus": _Converter.softplus,
    "Add": _Converter.elementwise, "Sub": _Converter.elementwise, "Mul": _Converter.elementwise,
    "Div": _Converter.elementwise, "Concat": _Converter.concat, "Split": _Converter.split,
    "Slice": _Converter.slice, "Reshape": _Converter.reshape, "Flatten": _Converter.flatten,
    "Squeeze": _Converter.squeeze, "Unsqueeze": _Converter.squeeze, "Transpose": _Converter.transpose,
    "Resize": _Converter.resize, "Upsample": _Converter.resize, "Pad": _Converter.pad,
    "DepthToSpace": _Converter.depth_to_space,
    "Dropout": _Converter.passthrough, "Identity": _Converter.passthrough, "Cast": _Converter.passthrough,
    "CastLike": _Converter.passthrough,
}

# Operators whose mapping follows the batch wherever a transformer moved or folded it (layout.py); the
# others take tensors whose first axis is the batch.
LAYOUT_AWARE = {"ReduceL2", "Tile", "BatchNormalization", "Add", "Sub", "Mul", "Div", "MatMul", "Gemm", "Gather",
                "Einsum", "Expand", "Where", "Pow",
                "Softmax", "LogSoftmax", "LayerNormalization", "Transpose", "Reshape", "Flatten", "Squeeze",
                "Unsqueeze", "Concat", "Slice", "Split", "Identity", "Cast", "CastLike", "Dropout", "Clip",
                *UNARY, *REDUCTIONS, *ACTIVATIONS}
# Operators that carry the batch's place through (their layout is what later ones need); before the
# others, an input whose first axis is as long as the batch is put back batch first.
MOVES_THE_BATCH = {"Transpose", "Reshape", "Squeeze", "Unsqueeze", "Flatten"}
