"""Bounds on ``.npz`` archives, checked from their zip directory and ``.npy`` headers before
a single array is read: the one guard of the model-file and checkpoint readers.

Both formats are uncompressed zips of ``.npy`` members (what ``np.savez`` writes). Reading a
member allocates what the archive declares, so a lying archive (a zip bomb of deflated
zeros, a member whose ``.npy`` header declares 10^12 rows, a directory entry larger than the
file) would exhaust memory before anything could be checked. :func:`check_size` and
:func:`scan` refuse, from the declarations alone:

- a compressed member (deflate, bzip2, lzma: anything but ``ZIP_STORED``) or an encrypted one;
- a member whose directory sizes disagree (stored means compressed size == size) or that
  extends past the end of the file;
- an ``.npy`` member whose header declares more data than the directory says the member holds,
  or much less (its size is the ``.npy`` header plus ``shape x itemsize`` bytes);
- an array whose dtype holds Python objects (which only pickle could load);
- an archive larger than :func:`max_archive_bytes`.

After :func:`scan`, reading every member allocates at most about the archive's own size.
"""

from __future__ import annotations

import math
import os
import stat
import zipfile
from collections.abc import Collection
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import numpy as np

from descentlab.memory import available_memory

NPY_HEADER_ROOM = 65_536 + 16
"""More than numpy's largest ``.npy`` header (magic, length and text), in bytes."""

MAX_ARCHIVE_BYTES = 8 * 1024**3
"""The fixed cap on a model file or checkpoint (8 GiB: a billion float64 parameters, far
beyond what descentlab trains); :func:`max_archive_bytes` lowers it on a smaller machine."""

LOAD_COPIES = 4
"""How many times an archive's size loading may hold at once (the member's bytes, the array,
the parameter vector, the digest's view), so the limit is the available memory / 4."""

_COMPRESSIONS = {
    zipfile.ZIP_DEFLATED: "deflate",
    zipfile.ZIP_BZIP2: "bzip2",
    zipfile.ZIP_LZMA: "lzma",
}


class ArchiveError(ValueError):
    """An archive :func:`scan` refuses; the message is one line without the path."""


class Member(NamedTuple):
    """One ``.npy`` member and what its header declares."""

    info: zipfile.ZipInfo
    shape: tuple[int, ...]
    dtype: np.dtype[Any]


