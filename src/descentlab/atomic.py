"""Atomic file writes: a temporary file in the same folder, renamed into place.

Each write passes the phases ``before:NAME``, ``written:NAME`` and ``after:NAME`` of
``descentlab.faults`` (the test-only kill switch; nothing happens unless it is set).

A reader sees either the old file or the complete new one, never a half-written file. A
process killed while writing leaves its temporary file behind, named
``.<file name>.<8 random letters or digits>.tmp`` (``.tmp.gif`` and the like when the writer
needs the real extension): ``is_temporary`` recognises exactly these names, and
``remove_temporaries`` clears them from a folder its caller holds.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import IO

from descentlab import faults

_TEMPORARY = re.compile(r"\..+\.[0-9a-z_]{8}\.tmp(\.[0-9A-Za-z]+)?")
"""The names ``_create_temporary`` gives (8 hex digits; [0-9a-z_] also matches the names of
``tempfile.mkstemp``, which earlier versions used)."""


def is_temporary(name: str) -> bool:
    """Whether ``name`` is a temporary file name this module gives."""
    return _TEMPORARY.fullmatch(name) is not None


def _create_temporary(path: Path, keep_suffix: bool = False) -> tuple[int, Path]:
    """A new file next to ``path``, opened for writing, with the mode a plain ``open()``
    gives (0o666 less the umask): its descriptor and path."""
    suffix = ".tmp" + (path.suffix if keep_suffix else "")
    while True:
        temporary = path.parent / f".{path.name}.{secrets.token_hex(4)}{suffix}"
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
            return os.open(temporary, flags, 0o666), temporary
        except FileExistsError:  # 1 in 4 billion: draw another name
            continue


def check_writable(path: Path, option: str, *, replace: bool = True) -> None:
    """Refuse, before any work, an output file ``write_atomic`` could not write: one whose
    folder is missing or not writable (read-only, /proc), or that is a directory (or, without
    ``replace``, that exists at all). ``option`` (``--out``) names it in the one-line
    ``ValueError``. The folder is proven writable the way ``write_atomic`` writes: a temporary
    file created there and removed."""
    path = Path(path)
    shown = f"{option} {str(path)!r}"
    folder = path.parent
    try:  # a name too long, a loop of links: the lookups themselves fail
        if path.is_dir():
            raise ValueError(f"{shown} is a directory; name a file to write")
        if not replace and (path.exists() or path.is_symlink()):
            raise ValueError(f"{shown} exists; choose another file or remove it")
        if folder.exists() and not folder.is_dir():
            raise ValueError(f"{shown}: {str(folder)!r} is not a folder")
        if not folder.is_dir():
            raise ValueError(f"{shown}: folder {str(folder)!r} does not exist")
    except OSError as error:
        raise ValueError(f"{shown}: {error.strerror or type(error).__name__}") from None
    try:
        fd, probe = _create_temporary(path)
        os.close(fd)
        probe.unlink()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ValueError(f"{shown}: cannot write in folder {str(folder)!r} ({reason})") from None


def write_atomic(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Call ``write(f)`` on a temporary file next to ``path``, then rename it to ``path``."""
    path = Path(path)
    faults.reached(f"before:{path.name}")
    fd, temporary = _create_temporary(path)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        faults.reached(f"written:{path.name}")
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    faults.reached(f"after:{path.name}")


def write_path_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(temporary)`` with a temporary file's path next to ``path`` (ending in
    ``path``'s extension, for writers that choose the format by it), then rename it to
    ``path``."""
    path = Path(path)
    faults.reached(f"before:{path.name}")
    fd, temporary = _create_temporary(path, keep_suffix=True)
    os.close(fd)
    try:
        write(temporary)
        faults.reached(f"written:{path.name}")
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    faults.reached(f"after:{path.name}")


def write_bytes_atomic(path: Path, data: bytes) -> None:
    def write(f: IO[bytes]) -> None:
        f.write(data)

    write_atomic(path, write)


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def remove_temporaries(folder: Path) -> list[Path]:
    """Remove the temporary files writers killed mid-write left in ``folder`` and its
    subfolders (one level: a sweep's ``checkpoints/``); return them.

    Only regular files named as ``is_temporary`` says are removed, and symbolic links are not
    followed. Call it only while no other process can be writing ``folder`` (holding its lock):
    a live writer's temporary file looks the same.
    """
    removed: list[Path] = []
    folders = [Path(folder)]
    try:
        with os.scandir(folder) as entries:
            folders += [
                Path(entry.path) for entry in entries if entry.is_dir(follow_symlinks=False)
            ]
    except OSError:  # a folder we cannot list: nothing of ours to find (the loop skips it)
        pass
    for each in folders:
        try:
            with os.scandir(each) as entries:
                leftovers = [
                    Path(entry.path)
                    for entry in entries
                    if entry.is_file(follow_symlinks=False) and is_temporary(entry.name)
                ]
        except OSError:  # a subfolder we cannot list holds none of our files
            continue
        for leftover in leftovers:
            try:
                leftover.unlink()
            except OSError:  # gone already, or not ours to remove: it harms nothing
                continue
            removed.append(leftover)
    return removed


def remove_temporaries_of(path: Path) -> list[Path]:
    """Remove the temporary files a writer of ``path`` killed mid-write left next to it (a
    file outside a run folder, such as ``train --save``'s model); return them. Only files
    named as this module names ``path``'s temporaries are touched, not following links."""
    path = Path(path)
    own = re.compile(re.escape(f".{path.name}.") + r"[0-9a-z_]{8}\.tmp(\.[0-9A-Za-z]+)?")
    removed: list[Path] = []
    try:
        with os.scandir(path.parent) as entries:
            leftovers = [
                Path(entry.path)
                for entry in entries
                if own.fullmatch(entry.name) and entry.is_file(follow_symlinks=False)
            ]
    except OSError:  # a folder we cannot list holds none of our files
        return removed
    for leftover in leftovers:
        try:
            leftover.unlink()
        except OSError:
            continue
        removed.append(leftover)
    return removed
