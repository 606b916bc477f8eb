"""Frames per second on a chip: required compute = FLOPs per frame x fps, solved for
whichever of the three is missing, and a per-layer roofline when the bandwidth is known.

Chips are rated at 2 ops per MAC, so work is counted in ops: FLOPs in the `2mac` and
`full` conventions are ops as they are, `mac` FLOPs are doubled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from .chips import PRECISION_BYTES
from .estimate import Calibration, Estimate, estimate, workload
from .fusion import Fusion, fuse
from .report import Report

OPS_PER_FLOP = {"2mac": 1, "full": 1, "mac": 2}


@dataclass(frozen=True)
class Compute:
    """What the chip offers: peak ops/s at one precision, and its bandwidth when known."""

    peak_ops_per_s: float
    precision: str
    label: str  # the chip id, or how the peak was given (--tops 8)
    bandwidth: float | None = None


@dataclass(frozen=True)
class FpsAnswer:
    """Every figure `cnncalc fps` prints; None where the inputs do not determine it.

    `fps` is the ideal (available ops/s / ops per frame); `achieved_fps` is the fps of
    `model` ("estimate", "roofline" or "ideal"), and headroom, the max work per frame and
    the verdict all come from it."""

    ops_per_frame: float | None
    convention: str
    compute: Compute | None
    utilization: float
    fps: float | None  # the ideal: available ops/s / ops per frame
    target_fps: float | None
    required_ops_per_s: float | None
    available_ops_per_s: float | None
    max_ops_per_frame: float | None
    headroom: float | None  # achieved fps / target fps
    passed: bool | None
    roofline_fps: float | None = None
    estimate: Estimate | None = None
    model: str = "ideal"

    @property
    def achieved_fps(self) -> float | None:
        return {"estimate": self.estimate.fps if self.estimate else None, "roofline": self.roofline_fps,
                "ideal": self.fps}[self.model]


def solve(ops_per_frame: float | None, compute: Compute | None, target_fps: float | None,
          utilization: float = 1.0, convention: str = "2mac", roofline_fps: float | None = None,
          estimate: Estimate | None = None) -> FpsAnswer:
    """Given any two of ops per frame, compute and target fps, the third (and pass/fail).

    The verdict, headroom and max work per frame come from one model: the calibrated
    estimate when there is one, else the roofline when the bandwidth is known, else the ideal.
    The max work per frame of the estimate and the roofline scales the frame's work by
    achieved / target fps (time per frame taken as proportional to the work)."""
    given = sum(value is not None for value in (ops_per_frame, compute, target_fps))
    if given < 2:
        raise ValueError("give two of: the work per frame, the chip's compute, the target fps")
    model = "estimate" if estimate is not None else "roofline" if roofline_fps is not None else "ideal"
    available = compute.peak_ops_per_s * utilization if compute else None
    fps = available / ops_per_frame if available is not None and ops_per_frame else None
    achieved = {"estimate": estimate.fps if estimate else None, "roofline": roofline_fps, "ideal": fps}[model]
    required = ops_per_frame * target_fps if ops_per_frame is not None and target_fps is not None else None
    if model == "ideal":
        max_ops = available / target_fps if available is not None and target_fps else None
    else:
        max_ops = ops_per_frame * achieved / target_fps if ops_per_frame and achieved and target_fps else None
    headroom = achieved / target_fps if achieved is not None and target_fps else None
    passed = headroom >= 1 if headroom is not None else None
    return FpsAnswer(ops_per_frame, convention, compute, utilization, fps, target_fps, required, available,
                     max_ops, headroom, passed, roofline_fps, estimate, model)


@dataclass(frozen=True)
class LayerTime:
    name: str
    type: str
    ops: int  # 2 per MAC, the chip's count
    bytes_moved: float  # inputs + weights + output at the precision's bytes
    seconds: float  # max(ops / peak, bytes / bandwidth)
    bound: str  # "compute", "memory", or "-" for a layer that moves and computes nothing
    share: float  # of the frame time

    @property
    def intensity(self) -> float | None:
        return self.ops / self.bytes_moved if self.bytes_moved else None


@dataclass(frozen=True)
class Roofline:
    """Per-kernel times on a chip: layers fused as cnncalc.fusion says (or one kernel per
    layer with fusion off), no caching between kernels, weights read once per batch, views
    and in-place concats free; the batch is the spec's. `fused` maps each layer folded
    into a kernel to that kernel's first layer."""

    layers: tuple[LayerTime, ...]
    batch_seconds: float
    fps: float
    memory_bound_share: float  # of the frame time
    peak_ops_per_s: float
    bandwidth: float
    bytes_per_element: float
    fused: dict[str, str] = field(default_factory=dict)
    fusion: bool = False

    def slowest(self, count: int = 5) -> tuple[LayerTime, ...]:
        return tuple(sorted(self.layers, key=lambda layer: layer.seconds, reverse=True)[:count])


