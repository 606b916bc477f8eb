"""Budgets: limits a spec (or the command line) sets on a network's cost, checked
against its report. What `cnncalc check` gates CI on."""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any, Callable

from .chips import Chip, find_chip
from .errors import Mark, SpecError
from .fps import Compute, on_chip
from .report import Report
from .units import BYTE_UNITS, human_bytes, human_count, parse_bytes, parse_count
from .yamlread import Map, position

# Each budget: how its limit parses, how the actual figure is read off a report, how it prints.
COUNT_BUDGETS: dict[str, Callable[[Report], int]] = {
    "params": lambda report: report.totals.params,
    "macs": lambda report: report.totals.macs,
    "flops": lambda report: report.totals.flops,
}
BYTE_BUDGETS: dict[str, Callable[[Report], int]] = {
    "weights": lambda report: report.totals.weights_bytes,
    "activations": lambda report: report.totals.activation_bytes,
    "peak_activations": lambda report: report.totals.peak_activation_bytes,
    "training": lambda report: report.totals.training_bytes,
}
BUDGET_KEYS = (*COUNT_BUDGETS, *BYTE_BUDGETS, "fps")
FPS_KEYS = ("chip", "precision", "min", "utilization", "sparse", "model")
FPS_MODELS = ("estimate", "roofline", "ideal")
_DECIMAL_UNITS = ("B", "kB", "MB", "GB", "TB")
_BINARY_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


@dataclass(frozen=True)
class FpsBudget:
    chip: str
    min_fps: float
    precision: str | None = None
    utilization: float = 1.0
    sparse: bool = False
    model: str | None = None  # None: the estimate; with a utilization the roofline (else the ideal)


@dataclass(frozen=True)
class Budget:
    """One limit: a maximum for counts and bytes, a minimum for fps."""

    key: str
    limit: float | FpsBudget
    text: str  # as written, for messages
    mark: Mark | None  # where it was written; None when it came from --budget


@dataclass(frozen=True)
class Outcome:
    """A budget checked: the actual figure, the margin left (negative when exceeded)."""

    budget: Budget
    actual: float
    limit: float
    passed: bool
    unit: str  # "count", "bytes" or "fps"
    model: str = ""  # for fps: the model that produced `actual`

    @property
    def margin(self) -> float:
        return self.actual - self.limit if self.unit == "fps" else self.limit - self.actual

    @property
    def margin_percent(self) -> float:
        return self.margin / self.limit * 100 if self.limit else 0.0

    def describe(self, value: float) -> str:
        if self.unit == "bytes":
            return in_written_unit(value, self.budget.text)
        if self.unit == "fps":
            return f"{value:,.1f} fps"
        return human_count(value)


def in_written_unit(value: float, written: str) -> str:
    """Bytes in the unit the budget was written in (`25MB`: 25.0 MB, not 23.8 MiB), so that
    limit, actual and margin read alike; a bare number or a value under one unit as usual."""
    unit = written.strip().lstrip("0123456789.eE+- ")
    if unit not in BYTE_UNITS or unit == "B":
        return human_bytes(value)
    family = list(_BINARY_UNITS if "i" in unit else _DECIMAL_UNITS)
    if unit == "KB":  # written for kB
        family[1] = "KB"
    # The written unit, or the largest smaller one of its family (decimal or binary) the value reaches.
    fitting = [name for name in family[:family.index(unit) + 1] if BYTE_UNITS[name] <= max(abs(value), 1)]
    name = fitting[-1] if fitting else "B"
    return f"{value:,.0f} B" if name == "B" else f"{value / BYTE_UNITS[name]:,.1f} {name}"


def parse_budgets(raw: Any, filename: str) -> list[Budget]:
    """The `budgets:` mapping of a spec, each limit parsed with the spec format's unit rules."""
    if raw is None:
        return []
    if not isinstance(raw, Map):
        raise SpecError("budgets must be a mapping", mark=_mark(filename, getattr(raw, "mark", None)),
                        hint="write budgets: {params: 5M, flops: 1.2G}")
    budgets = []
    for key, value in raw.items():
        at = _mark(filename, raw.value_marks[key])
        if key not in BUDGET_KEYS:
            close = difflib.get_close_matches(str(key), BUDGET_KEYS, n=1)
            guess = f"did you mean '{close[0]}'? " if close else ""
            raise SpecError(f"unknown budget '{key}'", mark=_mark(filename, raw.key_marks[key]),
                            hint=f"{guess}budgets: {', '.join(BUDGET_KEYS)}")
        budgets.append(parse_budget(str(key), value, at, raw_map=value if isinstance(value, Map) else None,
                                    filename=filename))
    return budgets


