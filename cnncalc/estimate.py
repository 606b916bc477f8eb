"""The calibrated fps estimate: a model of the time per frame on a chip, with a few
efficiency parameters per chip family fitted on published measurements (cnncalc/data/
fps-fit.json, written by tests/fps_fit.py from tests/data/fps/fps-measured.jsonl), and a
range from how far the fit missed networks it was not fitted on.

Time per frame (docs/fps.md gives the reasons):

    t = sum over fused kernels of max(padded ops / (peak x efficiency), bytes / bandwidth)
        + kernels x per-kernel overhead
        + context switches x switch time / batch          (chips that hold the network on-chip)
        + weight bytes beyond the on-chip memory / link rate  (chips that stream weights)

"padded ops" counts each convolution's reduction channels per group rounded up to the
family's tile (a depthwise convolution fills 1/tile of a MAC array); the bandwidth term is
used only where the chip's bandwidth is published. All figures come from the report after
fusion (cnncalc.fusion): no numpy, no I/O except reading the parameter file once.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .fusion import WEIGHTED, Fusion
from .report import Report

FIT_FILE = Path(__file__).parent / "data" / "fps-fit.json"
# Which family's parameters a chip borrows when it has no measurements of its own.
FAMILY_PREFIXES = (("hailo-", "hailo"), ("google-coral", "coral"), ("rockchip-", "rknn"), ("ti-", "tidl"),
                   ("jetson-", "nvidia"), ("nvidia-", "nvidia"))


@dataclass(frozen=True)
class KernelWork:
    """One fused kernel as the estimate sees it, per frame."""

    ops: float
    elements: float
    reduction: int | None  # input channels per group of a conv or linear, else None


@dataclass(frozen=True, eq=False)  # hashed by identity: padded_ops caches per workload
class Workload:
    """A network per frame: its kernels, its weight count and its batch."""

    kernels: tuple[KernelWork, ...]
    weights: int  # parameters
    batch: int


@dataclass(frozen=True)
class Parameters:
    """The fitted constants of one chip (its own, or borrowed from its family)."""

    efficiency: float  # share of the dense peak on padded ops
    tile: int  # reduction channels a MAC array takes at once
    kernel_seconds: float  # fixed cost per fused kernel
    memory_efficiency: float = 1.0  # share of the published bandwidth
    capacity_weights: float | None = None  # on-chip: weights per context (elements)
    capacity_kernels: float | None = None  # on-chip: kernels per context
    switch_seconds: float = 0.0  # one context switch
    depthwise: float | None = None  # cost of a depthwise MAC in dense MACs (None: the tile)
    on_chip_bytes: float | None = None  # weight streaming: on-chip parameter memory
    link_bytes_per_s: float | None = None  # weight streaming: host link rate


@dataclass(frozen=True)
class Calibration:
    """A chip's parameters and what they rest on."""

    chip: str  # the chip they were fitted on, or the family's name when borrowed
    family: str
    parameters: Parameters
    low: float  # measured / predicted at the 5th percentile of out-of-family errors
    high: float  # ... at the 95th
    measurements: int
    networks: int
    median_error: float  # median |measured / predicted - 1| over out-of-family predictions
    borrowed: bool
    own: int = 0  # measurements of the chip itself when it borrows (too few to fit its own)

    def basis(self, chip_id: str) -> str:
        if self.measurements == 0:
            return "not calibrated: no measurements of this chip or its family; range from all chips"
        if self.family == "all":
            where = f"every measured chip (none of {chip_id} or its family; range widened by how much chips differ)"
        elif self.borrowed and self.own:
            where = f"the {self.family} family ({self.own} of them of {chip_id}: too few for its own efficiency)"
        elif self.borrowed:
            where = f"the {self.family} family (no measurements of {chip_id} itself)"
        else:
            where = self.chip
        networks = f"{self.networks} network{'s' if self.networks != 1 else ''}"
        return (f"calibrated on {self.measurements} measurements of {networks} on {where}; "
                f"median error {self.median_error * 100:.0f} %")


@dataclass(frozen=True)
class Estimate:
    """The calibrated fps and its range."""

    fps: float
    low: float
    high: float
    basis: str
    measurements: int
    seconds_per_frame: float


