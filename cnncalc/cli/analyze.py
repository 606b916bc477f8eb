"""`cnncalc analyze`: the per-layer table and totals of a spec, with --chip, --plot and --sweep."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..errors import SpecError
from .common import (
    bandwidth,
    chip_calibration,
    chip_options,
    fail,
    input_shape,
    output_options,
    pair,
    resolve_compute,
    scalar,
)
from .output import check_output, write
from .report_output import emit_report


@click.command()
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--set", "settings", multiple=True, metavar="NAME=VALUE",
              help="Override a global parameter of the spec (repeatable).")
@click.option("--input", "input_shapes", multiple=True, metavar="[NAME=]CxHxW",
              help="Replace an input's per-sample shape, e.g. 3x320x320 or image=3x512x512 (repeatable).")
@click.option("--depth", type=click.IntRange(min=1), help="Fold block instances nested deeper than this into one row.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also draw a chart to this .png, .svg or .pdf file (kept unless --force): the roofline with "
                   "--chip, else per-layer MACs and activation memory. Needs matplotlib (cnncalc[plot]).")
@click.option("--sweep", "sweep_text", metavar="NAME=V1,V2,...",
              help="One row of totals per value: input=3x224x224,3x320x320, batch=1,8 or a parameter.")
@output_options
@chip_options
def analyze(spec: Path, settings: tuple[str, ...], input_shapes: tuple[str, ...], depth: int | None,
            plot_path: Path | None, sweep_text: str | None, **options: Any) -> None:
    """Per-layer shapes and costs of SPEC, with totals and the assumptions behind them."""
    import cnncalc

    overrides = dict(pair(item, "--set", scalar) for item in settings)
    inputs = dict(input_shape(item) for item in input_shapes)
    if sweep_text is not None and plot_path is not None:
        fail("--plot draws one analysis; it does not combine with --sweep")
    if sweep_text is not None:
        _sweep(spec, sweep_text, {"overrides": overrides, "inputs": inputs, "batch": options["batch"],
                                  "dtype": options["dtype"], "convention": options["convention"],
                                  "optimizer": options["optimizer"]}, options)
        return
    try:
        report = cnncalc.analyze(spec, overrides=overrides, inputs=inputs, batch=options["batch"],
                                 dtype=options["dtype"], convention=options["convention"],
                                 optimizer=options["optimizer"])
        chip = _on_chip(report, options)
    except SpecError as error:
        fail(str(error))
    if plot_path is not None:
        _check_plot(plot_path, options, chip)
    emit_report(report, depth, options, chip)
    if plot_path is not None:
        _plot(plot_path, report, depth, chip, options["force"])
    if chip is not None and chip[0].passed is False:
        sys.exit(1)


def _sweep(spec: Path, text: str, analyze_options: dict[str, Any], options: dict[str, Any]) -> None:
    """`analyze --sweep`: one analysis per value, one row each (table, json, csv or markdown)."""
    import cnncalc

    from ..render.sweep import render_sweep
    from ..sweep import options_for, parse_sweep

    rows = []
    try:
        sweep = parse_sweep(text, scalar)
        for value, label in zip(sweep.values, sweep.texts):
            report = cnncalc.analyze(spec, **options_for(sweep, value, analyze_options))
            rows.append((label, report, _on_chip(report, options)))
    except SpecError as error:
        fail(str(error))
    write(render_sweep(sweep.name, rows, options["output_format"]), options)


def _on_chip(report: Any, options: dict[str, Any]) -> Any:
    """(FpsAnswer, Roofline or None) with --chip, else None."""
    from ..fps import on_chip

    if options["chip_id"] is None:
        for name in ("target_fps", "precision", "bandwidth", "no_fuse"):
            if options[name] not in (None, False):
                fail(f"--{name.replace('target_', '').replace('_', '-')} needs --chip")
        return None
    compute = resolve_compute(options, bandwidth(options["bandwidth"]))
    return on_chip(report, compute, options["target_fps"], options["utilization"], not options["no_fuse"],
                   chip_calibration(options))


def _check_plot(path: Path, options: dict[str, Any], chip: Any) -> None:
    """Fail before any output when --plot cannot be drawn."""
    if path.suffix.lower() not in (".png", ".svg", ".pdf"):
        fail(f"--plot {path}: unknown extension '{path.suffix}'; use .png, .svg or .pdf")
    check_output(path, options["force"])
    if options["output"] is not None and path.resolve() == options["output"].resolve():
        fail(f"--plot and -o both name {path}")
    if chip is not None and chip[1] is None:
        fail("--plot with --chip draws the roofline, which needs the chip's bandwidth: add --bandwidth RATE")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        fail("plotting needs matplotlib: pip install 'cnncalc[plot]'")


def _plot(path: Path, report: Any, depth: int | None, chip: Any, force: bool) -> None:
    """The roofline with --chip, else per-layer MACs and memory; written after the normal output."""
    from ..files import write_atomic
    from ..plot import layers_figure, roofline_figure, save
    from ..render.escape import display
    from ..report import fold

    if chip is not None:
        figure = roofline_figure(report, *chip)
    else:
        figure = layers_figure(report, fold(report.layers, depth), depth)
    try:
        write_atomic(path, lambda handle: save(figure, handle, path.suffix[1:].lower()), force)
    except SpecError as error:
        fail(str(error))
    click.echo(f"wrote {display(str(path))}", err=True)
