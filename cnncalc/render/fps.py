"""Text, JSON and markdown for `cnncalc fps` and `cnncalc chips`."""

from __future__ import annotations

from typing import Any

from ..chips import MEASURED_UTILIZATION, Chip
from ..fps import FpsAnswer, LayerTime, Roofline
from ..units import human_count
from .escape import display, json_document


def ops(value: float | None, unit: str = "") -> str:
    return "-" if value is None else human_count(value, unit)


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
        "target_fps": answer.target_fps,
        "required_ops_per_s": answer.required_ops_per_s,
        "available_ops_per_s": answer.available_ops_per_s,
        "max_flops_per_frame": answer.max_ops_per_frame,
        "headroom": answer.headroom,
        "pass": answer.passed,
        "roofline_fps": answer.roofline_fps,
    }


def fps_lines(answer: FpsAnswer) -> list[tuple[str, str]]:
    """(label, text) lines; every figure with its unit and convention."""
    compute = answer.compute
    utilization = "ideal (utilization 1.0)" if answer.utilization == 1 else f"utilization {answer.utilization:g}"
    lines = []
    if answer.ops_per_frame is not None:
        lines.append(("Work per frame", f"{ops(answer.ops_per_frame, 'FLOPs')} ({answer.convention}: "
                                        "chip ops, 1 MAC = 2)"))
    if compute is not None:
        bandwidth = f", bandwidth {compute.bandwidth / 1e9:g} GB/s" if compute.bandwidth else ""
        lines.append(("Chip", f"{display(compute.label)}: {ops(compute.peak_ops_per_s, 'OPS')} {compute.precision} "
                              f"dense peak{bandwidth}"))
        lines.append(("Available", f"{ops(answer.available_ops_per_s, 'OPS')}, {utilization}"))
    if answer.fps is not None:
        lines.append(("Frames per second", f"{answer.fps:,.1f}, {utilization}"))
        lines.append(("Reality", MEASURED_UTILIZATION))
    if answer.roofline_fps is not None:
        lines.append(("Roofline fps", f"{answer.roofline_fps:,.1f} (compute or memory traffic, layer by layer)"))
    if answer.target_fps is not None:
        lines.append(("Target", f"{answer.target_fps:g} fps"))
        if answer.required_ops_per_s is not None:
            lines.append(("Required", f"{ops(answer.required_ops_per_s, 'OPS')} (FLOPs per frame x fps)"))
        if answer.max_ops_per_frame is not None:
            lines.append(("Max work per frame", f"{ops(answer.max_ops_per_frame, 'FLOPs')} fits at "
                                                f"{answer.target_fps:g} fps"))
        if answer.headroom is not None:
            lines.append(("Headroom", f"{answer.headroom:.2f}x ({(answer.headroom - 1) * 100:+.1f} %)"))
        if answer.passed is not None:
            lines.append(("Result", "PASS" if answer.passed else "FAIL"))
    return lines


def render_fps(answer: FpsAnswer, form: str) -> str:
    if form == "json":
        return json_document(fps_json(answer))
    lines = fps_lines(answer)
    if form == "markdown":
        return "\n".join(f"- **{label}**: {text}" for label, text in lines) + "\n"
    width = max(len(label) for label, _ in lines) + 2
    return "\n".join(label.ljust(width) + text for label, text in lines) + "\n"


def roofline_lines(roofline: Roofline) -> list[tuple[str, str]]:
    slowest = ", ".join(f"{display(layer.name)} {layer.share * 100:.1f} %" for layer in roofline.slowest())
    return [
        ("Roofline", f"{roofline.fps:,.1f} fps; frame time {roofline.batch_seconds * 1e3:.3f} ms per batch; "
                     f"{roofline.memory_bound_share * 100:.1f} % of it memory-bound"),
        ("Slowest layers", slowest),
        ("Roofline model", f"time = max(ops / {ops(roofline.peak_ops_per_s, 'OPS')}, bytes / "
                           f"{roofline.bandwidth / 1e9:g} GB/s) per layer at {roofline.bytes_per_element:g} "
                           "bytes per element; no fusion, no caching between layers, weights read once per "
                           "batch, views free"),
    ]


def chip_json(chip: Chip) -> dict[str, Any]:
    return {"id": chip.id, "name": chip.name, "vendor": chip.vendor, "peak": chip.peaks,
            "peak_sparse": chip.sparse_peaks, "bandwidth": chip.bandwidth, "memory": chip.memory,
            "power_w": chip.power_w, "source": list(chip.sources), "notes": chip.notes}


