"""`cnncalc chips`: the chip table, or one chip with its sources."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import SpecError
from .common import (
    CHIP_FORMATS,
    examples,
    fail,
    layout_width,
    width_option,
)
from .output import echo


@click.command(epilog=examples("cnncalc chips", "cnncalc chips jetson-orin-nano-8gb"))
@click.argument("chip_id", metavar="[ID]", required=False)
@click.option("--chips", "chips_file", type=click.Path(dir_okay=False, path_type=Path),
              help="A YAML file of extra chips (also CNNCALC_CHIPS).")
@click.option("--format", "output_format", type=click.Choice(CHIP_FORMATS), default="table", show_default=True,
              help="table, json or markdown.")
@width_option
def chips(chip_id: str | None, chips_file: Path | None, output_format: str, width: int | None) -> None:
    """The chip table: peaks per precision, bandwidth, power and sources; or one chip."""
    from ..chips import find_chip, load_chips
    from ..render.fps import render_chip, render_chips

    try:
        table = load_chips(chips_file)
        columns = layout_width({"width": width, "output": None})
        text = render_chip(find_chip(chip_id, table), output_format, columns) if chip_id else \
            render_chips(list(table.values()), output_format, columns)
    except SpecError as error:
        fail(str(error))
    echo(text)

