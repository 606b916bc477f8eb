"""Reading the files a user names: regular files only, and never more than a bound.

A path to a device (`/dev/zero`, `/dev/urandom`), a FIFO or a folder is refused before a
byte is read, and a file past its bound is refused rather than read into memory, so no
file can make cnncalc hang or run out of memory. The bounds are in docs/limits.md.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import SpecError

TEXT_LIMIT = 100 * 2**20  # a spec, .cfg, .prototxt, chip file or JSON report; a million-layer spec is ~30 MB
ONNX_LIMIT = 2 * 2**30  # protobuf's own limit for one message
_CHUNK = 2**20


def read_bounded(path: str | os.PathLike[str], limit: int = TEXT_LIMIT, hint: str | None = None) -> bytes:
    """The bytes of the regular file at `path`, or a SpecError naming it."""
    path = Path(path)
    try:
        # O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting forever.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        raise SpecError(f"cannot read {path}: {error.strerror or error}", hint=hint) from None
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise SpecError(f"cannot read {path}: not a regular file", hint=hint)
    with os.fdopen(descriptor, "rb") as handle:
        chunks, size = [], 0
        try:
            while chunk := handle.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise SpecError(f"{path} is larger than {limit // 2**20:,} MiB, the most cnncalc reads",
                                    hint="give the model file itself; docs/limits.md lists the limits")
                chunks.append(chunk)
        except OSError as error:
            raise SpecError(f"cannot read {path}: {error.strerror or error}", hint=hint) from None
    return b"".join(chunks)
