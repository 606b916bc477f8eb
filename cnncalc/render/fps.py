"""Text, JSON and markdown for `cnncalc fps` and `cnncalc chips`."""

from __future__ import annotations

import textwrap
from typing import Any

from ..chips import Chip
from ..fps import FpsAnswer, LayerTime, Roofline
from ..units import human_count
from .escape import display, json_document


UNBROKEN = "\ue000"  # stands for a space that wrapping must not break at (a name stays on one line)


def whole(name: str) -> str:
    """A displayed name that wrapping keeps on one line; `unwrap` restores its spaces."""
    return display(name).replace(" ", UNBROKEN)


def wrap(text: str, width: int, **options: Any) -> list[str]:
    lines = textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False, **options)
    return [line.replace(UNBROKEN, " ") for line in lines]


def ops(value: float | None, unit: str = "") -> str:
    return "-" if value is None else human_count(value, unit)


def estimate_json(answer: FpsAnswer) -> dict[str, Any] | None:
    guess = answer.estimate
    if guess is None:
        return None
    return {"fps": guess.fps, "low": guess.low, "high": guess.high, "basis": guess.basis,
            "measurements": guess.measurements}


def fps_json(answer: FpsAnswer) -> dict[str, Any]:
    compute = answer.compute
    return {
        "flops_per_frame": answer.ops_per_frame,
        "convention": answer.convention,
        "chip": compute.label if compute else None,
        "peak_ops_per_s": compute.peak_ops_per_s if compute else None,
        "precision": compute.precision if compute else None,
        "bandwidth": compute.bandwidth if compute else None,
        "utilization": answer.utilization,
        "fps": answer.fps,
        "estimate": estimate_json(answer),
        "model": answer.model,
        "achieved_fps": answer.achieved_fps,
        "target_fps": answer.target_fps,
        "required_ops_per_s": answer.required_ops_per_s,
        "available_ops_per_s": answer.available_ops_per_s,
        "max_flops_per_frame": answer.max_ops_per_frame,
        "headroom": answer.headroom,
        "pass": answer.passed,
        "roofline_fps": answer.roofline_fps,
    }


def fps_lines(answer: FpsAnswer, spec: bool = True) -> list[tuple[str, str]]:
    """(label, text) lines: the estimate first, then the ideal and the roofline as bounds;
    every fps figure names the model that produced it, and the verdict lines name theirs."""
    compute = answer.compute
    at = "100 % of the" if answer.utilization == 1 else f"utilization {answer.utilization:g} x the"
    lines = []
    if answer.ops_per_frame is not None:
        lines.append(("Work per frame", f"{ops(answer.ops_per_frame, 'FLOPs')} ({answer.convention}: "
                                        "chip ops, 1 MAC = 2)"))
    if compute is not None:
        bandwidth = f", bandwidth {compute.bandwidth / 1e9:g} GB/s" if compute.bandwidth else ""
        lines.append(("Chip", f"{whole(compute.label)}: {ops(compute.peak_ops_per_s, 'OPS')} {compute.precision} "
                              f"dense peak{bandwidth}"))
        if answer.utilization != 1:
            lines.append(("Available", f"{ops(answer.available_ops_per_s, 'OPS')}, utilization {answer.utilization:g}"))
    guess = answer.estimate
    if guess is not None:
        lines.append(("Estimate", f"{guess.fps:,.1f} fps (range {guess.low:,.1f}-{guess.high:,.1f}); "
                                  f"{display(guess.basis)}"))
    elif answer.fps is not None and not spec:
        lines.append(("Estimate", "needs the network's layers: give --spec (the figures below are bounds)"))
    if answer.fps is not None:
        lines.append(("Ideal", f"{answer.fps:,.1f} fps at {at} {compute.precision if compute else ''} peak"
                               f"{': an upper bound' if guess or answer.roofline_fps is not None else ''}"))
    if answer.roofline_fps is not None:
        lines.append(("Roofline", f"{answer.roofline_fps:,.1f} fps (per kernel: compute or DRAM traffic, no caches"
                                  f"{', at that utilization' if answer.utilization != 1 else ''})"
                                  f"{': a bound' if guess else ''}"))
    if answer.target_fps is not None:
        model = f" ({answer.model})"
        lines.append(("Target", f"{answer.target_fps:g} fps"))
        if answer.required_ops_per_s is not None:
            lines.append(("Required", f"{ops(answer.required_ops_per_s, 'OPS')} (FLOPs per frame x fps)"))
        if answer.max_ops_per_frame is not None:
            lines.append(("Max work per frame", f"{ops(answer.max_ops_per_frame, 'FLOPs')} fits at "
                                                f"{answer.target_fps:g} fps{model}"))
        if answer.headroom is not None:
            lines.append(("Headroom", f"{answer.headroom:.2f}x ({(answer.headroom - 1) * 100:+.1f} %){model}"))
        if answer.passed is not None:
            lines.append(("Result", ("PASS" if answer.passed else "FAIL") + model))
    return lines


