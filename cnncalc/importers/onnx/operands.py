"""Operands of the transformer operators: constants as layers, binary operators of two tensors, and
tensors put back batch first.

A constant that meets a computed tensor (and is neither a scalar nor a per-channel weight, see
activations.py) becomes a layer of its own: a `parameter` when it is an initializer, or is computed
from initializers whose elements it holds all (cls_token expanded), else a `constant` (a buffer: a mask
computed from shapes). Each initializer's elements are counted once.
"""

from __future__ import annotations

import numpy as np
import onnx

from ...layers.base import product
from .base import _Base
from .layout import STANDARD
from .model import NodeWhere, Shape


def broadcast(first: Shape, second: Shape) -> Shape | None:
    """NumPy's broadcast of two shapes, or None."""
    try:
        return tuple(np.broadcast_shapes(first, second))
    except ValueError:
        return None


class _Operands(_Base):
    # -- constants as layers ---------------------------------------------------------------

    def origin(self, name: str) -> frozenset[str]:
        """The initializers a constant is computed from (itself for an initializer)."""
        if name in self.origins:
            return self.origins[name]
        return frozenset([name]) if name in self.initializer_names else frozenset()

    def initializer_size(self, name: str) -> int:
        return product(self.constant_shape(name, NodeWhere(None, (name, "initializer"), self.file)))

    def operand(self, name: str, partner: str, where: NodeWhere) -> str:
        """The spec name of input `name`: a computed tensor's layer, or a layer made for a constant,
        shaped to broadcast against the computed tensor `partner` as ONNX broadcasts it."""
        if name in self.values:
            return self.values[name]
        if name not in self.constants:
            raise where.fail(f"input '{name}' is made by no earlier node",
                             "is the file truncated, or its nodes out of order?")
        shape = self.constant_shape(name, where)
        full = self.full_shape(partner)
        layout = self.layout(partner)
        if len(shape) > len(full):
            raise where.fail(f"the constant '{name}' of shape {list(shape)} has more axes than the tensor "
                             f"{list(full)} it meets")
        aligned = (1,) * (len(full) - len(shape)) + tuple(shape)
        if not layout.folded:
            if aligned[layout.axis] != 1:
                raise where.fail(f"the constant '{name}' of shape {list(shape)} varies along the batch axis of "
                                 f"{list(full)}", "cnncalc's layers act on each sample")
            aligned = aligned[:layout.axis] + aligned[layout.axis + 1:]
        return self.constant_layer(name, aligned or (1,), where)

    def constant_layer(self, name: str, shape: Shape, where: NodeWhere, may_learn: bool = True) -> str:
        """A `parameter` (learned) or `constant` layer of per-sample `shape` for constant `name`, made once;
        indices (`may_learn` False) are always a constant: a buffer."""
        key = f"{name}\0{shape}"
        if key in self.materialized:
            return self.materialized[key]
        learned = sorted(self.origin(name) - self.claimed) if may_learn else []
        size = sum(self.initializer_size(origin) for origin in learned)
        label = name.split("/")[-1] or "constant"
        if learned and size == product(shape):
            self.claimed.update(learned)
            made = self.builder.add("parameter", label, [], {"shape": list(shape)}, where)
        else:
            comment = None
            if learned:
                comment = (f"computed from {', '.join(learned)} ({size:,} elements), whose parameters cnncalc "
                           "does not count here")
                self.notes.append(f"The constant '{name}' is {comment}.")
            made = self.builder.add("constant", label, [], {"shape": list(shape)}, where, comment)
        self.builder.layers[-1].pop("from", None)  # a parameter or constant takes no input
        self.materialized[key] = made
        return made

    def partner(self, node: onnx.NodeProto, where: NodeWhere) -> str:
        """The computed input of the node with the most axes (the one constants are shaped against)."""
        computed = [name for name in node.input if name in self.values]
        if not computed:
            self.data(node, 0, where)  # the error for an input no earlier node made
        return max(computed, key=lambda name: (len(self.full_shape(name)), len(self.shape(self.values[name]))))

    def check_broadcast(self, node: onnx.NodeProto, where: NodeWhere, name: str, expected: Shape | None) -> None:
        """The ONNX shape the spec's layer makes must be the operator's; else the layouts did not line up."""
        made = self.full_shape(node.output[0])
        if expected is not None and made != expected:
            self.values.pop(node.output[0], None)
            raise where.fail(f"the inputs' batch axes do not line up (cnncalc makes {list(made)}, the operator "
                             f"{list(expected)})", "cnncalc maps tensors whose batch axes broadcast together")

    def binary(self, node: onnx.NodeProto, index: int, kind: str, where: NodeWhere) -> None:
        """Add, Sub, Mul, Div with a non-scalar constant or two tensors: one layer of `kind`."""
        partner = self.partner(node, where)
        sources = [self.operand(name, partner, where) for name in node.input[:2]]
        shapes = [self.full_shape(name) if name in self.values else self.constant_shape(name, where)
                  for name in node.input[:2]]
        expected = broadcast(shapes[0], shapes[1])
        self.emit(node, index, kind, sources, {}, where)
        self.set_layout(node.output[0], self.layout(partner))
        self.check_broadcast(node, where, node.output[0], expected)

    def standardize(self, names: list[str], where: NodeWhere) -> None:
        """Tensors whose first ONNX axis is as long as the batch get the batch there, first and apart (a
        free reshape when cnncalc's shape changes): at batch 1 a moved or folded batch cannot be told
        from it, and operators (and the graph's outputs) then see the layout every other mapping knows."""
        for name in dict.fromkeys(names):
            if name not in self.values or self.layout(name) == STANDARD:
                continue
            full = self.full_shape(name)
            if full[0] != self.batch or len(full) < 2:
                continue
            shape = full[1:]
            source = self.values[name]
            if shape != self.shape(source):
                label = f"{source}.batch_first"
                kind, fields = ("flatten", {}) if len(shape) == 1 else ("reshape", {"shape": list(shape)})
                source = self.builder.add(kind, label, [source], fields, where,
                                          "the batch moved back to the first axis: a view, no cost")
                self.values[name] = source
            self.set_layout(name, STANDARD)
