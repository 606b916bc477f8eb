"""`cnncalc explain`: every layer type, or one type's formulas, fields and costs."""

from __future__ import annotations

from typing import Any

import click

from ..errors import SpecError
from .common import (
    complete_topics,
    examples,
    fail,
    layout_width,
    width_option,
)
from .output import echo


@click.command(epilog=examples("cnncalc explain conv2d     # a layer type's formulas",
                              "cnncalc explain outputs    # a spec key: outputs, blocks, budgets, from, ..."))
@click.argument("layer_type", metavar="[TYPE|KEY]", required=False, shell_complete=complete_topics)
@width_option
def explain(layer_type: str | None, **options: Any) -> None:
    """Every layer type and spec key, or one type's formulas, fields and cost in each
    convention, or what one spec key (outputs, blocks, budgets, from, ...) means."""
    from ..explain import describe, list_types

    if layer_type is None:
        echo(list_types(layout_width({**options, "output": None})) + "\n")
        return
    try:
        echo(describe(layer_type) + "\n")
    except SpecError as error:
        fail(str(error))
