"""Two analyses compared: totals side by side, and layers matched by name. Works on the
documented JSON form of a report, so a baseline stored by CI (`analyze --format json`)
and a spec analysed now compare alike."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import SpecError
from .reportjson import TOTALS, read_report

if TYPE_CHECKING:
    from .fps import Compute
    from .report import Report

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
class FpsChange:
    """Frames per second of both sides on one chip (`diff --chip`): `fps` is the compute-bound
    ideal (peak x utilization / ops per frame), `fps (roofline)` the per-layer roofline's,
    given when the chip's bandwidth is known; None where a stored report cannot give it."""

    key: str
    base: float | None
    head: float | None

    @property
    def delta(self) -> float | None:
        return self.head - self.base if self.base is not None and self.head is not None else None

    @property
    def percent(self) -> float | None:
        return self.delta / self.base * 100 if self.delta is not None and self.base else None


@dataclass(frozen=True)
class OnChip:
    """What `diff --chip` adds: the chip as named, both sides' fps, and the verdict on --fps."""

    chip: str  # the Compute's label: chip id, "(2:4 sparse)" when so
    precision: str
    utilization: float
    fps: tuple[FpsChange, ...]
    target_fps: float | None
    base_passed: bool | None
    head_passed: bool | None


@dataclass(frozen=True)
class Diff:
    base_label: str
    head_label: str
    totals: tuple[TotalChange, ...]
    layers: tuple[LayerChange, ...]
    convention: str
    on_chip: OnChip | None = None


def load_analysis(source: Path, analyze_options: dict[str, Any]) -> dict[str, Any]:
    """A report in its JSON form: read from a `.json` file, or analysed from a spec."""
    return load_sides(source, analyze_options)[0]


def load_sides(source: Path, analyze_options: dict[str, Any]) -> tuple[dict[str, Any], Report]:
    """A report in its JSON form, and as a Report (rebuilt from the JSON of a stored one)."""
    from .render.formats import report_json

    if source.suffix == ".json":
        data = read_report(source)
        return data, report_from_json(data, str(source))
    import cnncalc

    report = cnncalc.analyze(source, **analyze_options)
    return report_json(report), report


def report_from_json(data: dict[str, Any], source: str) -> Report:
    """A stored report (as read_report keeps it) as the Report that fps.on_chip reads: its
    totals, inputs, batch and per-layer sources, shapes, params, MACs and views. What a stored
    report does not keep (receptive fields, blocks, the walked graph) is left empty."""
    from .graph import Graph
    from .report import Assumptions, LayerRow, Report, Totals

    convention = data["convention"]
    batch = convention.get("batch") or 1
    inputs = {name: tuple(shape) for name, shape in data["inputs"].items()}
    layers = tuple(LayerRow(layer["name"], layer["type"], tuple(layer.get("from", ())), tuple(layer["output_shape"]),
                            layer["params"], layer.get("buffers", 0), layer["macs"], layer["flops"],
                            layer.get("activation_bytes", 0), None, (), (), bool(layer.get("view", False)))
                   for layer in data["layers"])
    totals = data["totals"]
    assumptions = Assumptions(convention["flops"], convention.get("dtype", "float32"),
                              convention.get("bytes_per_element", 4), batch, convention.get("optimizer", "adam"))
    graph = Graph(source, source, inputs, batch, assumptions.dtype, (), {}, None)
    return Report(source, source, assumptions, inputs, layers,
                  Totals(totals["params"], totals["buffers"], totals["macs"], totals["flops"],
                         totals["weights_bytes"], totals["activation_bytes"], totals["peak_activation_bytes"], "",
                         totals["training_bytes"]), {}, graph)


def with_fps(diff: Diff, base: Report, head: Report, compute: Compute, target_fps: float | None = None,
             utilization: float = 1.0) -> Diff:
    """The diff with both sides' fps on `compute` (fps.on_chip on each side). The roofline
    needs every layer's sources: a stored report without them gives no roofline fps."""
    from .fps import on_chip

    (base_answer, base_lines), (head_answer, head_lines) = (
        on_chip(report, compute, target_fps, utilization) for report in (base, head))
    changes = [FpsChange("fps", base_answer.fps, head_answer.fps)]
    if compute.bandwidth is not None:
        changes.append(FpsChange("fps (roofline)", _roofline_fps(base, base_lines), _roofline_fps(head, head_lines)))
    chip = OnChip(compute.label, compute.precision, utilization, tuple(changes), target_fps,
                  base_answer.passed, head_answer.passed)
    return replace(diff, on_chip=chip)


def _roofline_fps(report: Report, lines: Any) -> float | None:
    """A layer of a stored report with no `from` (an older or hand-written one) would count no
    input traffic: no roofline then, rather than a fast wrong one."""
    if lines is None or any(not row.inputs for row in report.layers if not row.view and row.macs):
        return None
    return float(lines.fps)


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
