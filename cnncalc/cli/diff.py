"""`cnncalc diff`: two specs or stored JSON reports compared, with --fail-above."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..errors import SpecError
from .common import (
    bandwidth,
    chip_options,
    examples,
    fail,
    file_options,
    layout_width,
    pair,
    resolve_compute,
    scalar,
    width_option,
)
from .output import write

CHECK_FORMATS = ("table", "json", "markdown", "github", "junit")


@click.command(epilog=examples(
    "cnncalc diff specs/resnet18.yaml specs/resnet34.yaml",
    "cnncalc diff baseline.json net.yaml --fail-above 5% --format markdown",
    "cnncalc diff specs/resnet18.yaml specs/resnet34.yaml --chip jetson-orin-nano-8gb --fps 200"))
@click.argument("base", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("head", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--fail-above", "thresholds", multiple=True, metavar="[TOTAL=]N%",
              help="Exit 1 when a total grows more than this: 5% for params, macs, flops, weights and "
                   "peak_activations; flops=2% (or buffers, activations, training) for one.")
@click.option("--allow-convention-change", is_flag=True,
              help="Compare reports whose FLOP convention, dtype, batch or inputs differ.")
@click.option("--set", "settings", multiple=True, metavar="NAME=VALUE", help="Override a parameter of both specs.")
@click.option("--convention", type=click.Choice(["2mac", "mac", "full"]), default="2mac", show_default=True,
              help="Convention for specs analysed now (a JSON report keeps its own).")
@click.option("--format", "output_format", type=click.Choice(CHECK_FORMATS), default="table", show_default=True,
              help="table, json, markdown, github or junit.")
@chip_options
@width_option
@file_options
def diff(base: Path, head: Path, thresholds: tuple[str, ...], **options: Any) -> None:
    """Compare two specs, or JSON reports from `analyze --format json` (a stored baseline):
    totals with deltas, and layers added, removed or changed; with --chip, the fps of both
    sides and its change (exit 1 when HEAD misses --fps)."""
    from ..diff import compare, growth_failures, load_sides, parse_threshold, with_fps
    from ..render.diff import render_diff

    analyze_options = {"overrides": dict(pair(item, "--set", scalar) for item in options["settings"]),
                       "convention": options["convention"]}
    if options["chip_id"] is None:
        for name in ("target_fps", "precision", "bandwidth"):
            if options[name] is not None:
                fail(f"--{name.replace('target_', '')} needs --chip")
    try:
        limits = [parse_threshold(text) for text in thresholds]
        (base_json, base_report), (head_json, head_report) = (load_sides(path, analyze_options)
                                                              for path in (base, head))
        result = compare(base_json, head_json, str(base), str(head), options["allow_convention_change"])
        if options["chip_id"] is not None:
            compute = resolve_compute(options, bandwidth(options["bandwidth"]))
            result = with_fps(result, base_report, head_report, compute, options["target_fps"],
                              options["utilization"])
    except SpecError as error:
        fail(str(error))
    failures = growth_failures(result, limits)
    write(render_diff(result, failures, options["output_format"], layout_width(options)), options)
    if failures or (result.on_chip is not None and result.on_chip.head_passed is False):
        sys.exit(1)
