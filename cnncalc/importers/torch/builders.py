"""Layers from their arguments, shared by the nn.Module leaves (leaves.py) and the functions
(functions.py): convolution, linear, pooling, clamp, upsample, pad and permute."""

from __future__ import annotations

from typing import Any

from ..common import compact, padding_field
from .converter import BaseConverter, Shape, Unsupported


class LayerBuilders(BaseConverter):
    def convolution(self, source: str, transposed: bool, weight: Shape, bias: bool, stride: Any, padding: Any,
                    dilation: Any, groups: int, output_padding: Any) -> str:
        rank = len(weight) - 2
        kernel = list(weight[2:])
        out_channels = weight[1] * groups if transposed else weight[0]
        strides = [stride] * rank if isinstance(stride, int) else list(stride)
        dilations = [dilation] * rank if isinstance(dilation, int) else list(dilation)
        if isinstance(padding, str):
            padding_value: Any = padding if padding == "same" else None
        else:
            pads = [padding] * rank if isinstance(padding, int) else list(padding)
            pairs = [(int(pad), int(pad)) for pad in pads]
            if not transposed:
                folded = self.take_pad(source, lambda extra, value, mode: mode == "constant" and value == 0)
                if folded is not None:
                    source = folded[0]
                    pairs = [(b + pb, e + pe) for (b, e), (pb, pe) in zip(pairs, folded[1])]
            padding_value = padding_field(pairs)
        fields: dict[str, Any] = {"out_channels": out_channels, "kernel_size": compact(kernel),
                                  "stride": compact(strides) if set(strides) != {1} else None,
                                  "padding": padding_value}
        if transposed:
            extra = [output_padding] * rank if isinstance(output_padding, int) else list(output_padding)
            fields["output_padding"] = compact(extra) if set(extra) != {0} else None
        fields.update({"dilation": compact(dilations) if set(dilations) != {1} else None,
                       "groups": groups if groups != 1 else None, "bias": None if bias else False})
        return self.add(f"conv_transpose{rank}d" if transposed else f"conv{rank}d", [source], fields)

    def linear(self, source: str, weight: Shape, bias: bool) -> str:
        if len(weight) != 2:
            raise Unsupported(f"weight {list(weight)} is not a matrix")
        return self.add("linear", [source], {"out_features": weight[0], "bias": None if bias else False,
                                             "in_features": weight[1]})

    def pool(self, source: str, is_max: bool, rank: int, kernel: Any, stride: Any, padding: Any, dilation: Any,
             ceil_mode: bool, include_pad: bool) -> str:
        def per_axis(value: Any) -> list[int]:
            return [int(value)] * rank if isinstance(value, int) else [int(item) for item in value]

        kernels = per_axis(kernel)
        strides = per_axis(stride) if stride not in (None, [], ()) else kernels
        pairs = [(pad, pad) for pad in per_axis(padding)] if padding != "same" else []
        if padding == "same":
            return self.add(f"{'max' if is_max else 'avg'}pool{rank}d", [source], {
                "kernel_size": compact(kernels), "stride": compact(strides) if strides != kernels else None,
                "padding": "same", "ceil_mode": True if ceil_mode else None})

        def folds(extra: list[tuple[int, int]], value: float, mode: str) -> bool:
            total = [(b + pb, e + pe) for (b, e), (pb, pe) in zip(pairs, extra)]
            if ceil_mode or mode != "constant" or any(max(pair) > k // 2 for pair, k in zip(total, kernels)):
                return False
            return value == float("-inf") if is_max else (value == 0 and (include_pad or not any(pad for pad, _ in
                                                                                                  pairs)))

        folded = self.take_pad(source, folds)
        if folded is not None:
            source = folded[0]
            pairs = [(b + pb, e + pe) for (b, e), (pb, pe) in zip(pairs, folded[1])]
            include_pad = True
        dilations = per_axis(dilation)
        fields: dict[str, Any] = {"kernel_size": compact(kernels),
                                  "stride": compact(strides) if strides != kernels else None,
                                  "padding": padding_field(pairs)}
        if is_max:
            fields["dilation"] = compact(dilations) if set(dilations) != {1} else None
        fields["ceil_mode"] = True if ceil_mode else None
        if not is_max and fields["padding"] is not None and not include_pad:
            fields["count_include_pad"] = False
        return self.add(f"{'max' if is_max else 'avg'}pool{rank}d", [source], fields)

    def clamp(self, source: str, low: Any, high: Any) -> str:
        if low == 0 and high == 6:
            return self.add("relu6", [source], {})
        if low == 0 and high is None:
            return self.add("relu", [source], {})
        return self.add("identity", [source], {}, comment=f"clamp to [{low}, {high}]: no layer type; counted as an "
                                                           "identity (no parameters, no MACs)")

    def upsample(self, source: str, size: Any, scale_factor: Any, mode: str) -> str:
        rank = len(self.shape(source)) - 1
        if mode == "linear":
            mode = {1: "linear", 2: "bilinear", 3: "trilinear"}.get(rank, mode)
        if mode not in ("nearest", "linear", "bilinear", "bicubic", "trilinear"):
            raise Unsupported(f"mode '{mode}'", "nearest, linear, bilinear, bicubic, trilinear")
        fields: dict[str, Any] = {"mode": mode if mode != "nearest" else None}
        if size is not None:
            fields["size"] = compact([int(item) for item in size]) if not isinstance(size, int) else size
        else:
            fields["scale_factor"] = compact([float(item) for item in scale_factor]) \
                if isinstance(scale_factor, (tuple, list)) else float(scale_factor)
        return self.add("upsample", [source], fields)

    def pad(self, source: str, padding: tuple[int, ...], mode: str, value: float) -> str:
        """F.pad's (left, right, top, bottom, ...): the last axis first. A negative pair is a crop
        (nn.ZeroPad2d((0, -1, 0, -1))); padding the first axis of a sample (channels-last [H, W, C]:
        Swin) is done between two permutes, since cnncalc's pad leaves the first axis alone."""
        full = self.full(source)
        if len(padding) % 2 or len(padding) // 2 > len(full):
            raise Unsupported(f"padding {list(padding)} for {len(full)} axes")
        wanted: dict[int, tuple[int, int]] = {}  # full axis -> (begin, end)
        for position in range(len(padding) // 2):
            pair = (int(padding[2 * position]), int(padding[2 * position + 1]))
            if pair != (0, 0):
                wanted[len(full) - 1 - position] = pair
        crops = [(axis, -begin if begin < 0 else 0, end if end < 0 else None)
                 for axis, (begin, end) in sorted(wanted.items()) if min(begin, end) < 0]
        if crops:
            source = self.slices(source, crops)
        per_sample = [(0, 0)] * len(self.shape(source))
        for axis, (begin, end) in wanted.items():
            if max(begin, end) > 0:
                per_sample[self.axis(source, axis)] = (max(begin, 0), max(end, 0))
        if not any(begin or end for begin, end in per_sample):
            return source
        fields = {"mode": None if mode == "constant" else mode, "value": value if mode == "constant" and value
                  else None}
        if per_sample[0] == (0, 0):
            name = self.add("pad", [source], {"padding": padding_field(per_sample[1:]) or 0, **fields})
            self.pads[name] = (source, per_sample[1:], value, mode)
            return name
        free = next((axis for axis, pair in enumerate(per_sample) if pair == (0, 0)), None)
        if free is None or self.layout(source) != (0, False):
            raise Unsupported(f"padding {list(padding)} pads every axis of a sample", "cnncalc's pad leaves one alone")
        order = [free] + [axis for axis in range(len(per_sample)) if axis != free]
        moved = self.permute(source, order)
        padded = self.add("pad", [moved], {"padding": padding_field([per_sample[axis] for axis in order[1:]]),
                                           **fields})
        return self.permute(padded, [order.index(axis) for axis in range(len(order))])

    def permute(self, source: str, dims: list[int]) -> str:
        return self.add("permute", [source], {"dims": dims})
