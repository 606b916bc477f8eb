"""An imported spec written as YAML a person can read and edit.

One layer per line in flow style, `from:` only where the graph branches (a layer
whose input is not the entry before it), `outputs:` only when the network does not
end at its last entry, strings quoted only where YAML needs it. The text is meant to
be the model from now on, so it reads like a hand-written spec:

    # Imported from yolov4-tiny.cfg (Darknet) by cnncalc 0.1.0, 2025-01-01 12:00 UTC.
    name: yolov4-tiny
    input: {shape: [3, 416, 416], batch: 1}
    layers:
      - {type: conv2d, name: conv_0, out_channels: 32, kernel_size: 3, stride: 2, padding: 1, bias: false}
      - {type: batchnorm2d, name: bn_0}
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

# A plain scalar that YAML reads back as this same string: a name-like word that is
# not a number, a boolean or null. Everything else is double-quoted (JSON's escapes
# are YAML's).
_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./+-]*")
_NOT_PLAIN = re.compile(r"(?i:true|false|null|~|\.inf|\.nan|yes|no|on|off|y|n)|[-+]?(\.[0-9]|[0-9]).*")
_ENTRY_KEYS = ("type", "name", "from")
_TOP_LEVEL = ("cnncalc", "name", "description", "params", "dtype", "blocks", "budgets")


def scalar(value: Any) -> str:
    """One value in YAML flow style."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)  # 0.1, 1e-05, 1.0: read back as the same float
    if isinstance(value, str):
        if _PLAIN.fullmatch(value) and not _NOT_PLAIN.fullmatch(value):
            return value
        return json.dumps(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{scalar(str(key))}: {scalar(item)}" for key, item in value.items()) + "}"
    if isinstance(value, Sequence):
        return "[" + ", ".join(scalar(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} {value!r} in a spec")


def _inputs(spec: Mapping[str, Any]) -> dict[str, Any]:
    if "inputs" in spec:
        return dict(spec["inputs"])
    return {"input": spec["input"]}


def spec_text(spec: Mapping[str, Any], header: str) -> str:
    """The spec as YAML text, `header` as a comment at the top (one `#` line per line)."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    for key in _TOP_LEVEL:
        if key == "blocks" and spec.get(key):
            lines.extend(_blocks(spec[key]))
        elif key in spec:
            lines.append(f"{key}: {scalar(spec[key])}")
    inputs = _inputs(spec)
    layers: list[Mapping[str, Any]] = list(spec["layers"])
    names = {str(layer.get("name")) for layer in layers}
    rename: dict[str, str] = {}
    if len(inputs) == 1 and "input" not in names:  # the only input reads best as `input:`
        only, value = next(iter(inputs.items()))
        rename[only] = "input"
        lines.append(f"input: {scalar(value)}")
        previous: str | None = "input"
    else:
        lines.append("inputs:")
        lines.extend(f"  {scalar(name)}: {scalar(value)}" for name, value in inputs.items())
        previous = None
    lines.append("layers:")
    for layer in layers:
        comment = layer.get("#")
        if comment:
            lines.extend(f"  # {text}".rstrip() for text in str(comment).splitlines())
        lines.append(f"  - {_entry(layer, previous, rename)}")
        previous = str(layer.get("name")) if "name" in layer else None
    outputs = [rename.get(name, name) for name in spec.get("outputs") or []]
    if outputs and outputs != [previous]:
        lines.append(f"outputs: {scalar(outputs)}")
    return "\n".join(lines) + "\n"


def _blocks(blocks: Mapping[str, Any]) -> list[str]:
    """`blocks:` with each block's params and inputs on a line, then one layer per line."""
    lines = ["blocks:"]
    for name, block in blocks.items():
        lines.append(f"  {scalar(str(name))}:")
        lines.extend(f"    {key}: {scalar(block[key])}" for key in ("description", "params", "inputs") if key in block)
        lines.append("    layers:")
        lines.extend(f"      - {_entry(layer, None, {})}" for layer in block["layers"])
    return lines


def _entry(layer: Mapping[str, Any], previous: str | None, rename: dict[str, str]) -> str:
    """`{type: ..., name: ..., from: ..., fields...}`, without a `from` that says "the entry before"."""
    items: dict[str, Any] = {key: layer[key] for key in _ENTRY_KEYS if key in layer}
    items.update((key, value) for key, value in layer.items() if key not in _ENTRY_KEYS and key != "#")
    source = items.get("from")
    if isinstance(source, str):
        source = rename.get(source, source)
    elif isinstance(source, Sequence):
        source = [rename.get(item, item) if isinstance(item, str) else item for item in source]
        if len(source) == 1:
            source = source[0]
    if source is None or (previous is not None and source == previous):
        items.pop("from", None)
    else:
        items["from"] = source
    return scalar(items)
