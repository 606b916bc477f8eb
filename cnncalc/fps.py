"""Frames per second on a chip: required compute = FLOPs per frame x fps, solved for
whichever of the three is missing, and a per-layer roofline when the bandwidth is known.

Chips are rated at 2 ops per MAC, so work is counted in ops: FLOPs in the `2mac` and
`full` conventions are ops as they are, `mac` FLOPs are doubled.
"""

from __future__ import annotations

from dataclasses import dataclass

from .chips import PRECISION_BYTES
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
    """Every figure `cnncalc fps` prints; None where the inputs do not determine it."""

    ops_per_frame: float | None
    convention: str
    compute: Compute | None
    utilization: float
    fps: float | None  # achievable: available ops/s / ops per frame
    target_fps: float | None
    required_ops_per_s: float | None
    available_ops_per_s: float | None
    max_ops_per_frame: float | None
    headroom: float | None  # achievable fps / target fps
    passed: bool | None
    roofline_fps: float | None = None


def solve(ops_per_frame: float | None, compute: Compute | None, target_fps: float | None,
          utilization: float = 1.0, convention: str = "2mac", roofline_fps: float | None = None) -> FpsAnswer:
    """Given any two of ops per frame, compute and target fps, the third (and pass/fail)."""
    given = sum(value is not None for value in (ops_per_frame, compute, target_fps))
    if given < 2:
        raise ValueError("give two of: the work per frame, the chip's compute, the target fps")
    available = compute.peak_ops_per_s * utilization if compute else None
    fps = available / ops_per_frame if available is not None and ops_per_frame else None
    required = ops_per_frame * target_fps if ops_per_frame is not None and target_fps is not None else None
    max_ops = available / target_fps if available is not None and target_fps else None
    headroom = fps / target_fps if fps is not None and target_fps else None
    passed = headroom >= 1 if headroom is not None else None
    if passed is not None and roofline_fps is not None and target_fps is not None:
        passed = passed and roofline_fps >= target_fps  # with a bandwidth, traffic must fit too
    return FpsAnswer(ops_per_frame, convention, compute, utilization, fps, target_fps, required, available,
                     max_ops, headroom, passed, roofline_fps)


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
    """Per-layer times on a chip: no layer fusion, no caching between layers, weights read
    once per batch, views free; the batch is the spec's."""

    layers: tuple[LayerTime, ...]
    batch_seconds: float
    fps: float
    memory_bound_share: float  # of the frame time
    peak_ops_per_s: float
    bandwidth: float
    bytes_per_element: float

    def slowest(self, count: int = 5) -> tuple[LayerTime, ...]:
        return tuple(sorted(self.layers, key=lambda layer: layer.seconds, reverse=True)[:count])


def roofline(report: Report, compute: Compute, utilization: float = 1.0) -> Roofline:
    """Each layer's time is max(ops / (peak x utilization), bytes moved / bandwidth)."""
    if compute.bandwidth is None:
        raise ValueError(f"{compute.label} has no known memory bandwidth")
    width = PRECISION_BYTES[compute.precision]
    peak = compute.peak_ops_per_s * utilization
    elements = {name: _size(shape) for name, shape in report.inputs.items()}
    timed = []
    for row in report.layers:
        elements[row.name] = _size(row.output_shape)
        if row.view:
            timed.append((row, 0, 0.0, 0.0))
            continue
        moved = (sum(elements[source] for source in row.inputs) + row.params + elements[row.name]) * width
        ops = 2 * row.macs
        timed.append((row, ops, moved, max(ops / peak, moved / compute.bandwidth)))
    total = sum(seconds for *_, seconds in timed)
    layers = tuple(
        LayerTime(row.name, row.type, ops, moved, seconds,
                  "-" if not seconds else ("memory" if moved / compute.bandwidth > ops / peak else "compute"),
                  seconds / total if total else 0.0)
        for row, ops, moved, seconds in timed)
    memory_share = sum(layer.share for layer in layers if layer.bound == "memory")
    return Roofline(layers, total, report.assumptions.batch / total if total else float("inf"), memory_share,
                    peak, compute.bandwidth, width)


def _size(shape: tuple[int, ...]) -> int:
    result = 1
    for value in shape:
        result *= value
    return result


def on_chip(report: Report, compute: Compute, target_fps: float | None = None,
            utilization: float = 1.0) -> tuple[FpsAnswer, Roofline | None]:
    """The ideal answer for a whole analysed network, and its roofline when the bandwidth is known."""
    convention = report.assumptions.convention
    ops_per_frame = report.totals.flops * OPS_PER_FLOP[convention] / report.assumptions.batch
    lines = roofline(report, compute, utilization) if compute.bandwidth is not None else None
    answer = solve(ops_per_frame, compute, target_fps, utilization, convention, lines.fps if lines else None)
    return answer, lines
