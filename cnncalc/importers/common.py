"""What the ONNX and PyTorch importers share: field formatting and the folds they both do
on the layers a SpecBuilder has collected (a constant per-channel add that is the bias
of the layer before, a zero pad that is a convolution's own padding)."""

from __future__ import annotations

from typing import Any

from ..layers.base import product
from .builder import SpecBuilder

Shape = tuple[int, ...]
Pairs = list[tuple[int, int]]

# Types whose `bias: false` a constant per-channel add right after them turns on.
BIASED = ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "linear",
          "scale")


def compact(values: Any) -> Any:
    """One number when every axis has the same, as specs are usually written; a list otherwise."""
    if isinstance(values, (int, float)):
        return values
    items = list(values)
    return items[0] if len(set(items)) == 1 else items


def padding_field(pairs: Pairs) -> Any:
    """A spec `padding`: None for none, n, [n, ...], or [[begin, end], ...] when uneven."""
    if all(begin == 0 and end == 0 for begin, end in pairs):
        return None
    if all(begin == end for begin, end in pairs):
        return compact([int(begin) for begin, _ in pairs])
    return [[int(begin), int(end)] for begin, end in pairs]


def entry(builder: SpecBuilder, name: str) -> dict[str, Any] | None:
    """The layer (a dict of the spec) named `name`, or None for an input."""
    for layer in reversed(builder.layers):
        if layer["name"] == name:
            found: dict[str, Any] = layer
            return found
    return None


def drop(builder: SpecBuilder, layer: dict[str, Any]) -> None:
    """Remove a layer that a later one took over (its name stays taken)."""
    for position, candidate in enumerate(builder.layers):
        if candidate is layer:
            del builder.layers[position]
            return


def channel_axis(builder: SpecBuilder, source: str) -> int:
    """The axis (batch = 0) a per-channel constant runs along: the features of a linear layer, else channels."""
    producer = entry(builder, source)
    if producer is not None and producer["type"] == "linear":
        return len(builder.shape(source))
    return 1


def is_scalar(shape: Shape) -> bool:
    return product(shape) == 1


def is_per_channel(builder: SpecBuilder, source: str, constant: Shape, batch: int) -> bool:
    """A constant that broadcasts over a tensor along its channels only (C, 1, 1 against C, H, W)."""
    full = (batch, *builder.shape(source))
    if len(constant) > len(full):
        return False
    aligned = (1,) * (len(full) - len(constant)) + tuple(constant)
    axis = channel_axis(builder, source)
    return all(size == (full[position] if position == axis else 1) for position, size in enumerate(aligned))


def fold_bias(builder: SpecBuilder, source: str) -> bool:
    """Turn on the bias of the layer making `source` (it must have none, and this add must be its only
    reader: the caller checks that); True when done."""
    producer = entry(builder, source)
    if producer is None or producer["type"] not in BIASED:
        return False
    if producer.get("bias", producer["type"] != "scale"):  # a scale has none unless it says so
        return False
    if producer["type"] == "scale":
        producer["bias"] = True
    else:
        del producer["bias"]  # the default: a bias
    return True