def _peaks(chip: Chip) -> str:
    return ", ".join(f"{name} {value / 1e12:g}T" for name, value in chip.peaks.items())


def render_chips(chips: list[Chip], form: str) -> str:
    if form == "json":
        return json_document([chip_json(chip) for chip in chips])
    rows = [(display(chip.id), _peaks(chip), f"{chip.bandwidth / 1e9:g}" if chip.bandwidth else "-",
             f"{chip.power_w:g}" if chip.power_w else "-", display(chip.sources[0]) if chip.sources else "-")
            for chip in chips]
    header = ("Chip", "Dense peak ops/s", "GB/s", "W", "Source")
    if form == "markdown":
        lines = ["| " + " | ".join(header) + " |", "| --- | --- | ---: | ---: | --- |"]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
        return "\n".join(lines) + "\n"
    widths = [max(len(row[index]) for row in [header, *rows]) for index in range(4)]
    lines = ["  ".join(text.ljust(width) for text, width in zip(row[:4], widths)) + "  " + row[4]
             for row in [header, *rows]]
    return "\n".join(lines) + "\n\nPeaks are dense, 1 MAC = 2 ops (T = 10^12 ops/s); `cnncalc chips ID` shows one chip.\n"


def render_chip(chip: Chip, form: str) -> str:
    if form == "json":
        return json_document(chip_json(chip))
    lines = [f"{display(chip.id)}: {display(chip.name)}" + (f" ({display(chip.vendor)})" if chip.vendor else ""),
             "  dense peaks: " + (_peaks(chip) or "none")]
    if chip.sparse_peaks:
        lines.append("  2:4 sparse peaks (--sparse): "
                     + ", ".join(f"{name} {value / 1e12:g}T" for name, value in chip.sparse_peaks.items()))
    lines.append(f"  bandwidth: {chip.bandwidth / 1e9:g} GB/s" if chip.bandwidth else "  bandwidth: not known")
    if chip.power_w:
        lines.append(f"  power: {chip.power_w:g} W")
    lines += ["  sources:", *[f"    {display(source)}" for source in chip.sources]]
    if chip.notes:
        lines += ["  notes:", f"    {display(chip.notes)}"]
    lines.append(f"  from: {display(chip.origin)}")
    text = "\n".join(lines) + "\n"
    return text if form != "markdown" else "```\n" + text + "```\n"


def roofline_cells(roofline: Roofline) -> dict[str, Any]:
    """Cells of the roofline columns; a folded row (--depth) sums the layers inside it."""
    times = {layer.name: layer for layer in roofline.layers}

    def members(row: Any) -> list[LayerTime]:
        if row.name in times:
            return [times[row.name]]
        prefix = row.name + "."
        return [layer for name, layer in times.items() if name.startswith(prefix)]

    def intensity(row: Any) -> str:
        inside = members(row)
        moved = sum(layer.bytes_moved for layer in inside)
        return f"{sum(layer.ops for layer in inside) / moved:.1f}" if moved else "-"

    def bound(row: Any) -> str:
        inside = [layer for layer in members(row) if layer.bound != "-"]
        memory = sum(layer.seconds for layer in inside if layer.bound == "memory")
        return "-" if not inside else ("memory" if memory * 2 > sum(layer.seconds for layer in inside) else "compute")

    def share(row: Any) -> str:
        return f"{sum(layer.share for layer in members(row)) * 100:.1f}"

    return {"intensity": intensity, "bound": bound, "time": share}


def chip_lines(answer: FpsAnswer, roofline: Roofline | None) -> list[tuple[str, str]]:
    return fps_lines(answer)[1:] + (roofline_lines(roofline) if roofline else [])


def roofline_json(answer: FpsAnswer, roofline: Roofline | None) -> dict[str, Any]:
    data: dict[str, Any] = {"fps": fps_json(answer)}
    if roofline is not None:
        data["roofline"] = {
            "fps": roofline.fps, "batch_seconds": roofline.batch_seconds,
            "memory_bound_share": roofline.memory_bound_share, "peak_ops_per_s": roofline.peak_ops_per_s,
            "bandwidth": roofline.bandwidth, "bytes_per_element": roofline.bytes_per_element,
            "layers": [{"name": layer.name, "ops": layer.ops, "bytes_moved": layer.bytes_moved,
                        "seconds": layer.seconds, "bound": layer.bound, "share": layer.share}
                       for layer in roofline.layers],
        }
    return data
