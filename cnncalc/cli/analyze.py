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
    examples,
    fail,
    input_shape,
    layout_width,
    output_options,
    pair,
    resolve_compute,
    scalar,
    use_color,
    warn,
)
from .output import check_output, write
from .report_output import emit_report


@click.command(epilog=examples(
    "cnncalc analyze specs/resnet50.yaml --depth 1",
    "cnncalc analyze specs/mobilenet_v2.yaml --by type --set width=0.75 --input 3x320x320",
    "cnncalc analyze yolov8n.yaml --chip jetson-orin-nano-8gb --fps 30",
    "cnncalc analyze net.yaml --sweep input=3x224x224,3x320x320 --format csv"))
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--set", "settings", multiple=True, metavar="NAME=VALUE",
              help="Override a global parameter of the spec (repeatable).")
@click.option("--input", "input_shapes", multiple=True, metavar="[NAME=]CxHxW",
              help="Replace an input's per-sample shape, e.g. 3x320x320 or image=3x512x512 (repeatable).")
@click.option("--depth", type=click.IntRange(min=1), help="Fold block instances nested deeper than this into one row.")
@click.option("--by", type=click.Choice(["type", "block"]),
              help="One row per layer type (depthwise and 1x1 convolutions apart) or per top-level block, "
                   "with its share.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also draw a chart to this .png, .svg or .pdf file (kept unless --force): the roofline with "
                   "--chip, else per-layer MACs and activation memory. Needs matplotlib (cnncalc[plot]).")
@click.option("--sweep", "sweep_texts", multiple=True, metavar="NAME=V1,V2,...",
              help="One row of totals per value: input=3x224x224,3x320x320, batch=1,8 or a parameter; "
                   "with --chip the fps, and with --fps a PASS/FAIL column.")
@output_options
@chip_options
def analyze(spec: Path, settings: tuple[str, ...], input_shapes: tuple[str, ...], depth: int | None,
            by: str | None, plot_path: Path | None, sweep_texts: tuple[str, ...], **options: Any) -> None:
    """Per-layer shapes and costs of SPEC, with totals and the assumptions behind them.

    SPEC is a cnncalc YAML spec, an Ultralytics model YAML, a Darknet .cfg, a Caffe .prototxt,
    an ONNX .onnx file, or torch:package.module:factory (a PyTorch factory, called with no
    arguments).
    """
    import cnncalc

    overrides = dict(pair(item, "--set", scalar) for item in settings)
    inputs = dict(input_shape(item) for item in input_shapes)
    if by is not None and (depth is not None or options["output_format"] == "json" or plot_path is not None):
        fail(f"--by {by} is a summary table; it does not combine with --depth, --plot or --format json "
             "(the JSON has every layer)")
    if by is not None and sweep_texts:
        fail(f"--by {by} summarises one analysis; --sweep prints one row of totals per value: leave out one of them")
    sweep_text = _one_sweep(sweep_texts, plot_path, depth, options)
    if sweep_text is not None:
        _sweep(spec, sweep_text, {"overrides": overrides, "inputs": inputs, "batch": options["batch"],
                                  "dtype": options["dtype"], "convention": options["convention"],
                                  "optimizer": options["optimizer"]}, options)
        return
    try:
        report = cnncalc.analyze(spec, overrides=overrides, inputs=inputs, batch=options["batch"],
                                 dtype=options["dtype"] or _chip_dtype(options), convention=options["convention"],
                                 optimizer=options["optimizer"])
        chip = _on_chip(report, options)
    except SpecError as error:
        fail(str(error) + _stride_hint(error, spec, overrides, inputs, options))
    from ..lint import spec_warnings

    warn(spec_warnings(report.graph))
    if plot_path is not None:
        _check_plot(plot_path, options, chip)
    emit_report(report, depth, options, chip, by)
    if plot_path is not None:
        _plot(plot_path, report, depth, chip, options["force"])
    if chip is not None and chip[0].passed is False:
        sys.exit(1)


def _one_sweep(texts: tuple[str, ...], plot_path: Path | None, depth: int | None, options: dict[str, Any]) -> str | None:
    """The --sweep, refusing what a table of totals cannot show (one sweep at a time)."""
    if not texts:
        return None
    if len(texts) > 1:
        fail(f"--sweep given {len(texts)} times: one sweep at a time (one row per value)")
    if plot_path is not None:
        fail("--plot draws one analysis; it does not combine with --sweep")
    refused = {"--depth": depth is not None, "--columns": options["columns"] is not None}
    for option, given in refused.items():
        if given:
            fail(f"{option} shapes the per-layer table; --sweep prints one row of totals per value: "
                 f"leave out one of them")
    return texts[0]


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
    write(render_sweep(sweep.name, rows, options["output_format"], layout_width(options), use_color(options)),
          options)
    if any(chip is not None and chip[0].passed is False for _, _, chip in rows):
        sys.exit(1)


def _stride_hint(error: SpecError, spec: Path, overrides: dict[str, Any], inputs: dict[str, Any],
                 options: dict[str, Any]) -> str:
    """A merge that failed on an --input size: which stride needs which divisor."""
    import cnncalc

    from ..lint import MISMATCH_WORDS, stride_hint

    if not inputs or not any(words in str(error) for words in MISMATCH_WORDS):
        return ""
    hint = stride_hint(lambda shapes: cnncalc.analyze(spec, overrides=overrides, inputs=shapes), inputs)
    return f"; {hint}" if hint else ""


# With --chip, memory figures follow the precision the roofline counts in, unless --dtype says otherwise.
PRECISION_DTYPES = {"int8": "int8", "fp8": "int8", "unspecified": "int8", "fp16": "float16",
                    "fp16_fp16acc": "float16", "bf16": "bfloat16", "tf32": "float32", "fp32": "float32"}


def _chip_dtype(options: dict[str, Any]) -> str | None:
    """The element type of the precision a --chip analysis runs at (int4 has none: the spec's)."""
    if options["chip_id"] is None:
        return None
    try:
        compute = resolve_compute(options, bandwidth(options["bandwidth"]))
    except SpecError:
        return None  # _on_chip reports it
    return PRECISION_DTYPES.get(compute.precision)


def _on_chip(report: Any, options: dict[str, Any]) -> Any:
    """(FpsAnswer, Roofline or None) with --chip, else None."""
    if options["chip_id"] is None:
        for name in ("target_fps", "precision", "bandwidth", "no_fuse"):
            if options[name] not in (None, False):
                fail(f"--{name.replace('target_', '').replace('_', '-')} needs --chip")
        return None
    from ..fps import on_chip  # here: start-up without --chip does not build fps's records
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
