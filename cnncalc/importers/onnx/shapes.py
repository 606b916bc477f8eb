"""Shape operators: Concat, Reshape, Flatten, Squeeze / Unsqueeze, Transpose, Slice, Split, DepthToSpace,
and the pass-through Identity, Cast, Dropout."""

from __future__ import annotations

import onnx

from ...layers.base import product
from .base import _Base
from .attributes import read_attributes
from .model import NodeWhere


class _Shapes(_Base):
    def concat(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        sources = [self.data(node, position, where) for position in range(len(node.input))]
        rank = len(self.shape(sources[0])) + 1
        dim = self.rank_axis(int(read_attributes(node, where)["axis"]), rank, where)
        self.emit(node, index, "concat", sources, {"dim": dim if dim else None}, where)

    # -- reshaping ----------------------------------------------------------------------------

    def reshaped(self, node: onnx.NodeProto, index: int, where: NodeWhere, source: str, full: list[int]) -> None:
        """A new shape (batch first): none when it changes nothing, flatten when flat, else reshape."""
        if not full or full[0] != self.batch:
            raise where.fail(f"the new shape {full} does not keep the batch ({self.batch}) first",
                             "cnncalc's layers reshape each sample")
        shape = tuple(full[1:])
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

    def reshape(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        full = list(self.full_shape(node.input[0]))
        target = self.ints(node.input[1], where)
        if not read_attributes(node, where).get("allowzero", 0):
            target = [full[axis] if size == 0 and axis < len(full) else size for axis, size in enumerate(target)]
        if target.count(-1) == 1:
            known = product(tuple(size for size in target if size != -1))
            target[target.index(-1)] = product(tuple(full)) // max(known, 1)
        self.reshaped(node, index, where, source, target)

    def flatten(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        full = self.full_shape(node.input[0])
        axis = int(read_attributes(node, where).get("axis", 1)) % (len(full) + 1)
        self.reshaped(node, index, where, source, [product(full[:axis]), product(full[axis:])])

    def squeeze(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        full = self.full_shape(node.input[0])
        attrs = read_attributes(node, where)
        axes_name = self.optional_input(node, 1)
        axes = attrs.get("axes") or (self.ints(axes_name, where) if axes_name else None)
        if node.op_type == "Squeeze":
            drop = {axis % len(full) for axis in axes} if axes else {a for a, size in enumerate(full) if size == 1}
            new = [size for axis, size in enumerate(full) if axis not in drop]
        else:
            rank = len(full) + len(axes or [])
            new = list(full)
            for axis in sorted(axis % rank for axis in axes or []):
                new.insert(axis, 1)
        self.reshaped(node, index, where, source, new)

    def transpose(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        rank = len(self.shape(source)) + 1
        perm = [int(p) for p in read_attributes(node, where).get("perm", list(reversed(range(rank))))]
        if sorted(axis % rank if -rank <= axis < rank else rank for axis in perm) != list(range(rank)):
            raise where.fail(f"perm {perm} does not order {rank} axes", "the axes 0 to rank - 1, each once")
        perm = [axis % rank for axis in perm]
        if perm[0] != 0:
            raise where.fail(f"perm {perm} moves the batch axis", "cnncalc permutes the axes of each sample")
        if perm == list(range(rank)):
            self.alias(node, source)
            return
        self.emit(node, index, "permute", [source], {"dims": [p - 1 for p in perm[1:]]}, where)

    def slice_axis(self, node: onnx.NodeProto, index: int, where: NodeWhere, source: str, axis: int, start: int,
                   end: int | None, suffix: str, output: int = 0) -> str:
        """One axis (batch = 0) of a Slice or Split as a cnncalc slice; the whole axis is no layer."""
        full = (self.batch, *self.shape(source))
        begin, stop, step = slice(start, end).indices(full[axis])
        if step != 1:
            raise where.fail("a slice with a step has no layer type", "cnncalc's slice takes every element")
        if begin == 0 and stop == full[axis]:
            return source
        dim = self.rank_axis(axis, len(full), where)
        return self.emit(node, index, "slice", [source], {"dim": dim if dim else None, "start": begin or None,
                                                          "end": stop if stop != full[axis] else None},
                         where, output=None, suffix=suffix)

    def slice(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        attrs = read_attributes(node, where)
        rank = len(self.shape(source)) + 1
        if self.opset < 10:
            starts, ends = list(attrs["starts"]), list(attrs["ends"])
            axes = list(attrs.get("axes", range(len(starts))))
            steps = [1] * len(starts)
        else:
            starts, ends = self.ints(node.input[1], where), self.ints(node.input[2], where)
            axes_name, steps_name = self.optional_input(node, 3), self.optional_input(node, 4)
            axes = self.ints(axes_name, where) if axes_name else list(range(len(starts)))
            steps = self.ints(steps_name, where) if steps_name else [1] * len(starts)
        if any(step != 1 for step in steps):
            raise where.fail(f"steps {steps}: a slice with a step has no layer type",
                             "cnncalc's slice takes every element")
        for position, (start, end, axis) in enumerate(zip(starts, ends, axes)):
            suffix = f".{position}" if len(starts) > 1 else ""
            source = self.slice_axis(node, index, where, source, int(axis) % rank, int(start), int(end), suffix)
        self.alias(node, source)

    def split(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        attrs = read_attributes(node, where)
        full = (self.batch, *self.shape(source))
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
