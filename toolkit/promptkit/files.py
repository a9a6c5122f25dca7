"""Reading a file a user (or someone else) handed over: only a regular file, and never more than a
bound, checked before the read. A path can name a FIFO (``open`` would wait forever), a device
(``/dev/zero`` never ends) or a 3 GB file; each is refused in one line, before any byte is read.
Writing one: :func:`write_atomic`, so that a reader never sees half a file.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from promptkit.errors import PromptkitError

MB = 1 << 20


class FileRefused(PromptkitError):
    """A path that is not a regular file, or a file over its bound."""

    exit_code = 2


def check_regular(path: Path, what: str, limit: int) -> int:
    """The size of ``path`` (its target, for a symlink) if it is a regular file of at most
    ``limit`` bytes.

    Raises:
        FileNotFoundError: no such file (callers word it for their file).
        FileRefused: a directory, FIFO, socket or device, or a file over ``limit``.
    """
    info = os.stat(path)  # never opens: a FIFO is refused without blocking
    if not stat.S_ISREG(info.st_mode):
        kind = ("a directory" if stat.S_ISDIR(info.st_mode) else "a FIFO" if stat.S_ISFIFO(info.st_mode)
                else "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else "not a regular file")
        raise FileRefused(f"{path}: {what} is {kind}; give a regular file")
    if info.st_size > limit:
        raise FileRefused(f"{path}: {what} is {info.st_size:,} bytes; at most {limit:,} are read "
                          f"({limit // MB} MiB)")
    return info.st_size


def read_bytes(path: str | Path, what: str, limit: int) -> bytes:
    """At most ``limit`` bytes of a regular file (see :func:`check_regular`); a file that grows
    past the bound while it is read is refused too."""
    path = Path(path)
    check_regular(path, what, limit)
    with path.open("rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise FileRefused(f"{path}: {what} is over {limit:,} bytes; at most {limit:,} are read")
    return data


def read_text(path: str | Path, what: str, limit: int) -> str:
    """:func:`read_bytes` decoded as UTF-8 (``UnicodeDecodeError`` for callers to word)."""
    return read_bytes(path, what, limit).decode("utf-8")


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file, fsync and rename, so readers never see half a file; the file's
    mode follows the umask like any other file the user creates."""
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a report is as readable as any file the user writes
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())  # on disk before the rename makes it the file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
