"""Activations (with the decompositions PyTorch exports: silu, hardswish, mish, gelu) and elementwise
Add, Sub, Mul, Div."""

from __future__ import annotations

import math
from typing import Any

import onnx

from ...errors import SpecError
from ...layers.base import product
from ..common import channel_axis, fold_bias, is_per_channel
from .attributes import read_attributes
from .layout import STANDARD
from .model import NodeWhere
from .tokens import _Tokens

ACTIVATIONS = {"Relu": "relu", "LeakyRelu": "leaky_relu", "Elu": "elu", "Selu": "selu", "Sigmoid": "sigmoid",
               "Tanh": "tanh", "HardSigmoid": "hardsigmoid", "HardSwish": "hardswish", "Gelu": "gelu",
               "Mish": "mish"}


class _Activations(_Tokens):
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

    def find_gelus(self) -> None:
        """Every exact GELU the exporters write, x * 0.5 * (1 + erf(x / sqrt 2)) in any order of its
        products, found before conversion: its constants may come later in the file than its first
        node (the TorchScript exporter writes each Constant just before its reader). The GELU is
        emitted at its last node; the others are absorbed."""
        for index, node in enumerate(self.graph.node):
            if node.op_type != "Erf" or len(node.input) != 1 or not node.output:
                continue
            found = self.gelu_around(index)
            if found is not None:
                members, source = found
                self.gelus[members[-1]] = source
                self.absorbed.update(members[:-1])

    def gelu_around(self, erf_index: int) -> tuple[list[int], str] | None:
        """(the pattern's node indices in file order, x) for the GELU around Erf node `erf_index`."""
        erf = self.graph.node[erf_index]
        scaled = self.producer_node(erf.input[0])
        if scaled is None or self.single_consumer(erf.input[0]) is None:
            return None
        scaled_index, scaled_node = scaled
        x = self.scaled_by(scaled_node, {"Div": math.sqrt(2), "Mul": math.sqrt(0.5)})
        plus = self.reader(erf.output[0], "Add")
        if x is None or plus is None or self.peek_scalar(self.other_input(plus[1], erf.output[0])) != 1.0:
            return None
        members = [scaled_index, erf_index, plus[0]]
        first = self.reader(plus[1].output[0], "Mul")
        if first is None:
            return None
        members.append(first[0])
        other = self.other_input(first[1], plus[1].output[0])
        if other == x:  # ((1 + erf) * x) * 0.5
            half = self.reader(first[1].output[0], "Mul")
            if half is None or self.peek_scalar(self.other_input(half[1], first[1].output[0])) != 0.5:
                return None
            members.append(half[0])
        elif self.peek_scalar(other) == 0.5:  # ((1 + erf) * 0.5) * x
            times_x = self.reader(first[1].output[0], "Mul")
            if times_x is None or self.other_input(times_x[1], first[1].output[0]) != x:
                return None
            members.append(times_x[0])
        else:  # (x * 0.5) * (1 + erf)
            halved = self.producer_node(other) if other else None
            if halved is None or self.single_consumer(str(other)) is None \
                    or self.scaled_by(halved[1], {"Mul": 0.5}) != x:
                return None
            members.append(halved[0])
        return sorted(members), x

    def scaled_by(self, node: onnx.NodeProto, factors: dict[str, float]) -> str | None:
        """x for a node x / c or x * c (c a scalar constant, the factor its op type is listed with)."""
        if node.op_type not in factors or len(node.input) != 2:
            return None
        for position in (0, 1):
            if node.op_type == "Div" and position == 0:
                continue
            value = self.peek_scalar(node.input[position])
            if value is not None and abs(value - factors[node.op_type]) < 1e-3:
                return str(node.input[1 - position])
        return None

    def producer_node(self, tensor: str) -> tuple[int, onnx.NodeProto] | None:
        index = self.producers.get(tensor)
        return None if index is None else (index, self.graph.node[index])

    def reader(self, tensor: str, op_type: str) -> tuple[int, onnx.NodeProto] | None:
        index = self.single_consumer(tensor)
        if index is None or self.graph.node[index].op_type != op_type:
            return None
        return index, self.graph.node[index]

    def peek_scalar(self, name: str | None) -> float | None:
        """A one-element constant's value wherever the file defines it: an initializer, or a Constant node
        (read now, even if it comes later in the file); None for anything else."""
        if name is None:
            return None
        if name not in self.constants:
            made = self.producer_node(name)
            if made is None or made[1].op_type != "Constant":
                return None
            try:
                value = self.constant_attribute(read_attributes(made[1], self.where(made[1], made[0])),
                                                self.where(made[1], made[0]))
            except SpecError:
                return None
            self.constants[name] = value
        try:
            return self.scalar_constant(name, self.where(self.graph.node[0], 0))
        except SpecError:
            return None

    def gelu(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        """The last node of an exact GELU pattern (find_gelus)."""
        source = self.values.get(self.gelus[index])
        if source is None:
            raise where.fail("the GELU's input is made by no earlier node")
        self.emit(node, index, "gelu", [source], {}, where)
        self.set_layout(node.output[0], self.layout(self.gelus[index]))

    def softmax(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        rank = len(self.full_shape(node.input[0]))
        default = -1 if self.opset >= 13 else 1
        axis = int(read_attributes(node, where).get("axis", default))
        if not -rank <= axis < rank:
            raise where.fail(f"axis {axis} is out of range for {rank} axes")
        axis %= rank
        if self.opset < 13 and any(size != 1 for size in self.full_shape(node.input[0])[axis + 1:]):
            raise where.fail(f"before opset 13, Softmax on axis {axis} runs over every axis from it on",
                             "cnncalc's softmax runs over one axis; export with opset 13 or later")
        dim = self.axis(node.input[0], axis, where)
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
            self.binary(node, index, kind, where)
            return
        if first in self.values:
            tensor, constant, constant_first = first, second, False
        else:
            tensor, constant, constant_first = second, first, True
        source = self.data(node, 0 if not constant_first else 1, where)
        if constant not in self.constants:
            self.data(node, 1 if not constant_first else 0, where)  # the error for a missing input
        scalar = self.scalar_constant(constant, where)
        if scalar is not None and self.named_weight(constant):
            self.binary(node, index, kind, where)  # a learned scalar (StarReLU's scale and bias): 1 parameter
            return
        if scalar is not None:
            self.emit(node, index, "identity", [source], {}, where,
                      comment=f"{node.op_type} by the constant {scalar:g}: no layer type; counted as an identity "
                              "(no parameters, no MACs)")
            return
        shape = self.constant_shape(constant, where)
        if self.layout(tensor) != STANDARD or not is_per_channel(self.builder, source, shape, self.batch) \
                or constant_first and kind in ("sub", "div"):
            self.binary(node, index, kind, where)  # a learned tensor (position embedding ...) or a fixed one
            return
        if kind in ("mul", "div") and channel_axis(self.builder, source) == 1:
            self.emit(node, index, "scale", [source], {}, where,
                      comment=f"a constant per-channel {node.op_type} ('{constant}'), counted as a learned scale")
            return
        if kind in ("mul", "div"):  # along the last axis of tokens: scale's parameters run along channels
            self.binary(node, index, kind, where)
            return
        if self.single_consumer(tensor) is not None and fold_bias(self.builder, source):
            self.alias(node, source)
            return
        self.binary(node, index, kind, where)  # a learned per-channel shift that is not a bias before it