def max_archive_bytes() -> int:
    """The largest model file or checkpoint a reader opens: ``MAX_ARCHIVE_BYTES``, or a
    ``LOAD_COPIES``-th of :func:`available_memory` when that is less."""
    available = available_memory()
    if available is None:
        return MAX_ARCHIVE_BYTES
    return min(MAX_ARCHIVE_BYTES, available // LOAD_COPIES)


def archive_size(f: BinaryIO) -> int:
    """The size in bytes of the open file ``f``."""
    return os.fstat(f.fileno()).st_size


def check_size(size: int, what: str) -> None:
    """Refuse an archive of ``size`` bytes over :func:`max_archive_bytes`."""
    limit = max_archive_bytes()
    if size > limit:
        raise ArchiveError(
            f"is {size} bytes, more than the {limit} bytes a {what} may take here "
            f"(the smaller of {MAX_ARCHIVE_BYTES} and a {LOAD_COPIES}th of the available "
            "memory)"
        )


def scan(archive: zipfile.ZipFile, size: int) -> dict[str, Member | None]:
    """Every member of ``archive`` (a file of ``size`` bytes) by file name, with its ``.npy``
    header's shape and dtype (None for a member whose name does not end in ``.npy``), or
    ``ArchiveError`` for the first member the module docstring refuses. Only the members'
    ``.npy`` headers are read."""
    members: dict[str, Member | None] = {}
    for info in archive.infolist():
        name = info.filename
        if name in members:
            raise ArchiveError(f"holds {name!r} twice")
        if info.compress_type != zipfile.ZIP_STORED:
            method = _COMPRESSIONS.get(info.compress_type, f"method {info.compress_type}")
            raise ArchiveError(
                f"member {name!r} is compressed ({method}); only stored (uncompressed) "
                "members are allowed"
            )
        if info.flag_bits & 0x1:
            raise ArchiveError(f"member {name!r} is encrypted")
        if info.compress_size != info.file_size:
            raise ArchiveError(
                f"is corrupted: member {name!r} is stored, but the zip directory gives it "
                f"{info.file_size} bytes and {info.compress_size} compressed bytes"
            )
        if info.header_offset + info.file_size > size:
            raise ArchiveError(
                f"is corrupted: member {name!r} declares {info.file_size} bytes, past the end "
                f"of the {size}-byte file; truncated?"
            )
        if not name.endswith(".npy"):
            members[name] = None
            continue
        members[name] = _npy_member(archive, info)
    return members


def _npy_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Member:
    name = info.filename.removesuffix(".npy")
    try:
        with archive.open(info) as member:
            version = np.lib.format.read_magic(member)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(member)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(member)
            else:
                raise ArchiveError(f"array {name!r} uses .npy version {version}, not 1.0/2.0")
    except ArchiveError:
        raise
    except Exception as error:  # zipfile and numpy on a damaged member: many kinds
        raise ArchiveError(
            f"is corrupted: array {name!r} is unreadable ({_reason(error)})"
        ) from None
    if dtype.hasobject:
        raise ArchiveError(f"array {name!r} contains pickled objects; refusing to load it")
    n_bytes = math.prod(shape) * dtype.itemsize
    if not n_bytes <= info.file_size <= n_bytes + NPY_HEADER_ROOM:
        raise ArchiveError(
            f"is corrupted: array {name!r} declares shape {tuple(shape)} of {dtype} "
            f"({n_bytes} bytes), but the zip directory gives the member {info.file_size} bytes"
        )
    return Member(info, tuple(shape), dtype)


def read_arrays(
    path: Path, what: str, only: Collection[str] | None = None
) -> dict[str, np.ndarray]:
    """Every ``.npy`` member (or those named in ``only``) of the archive at ``path`` by name
    (without ``.npy``), read only
    after :func:`check_size` and :func:`scan` passed, with ``allow_pickle=False``. Raises
    ``FileNotFoundError`` if there is no file, else ``ArchiveError`` naming the problem
    (``what`` names the kind of file in the size message)."""
    try:
        mode = path.stat().st_mode
    except NotADirectoryError:
        raise FileNotFoundError(path) from None
    if stat.S_ISDIR(mode):
        raise ArchiveError("is a directory, not a file")
    if not stat.S_ISREG(mode):
        raise ArchiveError("is not a regular file")
    try:
        with path.open("rb") as f:
            if f.read(4) not in (b"PK\x03\x04", b"PK\x05\x06"):
                raise ArchiveError("is not an .npz archive (no zip signature)")
            f.seek(0)
            size = archive_size(f)
            check_size(size, what)
            with zipfile.ZipFile(f) as archive:
                members = scan(archive, size)
                arrays: dict[str, np.ndarray] = {}
                for filename, member in members.items():
                    if member is None:
                        raise ArchiveError(f"holds {filename!r}, which is not an .npy array")
                    if only is not None and filename.removesuffix(".npy") not in only:
                        continue
                    with archive.open(member.info) as data:
                        array = np.lib.format.read_array(data, allow_pickle=False)
                    arrays[filename.removesuffix(".npy")] = array
                return arrays
    except (ArchiveError, FileNotFoundError):
        raise
    except OSError as error:
        raise ArchiveError(f"cannot read it ({error.strerror or error})") from None
    except Exception as error:  # zipfile and numpy on a damaged archive: many kinds
        raise ArchiveError(f"is truncated or corrupted ({_reason(error)})") from None


def _reason(error: BaseException) -> str:
    """An exception's message on one short line (numpy's can span several)."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 200 else text[:197] + "..."
