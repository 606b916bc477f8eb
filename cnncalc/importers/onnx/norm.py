"""Normalization: BatchNormalization, InstanceNormalization (and nn.GroupNorm's export), LayerNormalization,
GroupNormalization, LRN."""

from __future__ import annotations

import numpy as np
import onnx

from ...layers.base import product
from ..common import compact
from .conv import _Convolution
from .attributes import read_attributes
from .layout import Layout
from .model import NodeWhere


class _Normalization(_Convolution):  # spatial is the convolution's
    # -- normalization -------------------------------------------------------------------

    def batchnorm(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        if any(name in self.consumers or name in self.graph_outputs for name in node.output[1:] if name):
            raise where.fail("the running statistics outputs (training mode) are used",
                             "cnncalc counts the normalized output")
        if self.layout(node.input[0]) == Layout(0, True) and len(self.shape(source)) == 2:
            self.tokens_batchnorm(node, index, where, source)
            return
        self.check_layouts(node, where)  # any other batch norm takes its batch first
        shape = self.shape(source)
        channels = self.weight_shape(node, 1, where)
        if product(channels) != shape[0]:
            raise where.fail(f"scale has {product(channels)} entries for {shape[0]} channels")
        self.emit(node, index, f"batchnorm{max(len(shape) - 1, 1)}d", [source], {}, where)

    def tokens_batchnorm(self, node: onnx.NodeProto, index: int, where: NodeWhere, source: str) -> None:
        """BatchNorm1d of tokens folded into the batch, [N*T, C] (LeViT's linear + norm): the channels
        moved first, normalized, moved back; the moves are copies without arithmetic."""
        channels = self.weight_shape(node, 1, where)
        if product(channels) != self.shape(source)[1]:
            raise where.fail(f"scale has {product(channels)} entries for {self.shape(source)[1]} channels")
        comment = "a batch norm of tokens folded into the batch: channels moved first, normalized, moved back"
        moved = self.emit(node, index, "permute", [source], {"dims": [1, 0]}, where, output=None,
                          suffix=".channels_first", comment=comment)
        normed = self.emit(node, index, "batchnorm1d", [moved], {}, where, output=None)
        self.emit(node, index, "permute", [normed], {"dims": [1, 0]}, where, suffix=".channels_last")

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
        axis = self.axis(node.input[0], int(read_attributes(node, where).get("axis", -1)), where)
        normalized = compact(list(shape[axis:])) if len(shape[axis:]) > 1 else shape[axis]
        bias = self.optional_input(node, 2)
        if bias and (bias in self.values or self.learned(bias)) or not self.optional_input(node, 1):
            self.emit(node, index, "layernorm", [source], {"normalized_shape": normalized}, where)
            return
        # a weight and no bias, or a fixed one written as a Constant (nn.LayerNorm(bias=False), timm's
        # norms without bias): the normalization, then the weight as a learned tensor over the normalized
        # axes, multiplied
        plain = self.emit(node, index, "layernorm", [source], {"normalized_shape": normalized, "affine": False},
                          where, output=None)
        weight = self.builder.add("parameter", f"{self.layer_name(node, index)}.weight", [],
                                  {"shape": list(shape[axis:])}, where, "the weight of a layer norm without a bias")
        self.builder.layers[-1].pop("from", None)  # a parameter takes no input
        self.emit(node, index, "mul", [plain, weight], {}, where, suffix=".scaled")

    def groupnorm(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        groups = int(read_attributes(node, where)["num_groups"])
        self.emit(node, index, "groupnorm", [source], {"num_groups": groups}, where)

    def lrn(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        attrs = read_attributes(node, where)
        self.emit(node, index, "lrn", [source], {"size": int(attrs["size"]), "alpha": float(attrs.get("alpha", 1e-4)),
                                                 "beta": float(attrs.get("beta", 0.75)),
                                                 "k": float(attrs.get("bias", 1.0))}, where)
