"""`cnncalc export SPEC --torch`: the spec as the Python source of a PyTorch module."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..errors import SpecError
from .common import examples, fail, input_shape, pair, scalar
from .output import check_output, write


@click.command(epilog=examples("cnncalc export specs/resnet18.yaml --torch -o resnet18.py"))
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--torch", "as_torch", is_flag=True,
              help="Write a PyTorch nn.Module: same layers, names and parameter counts. Needs cnncalc[torch].")
@click.option("--set", "settings", multiple=True, metavar="NAME=VALUE", help="Override a global parameter.")
@click.option("--input", "input_shapes", multiple=True, metavar="[NAME=]CxHxW", help="Replace an input's shape.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
@click.option("--force", is_flag=True, help="Overwrite the -o file if it exists.")
def export(spec: Path, as_torch: bool, settings: tuple[str, ...], input_shapes: tuple[str, ...],
           **options: Any) -> None:
    """SPEC as the source of a framework's model: --torch writes a PyTorch module."""
    if not as_torch:
        fail("cnncalc export: say what to export: --torch (a PyTorch nn.Module, as Python source)")
    overrides = dict(pair(item, "--set", scalar) for item in settings)
    inputs = dict(input_shape(item) for item in input_shapes)
    check_output(options["output"], options["force"])  # before the slow import of torch
    try:
        from ..torch import module_source

        text = module_source(spec, overrides=overrides, inputs=inputs)
    except SpecError as error:
        fail(str(error))
    write(text, options)
