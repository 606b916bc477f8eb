"""Reading the files a user names (regular files only, never more than a bound) and
writing the ones cnncalc makes (whole or not at all, never through a link).

A path to a device (`/dev/zero`, `/dev/urandom`), a FIFO or a folder is refused before a
byte is read, and a file past its bound is refused rather than read into memory, so no
file can make cnncalc hang or run out of memory. The bounds are in docs/limits.md.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO, Callable

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


# -- writing: the whole file or nothing, and never through a link ----------------------------------

def check_writable(path: str | os.PathLike[str], force: bool) -> None:
    """Refuse before any work: an existing file or any symbolic link (dangling or not)
    without --force. With --force the link itself is replaced, never written through."""
    path = Path(path)
    with contextlib.suppress(OSError):
        kind = os.lstat(path).st_mode
        if not (stat.S_ISREG(kind) or stat.S_ISLNK(kind)):  # a device, FIFO or socket: never replaced
            raise SpecError(f"cannot write {path}: not a regular file", hint="name a file to write the output to")
    if force:
        return
    if path.is_symlink():
        raise SpecError(f"{path} is a symbolic link; cnncalc does not write through links",
                        hint="name the file itself, or add --force to replace the link with the file")
    if os.path.lexists(path):
        raise SpecError(f"{path} exists; add --force to overwrite it")


def write_atomic(path: str | os.PathLike[str], content: bytes | Callable[[BinaryIO], None], force: bool) -> None:
    """Write `content` (bytes, or a function writing to a binary file) to a temporary file
    beside `path`, then put it in place: `os.replace` with --force, so a kill or a full
    disk leaves the old file whole; without it `os.link`, which fails when the name was
    taken meanwhile, so two processes never both create it. The temporary file is removed
    on any failure."""
    path = Path(path)
    check_writable(path, force)
    try:
        import tempfile  # here: 4 ms of start-up that a command printing to the terminal never needs

        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name[:100]}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise SpecError(f"cannot write {path}: {error.strerror or error}") from None
    try:
        os.fchmod(descriptor, _mode_for(path))
        with os.fdopen(descriptor, "wb") as handle:
            if callable(content):
                content(handle)
            else:
                handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())  # the bytes are on disk before the name points at them
        if force:
            os.replace(temporary, path)
        else:
            _create_exclusively(temporary, path)
    except OSError as error:
        raise SpecError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def _create_exclusively(temporary: str, path: Path) -> None:
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise SpecError(f"{path} exists; add --force to overwrite it") from None
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        # A file system without hard links: claim the name exclusively, then replace it.
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600))
        except FileExistsError:
            raise SpecError(f"{path} exists; add --force to overwrite it") from None
        os.replace(temporary, path)


def _mode_for(path: Path) -> int:
    """An overwritten regular file keeps its permissions; a new one gets the umask's."""
    with contextlib.suppress(OSError):
        status = os.lstat(path)
        if stat.S_ISREG(status.st_mode):
            return stat.S_IMODE(status.st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
