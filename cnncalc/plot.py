"""Charts of a report, drawn with matplotlib (the optional extra `cnncalc[plot]`): a chip's
roofline with one point per layer, and per-layer MACs and activation memory.

Pure functions from records to a Figure: nothing here computes a figure beyond a layer's
intensity (ops / bytes moved) and attained rate (ops / seconds). Imported only when
plotting; figures are drawn on the Agg canvas, never through pyplot, so no global backend
is switched.
"""

from __future__ import annotations

import math
from typing import Any, BinaryIO

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Annotation, Text
from matplotlib.transforms import Bbox
from matplotlib.ticker import EngFormatter, FuncFormatter

from .fps import FpsAnswer, LayerTime, Roofline
from .render.escape import display
from .report import LayerRow, Report
from .units import human_bytes, human_count

DPI = 100
MEMORY_COLOUR, COMPUTE_COLOUR = "#0072B2", "#D55E00"  # Okabe-Ito blue and vermillion: safe for colour blindness
LARGEST_MARKER = 700.0  # points^2: the area of the point with the largest share of the frame time
ANNOTATED = 5  # the slowest layers named on the roofline
CHART_NAME_LIMIT = 60  # characters of a name on a chart; longer names push the plots off the figure
MAX_TICK_LABELS = 45  # on the layers chart's x axis; beyond, one name in N
FEW_TICK_LABELS = 20  # up to this many are slanted rather than vertical


def roofline_figure(report: Report, answer: FpsAnswer, roofline: Roofline) -> Figure:
    """Log-log roofline: the roof min(peak, bandwidth x intensity), its ridge point, and one
    point per kernel (per layer with --no-fuse) with ops, its area proportional to its share of
    the frame time."""
    precision = answer.compute.precision if answer.compute else "?"
    label = answer.compute.label if answer.compute else "?"
    on_axes = [layer for layer in roofline.layers if layer.ops]
    left_out = [layer for layer in roofline.layers if not layer.ops]
    figure = _figure(10, 7.2)
    axes = figure.add_axes((0.085, 0.25, 0.895, 0.655))  # fixed margins: labels are placed in final coordinates
    _set_limits(axes, on_axes, roofline)
    _draw_roof(axes, roofline, answer, precision)
    scale = LARGEST_MARKER / max((layer.share for layer in on_axes), default=1.0)
    for bound, colour in (("memory", MEMORY_COLOUR), ("compute", COMPUTE_COLOUR)):
        layers = [layer for layer in on_axes if layer.bound == bound]
        axes.scatter([_intensity(layer) for layer in layers], [_attained(layer) for layer in layers],
                     s=[layer.share * scale for layer in layers], color=colour, alpha=0.55,
                     edgecolors="white", linewidths=0.6, zorder=3)
    _annotate_slowest(figure, axes, on_axes, scale)
    _roofline_legend(axes, on_axes, left_out, scale, roofline)
    utilization = "" if answer.utilization == 1 else f" at utilization {answer.utilization:g}"
    ideal = "-" if answer.fps is None else f"{answer.fps:,.0f}"
    figure.suptitle(f"{_shown(report.name)} on {_shown(label)}, {precision}, batch {report.assumptions.batch}\n"
                    f"ideal {ideal} fps{utilization}, roofline {roofline.fps:,.0f} fps", fontsize=12)
    axes.set_xlabel("arithmetic intensity (ops per byte moved)")
    axes.set_ylabel("attained performance (ops/s)")
    return figure


