"""Convolution and dense: Conv, ConvTranspose, Gemm, MatMul; the window and padding rules pooling shares."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import onnx

from ..common import compact, padding_field
from .base import _Base
from .attributes import read_attributes
from .model import NodeWhere, PadRecord, Pairs, Shape


def same_pairs(sizes: Shape, kernel: list[int], stride: list[int], dilation: list[int], upper: bool) -> Pairs:
    """auto_pad SAME_UPPER / SAME_LOWER: out = ceil(in / s), the odd pad at the end / at the start."""
    pairs = []
    for size, k, s, d in zip(sizes, kernel, stride, dilation):
        out = -(-size // s)
        total = max((out - 1) * s + d * (k - 1) + 1 - size, 0)
        small, large = total // 2, total - total // 2
        pairs.append((small, large) if upper else (large, small))
    return pairs



class _Convolution(_Base):
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
        attrs = read_attributes(node, where)
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
        attrs = read_attributes(node, where)
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
        attrs = read_attributes(node, where)
        if attrs.get("transA", 0):
            raise where.fail("transA = 1 puts the batch on the second axis", "cnncalc's linear acts on each sample")
        full = self.full_shape(node.input[0])
        if len(full) != 2:
            raise where.fail(f"Gemm takes a matrix; the input is {list(full)}")
        self.axis(node.input[0], 1, where)  # the features, not the batch
        weight = self.weight_shape(node, 1, where)
        if len(weight) != 2:
            raise where.fail(f"weight shape {list(weight)} is not a matrix")
        features, out_features = (weight[1], weight[0]) if attrs.get("transB", 0) else weight
        self.linear(node, index, where, source, features, out_features, bool(self.optional_input(node, 2)))

    def linear(self, node: onnx.NodeProto, index: int, where: NodeWhere, source: str, features: int,
               out_features: int, bias: bool) -> None:
        if self.shape(source)[-1] != features:
            raise where.fail(f"the weight takes {features} features; the input has {self.shape(source)[-1]}")
        self.emit(node, index, "linear", [source], {"out_features": out_features, "bias": None if bias else False,
                                                    "in_features": features}, where)
