"""How every command writes: the whole output to standard output, or to the -o file through
files.write_atomic; a full disk is one message and status 2, a closed pipe a quiet exit."""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path
from collections.abc import Iterable
from typing import Any

import click

from ..errors import SpecError
from .common import fail

# `cnncalc ... | head`: the reader left. No message, and the status a shell reports for a
# tool that SIGPIPE ended (`yes | head`), so a pipeline under `set -o pipefail` sees what it
# sees from any other tool, and it is never read as 0 (all budgets hold) or 1 (one exceeded).
BROKEN_PIPE_STATUS = 128 + 13


def echo(text: str) -> None:
    """Print to standard output; a full disk is one message and status 2, a closed pipe a quiet exit."""
    try:
        click.echo(text, nl=False)  # click flushes: a full device answers here, not at exit
    except OSError as error:
        stdout_failed(error)


def stdout_failed(error: OSError) -> None:
    """Standard output cannot be written: stop writing it, then exit (never a traceback)."""
    _detach_stdout()
    if error.errno == errno.EPIPE:
        sys.exit(BROKEN_PIPE_STATUS)
    fail(f"cannot write standard output: {error.strerror or error}")


def _detach_stdout() -> None:
    """Point standard output at /dev/null, so the interpreter's last flush of what is left
    in its buffer does not fail again at exit."""
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a real file (click's test runner)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, descriptor)
    os.close(null)


def write(text: str | Iterable[str], options: dict[str, Any]) -> None:
    """The whole output to standard output, or to the -o file (files.write_atomic). Text in
    pieces (a million-layer JSON report) is written piece by piece, once all is computed."""
    from ..files import write_atomic
    from ..render.escape import display

    output: Path | None = options["output"]
    pieces = [text] if isinstance(text, str) else text
    if output is None:
        for piece in pieces:
            echo(piece)
        return
    try:
        write_atomic(output, lambda handle: handle.writelines(piece.encode("utf-8") for piece in pieces),
                     options["force"])
    except SpecError as error:
        fail(str(error))
    click.echo(f"wrote {display(str(output))}", err=True)


def check_output(path: Path | None, force: bool) -> None:
    """Refuse an -o (or --plot) file that exists, or is a link, before any slow work."""
    from ..files import check_writable

    if path is None:
        return
    try:
        check_writable(path, force)
    except SpecError as error:
        fail(str(error))
