"""Atomic file writes: a temporary file in the same folder, renamed into place.

A reader sees either the old file or the complete new one, never a half-written file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_writable(path: Path, option: str, *, replace: bool = True) -> None:
    """Refuse, before any work, an output file ``write_atomic`` could not write: one whose
    folder is missing or not writable (read-only, /proc), or that is a directory (or, without
    ``replace``, that exists at all). ``option`` (``--out``) names it in the one-line
    ``ValueError``. The folder is proven writable the way ``write_atomic`` writes: a temporary
    file created there and removed."""
    path = Path(path)
    shown = f"{option} {str(path)!r}"
    if path.is_dir():
        raise ValueError(f"{shown} is a directory; name a file to write")
    if not replace and (path.exists() or path.is_symlink()):
        raise ValueError(f"{shown} exists; choose another file or remove it")
    folder = path.parent
    if not folder.is_dir():
        raise ValueError(f"{shown}: folder {str(folder)!r} does not exist")
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ValueError(f"{shown}: cannot write in folder {str(folder)!r} ({reason})") from None


def write_atomic(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Call ``write(f)`` on a temporary file next to ``path``, then rename it to ``path``."""
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates the file 0600; give it the mode a plain open() would have.
        os.fchmod(fd, 0o666 & ~_current_umask())
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: Path, data: bytes) -> None:
    def write(f: IO[bytes]) -> None:
        f.write(data)

    write_atomic(path, write)


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))
