"""`cnncalc explain`: every layer type, or one type's formulas, fields and costs."""

from __future__ import annotations

import click

from ..errors import SpecError
from .common import (
    fail,
)
from .output import echo


@click.command()
@click.argument("layer_type", metavar="[TYPE]", required=False)
def explain(layer_type: str | None) -> None:
    """Every layer type, or one type's formulas, fields and cost in each convention."""
    from ..explain import describe_type, list_types

    if layer_type is None:
        echo(list_types() + "\n")
        return
    try:
        echo(describe_type(layer_type) + "\n")
    except SpecError as error:
        fail(str(error))
