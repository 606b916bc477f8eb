"""Tensors that do not depend on the inputs, as spec layers: a parameter read by a function
(a class token, a position embedding, a one-element scale) becomes a `parameter` layer, a
buffer or a tensor made in forward a `constant` layer.

Each parameter is counted once, in the layer of its first use. A tensor computed from
parameters without the inputs (a relative-position bias gathered from its table, a class
token expanded) is shown as its parameters' layer cut to one element and expanded to the
shape it is used at: views, which count nothing, so that parameters stay exact.
"""

from __future__ import annotations

from typing import Any

from .builders import LayerBuilders
from .converter import Shape, Unsupported
from .trace import Const, Ref


class LearnedTensors(LayerBuilders):
    def operand(self, value: Any, against: str | None = None) -> str:
        """The spec name of a tensor operand: a computed tensor's, or a layer made for a constant.

        A constant broadcasts against `against` (a computed tensor) as PyTorch broadcasts: its
        axis that lines up with the batch axis is dropped (it is 1, or the batch when expanded)."""
        if isinstance(value, Ref):
            return self.value(value)
        if not isinstance(value, Const):
            raise Unsupported(f"an operand is {value!r}, not a tensor")
        shape = self.constant_shape(value, against)
        if not value.learned:
            return self.add("constant", [], {"shape": list(shape) or [1]},
                            comment=f"a fixed tensor{self._named(value)}: a buffer, not learned")
        return self.learned(value, shape)

    @staticmethod
    def _named(value: Const) -> str:
        return f" ({', '.join(value.origin)})" if value.origin else ""

    def constant_shape(self, value: Const, against: str | None) -> Shape:
        shape = tuple(value.shape)
        if against is None:
            return shape
        full = self.full(against)
        batch_axis, folded = self.layout(against)
        at = batch_axis - (len(full) - len(shape))  # the constant's axis aligned with the batch axis
        if at < 0:
            return shape
        size = shape[at]
        if folded:
            if size not in (1, full[batch_axis]):
                return shape
            return (*shape[:at], 1 if size == 1 else full[batch_axis] // self.batch, *shape[at + 1:])
        if size not in (1, self.batch):
            raise Unsupported(f"a constant of shape {list(shape)} has {size} on the batch axis",
                              "cnncalc's layers act on each sample")
        return (*shape[:at], *shape[at + 1:])

    def learned(self, value: Const, shape: Shape) -> str:
        """A `parameter` layer for a tensor made of parameters, each parameter counted once."""
        count = 1
        for size in shape:
            count *= size
        origin = [name for name in value.origin if name in self.parameters_known]
        if len(origin) == 1 and origin[0] not in self.parameter_layers and \
                self.parameters_known[origin[0]][0] == count:
            name = self.add("parameter", [], {"shape": list(shape) or [1]},
                            comment=f"the learned tensor {origin[0]}")
            self.parameter_layers[origin[0]] = name
            return name
        if len(origin) == 1 and self.builder.shapes.get(self.parameter_layers.get(origin[0], "")) == shape:
            return self.parameter_layers[origin[0]]
        firsts = []
        for parameter in origin:
            if parameter in self.parameter_layers and self.parameter_layers[parameter] not in self.builder.shapes:
                continue  # counted by a scale layer already
            if parameter not in self.parameter_layers:
                self.parameter_layers[parameter] = self.add(
                    "parameter", [], {"shape": list(self.parameters_known[parameter][1])},
                    comment=f"the learned tensor {parameter}")
            firsts.append(self.parameter_layers[parameter])
        if not firsts:
            firsts = [self.add("constant", [], {"shape": [1]}, comment="its parameters are counted elsewhere")]
        source = firsts[0]
        one = self.slices_to_one(source)
        return self.add("expand", [one], {"shape": list(shape) or [1]},
                        comment=f"computed from {', '.join(origin)} without the inputs: a view of it here")

    def slices_to_one(self, source: str) -> str:
        """`source` cut to one element and reshaped to [1]: a view of it, no count."""
        shape = self.shape(source)
        for axis, size in enumerate(shape):
            if size > 1:
                source = self.add("slice", [source], {"dim": axis or None, "end": 1})
        return source if self.shape(source) == (1,) else self.add("reshape", [source], {"shape": [1]})
