"""Two analyses compared: totals side by side, and layers matched by name. Works on the
documented JSON form of a report, so a baseline stored by CI (`analyze --format json`)
and a spec analysed now compare alike."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SpecError
from .reportjson import TOTALS, read_report

LAYER_FIELDS = ("type", "output_shape", "params", "macs", "flops")
# Each total of the JSON report under the name a budget gives it (`budgets:`, `--budget`).
TOTAL_NAMES = {"params": "params", "buffers": "buffers", "macs": "macs", "flops": "flops",
               "weights_bytes": "weights", "activation_bytes": "activations",
               "peak_activation_bytes": "peak_activations", "training_bytes": "training"}
BYTE_TOTALS = frozenset({"weights", "activations", "peak_activations", "training"})
# What `--fail-above 5%` limits: what a model's size and cost are. Buffers (batchnorm running
# statistics), the sum of all activations and the training estimate only when named.
GATED_BY_DEFAULT = ("params", "macs", "flops", "weights", "peak_activations")


@dataclass(frozen=True)
class TotalChange:
    key: str
    base: int
    head: int

    @property
    def delta(self) -> int:
        return self.head - self.base

    @property
    def percent(self) -> float | None:
        return self.delta / self.base * 100 if self.base else (None if self.delta else 0.0)


@dataclass(frozen=True)
class LayerChange:
    name: str
    change: str  # "added", "removed" or "changed"
    base: dict[str, Any] | None
    head: dict[str, Any] | None
    fields: tuple[str, ...]  # what changed


@dataclass(frozen=True)
class Diff:
    base_label: str
    head_label: str
    totals: tuple[TotalChange, ...]
    layers: tuple[LayerChange, ...]
    convention: str


def load_analysis(source: Path, analyze_options: dict[str, Any]) -> dict[str, Any]:
    """A report in its JSON form: read from a `.json` file, or analysed from a spec."""
    if source.suffix == ".json":
        return read_report(source)
    import cnncalc

    from .render.formats import report_json

    return report_json(cnncalc.analyze(source, **analyze_options))


def compare(base: dict[str, Any], head: dict[str, Any], base_label: str, head_label: str,
            allow_convention_change: bool = False) -> Diff:
    """Totals and per-layer changes; refuses reports counted differently unless allowed."""
    for key in ("convention", "inputs"):
        if base.get(key) != head.get(key) and not allow_convention_change:
            raise SpecError(f"{base_label} and {head_label} differ in {key}: {base.get(key)} vs {head.get(key)}",
                            hint="compare like with like, or pass --allow-convention-change")
    totals = tuple(TotalChange(TOTAL_NAMES[key], int(base["totals"].get(key, 0)), int(head["totals"].get(key, 0)))
                   for key in TOTALS)
    before = {layer["name"]: layer for layer in base["layers"]}
    after = {layer["name"]: layer for layer in head["layers"]}
    changes = []
    for name, layer in after.items():
        if name not in before:
            changes.append(LayerChange(name, "added", None, layer, ()))
            continue
        differing = tuple(key for key in LAYER_FIELDS if before[name].get(key) != layer.get(key))
        if differing:
            changes.append(LayerChange(name, "changed", before[name], layer, differing))
    changes += [LayerChange(name, "removed", layer, None, ()) for name, layer in before.items() if name not in after]
    return Diff(base_label, head_label, totals, tuple(changes), str(head["convention"].get("flops")))


def parse_threshold(text: str) -> tuple[str | None, float]:
    """`5%` (every total) or `flops=2%` -> (total or None, percent)."""
    key, sep, value = text.rpartition("=")
    name = key.strip() if sep else None
    name = TOTAL_NAMES.get(name, name) if name is not None else None  # weights_bytes still means weights
    if name is not None and name not in TOTAL_NAMES.values():
        raise SpecError(f"--fail-above {text}: no total '{name}'", hint=f"totals: {', '.join(TOTAL_NAMES.values())}")
    try:
        percent = float(value.strip().removesuffix("%"))
    except ValueError:
        raise SpecError(f"--fail-above {text}: '{value}' is not a percentage", hint="write 5% or flops=2%") from None
    if not math.isfinite(percent) or percent < 0:  # nan would never fail, inf never either
        raise SpecError(f"--fail-above {text}: '{value}' is not a finite percentage >= 0", hint="write 5% or flops=2%")
    return name, percent


def growth_failures(diff: Diff, thresholds: list[tuple[str | None, float]]) -> list[tuple[TotalChange, float]]:
    """Totals that grew more than their threshold: a total named alone has its own limit; the
    general one applies to GATED_BY_DEFAULT (params, MACs, FLOPs, weights, peak activations)."""
    named = {key: limit for key, limit in thresholds if key is not None}
    general = [limit for key, limit in thresholds if key is None]
    failures = []
    for change in diff.totals:
        limit = named.get(change.key, general[-1] if general and change.key in GATED_BY_DEFAULT else None)
        if limit is None or change.delta <= 0:
            continue
        if change.percent is None or change.percent > limit:
            failures.append((change, limit))
    return failures
