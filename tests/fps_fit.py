"""Fit the calibrated fps estimate on the published measurements, cross-validate it and
report its accuracy.

    python tests/fps_fit.py            # writes cnncalc/data/fps-fit.json and docs/fps-accuracy.md
    python tests/fps_fit.py --check    # exit 1 when either file differs from what the fit gives

The measurements (tests/data/fps/fps-measured.jsonl, described in fps-measured.md beside
it) are public figures: vendor model zoos, MLPerf results, benchmark READMEs. Each row has a
cnncalc spec of the measured network under tests/data/fps/fps-specs/.

The fit minimises the squared log error, ln(predicted / measured)^2, with a Nelder-Mead
search over the logarithms of the parameters (pure Python, deterministic), and the tile
over a small grid. Cross-validation leaves out one network family at a time (all YOLOv8
sizes, all ResNets, ...), fits on the rest and predicts the family left out: that is how
the estimate is used, on networks it was not fitted on. The range a chip ships with is the
5th-95th percentile of those out-of-family errors (widened to hold the estimate itself);
the report's range coverage checks the shipped ranges against the same errors, so the
percentiles (not the parameters) are in-sample there.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import cnncalc
from cnncalc.chips import load_chips
from cnncalc.estimate import FIT_FILE, Parameters, Workload, family_of, seconds_per_frame, workload
from cnncalc.fusion import fuse

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "fps"
REPORT = ROOT / "docs" / "fps-accuracy.md"
TILES = (16, 32, 64)
MIN_OWN_ROWS = 3  # fewer measurements: the chip borrows its family's efficiency
LOW, HIGH = 0.05, 0.95  # a nominal 90 % interval: with few rows per chip it holds about 80 %
# Network families for cross-validation: the first pattern that matches the row's `model`.
NETWORK_FAMILIES = (("YOLOv8", "YOLOv8"), ("YOLOv7", "YOLOv7"), ("YOLOv5", "YOLOv5"), ("YOLOv4", "YOLOv4"),
                    ("EfficientNet", "EfficientNet-Lite"), ("MobileNet", "MobileNet v2"), ("RegNet", "RegNetX"),
                    ("ResNeXt", "ResNeXt"), ("ResNet", "ResNet"), ("Inception v1", "GoogLeNet"),
                    ("Inception", "Inception v4 / Inception-ResNet"), ("DenseNet", "DenseNet"))
# What each chip family fits besides its chips' efficiencies; the rest is in BASE.
FREE = {
    "hailo": ("tile", "depthwise", "kernel_seconds", "switch_seconds", "capacity_weights", "capacity_kernels"),
    "coral": ("tile", "depthwise", "kernel_seconds", "link_bytes_per_s"),
    "rknn": ("tile", "depthwise", "kernel_seconds"),
    "nvidia": ("kernel_seconds", "memory_efficiency"),  # caches and DLA SRAM beat the DRAM roofline
    "tidl": ("memory_efficiency",),  # 5 rows of 2 networks: on-chip memory beats the 17 GB/s DRAM
}
# Fixed where a family does not fit them: TI's MMA multiplies 64 x 64 8-bit values a cycle
# (SPRY344, "4K 8-bit MACs"); tensor cores take 32 channels of int8 at once; a kernel on
# TIDL costs what one costs on the other families with a bandwidth term (Jetson).
BASE = {"tile": 32.0, "kernel_seconds": 1e-5}
PER_CHIP = ("capacity_weights", "capacity_kernels")  # fitted per chip, not per family
# Published: the Edge TPU caches about 8 MB of parameters on chip (coral.ai/docs/edgetpu/compiler).
FIXED = {"coral": {"on_chip_bytes": 8e6}, "tidl": {"tile": 64.0}}
START = {"efficiency": 0.3, "memory_efficiency": 1.0, "depthwise": 16.0, "kernel_seconds": 1e-5,
         "switch_seconds": 5e-3, "capacity_weights": 2e7,
         "capacity_kernels": 150.0, "link_bytes_per_s": 3e8}


@dataclass(frozen=True)
class Row:
    id: str
    chip: str
    chip_family: str
    network_family: str
    network: str
    work: Workload
    peak: float
    bandwidth: float | None
    measured: float  # fps


def network_family(model: str) -> str:
    return next(family for prefix, family in NETWORK_FAMILIES if model.startswith(prefix))


def load_rows() -> list[Row]:
    chips = load_chips()
    works: dict[str, Workload] = {}
    rows = []
    for line in (DATA / "fps-measured.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["spec"] not in works:
            report = cnncalc.analyze(DATA / record["spec"])
            works[record["spec"]] = workload(report, fuse(report))
        chip = chips[record["chip_id"]]
        work = replace(works[record["spec"]], batch=record["batch"] or 1)
        # A row measured with 2:4-sparse weights is predicted as `--sparse` would: at the sparse peak.
        sparse = "sparse" in record["variant"]
        peak = (chip.sparse_peaks if sparse else chip.peaks)[record["precision"]]
        rows.append(Row(record["id"], chip.id, family_of(chip.id, chip.vendor), network_family(record["model"]),
                        Path(record["spec"]).stem, work, peak, chip.bandwidth, record["fps_effective"]))
    return rows


def nelder_mead(loss, start: list[float], steps: int = 2000) -> list[float]:
    """Minimise `loss` from `start` (plain Nelder-Mead, restarted once; deterministic)."""
    best = start
    for _ in range(2):
        simplex = [best] + [[value + (0.5 if index == axis else 0.0) for index, value in enumerate(best)]
                            for axis in range(len(best))]
        scores = [loss(point) for point in simplex]
        for _ in range(steps):
            order = sorted(range(len(simplex)), key=scores.__getitem__)
            simplex, scores = [simplex[i] for i in order], [scores[i] for i in order]
            if scores[-1] - scores[0] < 1e-10:
                break
            centre = [sum(point[i] for point in simplex[:-1]) / (len(simplex) - 1) for i in range(len(best))]
            worst = simplex[-1]
            reflected = [c + (c - w) for c, w in zip(centre, worst)]
            score = loss(reflected)
            if score < scores[0]:
                expanded = [c + 2 * (c - w) for c, w in zip(centre, worst)]
                expanded_score = loss(expanded)
                simplex[-1], scores[-1] = (expanded, expanded_score) if expanded_score < score else (reflected, score)
            elif score < scores[-2]:
                simplex[-1], scores[-1] = reflected, score
            else:
                contracted = [c + 0.5 * (w - c) for c, w in zip(centre, worst)]
                contracted_score = loss(contracted)
                if contracted_score < scores[-1]:
                    simplex[-1], scores[-1] = contracted, contracted_score
                else:
                    simplex = [simplex[0]] + [[b + 0.5 * (p - b) for b, p in zip(simplex[0], point)]
                                              for point in simplex[1:]]
                    scores = [scores[0]] + [loss(point) for point in simplex[1:]]
        best = simplex[min(range(len(simplex)), key=scores.__getitem__)]
    return best


@dataclass(frozen=True)
class FamilyFit:
    family: str
    shared: dict[str, float]  # the family's parameters
    chips: dict[str, dict[str, float]]  # per chip: efficiency (when own) and per-chip parameters
    efficiency: float  # the family's, for chips that borrow


def parameters(fit: FamilyFit, chip: str) -> Parameters:
    values = {**fit.shared, "efficiency": fit.efficiency, **fit.chips.get(chip, {})}
    values["tile"] = int(values["tile"])
    return Parameters(**values)


def fit_family(family: str, rows: list[Row], base: dict[str, float]) -> FamilyFit:
    """The family's free parameters and each chip's efficiency, for the least squared log error."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.chip] = counts.get(row.chip, 0) + 1
    own = sorted(chip for chip, count in counts.items() if count >= MIN_OWN_ROWS)
    free = FREE[family]
    shared_names = [name for name in free if name != "tile" and name not in PER_CHIP]
    per_chip = [(name, chip) for name in free if name in PER_CHIP for chip in sorted(counts)]
    borrowers = any(chip not in own for chip in counts)
    names = [("efficiency", None)] if borrowers else []
    names += [("efficiency", chip) for chip in own] + [(name, None) for name in shared_names]
    names += per_chip
    fixed = {**{key: value for key, value in base.items() if key not in free}, **FIXED.get(family, {})}
    tiles = TILES if "tile" in free else (int(fixed["tile"]),)
    best: tuple[float, FamilyFit] | None = None
    for tile in tiles:
        def build(point: list[float], tile: int = tile) -> FamilyFit:
            values = {key: math.exp(value) for key, value in zip(names, point)}
            shared = {**fixed, "tile": float(tile), **{name: values[(name, None)] for name in shared_names}}
            chips: dict[str, dict[str, float]] = {chip: {} for chip in counts}
            for (name, chip), value in values.items():
                if chip is not None:
                    chips[chip][name] = value
            if borrowers:
                return FamilyFit(family, shared, chips, values[("efficiency", None)])
            # Every chip has its own: a chip that borrows takes their geometric mean, by rows.
            mean = sum(counts[chip] * math.log(chips[chip]["efficiency"]) for chip in own) / sum(counts.values())
            return FamilyFit(family, shared, chips, math.exp(mean))

        def loss(point: list[float]) -> float:
            if max(map(abs, point)) > 60:  # out of any physical range (and of exp's)
                return math.inf
            fit = build(point)
            chosen = {chip: parameters(fit, chip) for chip in counts}
            return sum(error(row, chosen[row.chip]) ** 2 for row in rows)

        start = [math.log(START[name]) for name, _ in names]
        point = nelder_mead(loss, start)
        score = loss(point)
        if best is None or score < best[0] - 1e-9:
            best = (score, build(point))
    assert best is not None
    return best[1]