def workload(report: Report, fusion: Fusion) -> Workload:
    """The kernels of `report` per frame, with each conv's reduction channels per group."""
    batch = report.assumptions.batch
    records = {record.name: record for record in report.graph.layers}
    shapes = {**report.inputs, **{row.name: row.output_shape for row in report.layers}}
    kernels = []
    for kernel in fusion.kernels:
        record = records[kernel.name]
        reduction = None
        if record.type in WEIGHTED and record.inputs:
            source = shapes[record.inputs[0]]
            channels = source[-1] if record.type == "linear" else source[1]
            reduction = max(1, channels // max(1, int(getattr(record.layer, "groups", 1) or 1)))
        kernels.append(KernelWork(kernel.ops / batch, kernel.elements / batch, reduction))
    return Workload(tuple(kernels), report.totals.params, batch)


def seconds_per_frame(work: Workload, parameters: Parameters, peak: float, bandwidth: float | None,
                      bytes_per_element: float) -> float:
    """The model's time per frame (module docstring)."""
    compute = peak * parameters.efficiency
    if bandwidth:
        memory = bandwidth * parameters.memory_efficiency
        total = sum(max(padded(kernel, parameters.tile, parameters.depthwise) / compute,
                        kernel.elements * bytes_per_element / memory) for kernel in work.kernels)
    else:
        total = padded_ops(work, parameters.tile, parameters.depthwise) / compute
    total += len(work.kernels) * parameters.kernel_seconds
    total += switches(work, parameters) * parameters.switch_seconds / work.batch
    if parameters.on_chip_bytes is not None and parameters.link_bytes_per_s:
        total += max(0.0, work.weights * bytes_per_element - parameters.on_chip_bytes) / parameters.link_bytes_per_s
    return total


def padded(kernel: KernelWork, tile: int, depthwise: float | None = None) -> float:
    """A kernel's ops with its reduction channels per group rounded up to the tile; a
    depthwise kernel's (1 channel per group) times `depthwise` when the family fits one."""
    if kernel.reduction is None:
        return kernel.ops
    if kernel.reduction == 1 and depthwise is not None:
        return kernel.ops * depthwise
    return kernel.ops * math.ceil(kernel.reduction / tile) * tile / kernel.reduction


def padded_ops(work: Workload, tile: int, depthwise: float | None = None) -> float:
    """The padded ops of every kernel (`padded`), summed."""
    others, single = _split_ops(work, tile)
    return others + single * (depthwise if depthwise is not None else tile)


@lru_cache(maxsize=8192)
def _split_ops(work: Workload, tile: int) -> tuple[float, float]:
    """(padded ops of kernels with more than one reduction channel per group, ops of depthwise
    kernels): cached per workload and tile, so that a fit varying `depthwise` sums nothing."""
    others = sum(padded(kernel, tile) for kernel in work.kernels if kernel.reduction != 1)
    return others, sum(kernel.ops for kernel in work.kernels if kernel.reduction == 1)


def switches(work: Workload, parameters: Parameters) -> float:
    """Context switches per batch: the contexts the weights and kernels fill, less the first."""
    if parameters.capacity_weights is None or parameters.capacity_kernels is None:
        return 0.0
    load = work.weights / parameters.capacity_weights + len(work.kernels) / parameters.capacity_kernels
    return float(max(0, math.ceil(load) - 1))


def estimate(work: Workload, calibration: Calibration, chip_id: str, peak: float, bandwidth: float | None,
             bytes_per_element: float) -> Estimate:
    seconds = seconds_per_frame(work, calibration.parameters, peak, bandwidth, bytes_per_element)
    fps = 1.0 / seconds if seconds > 0 else math.inf
    return Estimate(fps, fps * calibration.low, fps * calibration.high, calibration.basis(chip_id),
                    calibration.measurements, seconds)


def family_of(chip_id: str, vendor: str = "") -> str:
    for prefix, family in FAMILY_PREFIXES:
        if chip_id.startswith(prefix):
            return family
    return "nvidia" if vendor == "NVIDIA" else "all"


@lru_cache(maxsize=4)
def load_fit(path: Path = FIT_FILE) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def calibration(chip_id: str, vendor: str = "", fit: dict[str, Any] | None = None) -> Calibration:
    """The chip's own fitted parameters, else its family's, else those fitted on every chip."""
    fit = fit if fit is not None else load_fit()
    if chip_id in fit["chips"] and "own" not in fit["chips"][chip_id]:
        entry, borrowed = fit["chips"][chip_id], False
        family = entry["family"]
    else:
        family = family_of(chip_id, vendor)
        entry, borrowed = fit["families"].get(family, fit["families"]["all"]), True
        family = family if family in fit["families"] else "all"
    parameters = Parameters(**entry["parameters"])
    own = fit["chips"].get(chip_id, {}).get("own", 0)
    return Calibration(chip_id if not borrowed else family, family, parameters, entry["low"], entry["high"],
                       entry["measurements"], entry["networks"], entry["median_error"], borrowed, own)
