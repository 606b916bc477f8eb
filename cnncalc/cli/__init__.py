"""The command line: a thin click layer over the library. The only code that knows click.

One module per command; this module assembles the group (`add_command`), and no command
module imports another command or the group. common.py holds the shared options and value
parsing, output.py the one way to print or write, report_output.py the report renderer.
"""

from __future__ import annotations

import gc
import importlib
from typing import Any

import click

from ..version import __version__
from .output import stdout_failed

# Each command's module and function, imported when the command runs (or when --help or a
# test lists them all): a run builds the options of its own command only.
COMMANDS = {
    "analyze": ("analyze", "analyze"), "layer": ("layer", "layer"), "explain": ("explain", "explain"),
    "export": ("export", "export"), "import": ("import_model", "import_command"), "fps": ("fps", "fps"),
    "chips": ("chips", "chips"), "check": ("check", "check"), "diff": ("diff", "diff"),
    "schema": ("schema", "schema"),
}


class _LazyCommands(dict[str, click.Command]):
    """click's table of commands, filled from COMMANDS on first use; listing fills it all."""

    def __missing__(self, name: str) -> click.Command:
        module, function = COMMANDS[name]
        command: click.Command = getattr(importlib.import_module(f"{__name__}.{module}"), function)
        self[name] = command
        return command

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        return self[name] if name in COMMANDS else default

    def _all(self) -> None:
        for name in COMMANDS:
            self[name]  # noqa: B018 (fills the entry)

    def __iter__(self) -> Any:
        self._all()
        return super().__iter__()

    def __len__(self) -> int:
        self._all()
        return super().__len__()

    def keys(self) -> Any:
        self._all()
        return super().keys()

    def values(self) -> Any:
        self._all()
        return super().values()

    def items(self) -> Any:
        self._all()
        return super().items()


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


@click.group(cls=_Commands, commands=_LazyCommands(), context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cnncalc")
def main() -> None:
    """Shapes, parameters, MACs, FLOPs, memory and receptive fields of convolutional networks,
    from a YAML spec, without a framework or a GPU."""
    # A short-lived process: the cyclic collector only slows the building of 100,000 records.
    gc.disable()

