"""The command line: a thin click layer over the library. The only module that knows click."""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import Any, Callable

import click

from . import __version__
from .errors import SpecError

FORMATS = ("table", "json", "csv", "markdown")


def _fail(message: str) -> None:
    """One message on stderr and exit status 2: what a bad spec or option gets."""
    click.echo(message, err=True)
    sys.exit(2)


def _scalar(text: str) -> Any:
    """A command-line value read as YAML 1.2 (numbers, true/false, lists); '3x5' -> [3, 5]."""
    from .yamlread import load

    parts = text.split("x")
    if len(parts) > 1 and all(part.isdigit() for part in parts):
        return [int(part) for part in parts]
    try:
        value = load(text, "<command line>")
    except SpecError:
        return text
    return text if value is None else value


def _shape(text: str) -> tuple[int, ...]:
    from .units import parse_shape

    try:
        return parse_shape(text)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def output_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Options every analysing command shares, defined once."""
    options = [
        click.option("--convention", type=click.Choice(["2mac", "mac", "full"]), default="2mac", show_default=True,
                     help="What a FLOP is: 2 per MAC, 1 per MAC, or every operation (see `cnncalc explain`)."),
        click.option("--batch", type=click.IntRange(min=1), help="Batch size (default: the spec's, else 1)."),
        click.option("--dtype", type=click.Choice(["float32", "float16", "bfloat16", "int8"]),
                     help="Element type for memory figures (default: the spec's, else float32)."),
        click.option("--optimizer", type=click.Choice(["sgd", "momentum", "adam"]), default="adam",
                     show_default=True, help="Optimizer state counted in the training estimate."),
        click.option("--format", "output_format", type=click.Choice(FORMATS), default="table", show_default=True,
                     help="table for people; json and csv with exact integers; markdown for pull requests."),
        click.option("--columns", help="Table columns, comma-separated: name,type,from,output,params,"
                                       "buffers,macs,flops,memory,rf,jump."),
        click.option("--width", type=click.IntRange(min=40), help="Table width (default: the terminal's)."),
        click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                     help="Write to this file instead of standard output."),
        click.option("--force", is_flag=True, help="Overwrite the -o file if it exists."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
@output_options
def analyze(spec: Path, settings: tuple[str, ...], input_shapes: tuple[str, ...], depth: int | None,
            **options: Any) -> None:
    """Per-layer shapes and costs of SPEC, with totals and the assumptions behind them."""
    import cnncalc

    overrides = dict(_pair(item, "--set", _scalar) for item in settings)
    inputs = dict(_input(item) for item in input_shapes)
    try:
        report = cnncalc.analyze(spec, overrides=overrides, inputs=inputs, batch=options["batch"],
                                 dtype=options["dtype"], convention=options["convention"],
                                 optimizer=options["optimizer"])
    except SpecError as error:
        _fail(str(error))
    _emit(report, depth, options)


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
        report = analyze_layer(layer_type, [_shape(text) for text in input_shapes], values,
                               batch=options["batch"] or 1, dtype=options["dtype"] or "float32",
                               convention=options["convention"], optimizer=options["optimizer"])
    except SpecError as error:
        _fail(str(error))
    if options["output_format"] == "table":
        from .render.summary import render_single_layer

        _write(render_single_layer(report), options)
        return
    _emit(report, None, options)


@main.command()
@click.argument("layer_type", metavar="[TYPE]", required=False)
def explain(layer_type: str | None) -> None:
    """Every layer type, or one type's formulas, fields and cost in each convention."""
    from .explain import describe_type, list_types

    if layer_type is None:
        click.echo(list_types())
        return
    try:
        click.echo(describe_type(layer_type))
    except SpecError as error:
        _fail(str(error))


def _pair(text: str, option: str, convert: Callable[[str], Any]) -> tuple[str, Any]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        _fail(f"{option} {text}: write NAME=VALUE")
    return name.strip(), convert(value.strip())


def _input(text: str) -> tuple[str, tuple[int, ...]]:
    name, sep, shape = text.rpartition("=")
    try:
        return name.strip(), _shape(shape)
    except click.BadParameter as error:
        _fail(f"--input {text}: {error.message}")
        raise


def _layer_fields(arguments: list[str]) -> dict[str, Any]:
    """`--out-channels 33 --bias false` -> {"out_channels": 33, "bias": False}."""
    values: dict[str, Any] = {}
    index = 0
    while index < len(arguments):
        key = arguments[index]
        if not key.startswith("--") or len(key) < 3:
            _fail(f"unexpected argument '{key}'; give fields as --name value")
        name, sep, inline = key[2:].partition("=")
        if sep:
            raw, index = inline, index + 1
        elif index + 1 < len(arguments):
            raw, index = arguments[index + 1], index + 2
        else:
            _fail(f"{key} needs a value")
        values[name.replace("-", "_")] = _scalar(raw)
    return values


def _emit(report: Any, depth: int | None, options: dict[str, Any]) -> None:
    """Render in the chosen format, then print or write it whole (never half a table)."""
    from .render.columns import DEFAULT_COLUMNS, FULL_CONVENTION_COLUMNS, parse_columns
    from .report import fold

    output: Path | None = options["output"]
    try:
        default = FULL_CONVENTION_COLUMNS if options["convention"] == "full" else DEFAULT_COLUMNS
        columns = parse_columns(options["columns"]) if options["columns"] else default
    except ValueError as error:
        _fail(f"--columns: {error}")
    rows = fold(report.layers, depth)
    form = options["output_format"]
    if form == "json":
        from .render.formats import render_json
        text = render_json(report)
    elif form == "csv":
        from .render.formats import render_csv
        text = render_csv(report, rows)
    elif form == "markdown":
        from .render.formats import render_markdown
        text = render_markdown(report, rows, columns)
    else:
        from .render.table import render_table
        import shutil

        to_terminal = output is None and sys.stdout.isatty()
        width = options["width"] or (shutil.get_terminal_size().columns if to_terminal else 100)
        text = render_table(report, rows, columns, width, color=to_terminal)
    _write(text, options)


def _write(text: str, options: dict[str, Any]) -> None:
    output: Path | None = options["output"]
    if output is None:
        click.echo(text, nl=False)
        return
    if output.exists() and not options["force"]:
        _fail(f"{output} exists; add --force to overwrite it")
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        _fail(f"cannot write {output}: {error.strerror or error}")
    click.echo(f"wrote {output}", err=True)