def predict(row: Row, params: Parameters) -> float:
    return 1.0 / seconds_per_frame(row.work, params, row.peak, row.bandwidth, 1.0)


def error(row: Row, params: Parameters) -> float:
    """ln(predicted / measured)."""
    return math.log(predict(row, params) / row.measured)


def fit_all(rows: list[Row]) -> dict[str, FamilyFit]:
    """Every chip family's fit, and "all" for chips of no measured family: the families'
    efficiencies' geometric mean (by rows) with the base tile and kernel cost."""
    fits = {}
    for family in sorted({row.chip_family for row in rows}):
        fits[family] = fit_family(family, [row for row in rows if row.chip_family == family], BASE)
    logs = [(math.log(values["efficiency"]) if "efficiency" in values else math.log(fit.efficiency), chip)
            for fit in fits.values() for chip, values in fit.chips.items()]
    counts = {chip: sum(row.chip == chip for row in rows) for _, chip in logs}
    mean = sum(counts[chip] * value for value, chip in logs) / sum(counts.values())
    chips = {chip: {"efficiency": math.exp(value)} for value, chip in logs}
    fits["all"] = FamilyFit("all", dict(BASE), chips, math.exp(mean))
    return fits


def params_for(fits: dict[str, FamilyFit], row: Row) -> Parameters:
    fit = fits.get(row.chip_family, fits["all"])
    return parameters(fit, row.chip)


