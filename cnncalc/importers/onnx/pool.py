"""Pooling: MaxPool, AveragePool, the global pools, and ReduceMean / ReduceMax over the spatial axes."""

from __future__ import annotations

from typing import Any

import onnx

from ..common import compact, padding_field
from .conv import _Convolution
from .attributes import read_attributes
from .model import NodeWhere, PadRecord


class _Pooling(_Convolution):  # window, spatial and take_pad are the convolution's
    # -- pooling -----------------------------------------------------------------------

    def pool(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        rank = self.spatial(node, where, source, "pooling")
        attrs = read_attributes(node, where)
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
        attrs = read_attributes(node, where)
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
