"""Constant nodes, evaluated: Constant, Shape and Size, and the operators of fold.py, within a budget.

A result is computed only when its shape (foldsize.py, known before NumPy allocates) has at most
FOLD_ELEMENT_LIMIT elements; a larger one, or one computed from numbers cnncalc does not have
(external data), is kept as its shape (`Unread`), and only a node that needs its numbers fails.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import onnx

from ...layers.base import product
from .attributes import Attributes, read_attributes
from .base import _Base
from .fold import FOLDERS, FoldError, fold
from .foldsize import checked, result_shape
from .model import NodeWhere
from .tensors import BUDGET_HINT, FOLD_ELEMENT_LIMIT, TensorError, Unread, tensor_numbers


class _Folding(_Base):
    def foldable(self, node: onnx.NodeProto) -> bool:
        if node.op_type == "Constant":
            return True
        if node.op_type == "Gather" and node.input and self.learned_table(node.input[0]):
            return False  # rows of a learned table: an embedding (tokens.py), whose table is counted
        inputs = [name for name in node.input if name]
        if node.op_type in ("Shape", "Size"):
            return all(name in self.constants or name in self.values for name in inputs)
        return node.op_type in FOLDERS and all(name in self.constants for name in inputs)

    def fold(self, node: onnx.NodeProto, where: NodeWhere) -> None:
        attrs = read_attributes(node, where)
        if not node.output:
            raise where.fail("the node has no output")
        if node.op_type == "Constant":
            self.constants[node.output[0]] = self.constant_attribute(attrs, where)
            return
        if node.op_type in ("Shape", "Size"):
            if not node.input:
                raise where.fail("the node has no input")
            shape = self.full_shape(node.input[0]) if node.input[0] in self.values else \
                self.constant_shape(node.input[0], where)
            if node.op_type == "Size":
                self.constants[node.output[0]] = np.array(product(shape), dtype=np.int64)
            else:
                start, end = attrs.get("start", 0), attrs.get("end")
                self.constants[node.output[0]] = np.array(shape[slice(start, end)], dtype=np.int64)
            return
        inputs = [self.constant_input(name, where) if name else None for name in node.input]
        try:
            results = self.evaluate(node, inputs, attrs, where)
        except FoldError as error:
            raise where.fail(f"cannot compute this constant: {error}") from None
        origins = frozenset().union(*(self.origins.get(name, frozenset([name]) if name in self.initializer_names
                                                       else frozenset()) for name in node.input if name))
        for name, result in zip(node.output, results):
            self.constants[name] = result
            if origins:
                self.origins[name] = origins

    def learned_table(self, name: str) -> bool:
        """A constant matrix of floats computed from initializers: a table of learned rows."""
        if name not in self.constants or not (name in self.initializer_names or self.origins.get(name)):
            return False
        found = self.constants[name]
        if isinstance(found, onnx.TensorProto):
            return len(found.dims) == 2 and found.data_type in (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16,
                                                                onnx.TensorProto.BFLOAT16, onnx.TensorProto.DOUBLE)
        return isinstance(found, np.ndarray) and found.ndim == 2 and found.dtype.kind == "f"

    def evaluate(self, node: onnx.NodeProto, inputs: list[Any], attrs: Attributes, where: NodeWhere) -> list[Any]:
        """The node's results: arrays, or `Unread` shapes when past the budget or computed from unread numbers."""
        if node.op_type == "ConstantOfShape" and isinstance(attrs.get("value"), onnx.TensorProto):
            attrs = Attributes({**attrs, "value": self.fill_value(attrs["value"], where)}, where)
        shape = result_shape(node.op_type, inputs, attrs)
        unread = next((item for item in inputs if isinstance(item, Unread)), None)
        if unread is not None:
            if shape is None:  # the result's shape needs numbers cnncalc does not have
                raise self.unread(unread, where)
            return [Unread(checked(shape), unread.problem, unread.hint, unread.origin)]
        if shape is not None and math.prod(checked(shape)) > FOLD_ELEMENT_LIMIT:
            return [Unread(shape, f"its result would have {math.prod(shape):,} elements "
                                  f"({'x'.join(map(str, shape))}), more than the {FOLD_ELEMENT_LIMIT:,} cnncalc "
                                  "computes", BUDGET_HINT, where.layer)]
        return fold(node.op_type, inputs, attrs, self.opset)

    def fill_value(self, tensor: onnx.TensorProto, where: NodeWhere) -> Any:
        """ConstantOfShape's `value`: one number, checked (never read from another file)."""
        try:
            found = tensor_numbers(tensor, "the attribute 'value'")
        except TensorError as error:
            raise where.fail(error.problem, error.hint) from None
        if isinstance(found, Unread):
            raise where.fail(found.problem, found.hint)
        if found.dtype.kind not in "biuf":
            raise where.fail("the attribute 'value' holds strings, not a number", "ConstantOfShape fills with one number")
        if found.size != 1:
            raise where.fail(f"the attribute 'value' holds {found.size:,} numbers", "ConstantOfShape fills with one number")
        return found