def layers_figure(report: Report, rows: tuple[LayerRow, ...], depth: int | None = None) -> Figure:
    """Two bar charts sharing the x axis: MACs and activation memory per table row."""
    figure = _figure(11, 6.5)
    macs_axes, memory_axes = figure.subplots(2, 1, sharex=True)
    positions = range(len(rows))
    macs_axes.bar(positions, [row.macs for row in rows], width=0.8, color=COMPUTE_COLOUR)
    macs_axes.yaxis.set_major_formatter(EngFormatter(sep=" "))
    macs_axes.set_ylabel("MACs")
    unit, scale = _byte_unit(max((row.activation_bytes for row in rows), default=0))
    memory_axes.bar(positions, [row.activation_bytes / scale for row in rows], width=0.8, color=MEMORY_COLOUR)
    memory_axes.set_ylabel(f"activation memory ({unit})")
    for axes in (macs_axes, memory_axes):
        axes.grid(axis="y", alpha=0.3)
        axes.set_axisbelow(True)
    step = math.ceil(len(rows) / MAX_TICK_LABELS) if rows else 1
    ticks = list(positions)[::step]
    labels = [f"{index} {_shown(rows[index].name)}" for index in ticks]
    if len(ticks) > FEW_TICK_LABELS:
        memory_axes.set_xticks(ticks, labels, rotation=90, fontsize=8)
    else:
        memory_axes.set_xticks(ticks, labels, rotation=35, ha="right", rotation_mode="anchor", fontsize=9)
    memory_axes.set_xlim(-0.7, len(rows) - 0.3)
    every = "" if step == 1 else f" (one label in {step})"
    memory_axes.set_xlabel(f"row at --depth {depth}: a block instance or a layer{every}" if depth
                           else f"layer, in execution order{every}")
    totals, assumptions = report.totals, report.assumptions
    figure.suptitle(f"{_shown(report.name)}: {human_count(totals.macs)} MACs, {human_bytes(totals.activation_bytes)} of "
                    f"activations ({assumptions.dtype}, batch {assumptions.batch})", fontsize=12)
    figure.tight_layout()  # room for the names under the bars
    return figure


def save(figure: Figure, handle: BinaryIO, form: str) -> None:
    """Write the figure to an open file in `form`: png, svg or pdf (the file's extension)."""
    figure.savefig(handle, dpi=DPI, format=form)


def _shown(name: str) -> str:
    """A name as a chart shows it: escaped as in every format, cut to CHART_NAME_LIMIT, and `$`
    literal (matplotlib would read `$...$` as mathtext, and fail on `$\\frac{$`)."""
    text = display(name)
    text = text if len(text) <= CHART_NAME_LIMIT else text[:CHART_NAME_LIMIT - 3] + "..."
    return text.replace("$", r"\$")


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def _intensity(layer: LayerTime) -> float:
    return layer.ops / layer.bytes_moved


def _attained(layer: LayerTime) -> float:
    return layer.ops / layer.seconds


def _set_limits(axes: Axes, on_axes: list[LayerTime], roofline: Roofline) -> None:
    ridge = roofline.peak_ops_per_s / roofline.bandwidth
    intensities = [_intensity(layer) for layer in on_axes] or [ridge / 100]
    low, high = min(intensities) / 3, max(*intensities, ridge) * 6
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlim(low, high)
    axes.set_ylim(roofline.bandwidth * low / 2, roofline.peak_ops_per_s * 4)
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axes.yaxis.set_major_formatter(EngFormatter(sep=" "))
    axes.grid(which="major", alpha=0.3)


def _draw_roof(axes: Axes, roofline: Roofline, answer: FpsAnswer, precision: str) -> None:
    peak, bandwidth = roofline.peak_ops_per_s, roofline.bandwidth
    ridge = peak / bandwidth
    low, high = axes.get_xlim()
    above = math.sqrt(LARGEST_MARKER) / 2 + 4  # clear of the largest point, in points
    axes.plot([low, ridge, high], [bandwidth * low, peak, peak], color="black", linewidth=2, zorder=2)
    axes.plot([ridge], [peak], marker="D", color="black", markersize=7, zorder=4)
    axes.axvline(ridge, color="black", linestyle=":", linewidth=1, zorder=1)
    axes.annotate(f"ridge point\n{ridge:,.0f} ops/byte", (ridge, peak), xytext=(-8, 8), textcoords="offset points",
                  ha="right", va="bottom", fontsize=9)
    rated = answer.compute.peak_ops_per_s if answer.compute else peak
    scaled = "" if answer.utilization == 1 else f" x utilization {answer.utilization:g} = {human_count(peak, 'OPS')}"
    axes.annotate(f"peak {human_count(rated, 'OPS')} {precision}{scaled}", (high, peak), xytext=(-6, above),
                  textcoords="offset points", ha="right", va="center", fontsize=10)
    # The bandwidth label runs along the sloped roof, from near its start.
    start = low * (ridge / low) ** 0.06
    (x0, y0), (x1, y1) = axes.transData.transform([(start, bandwidth * start), (ridge, peak)])
    angle = math.atan2(y1 - y0, x1 - x0)
    per_element = f"{roofline.bytes_per_element:g} byte{'s' if roofline.bytes_per_element != 1 else ''}"
    axes.annotate(f"bandwidth {bandwidth / 1e9:g} GB/s ({per_element} per {precision} element)",
                  (start, bandwidth * start), xytext=(-above * math.sin(angle), above * math.cos(angle)),
                  textcoords="offset points", rotation=math.degrees(angle), rotation_mode="anchor", fontsize=10)