def parse_budget(key: str, value: Any, at: Mark | None, raw_map: Map | None = None, filename: str = "") -> Budget:
    """One budget from the spec (`at` is its place) or from `--budget key=value` (`at` is None)."""
    def fail(problem: str, hint: str, where: Mark | None = at) -> SpecError:
        prefix = "" if where is not None else f"--budget {key}: "
        return SpecError(f"{prefix}{problem}", mark=where, hint=hint)

    if key == "fps":
        return Budget(key, _fps_budget(value, raw_map, filename, fail), _text(value), at)
    parse = parse_count if key in COUNT_BUDGETS else parse_bytes
    if key not in COUNT_BUDGETS and key not in BYTE_BUDGETS:
        raise fail(f"unknown budget '{key}'", f"budgets: {', '.join(BUDGET_KEYS)}")
    try:
        limit = parse(value)
    except ValueError as error:
        accepted = "counts take k, M, G, T (1000s)" if key in COUNT_BUDGETS else \
            "bytes take B, kB, MB, GB (1000s) and KiB, MiB, GiB (1024s)"
        raise fail(f"budget {key} is {_shown(value)}: {error}", accepted) from None
    if limit < 0:
        raise fail(f"budget {key} is negative", "a budget is a limit >= 0")
    return Budget(key, limit, _text(value), at)


def _fps_budget(value: Any, raw: Map | None, filename: str, fail: Callable[..., SpecError]) -> FpsBudget:
    hint = "write fps: {chip: jetson-orin-nano-8gb, precision: int8, min: 30, utilization: 0.4}"
    if not isinstance(value, dict) or "chip" not in value or "min" not in value:
        raise fail("budget fps needs a chip and a min", hint)
    for key in value:
        if key not in FPS_KEYS:
            where = _mark(filename, raw.key_marks[key]) if raw is not None else None
            raise fail(f"unknown fps budget key '{key}'", f"keys: {', '.join(FPS_KEYS)}", where)
    minimum, utilization = value["min"], value.get("utilization", 1.0)
    for name, number in (("min", minimum), ("utilization", utilization)):
        # At the value itself in a spec; at the budget for --budget 'fps={...}'.
        place = {"where": _mark(filename, raw.value_marks[name])} if raw is not None and name in raw else {}
        if not _positive_finite(number):
            raise fail(f"fps {name} is {_shown(number)}", "a finite number > 0 (utilization at most 1)", **place)
        if name == "utilization" and number > 1:
            raise fail(f"fps utilization is {number!r}", "a share of the peak, at most 1", **place)
    model = value.get("model")
    if model is not None and model not in FPS_MODELS:
        where = _mark(filename, raw.value_marks["model"]) if raw is not None else None
        raise fail(f"fps model is {_shown(model)}", f"models: {', '.join(FPS_MODELS)}", where)
    if model == "estimate" and "utilization" in value:
        raise fail("fps model estimate takes no utilization", "the estimate is calibrated; drop utilization, "
                   "or say model: roofline or model: ideal")
    if model is None and "utilization" in value:
        model = "roofline"  # as before the estimate: the roofline (the ideal without a bandwidth)
    return FpsBudget(str(value["chip"]), float(minimum), value.get("precision"), float(utilization),
                     bool(value.get("sparse", False)), model)


def _positive_finite(number: Any) -> bool:
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        return False
    try:
        return 0 < float(number) < math.inf  # nan compares false; a 400-digit int overflows
    except OverflowError:
        return False


def _shown(value: Any) -> str:
    """A value as a message quotes it: a 400-digit number by its length."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**20:
        return f"a {len(str(abs(value))):,}-digit number"  # YAML numbers stop at 4,300 digits, str()'s limit
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "..."


def check(report: Report, budgets: list[Budget], chips: dict[str, Chip]) -> list[Outcome]:
    """Every budget against the report: counts and bytes at most their limit, fps at least its minimum."""
    outcomes = []
    for budget in budgets:
        if isinstance(budget.limit, FpsBudget):
            actual, model = check_fps(report, budget.limit, chips)
            outcomes.append(Outcome(budget, actual, budget.limit.min_fps, actual >= budget.limit.min_fps, "fps",
                                    model))
            continue
        unit = "count" if budget.key in COUNT_BUDGETS else "bytes"
        actual = (COUNT_BUDGETS.get(budget.key) or BYTE_BUDGETS[budget.key])(report)
        outcomes.append(Outcome(budget, actual, budget.limit, actual <= budget.limit, unit))
    return outcomes


def check_fps(report: Report, budget: FpsBudget, chips: dict[str, Chip]) -> tuple[float, str]:
    """(fps, model): the calibrated estimate by default; with `utilization` (or model:
    roofline) the roofline when the chip has a bandwidth, else the ideal, at that share."""
    from .estimate import calibration

    chip = find_chip(budget.chip, chips)
    precision, peak = chip.peak(budget.precision, budget.sparse)
    compute = Compute(peak, precision, chip.id, chip.bandwidth)
    wanted = budget.model or "estimate"
    known = calibration(chip.id, chip.vendor) if wanted == "estimate" else None
    answer, roofline = on_chip(report, compute, None, budget.utilization, calibration=known)
    if wanted == "estimate" and answer.estimate is not None:
        return answer.estimate.fps, "estimate"
    if wanted != "ideal" and roofline is not None:
        return roofline.fps, "roofline"
    return (answer.fps if answer.fps is not None else float("inf")), "ideal"  # no work: no compute limit


def _mark(filename: str, raw: Any) -> Mark | None:
    if raw is None:
        return None
    line, column = position(raw)
    return Mark(filename, line, column)


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{key}: {item}" for key, item in value.items())
    return str(value)
