"""What the importers share: the text formats' checks of characters and guesses at typos;
the ONNX and PyTorch importers' field formatting and the folds they both do on the layers
a SpecBuilder has collected (a constant per-channel add that is the bias of the layer
before, a zero pad that is a convolution's own padding)."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from ..errors import Mark, SpecError
from ..layers.base import product
from .builder import SpecBuilder

# Characters no model file needs and a terminal acts on when an error quotes them: C0 and C1
# controls but tab and newline, a carriage return that does not end a line, the line and
# paragraph separators, and the bidirectional controls that reorder what a terminal shows.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
                      "|\r(?!\n)")
GUESS_LIMIT = 100  # characters of a misspelt name worth a "did you mean": difflib is slow on long strings


def mark_at(text: str, offset: int, filename: str) -> Mark:
    """The line and column (from 1) of `offset` in `text`."""
    line_start = text.rfind("\n", 0, offset) + 1
    return Mark(filename, text.count("\n", 0, offset) + 1, offset - line_start + 1)


def printable_text(text: str, filename: str, hint: str) -> str:
    """`text` without a leading byte-order mark, or an error at its first control character."""
    text = text.removeprefix("\ufeff")
    found = _CONTROL.search(text)
    if found is not None:
        char = found[0]
        kinds = {"Zl": "line separator", "Zp": "paragraph separator", "Cf": "bidirectional control"}
        what = "carriage return not followed by a newline" if char == "\r" else \
            f"{kinds.get(unicodedata.category(char), 'control character')} U+{ord(char):04X}"
        raise SpecError(f"{what} in the file", mark=mark_at(text, found.start(), filename), hint=hint)
    return text


def brief(text: str) -> str:
    """A long literal shortened for a message."""
    return text if len(text) <= 30 else f"{text[:12]}...{text[-4:]} ({len(text):,} characters)"


def guess(word: str, known: Iterable[str]) -> str:
    """ "did you mean 'x'? " for a near miss of one of `known`, else ""."""
    if len(word) > GUESS_LIMIT:
        return ""
    close = difflib.get_close_matches(word, list(known), n=1)
    return f"did you mean '{close[0]}'? " if close else ""


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
    """Remove a layer that a later one took over (its name stays taken). Searched from the end, where
    the layer taken over is, so that 20,000 folds stay linear."""
    for position in range(len(builder.layers) - 1, -1, -1):
        if builder.layers[position] is layer:
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
