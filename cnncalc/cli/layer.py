"""`cnncalc layer`: one layer on its own, its fields given as options."""

from __future__ import annotations

from typing import Any

import click

from ..errors import SpecError
from .common import (
    examples,
    fail,
    layer_options,
    layout_width,
    scalar,
    shape,
    warn,
)
from .output import write
from .report_output import emit_report


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True}, epilog=examples(
    "cnncalc layer conv2d --input 16x50x100 --out-channels 33 --kernel-size 3x5 --stride 2x1",
    "cnncalc layer concat --input 16x8x8 --input 32x8x8"))
@click.argument("layer_type", metavar="TYPE")
@click.option("--input", "input_shapes", multiple=True, required=True, metavar="CxHxW",
              help="Per-sample input shape; give it twice or more for add, concat, ...")
@layer_options
@click.pass_context
def layer(context: click.Context, /, layer_type: str, input_shapes: tuple[str, ...], **options: Any) -> None:
    """One layer on its own: its output shape, parameters, MACs and FLOPs.

    Fields are named as in the spec, with dashes: --out-channels 33 --kernel-size 3x5 --padding same.
    """
    from ..calculator import analyze_layer

    values = _layer_fields(context.args)
    try:
        report = analyze_layer(layer_type, [shape(text) for text in input_shapes], values,
                               batch=options["batch"] or 1, dtype=options["dtype"] or "float32",
                               convention=options["convention"])
    except SpecError as error:
        fail(str(error))
    from ..lint import dim_warnings

    warn(dim_warnings(report.graph))
    if options["output_format"] == "table":
        from ..render.summary import render_single_layer

        write(render_single_layer(report, layout_width(options)), options)
        return
    emit_report(report, None, {**options, "columns": None})


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
