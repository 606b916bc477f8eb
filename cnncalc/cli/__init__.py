"""The command line: a thin click layer over the library. The only code that knows click.

One module per command; this module assembles the group (`add_command`), and no command
module imports another command or the group. common.py holds the shared options and value
parsing, output.py the one way to print or write, report_output.py the report renderer.
"""

from __future__ import annotations

import gc
from typing import Any

import click

from ..version import __version__
from .analyze import analyze
from .check import check
from .chips import chips
from .diff import diff
from .explain import explain
from .export import export
from .fps import fps
from .import_model import import_command
from .layer import layer
from .output import stdout_failed
from .schema import schema


class _Commands(click.Group):
    """click's group, plus the same answer as `echo`'s when standard output fails in click's
    own printing (--help or --version into a full disk)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().main(*args, **kwargs)
        except OSError as error:
            if error.filename is not None:  # a file, not standard output: a defect to see whole
                raise
            stdout_failed(error)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cnncalc")
def main() -> None:
    """Shapes, parameters, MACs, FLOPs, memory and receptive fields of convolutional networks,
    from a YAML spec, without a framework or a GPU."""
    # A short-lived process: the cyclic collector only slows the building of 100,000 records.
    gc.disable()


for command in (analyze, layer, explain, export, import_command, fps, chips, check, diff, schema):
    main.add_command(command)