def roofline(report: Report, compute: Compute, utilization: float = 1.0, fusion: Fusion | None = None) -> Roofline:
    """Each kernel's time is max(ops / (peak x utilization), bytes moved / bandwidth)."""
    if compute.bandwidth is None:
        raise ValueError(f"{compute.label} has no known memory bandwidth")
    fusion = fusion if fusion is not None else fuse(report, False)
    width = PRECISION_BYTES[compute.precision]
    peak = compute.peak_ops_per_s * utilization
    kernels = {kernel.name: kernel for kernel in fusion.kernels}
    timed = []
    for row in report.layers:
        if row.name in fusion.into:
            continue
        kernel = kernels.get(row.name)
        if kernel is None:  # a view or an in-place concat
            timed.append((row, 0, 0.0, 0.0))
            continue
        moved = kernel.elements * width
        timed.append((row, kernel.ops, moved, max(kernel.ops / peak, moved / compute.bandwidth)))
    total = sum(seconds for *_, seconds in timed)
    layers = tuple(
        LayerTime(row.name, row.type, ops, moved, seconds,
                  "-" if not seconds else ("memory" if moved / compute.bandwidth > ops / peak else "compute"),
                  seconds / total if total else 0.0)
        for row, ops, moved, seconds in timed)
    memory_share = sum(layer.share for layer in layers if layer.bound == "memory")
    return Roofline(layers, total, report.assumptions.batch / total if total else float("inf"), memory_share,
                    peak, compute.bandwidth, width, dict(fusion.into), fusion.fused)


def on_chip(report: Report, compute: Compute, target_fps: float | None = None, utilization: float = 1.0,
            fused: bool = True, calibration: Calibration | None = None) -> tuple[FpsAnswer, Roofline | None]:
    """The answer for a whole analysed network on a chip, and its roofline when the bandwidth
    is known. With a calibration (a chip of the table, no --utilization) the answer carries
    the calibrated estimate, and the verdict comes from it."""
    convention = report.assumptions.convention
    ops_per_frame = report.totals.flops * OPS_PER_FLOP[convention] / report.assumptions.batch
    fusion = fuse(report, fused)
    lines = roofline(report, compute, utilization, fusion) if compute.bandwidth is not None else None
    guess = None
    if calibration is not None and utilization == 1.0:
        chip_id = compute.label.split(" ")[0]
        guess = estimate(workload(report, fuse(report)), calibration, chip_id, compute.peak_ops_per_s,
                         compute.bandwidth, PRECISION_BYTES[compute.precision])
        guess = _capped(guess, compute.peak_ops_per_s / ops_per_frame if ops_per_frame else math.inf)
    answer = solve(ops_per_frame, compute, target_fps, utilization, convention, lines.fps if lines else None, guess)
    return answer, lines


def _capped(guess: Estimate, bound: float) -> Estimate:
    """No estimate above the ideal: the range's top stops there. (Not the roofline: caches and
    on-chip SRAM let measured fps beat a roofline that sends every kernel's traffic to DRAM.)"""
    fps = min(guess.fps, bound)
    return replace(guess, fps=fps, low=min(guess.low, fps), high=min(guess.high, bound))
