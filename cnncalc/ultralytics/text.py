"""A converted Ultralytics model written as cnncalc spec text: one block per few
lines, one Ultralytics layer per line."""

from __future__ import annotations

from typing import Any

from ..importers.emit import scalar

_ENTRY_FIRST = ("type", "name", "from")


def entry(item: dict[str, Any]) -> str:
    ordered = {key: item[key] for key in _ENTRY_FIRST if key in item}
    ordered.update((key, value) for key, value in item.items() if key not in _ENTRY_FIRST)
    return scalar(ordered)


def spec_text(spec: dict[str, Any], header: str) -> str:
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    for key in ("cnncalc", "name", "params", "input"):
        lines.append(f"{key}: {scalar(spec[key])}")
    lines.append("blocks:")
    for name, block in spec["blocks"].items():
        lines.append(f"  {name}:")
        for key in ("params", "inputs"):
            if key in block:
                lines.append(f"    {key}: {scalar(dict(block[key]) if key == 'params' else list(block[key]))}")
        lines.append("    layers:")
        lines.extend(f"      - {entry(layer)}" for layer in block["layers"])
    lines.append("layers:")
    lines.extend(f"  - {entry(layer)}" for layer in spec["layers"])
    if "outputs" in spec:
        lines.append(f"outputs: {scalar(spec['outputs'])}")
    return "\n".join(lines) + "\n"
