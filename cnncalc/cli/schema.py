"""`cnncalc schema`: the JSON Schema of the spec format, for editors and other tools."""

from __future__ import annotations

from typing import Any

import click

from .common import examples, file_options
from .output import write


@click.command(epilog=examples(
    "cnncalc schema -o spec.schema.json",
    "then, on a spec's first line: # yaml-language-server: $schema=spec.schema.json"))
@file_options
def schema(**options: Any) -> None:
    """The JSON Schema (draft-07) of the spec format: keys, layer types and their fields."""
    from ..schema import schema_text

    write(schema_text(), options)