def labelled(lines: list[tuple[str, str]], width: int) -> str:
    """Label column, then the text wrapped at word boundaries to `width` columns."""
    indent = max(len(label) for label, _ in lines) + 2
    text_width = max(20, width - indent)
    out = []
    for label, text in lines:
        wrapped = wrap(text, text_width) or [""]
        out.append(label.ljust(indent) + wrapped[0])
        out += [" " * indent + more for more in wrapped[1:]]
    return "\n".join(out) + "\n"


def render_fps(answer: FpsAnswer, form: str, width: int = 80, spec: bool = True) -> str:
    if form == "json":
        return json_document(fps_json(answer))
    lines = fps_lines(answer, spec)
    if form == "markdown":
        return "\n".join(f"- **{label}**: {text.replace(UNBROKEN, ' ')}" for label, text in lines) + "\n"
    return labelled(lines, width)


def roofline_lines(roofline: Roofline) -> list[tuple[str, str]]:
    slowest = ", ".join(f"{display(layer.name)} {layer.share * 100:.1f} %" for layer in roofline.slowest())
    fusion = ("layers fused as deployment compilers do (docs/fps.md; --no-fuse: one kernel per layer)"
              if roofline.fusion else "no fusion (--no-fuse): every layer a kernel")
    return [
        ("Roofline time", f"{roofline.batch_seconds * 1e3:.3f} ms per batch; "
                          f"{roofline.memory_bound_share * 100:.1f} % of it memory-bound"),
        ("Slowest kernels" if roofline.fusion else "Slowest layers", slowest),
        ("Roofline model", f"time = max(ops / {ops(roofline.peak_ops_per_s, 'OPS')}, bytes / "
                           f"{roofline.bandwidth / 1e9:g} GB/s) per kernel at {roofline.bytes_per_element:g} "
                           f"bytes per element; {fusion}; no caching between kernels, weights read once per "
                           "batch, views free"),
    ]


def chip_json(chip: Chip) -> dict[str, Any]:
    return {"id": chip.id, "name": chip.name, "vendor": chip.vendor, "peak": chip.peaks,
            "peak_sparse": chip.sparse_peaks, "bandwidth": chip.bandwidth, "memory": chip.memory,
            "power_w": chip.power_w, "source": list(chip.sources), "notes": chip.notes}


def _peaks(chip: Chip) -> str:
    return ", ".join(f"{name} {value / 1e12:g}T" for name, value in chip.peaks.items())


def _calibrated(chip: Chip) -> str:
    """How the chip's fps estimate is calibrated: its own rows, its family's, or not at all."""
    from ..estimate import calibration

    known = calibration(chip.id, chip.vendor)
    if known.measurements == 0:
        return "no"
    if not known.borrowed:
        return f"{known.measurements} rows"
    return "all chips" if known.family == "all" else f"{known.family} family"


def render_chips(chips: list[Chip], form: str, width: int = 80) -> str:
    """The chip table; the peaks column wraps so that the table fits `width` columns."""
    if form == "json":
        return json_document([chip_json(chip) for chip in chips])
    header = ("Chip", "Dense peak ops/s", "GB/s", "W", "Estimate")
    rows = [(display(chip.id), _peaks(chip), f"{chip.bandwidth / 1e9:g}" if chip.bandwidth else "-",
             f"{chip.power_w:g}" if chip.power_w else "-", _calibrated(chip)) for chip in chips]
    note = ("Peaks are dense, 1 MAC = 2 ops (T = 10^12 ops/s). Estimate: what the calibrated fps estimate "
            "rests on (measured rows of the chip, or its family's). `cnncalc chips ID` shows a chip's "
            "sources and notes.")
    if form == "markdown":
        lines = ["| " + " | ".join(header) + " |", "| --- | --- | ---: | ---: | --- |"]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
        return "\n".join(lines) + "\n\n" + note + "\n"
    widths = [max(len(row[index]) for row in [header, *rows]) for index in range(len(header))]
    fixed = sum(widths) - widths[1] + 2 * (len(header) - 1)
    widths[1] = max(len(header[1]), min(widths[1], width - fixed))
    lines = []
    for row in [header, *rows]:
        peaks = textwrap.wrap(row[1], widths[1]) or [""]
        lines.append("  ".join([row[0].ljust(widths[0]), peaks[0].ljust(widths[1]), row[2].rjust(widths[2]),
                                row[3].rjust(widths[3]), row[4]]).rstrip())
        lines += [(" " * (widths[0] + 2) + more).rstrip() for more in peaks[1:]]
    return "\n".join(lines) + "\n\n" + "\n".join(textwrap.wrap(note, width)) + "\n"


