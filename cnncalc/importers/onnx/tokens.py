"""The operators of transformers: MatMul of two tensors, Gather, reductions, F.normalize, Einsum, Expand,
Tile and elementwise math.

A Gather of rows of an initializer by constant indices (a relative-position bias table read by its
index buffer) is an `embedding` of the index buffer, so the table's elements are its parameters, as in
PyTorch.
"""

from __future__ import annotations

from typing import Any

import onnx

from .attributes import read_attributes
from .layout import NO_BATCH, STANDARD, Layout, moved
from .model import NodeWhere
from .operands import _Operands, broadcast

UNARY = {"Sqrt": "sqrt", "Exp": "exp", "Log": "log", "Abs": "abs", "Neg": "neg", "Reciprocal": "reciprocal",
         "Sin": "sin", "Cos": "cos", "Erf": "erf"}
REDUCTIONS = {"ReduceMean": "mean", "ReduceSum": "sum", "ReduceMax": "max", "ReduceMin": "min"}


class _Tokens(_Operands):
    # -- matrix products ----------------------------------------------------------------------

    def matmul(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        first, second = node.input[0], node.input[1]
        if first in self.constants and second in self.constants:  # a table computed in forward (Swin V2)
            self.constant_operand(first, where)
        if first in self.values and second in self.constants and len(self.constant_shape(second, where)) == 2 \
                and not (self.origin(second) & self.claimed):
            weight = self.constant_shape(second, where)
            self.claimed.update(self.origin(second))
            self.linear(node, index, where, self.data(node, 0, where), weight[0], weight[1], False)
            return
        partner = self.partner(node, where)
        sources = [self.operand(name, partner, where) for name in (first, second)]
        shapes = [self.full_shape(name) if name in self.values else self.constant_shape(name, where)
                  for name in (first, second)]
        if min(len(shape) for shape in shapes) < 2:
            raise where.fail(f"MatMul of {list(shapes[0])} and {list(shapes[1])}: a vector operand has no layer type",
                             "cnncalc's matmul multiplies matrices")
        leading = broadcast(shapes[0][:-2], shapes[1][:-2])
        expected = None if leading is None else (*leading, shapes[0][-2], shapes[1][-1])
        fields: dict[str, Any] = {}
        transposed = self.swapped_last(second, sources[1])
        if transposed is not None:
            sources[1], fields["transpose_b"] = transposed, True
        self.emit(node, index, "matmul", sources, fields, where)
        self.set_layout(node.output[0], self.layout(partner))
        self.check_broadcast(node, where, node.output[0], expected)

    def swapped_last(self, tensor: str, source: str) -> str | None:
        """What a permute swapping the last two axes (k^T), read only by this MatMul, permuted; the
        permute is dropped: matmul's transpose_b multiplies by the transpose without a copy."""
        layer = self.entry(source)
        if layer is None or layer["type"] != "permute" or self.single_consumer(tensor) is None:
            return None
        dims = list(layer["dims"])
        rank = len(dims)
        if rank < 2 or dims != [*range(rank - 2), rank - 1, rank - 2] or not isinstance(layer["from"], str):
            return None
        self.drop(layer)
        return str(layer["from"])

    def constant_operand(self, name: str, where: NodeWhere) -> None:
        """A constant that a layer with weights reads as its input (Swin V2's relative coordinates into its
        position MLP): a `constant` layer (a buffer), with no batch axis."""
        self.values[name] = self.constant_layer(name, self.constant_shape(name, where), where, False)
        self.set_layout(name, NO_BATCH)

    def gemm_of_tensors(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        """Gemm whose B is computed: a matmul (alpha, beta and C's add are not counted as MACs)."""
        attrs = read_attributes(node, where)
        if attrs.get("transA", 0) or attrs.get("transB", 0) or self.optional_input(node, 2):
            raise where.fail("Gemm of two computed tensors with a transpose or a C input has no layer type",
                             "cnncalc maps A @ B as a matmul")
        self.matmul(node, index, where)

    # -- indexing, reducing, reshaping ------------------------------------------------------------

    def gather(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        data, indices = node.input[0], node.input[1]
        axis = int(read_attributes(node, where).get("axis", 0))
        if data in self.constants:
            self.embedding(node, index, where)
            return
        source = self.data(node, 0, where)
        full = self.full_shape(data)
        rank = len(full)
        if not -rank <= axis < rank:
            raise where.fail(f"axis {axis} is out of range for {rank} axes")
        axis %= rank
        if indices not in self.constants:
            raise where.fail("Gather with computed indices has no layer type",
                             "cnncalc maps indices that are constants (x[:, 0], a slice)")
        picked = [item + full[axis] if item < 0 else item for item in self.ints(indices, where)]
        dim = self.axis(data, axis, where)
        if len(self.constant_shape(indices, where)) == 0:
            self.emit(node, index, "select", [source], {"dim": dim or None, "index": picked[0]}, where)
            kept = [other for other in range(rank) if other != axis]
            self.set_layout(node.output[0], moved(self.layout(data), kept) or STANDARD)
            return
        if len(self.constant_shape(indices, where)) != 1:
            raise where.fail(f"Gather by indices of shape {list(self.constant_shape(indices, where))}: no layer type",
                             "cnncalc maps one index (select) or a list of them")
        if picked and picked != list(range(picked[0], picked[0] + len(picked))):
            self.picked(node, index, where, source, dim, len(picked))
            return
        self.emit(node, index, "slice", [source], {"dim": dim or None, "start": picked[0] or None,
                                                   "end": picked[-1] + 1 if picked[-1] + 1 != full[axis] else None},
                  where)

    def embedding(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        """Gather of rows of a learned table: an embedding of the indices (a buffer if they are constant)."""
        table, indices = node.input[0], node.input[1]
        shape = self.constant_shape(table, where)
        axis = int(read_attributes(node, where).get("axis", 0)) % max(len(shape), 1)
        if len(shape) != 2:
            raise where.fail(f"Gather from the constant '{table}' of shape {list(shape)}: no layer type",
                             "cnncalc maps rows or columns of a matrix looked up by index (an embedding)")
        if indices in self.values:
            source = self.values[indices]
        else:
            source = self.constant_layer(indices, self.constant_shape(indices, where) or (1,), where, False)
        self.claimed.update(self.origin(table))
        rows, width = (shape[0], shape[1]) if axis == 0 else (shape[1], shape[0])
        looked_up = self.emit(node, index, "embedding", [source], {"num_embeddings": rows, "embedding_dim": width},
                              where, output=None if axis else 0)
        if axis:  # columns (LeViT's and EfficientFormer's attention biases[:, idxs]): the width moves first
            rank = len(self.shape(looked_up))
            self.emit(node, index, "permute", [looked_up], {"dims": [rank - 1, *range(rank - 1)]}, where,
                      suffix=".columns")
        self.set_layout(node.output[0], self.layout(indices) if indices in self.values else NO_BATCH)

    def reduction(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        """ReduceMean/Sum/Max/Min over any axes but the batch's; over every spatial axis of [N, C, ...]
        it stays global pooling."""
        source = self.data(node, 0, where)
        attrs = read_attributes(node, where)
        full = self.full_shape(node.input[0])
        rank = len(full)
        axes_name = self.optional_input(node, 1)
        axes = [int(axis) for axis in attrs["axes"]] if "axes" in attrs else (
            self.ints(axes_name, where) if axes_name else list(range(rank)))
        if any(not -rank <= axis < rank for axis in axes):
            raise where.fail(f"axes {axes} are out of range for {rank} axes")
        axes = sorted({axis % rank for axis in axes})
        keep = bool(attrs.get("keepdims", 1))
        layout = self.layout(node.input[0])
        if node.op_type in ("ReduceMean", "ReduceMax") and layout == STANDARD and rank > 2 \
                and axes == list(range(2, rank)):
            self.reduce(node, index, where)  # global pooling, as vision backbones end
            return
        dims = [self.axis(node.input[0], axis, where) for axis in axes]
        self.emit(node, index, REDUCTIONS[node.op_type], [source],
                  {"dim": dims if len(dims) > 1 else dims[0], "keepdim": True if keep else None}, where)
        kept = list(range(rank)) if keep else [axis for axis in range(rank) if axis not in axes]
        self.set_layout(node.output[0], moved(layout, kept) or STANDARD)

    def l2_normalize(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        """F.normalize as exporters write it: x / expand(clip(ReduceL2(x, [axis], keepdims), eps)), one
        `normalize` (p = 2); the Clip and the Expand may be missing."""
        attrs = read_attributes(node, where)
        axes_name = self.optional_input(node, 1)
        axes = [int(axis) for axis in attrs["axes"]] if "axes" in attrs else (
            self.ints(axes_name, where) if axes_name else [])
        chain: list[int] = []
        current = node
        for op_type in ("Clip", "Expand", "Div"):  # the clip and the expand are optional
            found = self.single_consumer(current.output[0])
            if found is not None and self.graph.node[found].op_type == op_type:
                chain.append(found)
                current = self.graph.node[found]
        if len(axes) != 1 or not attrs.get("keepdims", 1) or current.op_type != "Div" \
                or list(current.input) != [node.input[0], self.graph.node[chain[-2]].output[0] if len(chain) > 1
                                           else node.output[0]]:
            self.l2_norm(node, index, where, axes, bool(attrs.get("keepdims", 1)))
            return
        dim = self.axis(node.input[0], axes[0], where)
        name = self.emit(node, index, "normalize", [self.data(node, 0, where)], {"dim": dim or None}, where)
        self.absorbed.update(chain)
        self.values[current.output[0]] = name
        self.set_layout(current.output[0], self.layout(node.input[0]))

    def l2_norm(self, node: onnx.NodeProto, index: int, where: NodeWhere, axes: list[int], keep: bool) -> None:
        """ReduceL2 on its own (ConvNeXt V2's global response norm, torch.norm): the square root of the
        sum of squares over the axes, three layers."""
        rank = len(self.full_shape(node.input[0]))
        if any(not -rank <= axis < rank for axis in axes):
            raise where.fail(f"axes {axes} are out of range for {rank} axes")
        axes = sorted({axis % rank for axis in axes}) or list(range(rank))
        dims = [self.axis(node.input[0], axis, where) for axis in axes]
        squared = self.emit(node, index, "square", [self.data(node, 0, where)], {}, where, output=None,
                            suffix=".square")
        summed = self.emit(node, index, "sum", [squared], {"dim": dims if len(dims) > 1 else dims[0],
                                                           "keepdim": True if keep else None}, where,
                           output=None, suffix=".sum")
        self.emit(node, index, "sqrt", [summed], {}, where)
        kept = list(range(rank)) if keep else [axis for axis in range(rank) if axis not in axes]
        self.set_layout(node.output[0], moved(self.layout(node.input[0]), kept) or STANDARD)

    def einsum(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        """Einsum over the per-sample axes: the batch's letter is dropped from each operand and the output."""
        equation = str(read_attributes(node, where).get("equation", "")).replace(" ", "")
        if "->" not in equation or "." in equation:
            raise where.fail(f"Einsum '{equation}' without an explicit output, or with '...': no layer type",
                             "cnncalc maps equations like 'bhqd,bhkd->bhqk'")
        partner = self.partner(node, where)
        layout = self.layout(partner)
        left, right = equation.split("->")
        operands = left.split(",")
        if len(operands) != len(node.input):
            raise where.fail(f"Einsum '{equation}' has {len(operands)} operands for {len(node.input)} inputs")
        letter = operands[list(node.input).index(partner)][layout.axis] \
            if not layout.folded and layout.axis >= 0 else ""
        sources = []
        for name, letters in zip(node.input, operands):
            if name in self.values and self.layout(name) != layout:
                raise where.fail("Einsum of tensors whose batch axes differ has no layer type")
            sources.append(self.operand(name, partner, where) if name in self.values else
                           self.constant_layer(name, self.constant_shape(name, where), where))
        if letter and (letter not in right or any(letter not in letters for name, letters in zip(node.input, operands)
                                                  if name in self.values)):
            raise where.fail(f"Einsum '{equation}' sums over the batch axis", "cnncalc's layers act on each sample")
        spec = ",".join(letters.replace(letter, "") if letter and name in self.values else letters
                        for name, letters in zip(node.input, operands)) + "->" + (right.replace(letter, "")
                                                                                 if letter else right)
        self.emit(node, index, "einsum", sources, {"equation": spec}, where)
        self.set_layout(node.output[0], Layout(right.index(letter), False) if letter else layout)

    def expand(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        full = self.full_shape(node.input[0])
        target = [int(size) for size in self.ints(node.input[1], where)]
        expected = broadcast(full, tuple(target))
        if expected is None:
            raise where.fail(f"cannot expand {list(full)} to {target}")
        if expected == full:
            self.alias(node, source)
            return
        layout = self.layout(node.input[0])
        extra = len(expected) - len(full)
        shifted = Layout(layout.axis + extra, layout.folded)
        shape = [size for axis, size in enumerate(expected) if shifted.folded or axis != shifted.axis]
        self.emit(node, index, "expand", [source], {"shape": shape}, where)
        self.set_layout(node.output[0], shifted)
        self.check_broadcast(node, where, node.output[0], expected)

    def tile(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        """Tile of axes of size 1 (GCViT's global query repeated for each window): an expand. Repeating
        the batch axis at batch 1 folds the copies into it."""
        source = self.data(node, 0, where)
        full = self.full_shape(node.input[0])
        repeats = [int(repeat) for repeat in self.ints(node.input[1], where)]
        layout = self.layout(node.input[0])
        if len(repeats) != len(full) or any(repeat < 1 or (repeat > 1 and size != 1)
                                            for size, repeat in zip(full, repeats)):
            raise where.fail(f"Tile of {list(full)} by {repeats}: no layer type",
                             "cnncalc maps repeats of axes of size 1 (an expand)")
        target = [size * repeat for size, repeat in zip(full, repeats)]
        if layout.axis >= 0 and repeats[layout.axis] > 1:
            if self.batch != 1 or layout.folded:
                raise where.fail(f"Tile repeats the batch axis of {list(full)}",
                                 "cnncalc folds copies into the batch of a graph exported at batch 1")
            layout = NO_BATCH
        shape = [size for axis, size in enumerate(target) if layout.folded or layout.axis < 0 or axis != layout.axis]
        if shape == list(self.shape(source)):
            self.alias(node, source)
            return
        self.emit(node, index, "expand", [source], {"shape": shape}, where)
        self.set_layout(node.output[0], layout)

    # -- elementwise functions ------------------------------------------------------------------------

    def unary(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        self.emit(node, index, UNARY[node.op_type], [source], {}, where)

    def power(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        source = self.data(node, 0, where)
        exponent = self.scalar_constant(node.input[1], where)
        if exponent is None:
            raise where.fail("Pow with a computed or non-scalar exponent has no layer type",
                             "cnncalc maps x ** c for one constant c")
        self.emit(node, index, "pow", [source], {"exponent": exponent}, where)

    def where_select(self, node: onnx.NodeProto, index: int, where: NodeWhere) -> None:
        """Where(condition, a, b) with a constant condition (an attention mask): the computed operand,
        masked; choosing elements counts nothing."""
        computed = [name for name in node.input[1:] if name in self.values]
        if node.input[0] in self.values or len(computed) != 1:
            raise where.fail("Where with a computed condition, or choosing between two computed tensors, "
                             "has no layer type", "cnncalc maps a constant mask applied to one tensor")
        self.values[node.output[0]] = self.values[computed[0]]
        self.set_layout(node.output[0], self.layout(computed[0]))