def cross_validate(rows: list[Row]) -> dict[str, float]:
    """Row id -> ln(predicted / measured) with the row's network family left out of the fit."""
    errors = {}
    for family in sorted({row.network_family for row in rows}):
        training = [row for row in rows if row.network_family != family]
        fits = fit_all(training)
        for row in rows:
            if row.network_family == family:
                errors[row.id] = error(row, params_for(fits, row))
    return errors


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    below = int(math.floor(position))
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def factor(errors: list[float]) -> float:
    """The median error as a factor: exp(median |ln(predicted / measured)|)."""
    return math.exp(percentile([abs(value) for value in errors], 0.5))


def spread(errors: list[float]) -> tuple[float, float]:
    """measured / predicted at the LOW and HIGH percentiles, widened to hold the estimate
    itself (a chip whose out-of-family errors all lean one way keeps its estimate in range)."""
    ratios = [math.exp(-value) for value in errors]
    return min(1.0, percentile(ratios, LOW)), max(1.0, percentile(ratios, HIGH))


def entry(params: Parameters, family: str, rows: list[Row], errors: dict[str, float]) -> dict[str, object]:
    own = [errors[row.id] for row in rows]
    low, high = spread(own)
    return {"family": family, "parameters": {key: _round(value) for key, value in vars(params).items()},
            "low": _round(low), "high": _round(high), "measurements": len(rows),
            "networks": len({row.network for row in rows}), "median_error": _round(factor(own) - 1)}


def _round(value: object) -> object:
    return float(f"{value:.6g}") if isinstance(value, float) else value


def calibration_data(rows: list[Row], fits: dict[str, FamilyFit], errors: dict[str, float]) -> dict[str, object]:
    """The content of cnncalc/data/fps-fit.json."""
    chips: dict[str, object] = {}
    families: dict[str, object] = {}
    for family, fit in sorted(fits.items()):
        members = rows if family == "all" else [row for row in rows if row.chip_family == family]
        borrowed = parameters(fit, "")
        families[family] = entry(borrowed, family, members, errors)
        if family == "all":
            continue
        for chip in sorted({row.chip for row in members}):
            on_chip = [row for row in members if row.chip == chip]
            if len(on_chip) < MIN_OWN_ROWS:  # it takes the family's entry, and says how many are its own
                chips[chip] = {"family": family, "own": len(on_chip)}
                continue
            chips[chip] = entry(parameters(fit, chip), family, on_chip, errors)
            if len(on_chip) < 5:  # too few rows for percentiles: the family's spread
                chips[chip].update(low=families[family]["low"], high=families[family]["high"])
    # A chip of no measured family: every chip's errors, widened by how far chips' efficiencies differ.
    every = fits["all"]
    ratios = [values["efficiency"] / every.efficiency for values in every.chips.values() if "efficiency" in values]
    widest = families["all"]
    widest.update(low=_round(widest["low"] * min(ratios)), high=_round(widest["high"] * max(ratios)))
    return {"generated_by": "python tests/fps_fit.py", "measurements": "tests/data/fps/fps-measured.jsonl",
            "rows": len(rows), "range": [LOW, HIGH], "families": families, "chips": chips}


def main(arguments: list[str]) -> int:
    rows = load_rows()
    fits = fit_all(rows)
    errors = cross_validate(rows)
    data = calibration_data(rows, fits, errors)
    fit_text = json.dumps(data, indent=1, sort_keys=True) + "\n"
    from fps_accuracy import report  # beside this script

    report_text = report(rows, errors, fits, data)
    if "--check" in arguments:
        stale = [str(path) for path, text in ((FIT_FILE, fit_text), (REPORT, report_text))
                 if not path.exists() or path.read_text(encoding="utf-8") != text]
        print("stale: " + ", ".join(stale) if stale else "fps-fit.json and fps-accuracy.md are up to date")
        return 1 if stale else 0
    FIT_FILE.write_text(fit_text, encoding="utf-8")
    REPORT.write_text(report_text, encoding="utf-8")
    print(f"wrote {FIT_FILE.relative_to(ROOT)} and {REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
