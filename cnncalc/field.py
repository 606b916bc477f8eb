"""Receptive fields: per spatial axis, the size, jump and start of what an output
position sees of the input, step by step through the layers."""

from __future__ import annotations

from .graph import Field, Tensor
from .layers import NO_FIELD, POINTWISE, Window
from .limits import COUNT_LIMIT


def receptive_field(kind: Window | str, inputs: list[Tensor], arity: str) -> Field:
    """Per spatial axis (size, jump, start) after a layer, from its input's.

    jump_out = jump_in * s; size_out = size_in + d*(k-1)*jump_in;
    start_out = start_in + (d*(k-1)/2 - p_begin) * jump_in. A merge takes the largest field,
    on each axis: an output sees what every one of its inputs sees. A step past COUNT_LIMIT
    input positions, which no real input has, leaves no field (and no float overflow).
    """
    if kind == NO_FIELD:
        return None
    if kind == POINTWISE:
        if arity == "many" and len(inputs) > 1:
            fields = [tensor.field for tensor in inputs]
            if any(item is None for item in fields):
                return None
            if len({len(item) for item in fields}) == 1:  # type: ignore[arg-type]
                return tuple(max(axes, key=lambda axis: axis[0]) for axes in zip(*fields))
            return max(fields, key=lambda item: [axis[0] for axis in item])  # type: ignore[union-attr]
        return inputs[0].field
    assert isinstance(kind, Window)
    previous = inputs[0].field
    if previous is None or len(previous) != len(kind.kernel):
        return None
    steps = list(zip(previous, kind.kernel, kind.stride, kind.dilation, kind.pad_begin))
    if any(max(d * (k - 1), s, p) * jump > COUNT_LIMIT for (_, jump, _), k, s, d, p in steps):
        return None
    return tuple((size + d * (k - 1) * jump, jump * s, start + (d * (k - 1) / 2 - p) * jump)
                 for (size, jump, start), k, s, d, p in steps)


def input_field(shape: tuple[int, ...]) -> Field:
    """An input position sees itself: size 1, jump 1, centred on pixel 0."""
    return tuple((1, 1, 0.0) for _ in shape[1:]) or None
