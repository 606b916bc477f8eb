"""`cnncalc explain BLOCK` for Ultralytics' modules: the shipped block (blocks.yaml, attention.yaml) as
cnncalc reads it, or, for the modules written for a count (C2f, the heads, ...), how
cnncalc writes them and an example."""

from __future__ import annotations

from typing import Any

import yaml

from . import READERS, shipped_blocks
from .generated import INNER, c2f_block
from .plain import PLAIN

# Modules written for the model's counts: what they become.
WRITTEN = {
    "C2f": "C2f", "C3k2": "bottleneck", "C2fPSA": "psa", "C2fCIB": "cib",
}
PER_FILE = ("A2C2f", "HGBlock", "ResNetLayer", "CBFuse", "Detect", "Segment", "Pose", "OBB", "v10Detect",
            "Segment26", "Pose26", "OBB26", "RTDETRDecoder", "SemanticSegment", "Depth", "TorchVision")


def describe(name: str) -> str | None:
    """The explanation of an Ultralytics module or block named `name`, None if there is none."""
    blocks = shipped_blocks()
    if name in blocks:
        return _block(name, blocks[name], "shipped with cnncalc in cnncalc/ultralytics/")
    if name in WRITTEN:
        inner = WRITTEN[name]
        example_name, example = c2f_block(name, 2, "" if inner == "C2f" else inner)
        return _block(example_name, example, f"written by cnncalc for the repeat count n a file gives {name} "
                      f"(here n = 2; inner blocks: {', '.join(k for k in INNER)})")
    if name in PER_FILE:
        return (f"{name}\n{'=' * len(name)}\n\nUltralytics module, written by cnncalc for each file: its layer list "
                "depends on the file's counts (repeats, feature levels, classes).\n"
                "`cnncalc import model.yaml` prints the block a file gets; docs/ultralytics.md describes it.")
    if name in PLAIN:
        return f"{name}\n{'=' * len(name)}\n\nUltralytics row read as one cnncalc layer; see docs/ultralytics.md."
    return None


def names() -> list[str]:
    """Every name `describe` explains."""
    return [*shipped_blocks(), *(name for name in READERS if name not in shipped_blocks())]


def _block(name: str, block: dict[str, Any], origin: str) -> str:
    lines = [name, "=" * len(name), "", str(block.get("description", "")), "",
             f"Ultralytics block, {origin}.", "", "Params (block defaults):"]
    lines += [f"  {key}: {_flow(value)}" for key, value in block.get("params", {}).items()] or ["  none"]
    if "inputs" in block:
        lines += ["", f"Inputs: {', '.join(block['inputs'])}"]
    lines += ["", "Layers:"]
    lines += [f"  - {_flow(layer)}" for layer in block["layers"]]
    return "\n".join(lines)


def _flow(value: Any) -> str:
    text = yaml.safe_dump(_plain(value), default_flow_style=True, sort_keys=False, width=10_000)
    return text.removesuffix("...\n").strip()  # a lone scalar is dumped as a document ending in "..."


def _plain(value: Any) -> Any:
    """The YAML reader's marked maps and lists as plain ones, which yaml.safe_dump writes."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
