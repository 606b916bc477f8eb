"""Activations (with the decompositions PyTorch exports: silu, hardswish, mish, gelu) and elementwise
Add, Sub, Mul, Div."""

from __future__ import annotations

import math
from typing import Any

import onnx

from ...layers.base import product
from ..common import fold_bias, is_per_channel
from .base import _Base
from .attributes import read_attributes
from .model import NodeWhere

ACTIVATIONS = {"Relu": "relu", "LeakyRelu": "leaky_relu", "Elu": "elu", "Selu": "selu", "Sigmoid": "sigmoid",
               "Tanh": "tanh", "HardSigmoid": "hardsigmoid", "HardSwish": "hardswish", "Gelu": "gelu",
               "Mish": "mish"}


class _Activations(_Base):
    # -- activations ---------------------------------------------------------------------

    def activation(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        self.data(node, 0, where)  # fails on a constant input, or one no earlier node made
        attrs = read_attributes(node, where)
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
        axis = int(read_attributes(node, where).get("axis", default)) % rank
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
        attrs = read_attributes(node, where)
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
        shape = self.constant_shape(constant, where)
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