def render_chip(chip: Chip, form: str, width: int = 80) -> str:
    """One chip with every source and note, wrapped to `width` (URLs kept whole)."""
    from ..estimate import calibration

    if form == "json":
        return json_document(chip_json(chip))

    def wrapped(text: str) -> list[str]:
        return wrap(text, width, subsequent_indent="    ")

    lines = wrapped(f"{whole(chip.id)}: {whole(chip.name)}" + (f" ({whole(chip.vendor)})" if chip.vendor else ""))
    lines += wrapped("  dense peaks: " + (_peaks(chip) or "none"))
    if chip.sparse_peaks:
        lines += wrapped("  2:4 sparse peaks (--sparse): "
                         + ", ".join(f"{name} {value / 1e12:g}T" for name, value in chip.sparse_peaks.items()))
    lines.append(f"  bandwidth: {chip.bandwidth / 1e9:g} GB/s" if chip.bandwidth else "  bandwidth: not known")
    if chip.power_w:
        lines.append(f"  power: {chip.power_w:g} W")
    lines += wrapped("  estimate: " + display(calibration(chip.id, chip.vendor).basis(chip.id)))
    lines += ["  sources:", *[f"    {display(source)}" for source in chip.sources]]
    if chip.notes:
        lines += ["  notes:", *wrapped("    " + display(chip.notes))]
    lines += wrapped(f"  from: {display(chip.origin)}")
    text = "\n".join(lines) + "\n"
    return text if form != "markdown" else "```\n" + text + "```\n"


def roofline_cells(roofline: Roofline) -> dict[str, Any]:
    """Cells of the roofline columns; a layer fused into a kernel says so (its time is on the
    kernel's first row); a folded row (--depth) sums the kernels inside it."""
    times = {layer.name: layer for layer in roofline.layers}

    def members(row: Any) -> list[LayerTime]:
        if row.name in times:
            return [times[row.name]]
        prefix = row.name + "."
        return [layer for name, layer in times.items() if name.startswith(prefix)]

    def fused(row: Any) -> bool:
        return row.name in roofline.fused

    def intensity(row: Any) -> str:
        inside = members(row)
        moved = sum(layer.bytes_moved for layer in inside)
        return f"{sum(layer.ops for layer in inside) / moved:.1f}" if moved else "-"

    def bound(row: Any) -> str:
        if fused(row):
            return "fused"
        inside = [layer for layer in members(row) if layer.bound != "-"]
        memory = sum(layer.seconds for layer in inside if layer.bound == "memory")
        return "-" if not inside else ("memory" if memory * 2 > sum(layer.seconds for layer in inside) else "compute")

    def share(row: Any) -> str:
        return "-" if fused(row) else f"{sum(layer.share for layer in members(row)) * 100:.1f}"

    return {"intensity": intensity, "bound": bound, "time": share}


def chip_lines(answer: FpsAnswer, roofline: Roofline | None) -> list[tuple[str, str]]:
    """The fps lines under `analyze`'s table, which wraps them itself."""
    lines = fps_lines(answer)[1:] + (roofline_lines(roofline) if roofline else [])
    return [(label, text.replace(UNBROKEN, " ")) for label, text in lines]


def roofline_json(answer: FpsAnswer, roofline: Roofline | None) -> dict[str, Any]:
    data: dict[str, Any] = {"fps": fps_json(answer), "estimate": estimate_json(answer)}
    if roofline is not None:
        folded: dict[str, list[str]] = {}
        for name, kernel in roofline.fused.items():
            folded.setdefault(kernel, []).append(name)
        data["roofline"] = {
            "fps": roofline.fps, "batch_seconds": roofline.batch_seconds,
            "memory_bound_share": roofline.memory_bound_share, "peak_ops_per_s": roofline.peak_ops_per_s,
            "bandwidth": roofline.bandwidth, "bytes_per_element": roofline.bytes_per_element,
            "fused": roofline.fusion,
            "layers": [{"name": layer.name, "ops": layer.ops, "bytes_moved": layer.bytes_moved,
                        "seconds": layer.seconds, "bound": layer.bound, "share": layer.share,
                        "fused": folded.get(layer.name, [])}
                       for layer in roofline.layers],
        }
    return data
