"""`cnncalc check`: the CI gate. Exit 0 when every budget holds, 1 when one is exceeded,
2 on a bad spec or command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..errors import SpecError
from .common import examples, fail, file_options, input_shape, layout_width, pair, scalar, use_color, width_option
from .output import write

CHECK_FORMATS = ("table", "json", "markdown", "github", "junit")


@click.command(epilog=examples(
    "cnncalc check specs/*.yaml",
    "cnncalc check net.yaml --budget params=5M --budget flops=1.2G",
    "cnncalc check models/*.yaml --format markdown -o budgets.md"))
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
@click.option("--skip-unbudgeted", is_flag=True,
              help="List a spec without budgets as 'no budgets' even when it is the only one (the pre-commit "
                   "hook's setting); by default only several specs skip them.")
@width_option
@file_options
def check(specs: tuple[Path, ...], budget_items: tuple[str, ...], **options: Any) -> None:
    """Check each SPEC's budgets (and --budget ones): exit 0 when all hold, 1 when one is exceeded.

    Of several specs, one without budgets is listed as "no budgets" and skipped; a spec given
    alone without budgets is an error (unless --skip-unbudgeted).
    """
    import cnncalc

    from ..budgets import check as check_budgets
    from ..budgets import parse_budget, parse_budgets
    from ..chips import load_chips
    from ..render.check import render_check

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
            if not budgets and len(specs) == 1 and not options["skip_unbudgeted"]:
                raise SpecError(f"{spec}: no budgets to check",
                                hint="add budgets: {params: 5M, flops: 1.2G} to the spec, or give --budget params=5M")
            checked.append((str(spec), report.name, check_budgets(report, list(budgets.values()), chips)))
    except SpecError as error:
        fail(str(error))
    write(render_check(checked, options["output_format"], options["convention"], layout_width(options),
                       use_color(options)), options)
    if not all(outcome.passed for _, _, outcomes in checked for outcome in outcomes):
        sys.exit(1)


def _budget_value(text: str) -> Any:
    """`5M` stays text (units are parsed by the budget); `{chip: x, min: 30}` is a mapping."""
    return scalar(text) if text.lstrip().startswith("{") else text
