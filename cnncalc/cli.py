"""The command line: a thin click layer over the library. The only module that knows click."""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import Any

import click

from . import __version__
from .cli_common import (bandwidth, chip_options, fail, input_shape, output_options, pair, resolve_compute, scalar,
                         shape)
from .cli_output import check_output, echo, stdout_failed, write
from .errors import SpecError

class _Commands(click.Group):
    """click's group, plus the same answer as `echo`'s when standard output fails in click's
    own printing (--help or --version into a full disk)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().main(*args, **kwargs)
        except OSError as error:
            if error.filename is not None:  # a file, not standard output: a defect to see whole
                raise
            stdout_failed(error)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cnncalc")
def main() -> None:
    """Shapes, parameters, MACs, FLOPs, memory and receptive fields of convolutional networks,
    from a YAML spec, without a framework or a GPU."""
    # A short-lived process: the cyclic collector only slows the building of 100,000 records.
    gc.disable()


@main.command()
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
    _emit(report, depth, options, chip)
    if plot_path is not None:
        _plot(plot_path, report, depth, chip, options["force"])
    if chip is not None and chip[0].passed is False:
        sys.exit(1)


def _sweep(spec: Path, text: str, analyze_options: dict[str, Any], options: dict[str, Any]) -> None:
    """`analyze --sweep`: one analysis per value, one row each (table, json, csv or markdown)."""
    import cnncalc

    from .render.sweep import render_sweep
    from .sweep import options_for, parse_sweep

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
    from .fps import on_chip

    if options["chip_id"] is None:
        for name in ("target_fps", "precision", "bandwidth"):
            if options[name] is not None:
                fail(f"--{name.replace('target_', '')} needs --chip")
        return None
    compute = resolve_compute(options, bandwidth(options["bandwidth"]))
    return on_chip(report, compute, options["target_fps"], options["utilization"])


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
    from .files import write_atomic
    from .plot import layers_figure, roofline_figure, save
    from .render.escape import display
    from .report import fold

    if chip is not None:
        figure = roofline_figure(report, *chip)
    else:
        figure = layers_figure(report, fold(report.layers, depth), depth)
    try:
        write_atomic(path, lambda handle: save(figure, handle, path.suffix[1:].lower()), force)
    except SpecError as error:
        fail(str(error))
    click.echo(f"wrote {display(str(path))}", err=True)


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("layer_type", metavar="TYPE")
@click.option("--input", "input_shapes", multiple=True, required=True, metavar="CxHxW",
              help="Per-sample input shape; give it twice or more for add, concat, ...")
@output_options
@click.pass_context
def layer(context: click.Context, /, layer_type: str, input_shapes: tuple[str, ...], **options: Any) -> None:
    """One layer on its own: its output shape, parameters, MACs and FLOPs.

    Fields are named as in the spec, with dashes: --out-channels 33 --kernel-size 3x5 --padding same.
    """
    from .calculator import analyze_layer

    values = _layer_fields(context.args)
    try:
        report = analyze_layer(layer_type, [shape(text) for text in input_shapes], values,
                               batch=options["batch"] or 1, dtype=options["dtype"] or "float32",
                               convention=options["convention"], optimizer=options["optimizer"])
    except SpecError as error:
        fail(str(error))
    if options["output_format"] == "table":
        from .render.summary import render_single_layer

        write(render_single_layer(report), options)
        return
    _emit(report, None, options)


@main.command()
@click.argument("layer_type", metavar="[TYPE]", required=False)
def explain(layer_type: str | None) -> None:
    """Every layer type, or one type's formulas, fields and cost in each convention."""
    from .explain import describe_type, list_types

    if layer_type is None:
        echo(list_types() + "\n")
        return
    try:
        echo(describe_type(layer_type) + "\n")
    except SpecError as error:
        fail(str(error))


def _layer_fields(arguments: list[str]) -> dict[str, Any]:
    """`--out-channels 33 --bias false` -> {"out_channels": 33, "bias": False}."""
    values: dict[str, Any] = {}
    index = 0
    while index < len(arguments):
        key = arguments[index]
        if not key.startswith("--") or len(key) < 3:
            fail(f"unexpected argument '{key}'; give fields as --name value")
        name, sep, inline = key[2:].partition("=")
        if sep:
            raw, index = inline, index + 1
        elif index + 1 < len(arguments):
            raw, index = arguments[index + 1], index + 2
        else:
            fail(f"{key} needs a value")
        values[name.replace("-", "_")] = scalar(raw)
    return values


def _emit(report: Any, depth: int | None, options: dict[str, Any], chip: Any = None) -> None:
    """Render in the chosen format, then print or write it whole (never half a table)."""
    from .render.columns import CELLS, DEFAULT_COLUMNS, FULL_CONVENTION_COLUMNS, ROOFLINE_COLUMNS, parse_columns
    from .report import fold

    cells, more, extra = CELLS, None, None
    default: tuple[str, ...] = FULL_CONVENTION_COLUMNS if options["convention"] == "full" else DEFAULT_COLUMNS
    if chip is not None:
        from .render.fps import chip_lines, roofline_cells, roofline_json

        answer, roofline = chip
        more, extra = chip_lines(answer, roofline), roofline_json(answer, roofline)
        if roofline is not None:
            cells = {**CELLS, **roofline_cells(roofline)}
            default = tuple(key for key in default if key not in ("rf", "memory")) + ROOFLINE_COLUMNS
    try:
        columns = parse_columns(options["columns"]) if options["columns"] else default
        if any(key in ROOFLINE_COLUMNS for key in columns) and cells is CELLS:
            raise ValueError("intensity, bound and time need --chip with a known bandwidth")
    except ValueError as error:
        fail(f"--columns: {error}")
    rows = fold(report.layers, depth)
    form = options["output_format"]
    if form == "json":
        from .render.formats import render_json
        text = render_json(report, extra)
    elif form == "csv":
        from .render.formats import render_csv
        text = render_csv(report, rows)
    elif form == "markdown":
        from .render.formats import render_markdown
        text = render_markdown(report, rows, columns, cells, more)
    else:
        import shutil

        from .render.table import render_table

        to_terminal = options["output"] is None and sys.stdout.isatty()
        width = options["width"] or (shutil.get_terminal_size().columns if to_terminal else 100)
        text = render_table(report, rows, columns, width, to_terminal, cells, more)
    write(text, options)


from . import cli_check, cli_export, cli_fps, cli_import  # noqa: E402,F401  (register check, export, fps, chips, import)
