"""Shape operators: Concat, Reshape, Flatten, Squeeze / Unsqueeze, Transpose, Slice, Split, DepthToSpace,
and the pass-through Identity, Cast, Dropout."""

from __future__ import annotations

import onnx

from ...layers.base import product
from .base import _Base
from .attributes import read_attributes
from .layout import STANDARD, Layout, moved, per_sample, spec_axis, whole_shape
from .model import NodeWhere


class _Shapes(_Base):
    def concat(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        computed = next((name for name in node.input if name in self.values), None)
        if computed is None:
            self.data(node, 0, where)  # the error for an input no earlier node made
        assert computed is not None
        sources = [self.operand(name, computed, where) for name in node.input]
        dim = self.axis(computed, int(read_attributes(node, where)["axis"]), where)
        self.emit(node, index, "concat", sources, {"dim": dim if dim else None}, where)
        self.set_layout(node.output[0], self.layout(computed))

    # -- reshaping ----------------------------------------------------------------------------

    def reshaped(self, node: onnx.NodeProto, index: int, where: NodeWhere, source: str, full: list[int],
                 layout: Layout | None = None) -> None:
        """A new ONNX shape: none when it changes nothing, flatten when flat, else reshape. Without a
        `layout`, the batch is first and apart when the first size is the batch, else folded into it."""
        if layout is None:
            found = per_sample(tuple(full), self.batch)
            if found is None:
                raise where.fail(f"the new shape {full} does not keep the batch ({self.batch}) first",
                                 "cnncalc's layers reshape each sample")
            shape, layout = found
        else:
            shape = tuple(size for axis, size in enumerate(full) if layout.folded or axis != layout.axis)
            if layout.folded:
                shape = (*shape[:layout.axis], shape[layout.axis] // self.batch, *shape[layout.axis + 1:])
        if product(shape) != product(self.shape(source)):
            raise where.fail(f"cannot reshape {list(self.full_shape(node.input[0]))} to {full}")
        if shape == self.shape(source):
            self.alias(node, source)
        elif not shape:
            raise where.fail(f"the new shape {full} leaves no axis per sample")
        elif len(shape) == 1:
            self.emit(node, index, "flatten", [source], {}, where)
        else:
            self.emit(node, index, "reshape", [source], {"shape": list(shape)}, where)
        self.set_layout(node.output[0], layout)

    def reshape(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        full = list(self.full_shape(node.input[0]))
        target = self.ints(node.input[1], where)
        if not read_attributes(node, where).get("allowzero", 0):
            target = [full[axis] if size == 0 and axis < len(full) else size for axis, size in enumerate(target)]
        if target.count(-1) == 1:
            known = product(tuple(size for size in target if size != -1))
            target[target.index(-1)] = product(tuple(full)) // max(known, 1)
        layout: Layout | None = self.layout(node.input[0])
        assert layout is not None
        if target[:layout.axis + 1] != full[:layout.axis + 1] or layout == STANDARD \
                or (layout.axis < 0 and target[:1] == [self.batch]):
            layout = None  # the batch is no longer where it was: first, or folded into the first axis
        self.reshaped(node, index, where, source, target, layout)

    def flatten(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        full = self.full_shape(node.input[0])
        axis = int(read_attributes(node, where).get("axis", 1)) % (len(full) + 1)
        self.reshaped(node, index, where, source, [product(full[:axis]), product(full[axis:])])

    def squeeze(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        full = self.full_shape(node.input[0])
        layout = self.layout(node.input[0])
        attrs = read_attributes(node, where)
        axes_name = self.optional_input(node, 1)
        axes = attrs.get("axes") or (self.ints(axes_name, where) if axes_name else None)
        if node.op_type == "Squeeze":
            drop = {axis % len(full) for axis in axes} if axes else {a for a, size in enumerate(full) if size == 1}
            kept = [axis for axis in range(len(full)) if axis not in drop]
            new = [full[axis] for axis in kept]
            self.reshaped(node, index, where, source, new, moved(layout, kept))
            return
        rank = len(full) + len(axes or [])
        inserted = sorted(axis % rank for axis in axes or [])
        positions = [axis for axis in range(rank) if axis not in inserted]  # where each old axis goes
        new = [1] * rank
        for old, position in enumerate(positions):
            new[position] = full[old]
        self.reshaped(node, index, where, source, new,
                      layout if layout.axis < 0 else Layout(positions[layout.axis], layout.folded))

    def transpose(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        rank = len(self.full_shape(node.input[0]))
        layout = self.layout(node.input[0])
        perm = [int(p) for p in read_attributes(node, where).get("perm", list(reversed(range(rank))))]
        if sorted(axis % rank if -rank <= axis < rank else rank for axis in perm) != list(range(rank)):
            raise where.fail(f"perm {perm} does not order {rank} axes", "the axes 0 to rank - 1, each once")
        perm = [axis % rank for axis in perm]
        mapped = [spec_axis(layout, axis) for axis in perm]
        dims = [dim for dim in mapped if dim is not None]  # the batch's own axis has none
        if dims == sorted(dims):
            self.alias(node, source)
        else:
            self.emit(node, index, "permute", [source], {"dims": dims}, where)
        self.set_layout(node.output[0], moved(layout, perm) or layout)

    def slice_axis(self, node: onnx.NodeProto, index: int, where: NodeWhere, source: str, axis: int, start: int,
                   end: int | None, suffix: str, output: int = 0, step: int = 1) -> str:
        """One axis (batch = 0) of a Slice or Split as a cnncalc slice; the whole axis is no layer."""
        full = whole_shape(self.shape(source), self.layout(node.input[0]), self.batch)
        if step == 0:
            raise where.fail("a slice with a step of 0", "the step of an ONNX Slice is never 0")
        begin, stop, _ = slice(start, end, step).indices(full[axis])
        if step != 1:
            return self.strided(node, index, where, source, axis, begin, stop, step, suffix)
        if begin == 0 and stop == full[axis]:
            return source
        dim = self.axis(node.input[0], axis, where)
        return self.emit(node, index, "slice", [source], {"dim": dim if dim else None, "start": begin or None,
                                                          "end": stop if stop != full[axis] else None},
                         where, output=None, suffix=suffix)

    def strided(self, node: onnx.NodeProto, index: int, where: NodeWhere, source: str, axis: int, begin: int,
                stop: int, step: int, suffix: str) -> str:
        """Every step-th element from begin < step to the end of an axis step divides (Swin's patch merging,
        x[:, 0::2]): the axis split into [size / step, step] and one index of the second kept; two views.
        Any other positive step picks elements by index (picked)."""
        size = whole_shape(self.shape(source), self.layout(node.input[0]), self.batch)[axis]
        count = len(range(begin, stop, step))
        if step < 1 or count < 1:
            raise where.fail(f"a slice from {begin} to {stop} with a step of {step} has no layer type",
                             "cnncalc maps slices with a positive step that keep an element")
        dim = self.axis(node.input[0], axis, where)
        if not 0 <= begin < step or stop != size or size % step:
            return self.picked(node, index, where, source, dim, count, output=None, suffix=suffix)
        shape = list(self.shape(source))
        split = shape[:dim] + [size // step, step] + shape[dim + 1:]
        grouped = self.emit(node, index, "reshape", [source], {"shape": split}, where, output=None,
                            suffix=f"{suffix}.groups")
        return self.emit(node, index, "select", [grouped], {"dim": dim + 1, "index": begin}, where, output=None,
                         suffix=suffix)

    def slice(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        attrs = read_attributes(node, where)
        rank = len(self.full_shape(node.input[0]))
        if self.opset < 10:
            starts, ends = list(attrs["starts"]), list(attrs["ends"])
            axes = list(attrs.get("axes", range(len(starts))))
            steps = [1] * len(starts)
        else:
            starts, ends = self.ints(node.input[1], where), self.ints(node.input[2], where)
            axes_name, steps_name = self.optional_input(node, 3), self.optional_input(node, 4)
            axes = self.ints(axes_name, where) if axes_name else list(range(len(starts)))
            steps = self.ints(steps_name, where) if steps_name else [1] * len(starts)
        for position, (start, end, axis, step) in enumerate(zip(starts, ends, axes, steps)):
            suffix = f".{position}" if len(starts) > 1 else ""
            source = self.slice_axis(node, index, where, source, int(axis) % rank, int(start), int(end), suffix,
                                     step=int(step))
        self.alias(node, source)

    def split(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        attrs = read_attributes(node, where)
        full = self.full_shape(node.input[0])
        axis = int(attrs.get("axis", 0)) % len(full)
        sizes_name = self.optional_input(node, 1)
        if "split" in attrs:
            sizes = [int(size) for size in attrs["split"]]
        elif sizes_name:
            sizes = self.ints(sizes_name, where)
        else:
            parts = int(attrs.get("num_outputs", len(node.output)))
            chunk = -(-full[axis] // parts)
            sizes = [min(chunk, full[axis] - chunk * part) for part in range(parts)]
        if sum(sizes) != full[axis]:
            raise where.fail(f"split sizes {sizes} do not add up to the axis' {full[axis]}")
        start = 0
        for position, (output, size) in enumerate(zip(node.output, sizes)):
            if output and (output in self.consumers or output in self.graph_outputs):
                self.values[output] = self.slice_axis(node, index, where, source, axis, start, start + size,
                                                      f".{position}")
                self.set_layout(output, self.layout(node.input[0]))
            start += size

    def depth_to_space(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        self.emit(node, index, "pixel_shuffle", [source],
                  {"upscale_factor": int(read_attributes(node, where)["blocksize"])}, where)

    def passthrough(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        """Identity and Cast change nothing cnncalc counts; Dropout is kept as a (free) dropout layer."""
        source = self.data(node, 0, where)
        if node.op_type == "Dropout":
            if len(node.output) > 1 and node.output[1] in self.consumers:
                raise where.fail("the dropout mask is used", "cnncalc counts the dropout's output")
            self.emit(node, index, "dropout", [source], {}, where)
        else:
            self.alias(node, source)