def _annotate_slowest(figure: Figure, axes: Axes, on_axes: list[LayerTime], scale: float) -> None:
    """Name the slowest points below and beside them, pushed down until no name overlaps
    another name or any point."""
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    frame = axes.get_window_extent(renderer)
    pixels_per_point = figure.dpi / 72

    def radius(layer: LayerTime) -> float:  # of the layer's marker, in points
        return math.sqrt(layer.share * scale) / 2

    def extent(text: Annotation) -> Bbox:
        text.update_positions(renderer)
        return Text.get_window_extent(text, renderer)  # the text alone, without its leader line

    taken = []
    for layer in on_axes:
        x, y = axes.transData.transform((_intensity(layer), _attained(layer)))
        size = radius(layer) * pixels_per_point
        taken.append(Bbox.from_extents(x - size, y - size, x + size, y + size))
    slowest = sorted(on_axes, key=lambda layer: layer.seconds)[-ANNOTATED:]
    for layer in sorted(slowest, key=_intensity, reverse=True):  # from the right: leader lines pass left of names
        gap = radius(layer) * 0.7 + 5
        text = axes.annotate(f"{_shown(layer.name)} {layer.share * 100:.1f} %", (_intensity(layer), _attained(layer)),
                             xytext=(gap, -gap), textcoords="offset points", ha="left", va="top", fontsize=9,
                             arrowprops={"arrowstyle": "-", "color": "0.45", "linewidth": 0.7, "shrinkA": 0,
                                         "relpos": (0, 1)},  # the line ends at the text's corner
                             zorder=5)
        box = extent(text)
        if box.x1 > frame.x1:
            text.set_horizontalalignment("right")
            text.xyann = (-gap, -gap)
            text.arrow_patch.relpos = (1, 1)  # type: ignore[union-attr]
            box = extent(text)
        while any(box.overlaps(other) for other in taken):
            text.xyann = (text.xyann[0], text.xyann[1] - (box.height + 2) / pixels_per_point)
            box = extent(text)
        taken.append(box)


def _roofline_legend(axes: Axes, on_axes: list[LayerTime], left_out: list[LayerTime], scale: float,
                     roofline: Roofline) -> None:
    noun = "kernel" if roofline.fusion else "layer"
    handles = [Line2D([], [], color="black", linewidth=2, label="roof: min(peak, bandwidth x intensity)")]
    for bound, colour in (("memory", MEMORY_COLOUR), ("compute", COMPUTE_COLOUR)):
        layers = [layer for layer in on_axes if layer.bound == bound]
        share = sum(layer.share for layer in layers) * 100
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=9, color=colour, alpha=0.7,
                              label=f"{bound}-bound: {_count(layers, noun)}, {share:.1f} % of the time"))
    largest = max((layer.share for layer in on_axes), default=0.0)
    reference = max((share for share in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5) if share <= largest), default=largest)
    if reference:
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=math.sqrt(reference * scale),
                              markerfacecolor="none", color="0.4",
                              label=f"area: share of the frame time ({reference * 100:g} % shown)"))
    if left_out:
        share = sum(layer.share for layer in left_out) * 100
        types = ", ".join(dict.fromkeys(_shown(layer.type) for layer in left_out))
        slowest = max(left_out, key=lambda layer: layer.seconds)
        slowest_text = f"{_shown(slowest.name)} {slowest.share * 100:.1f} %"
        handles.append(Line2D([], [], linestyle="none",
                              label=f"not shown, no ops (intensity 0): {_count(left_out, noun)}, {share:.1f} % of "
                                    f"the time\n  {types}\n  slowest: {slowest_text}"))
    if roofline.fused:
        fused = _count(list(roofline.fused), "layer")
        handles.append(Line2D([], [], linestyle="none",
                              label=f"fused into the kernel before them: {fused}, no time of their own"))
    axes.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=2, fontsize=9,
                frameon=False, labelspacing=0.9, columnspacing=3)


def _count(layers: list[Any], noun: str = "layer") -> str:
    return f"{len(layers)} {noun}{'' if len(layers) == 1 else 's'}"


def _byte_unit(largest: float) -> tuple[str, float]:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if largest >= scale:
            return unit, scale
    return "bytes", 1
