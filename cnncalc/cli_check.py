"""`cnncalc check`: the CI gate. Exit 0 when every budget holds, 1 when one is exceeded,
2 on a bad spec or command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from .cli import main
from .cli_common import fail, file_options, input_shape, pair, scalar
from .cli_output import write
from .errors import SpecError

CHECK_FORMATS = ("table", "json", "markdown", "github", "junit")


@main.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--budget", "budget_items", multiple=True, metavar="KEY=VALUE",
              help="A budget that overrides the spec's, e.g. params=5M, flops=1.2G, peak_activations=64MiB.")
@click.option("--set", "settings", multiple=True, metavar="NAME=VALUE", help="Override a global parameter.")
@click.option("--input", "input_shapes", multiple=True, metavar="[NAME=]CxHxW", help="Replace an input's shape.")
@click.option("--batch", type=click.IntRange(min=1), help="Batch size (default: the spec's).")
@click.option("--dtype", type=click.Choice(["float32", "float16", "bfloat16", "int8"]), help="Element type.")
@click.option("--convention", type=click.Choice(["2mac", "mac", "full"]), default="2mac", show_default=True,
              help="The convention flops budgets are counted in.")
@click.option("--optimizer", type=click.Choice(["sgd", "momentum", "adam"]), default="adam", show_default=True,
              help="Optimizer state counted in the training budget.")
@click.option("--chips", "chips_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Extra chips for fps budgets (also CNNCALC_CHIPS).")
@click.option("--format", "output_format", type=click.Choice(CHECK_FORMATS), default="table", show_default=True,
              help="table, json, markdown (a pull-request comment), github (annotations) or junit.")
@file_options
def check(specs: tuple[Path, ...], budget_items: tuple[str, ...], **options: Any) -> None:
    """Check each SPEC's budgets (and --budget ones): exit 0 when all hold, 1 when one is exceeded."""
    import cnncalc

    from .budgets import check as check_budgets
    from .budgets import parse_budget, parse_budgets
    from .chips import load_chips
    from .render.check import render_check

    overrides = dict(pair(item, "--set", scalar) for item in options["settings"])
    inputs = dict(input_shape(item) for item in options["input_shapes"])
    checked = []
    try:
        given = [parse_budget(key, value, None) for key, value in
                 (pair(item, "--budget", _budget_value) for item in budget_items)]
        chips = load_chips(options["chips_file"])
        for spec in specs:
            report = cnncalc.analyze(spec, overrides=overrides, inputs=inputs, batch=options["batch"],
                                     dtype=options["dtype"], convention=options["convention"],
                                     optimizer=options["optimizer"])
            budgets = {budget.key: budget for budget in parse_budgets(report.graph.budgets, report.source)}
            budgets.update({budget.key: budget for budget in given})
            if not budgets:
                raise SpecError(f"{spec}: no budgets to check",
                                hint="add budgets: {params: 5M, flops: 1.2G} to the spec, or give --budget params=5M")
            checked.append((str(spec), report.name, check_budgets(report, list(budgets.values()), chips)))
    except SpecError as error:
        fail(str(error))
    write(render_check(checked, options["output_format"], options["convention"]), options)
    if not all(outcome.passed for _, _, outcomes in checked for outcome in outcomes):
        sys.exit(1)


def _budget_value(text: str) -> Any:
    """`5M` stays text (units are parsed by the budget); `{chip: x, min: 30}` is a mapping."""
    return scalar(text) if text.lstrip().startswith("{") else text


@main.command()
@click.argument("base", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("head", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--fail-above", "thresholds", multiple=True, metavar="[TOTAL=]N%",
              help="Exit 1 when a total grows more than this: 5% for every total, flops=2% for one.")
@click.option("--allow-convention-change", is_flag=True,
              help="Compare reports whose FLOP convention, dtype, batch or inputs differ.")
@click.option("--set", "settings", multiple=True, metavar="NAME=VALUE", help="Override a parameter of both specs.")
@click.option("--convention", type=click.Choice(["2mac", "mac", "full"]), default="2mac", show_default=True,
              help="Convention for specs analysed now (a JSON report keeps its own).")
@click.option("--format", "output_format", type=click.Choice(CHECK_FORMATS), default="table", show_default=True,
              help="table, json, markdown, github or junit.")
@file_options
def diff(base: Path, head: Path, thresholds: tuple[str, ...], **options: Any) -> None:
    """Compare two specs, or JSON reports from `analyze --format json` (a stored baseline):
    totals with deltas, and layers added, removed or changed."""
    from .diff import compare, growth_failures, load_analysis, parse_threshold
    from .render.diff import render_diff

    analyze_options = {"overrides": dict(pair(item, "--set", scalar) for item in options["settings"]),
                       "convention": options["convention"]}
    try:
        limits = [parse_threshold(text) for text in thresholds]
        result = compare(load_analysis(base, analyze_options), load_analysis(head, analyze_options), str(base),
                         str(head), options["allow_convention_change"])
    except SpecError as error:
        fail(str(error))
    failures = growth_failures(result, limits)
    write(render_diff(result, failures, options["output_format"]), options)
    if failures:
        sys.exit(1)
