"""`cnncalc fps` and `cnncalc chips`, and the chip options `analyze` shares with `fps`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..errors import SpecError
from .common import (
    CHIP_FORMATS,
    PositiveNumber,
    bandwidth,
    chip_calibration,
    chip_options,
    fail,
    file_options,
    input_shape,
    layout_width,
    pair,
    resolve_compute,
    scalar,
    width_option,
)
from .output import write


@click.command(epilog="\b\nExamples:\n  cnncalc fps --tops 8 --fps 30\n"
                      "  cnncalc fps --spec specs/resnet50.yaml --chip jetson-orin-nano-8gb --fps 30")
@click.option("--flops", metavar="N", help="FLOPs per frame, e.g. 4.1G, in the --convention given.")
@click.option("--macs", metavar="N", help="MACs per frame, e.g. 2.05G (counted as 2 ops each).")
@click.option("--spec", type=click.Path(dir_okay=False, path_type=Path), help="Take the work from this spec.")
@click.option("--set", "settings", multiple=True, metavar="NAME=VALUE", help="With --spec: a parameter.")
@click.option("--input", "input_shapes", multiple=True, metavar="[NAME=]CxHxW", help="With --spec: an input shape.")
@click.option("--batch", type=click.IntRange(min=1), help="With --spec: the batch (fps counts samples).")
@click.option("--tops", type=PositiveNumber(), help="Peak in tera-ops/s (int8 unless --precision).")
@click.option("--tflops", type=PositiveNumber(),
              help="Peak in tera-FLOPS (fp16 unless --precision).")
@chip_options
@click.option("--convention", type=click.Choice(["2mac", "mac", "full"]), default="2mac", show_default=True,
              help="How --flops counts: 2mac (chip ops), mac (doubled), full.")
@click.option("--format", "output_format", type=click.Choice(CHIP_FORMATS), default="table", show_default=True,
              help="table, json or markdown.")
@file_options
@width_option
def fps(**options: Any) -> None:
    """Frames per second on a chip: give two of the work per frame (--flops, --macs or --spec),
    the compute (--chip, --tops or --tflops) and a target (--fps); get the third. Exit 1 when
    a target is not met."""
    from ..fps import OPS_PER_FLOP, on_chip, solve
    from ..render.fps import render_fps
    work = [name for name in ("flops", "macs", "spec") if options[name] is not None]
    if len(work) > 1:
        fail("give one of --flops, --macs and --spec")
    try:
        compute = resolve_compute(options, bandwidth(options["bandwidth"]))
        ops_per_frame = None
        if options["flops"] is not None or options["macs"] is not None:
            option = "--flops" if options["flops"] is not None else "--macs"
            scale = OPS_PER_FLOP[options["convention"]] if option == "--flops" else 2
            ops_per_frame = _work(option, options[option[2:]]) * scale
        if options["spec"] is not None and compute is not None:
            answer, _ = on_chip(_analyze(options), compute, options["target_fps"], options["utilization"],
                                not options["no_fuse"], chip_calibration(options))
        else:
            if options["spec"] is not None:
                report = _analyze(options)
                ops_per_frame = report.totals.flops * OPS_PER_FLOP[options["convention"]] / report.assumptions.batch
            answer = solve(ops_per_frame, compute, options["target_fps"], options["utilization"],
                           options["convention"])
    except SpecError as error:
        fail(str(error))
    except ValueError as error:
        fail(str(error))
    write(render_fps(answer, options["output_format"], layout_width(options), options["spec"] is not None), options)
    if answer.passed is False:
        sys.exit(1)


def _work(option: str, text: str) -> float:
    """--flops or --macs: a finite count > 0 (no work per frame has no frame rate)."""
    from ..units import parse_count

    try:
        count = parse_count(text)
    except ValueError as error:
        fail(f"{option} {text}: {error}")
        raise
    if count <= 0:
        fail(f"{option} {text}: the work per frame must be more than 0")
    return count


def _analyze(options: dict[str, Any]) -> Any:
    import cnncalc

    overrides = dict(pair(item, "--set", scalar) for item in options["settings"])
    inputs = dict(input_shape(item) for item in options["input_shapes"])
    return cnncalc.analyze(options["spec"], overrides=overrides, inputs=inputs, batch=options["batch"],
                           convention=options["convention"])
