"""Resize / Upsample and Pad: the operators that change the spatial sizes without weights."""

from __future__ import annotations

from typing import Any

import onnx

from ..common import compact, padding_field
from .base import _Base
from .attributes import read_attributes
from .layout import STANDARD
from .model import NodeWhere, PadRecord


class _Resizing(_Base):
    def resize(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        attrs = read_attributes(node, where)
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
        attrs = read_attributes(node, where)
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
                if len(pads) != 2 * len(axes):
                    raise where.fail(f"pads has {len(pads)} entries for {len(axes)} axes", f"give {2 * len(axes)}")
                expanded = [0] * (2 * rank)
                for position, axis in enumerate(axes):
                    expanded[axis], expanded[axis + rank] = pads[position], pads[position + len(axes)]
                pads = expanded
        if len(pads) != 2 * rank:
            raise where.fail(f"pads has {len(pads)} entries for {rank} axes")
        if min(pads) < 0:
            raise where.fail(f"negative pads {pads} (cropping) have no layer type", "cnncalc pads with zeros or more")
        if (pads[1] or pads[1 + rank]) and not (pads[0] or pads[rank]) and not (pads[rank - 1] or pads[-1]) \
                and rank >= 3 and self.layout(node.input[0]) == STANDARD:
            self.pad_channels_last(node, index, where, source, pads, attrs)
            return
        if any(pads[axis] or pads[axis + rank] for axis in (0, 1)):
            raise where.fail(f"pads {pads} pad the batch or the channels", "cnncalc pads the spatial axes")
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

    def pad_channels_last(self, node: onnx.NodeProto, index: int, where: NodeWhere, source: str, pads: list[int],
                          attrs: dict[str, Any]) -> None:
        """Padding of [N, H, W, C] (Swin's windows, F.pad(x, (0, 0, 0, r, 0, b))): the channels moved first,
        the spatial axes padded, the channels moved back; the moves are copies without arithmetic."""
        if attrs.get("mode", "constant") != "constant":
            raise where.fail(f"pads {pads} in mode '{attrs.get('mode')}' of a channels-last tensor",
                             "cnncalc pads channels-last tensors with a constant")
        rank = len(pads) // 2
        comment = "a channels-last tensor padded: channels moved first, padded, moved back"
        moved = self.emit(node, index, "permute", [source], {"dims": [rank - 2, *range(rank - 2)]}, where,
                          output=None, suffix=".channels_first", comment=comment)
        pairs = [(pads[axis], pads[axis + rank]) for axis in range(1, rank - 1)]
        padded = self.emit(node, index, "pad", [moved], {"padding": padding_field(pairs)}, where, output=None)
        self.emit(node, index, "permute", [padded], {"dims": [*range(1, rank - 1), 0]}, where,
                  suffix=".channels_last")
