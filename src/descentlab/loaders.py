"""The user's own data from a file: ``load_file(path, target=None) -> Dataset``.

Three formats, chosen by the file's extension; files hold one example per row, as spreadsheets
and scikit-learn do (the returned Dataset has them in columns):

- ``.csv``: a header row naming the columns, then one example per row (rows whose cells are
  all empty are skipped). ``target`` names the label column (default: the last one); every
  other column is a numeric feature.
- ``.npz``: an array ``X`` of shape (m, n_features) and a label array named ``target``
  (default ``y``) of shape (m,).
- ``.npy``: X of shape (m, n_features); the labels, shape (m,), are in the file ``target``
  (a path), by default the sibling ``<stem>_y.npy`` (``data.npy`` -> ``data_y.npy``).

Labels may be integers or strings (in a CSV, a column whose every label is an integer is read
as integers). The distinct labels, sorted (numbers numerically, strings by code point), are
the classes 0, 1, ..., C-1; ``Dataset.classes`` keeps the original values, so predictions map
back. ``.npy``/``.npz`` files are read with ``allow_pickle=False``: object arrays are refused.

``read_features(path, feature_names, target=None)`` reads the same files for prediction: the
columns a model needs, by name, and the labels when the file has them (a CSV's one other
column or ``target``, an .npz's ``y``); an .npy holds features only.

This module is the specification of those formats and their one reader, for training and
prediction alike; that is why it is one module, longer than most.

Only a regular file is read (after following symlinks): a directory, a FIFO or a device such
as ``/dev/zero`` is refused before a byte is read, and so is a file larger than
:func:`max_data_bytes` (a ``DATA_COPIES``-th of the available memory). A ``.npy`` array's
header is checked before its data is allocated: it may not declare more data than the file
(or, in a compressed ``.npz``, than that limit) holds.

Anything wrong with a file raises one ``ValueError`` whose one-line message names the file
and, where it applies, the row and column. CSV rows are numbered as a spreadsheet numbers
them, blank lines included: with the header on the first line, it is row 1 and the first
example row 2.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import numpy as np

from descentlab.datasets import ClassLabel, Dataset, encode_labels
from descentlab.memory import available_memory

SUFFIXES = (".csv", ".npz", ".npy")
"""The file types ``load_file`` reads."""

_INTEGER = re.compile(r"[+-]?\d+")
_NUMPY_READ_ERRORS = (
    ValueError,
    OSError,
    EOFError,
    zipfile.BadZipFile,
    KeyError,
    zlib.error,  # a corrupted compressed member
    NotImplementedError,  # a zip feature Python does not read (version, compression)
    RuntimeError,  # an encrypted member
    struct.error,
)
"""What numpy and zipfile raise on a file that is not what its extension says."""

DATA_COPIES = 16
"""How many times a data file's size reading it may hold at once (its bytes, the decoded text
or array, the parsed cells, the float64 features, their transposed and scaled copies), so the
largest file read is the available memory / 16."""

MAX_DATA_BYTES_UNKNOWN_MEMORY = 4 * 1024**3
"""The largest data file read when the available memory is not known (4 GiB)."""


def max_data_bytes() -> int:
    """The largest data file read here: a ``DATA_COPIES``-th of the available memory
    (``descentlab.memory.available_memory``, which ``ulimit -v`` lowers), or
    ``MAX_DATA_BYTES_UNKNOWN_MEMORY`` when that is not known."""
    available = available_memory()
    if available is None:
        return MAX_DATA_BYTES_UNKNOWN_MEMORY
    return available // DATA_COPIES


def load_file(path: str | os.PathLike[str], target: str | None = None) -> Dataset:
    """The dataset in ``path`` (.csv, .npz or .npy, see the module docstring).

    ``target`` says where the labels are: a CSV column name (default: the last column), an
    .npz array name (default ``y``), or for .npy the path of the labels file (default
    ``<stem>_y.npy`` beside the data). The dataset is named after the file and its params
    record ``path`` and ``target`` as used.
    """
    file, suffix = _data_file(path)
    if suffix == ".csv":
        return _load_csv(file, target)
    if suffix == ".npz":
        return _load_npz(file, "y" if target is None else target)
    labels_file = file.with_name(f"{file.stem}_y.npy") if target is None else Path(target)
    return _load_npy_pair(file, labels_file)


def read_features(
    path: str | os.PathLike[str], feature_names: Sequence[str], target: str | None = None
) -> tuple[np.ndarray, list[str] | None]:
    """The examples of ``path`` for a model with features ``feature_names``: an array
    (n_samples, n_features), columns in that order, and the labels as text when the file has
    them (integer-valued numbers without their ".0").

    A CSV's header must name every feature, in any order; ``target`` (or else its one other
    column, if there is exactly one) holds the labels. An .npz holds ``X`` and optionally
    ``y``; an .npy holds features only. The file is read as ``load_file`` reads it.
    """
    file, suffix = _data_file(path)
    names = list(feature_names)
    if suffix == ".csv":
        return _read_csv_features(file, names, target)
    if suffix == ".npy":
        return _feature_array(file, _load_npy(file), "X", len(names)), None
    archive = _load_npz_archive(file, "X (and y)")
    with archive:
        if "X" not in archive.files:
            held = ", ".join(archive.files) or "no arrays"
            raise ValueError(f"{file}: no array named 'X'; it holds: {held} (expected X, and y)")
        X = _archive_array(file, archive, "X")
        y = _archive_array(file, archive, "y") if "y" in archive.files else None
    labels = None if y is None else [_label_text(value) for value in y.ravel().tolist()]
    return _feature_array(file, X, "X", len(names)), labels


def _data_file(path: str | os.PathLike[str]) -> tuple[Path, str]:
    """The file and its extension, lowercased, once it is one of ``SUFFIXES`` and, if it
    exists, a regular file (``_read_bytes`` checks again on the open file)."""
    file = Path(path)
    with contextlib.suppress(OSError):  # missing or unreadable: reading it says so
        _check_regular(file, os.stat(file).st_mode)
    suffix = file.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(
            f"{file}: unsupported file type {suffix or '(no extension)'!r}; "
            f"use one of: {', '.join(SUFFIXES)}"
        )
    return file, suffix


def _label_text(value: object) -> str:
    """A label as text: 1.0 and 1 are both "1"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_FILE_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _check_regular(file: Path, mode: int) -> None:
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _FILE_KINDS if test(mode)), "not a regular file")
        raise ValueError(f"{file}: is {kind}, not a data file; give a regular file")


def _read_bytes(file: Path) -> bytes:
    """The bytes of ``file``, once it is a regular file (symlinks followed) no larger than
    :func:`max_data_bytes`. Opened without blocking, so a FIFO is refused rather than waited
    on; the size is checked on the open file, so it cannot change kind in between."""
    try:
        fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise ValueError(f"{file}: no such file") from None
    except OSError as error:
        raise ValueError(f"{file}: cannot read it ({error.strerror or error})") from None
    try:
        _check_regular(file, os.fstat(fd).st_mode)
        limit = max_data_bytes()
        size = os.fstat(fd).st_size
        if size > limit:
            raise ValueError(_too_large(file, f"is {size} bytes,", limit))
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as stream:
            data = stream.read(limit + 1)
    except OSError as error:
        raise ValueError(f"{file}: cannot read it ({error.strerror or error})") from None
    finally:
        os.close(fd)
    if len(data) > limit:  # it grew while being read
        raise ValueError(_too_large(file, "grew while it was read and is", limit))
    return data


def _too_large(file: Path, what: str, limit: int) -> str:
    return (
        f"{file}: {what} more than the {limit} bytes a data file may take here (a "
        f"{DATA_COPIES}th of the available memory); use a smaller file or free memory"
    )


def _dataset(
    file: Path,
    X_rows: np.ndarray,
    values: list[ClassLabel],
    target: str,
    feature_names: list[str] | None,
) -> Dataset:
    """The dataset of examples ``X_rows`` (m, n) with labels ``values``, after the checks
    common to every format."""
    labels, classes = encode_labels(values)
    if len(classes) < 2:
        raise ValueError(
            f"{file}: every example has the label {classes[0]!r}; "
            f"a classifier needs at least 2 classes"
        )
    return Dataset.from_labels(
        file.name,
        np.ascontiguousarray(X_rows.T, dtype=np.float64),
        labels,
        classes,
        {"path": str(file), "target": target},
        feature_names=feature_names,
    )


# --- CSV ---------------------------------------------------------------------------------


CsvRows = list[tuple[int, list[str]]]
"""(row number as a spreadsheet counts it, cells) of every row that holds anything."""


def _read_csv(file: Path) -> tuple[list[str], CsvRows]:
    """The header (stripped, checked) and the data rows of a CSV file, each as long as the
    header."""
    raw = _read_bytes(file)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{file}: not UTF-8 text (undecodable byte at offset {error.start})"
        ) from None
    if not text.strip():
        raise ValueError(f"{file}: the file is empty")
    try:
        records = list(
            enumerate(csv.reader(io.StringIO(text, newline=""), skipinitialspace=True), start=1)
        )
    except csv.Error as error:
        raise ValueError(f"{file}: not a valid CSV file ({error})") from None
    records = [(number, cells) for number, cells in records if any(c.strip() for c in cells)]
    if not records:
        raise ValueError(f"{file}: the file is empty (no cell holds anything)")
    header_row, header = records[0]
    header = [name.strip() for name in header]
    _check_header(file, header_row, header)
    rows = records[1:]
    if not rows:
        raise ValueError(f"{file}: the header is there but no data rows follow it")
    for number, cells in rows:
        if len(cells) != len(header):
            raise ValueError(
                f"{file}: row {number} has {len(cells)} cells, the header has {len(header)} columns"
            )
    return header, rows


def _feature_rows(file: Path, header: list[str], rows: CsvRows, columns: list[int]) -> np.ndarray:
    """The numbers in ``columns`` of every row, shape (rows, columns)."""
    X_rows = np.empty((len(rows), len(columns)))
    for r, (number, cells) in enumerate(rows):
        for c, column in enumerate(columns):
            X_rows[r, c] = _feature_value(file, number, header[column], cells[column])
    return X_rows


def _check_column(file: Path, header: list[str], name: str) -> None:
    if name not in header:
        raise ValueError(
            f"{file}: no column {name!r}; the columns are: {', '.join(map(repr, header))}"
        )


def _load_csv(file: Path, target: str | None) -> Dataset:
    header, rows = _read_csv(file)
    if target is None:
        target = header[-1]
    _check_column(file, header, target)
    if len(header) < 2:
        raise ValueError(f"{file}: only the target column {target!r}; no feature columns")
    target_index = header.index(target)
    feature_columns = [i for i in range(len(header)) if i != target_index]
    X_rows = _feature_rows(file, header, rows, feature_columns)
    values = _csv_labels(file, target, [(number, cells[target_index]) for number, cells in rows])
    names = [header[i] for i in feature_columns]
    return _dataset(file, X_rows, values, target, names)


def _read_csv_features(
    file: Path, features: list[str], target: str | None
) -> tuple[np.ndarray, list[str] | None]:
    header, rows = _read_csv(file)
    missing = [name for name in features if name not in header]
    if missing:
        raise ValueError(
            f"{file}: no column {missing[0]!r}; the model needs: {', '.join(map(repr, features))}"
        )
    if target is not None:
        _check_column(file, header, target)
    others = [name for name in header if name not in features]
    label_column = target if target is not None else (others[0] if len(others) == 1 else None)
    X_rows = _feature_rows(file, header, rows, [header.index(name) for name in features])
    if label_column is None:
        return X_rows, None
    index = header.index(label_column)
    return X_rows, [_label_text(_number_or_text(cells[index].strip())) for _, cells in rows]


def _number_or_text(cell: str) -> object:
    try:
        return float(cell)
    except ValueError:
        return cell


def _check_header(file: Path, row: int, header: list[str]) -> None:
    if all(_is_number(name) for name in header):
        raise ValueError(
            f"{file}: row {row} holds only numbers, so the header row naming the columns "
            f"is missing; add one (e.g. x1,x2,label)"
        )
    for position, name in enumerate(header, start=1):
        if not name:
            raise ValueError(f"{file}: column {position} has no name in the header (row {row})")
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise ValueError(f"{file}: the header names column {name!r} twice (row {row})")
        seen.add(name)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _feature_value(file: Path, row: int, column: str, cell: str) -> float:
    cell = cell.strip()
    where = f"{file}: row {row}, column {column!r}"
    if not cell:
        raise ValueError(f"{where} is empty; every feature needs a number")
    try:
        value = float(cell)
    except ValueError:
        raise ValueError(f"{where}: {_shown(cell)} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{where}: {_shown(cell)} is not a finite number (NaN or infinite)")
    return value


def _shown(cell: str, limit: int = 40) -> str:
    """The cell quoted for a one-line message (``repr`` escapes line breaks and other
    unprintable characters; long cells are cut)."""
    return repr(cell if len(cell) <= limit else cell[:limit] + "...")


def _csv_labels(file: Path, target: str, cells: list[tuple[int, str]]) -> list[ClassLabel]:
    """The label of every row: ints if every label is an integer, else the stripped strings.

    Numbers that are not integers (2.5, nan) are refused: they look like a regression target.
    Integer-valued decimals (1.0) count as integers, as numpy's savetxt writes them.
    """
    labels = [(number, cell.strip()) for number, cell in cells]
    for number, label in labels:
        if not label:
            raise ValueError(f"{file}: row {number}, column {target!r}: the label is empty")
    if not all(_is_number(label) for _, label in labels):
        return [label for _, label in labels]
    values: list[ClassLabel] = []
    for number, label in labels:
        if _INTEGER.fullmatch(label):
            values.append(int(label))
            continue
        number_value = float(label)
        if not (math.isfinite(number_value) and number_value.is_integer()):
            raise ValueError(
                f"{file}: row {number}, column {target!r}: label {_shown(label)} is a number "
                f"but not an integer; class labels must be integers or text"
            )
        values.append(int(number_value))
    return values


# --- numpy files -------------------------------------------------------------------------


def _load_npz(file: Path, target: str) -> Dataset:
    archive = _load_npz_archive(file, f"X and {target}")
    with archive:
        held = ", ".join(archive.files) or "no arrays"
        for name in ("X", target):
            if name not in archive.files:
                raise ValueError(
                    f"{file}: no array named {name!r}; it holds: {held} (expected X and {target})"
                )
        X, y = (_archive_array(file, archive, name) for name in ("X", target))
    return _from_arrays(file, X, y, "X", target, target)


def _archive_array(file: Path, archive: np.lib.npyio.NpzFile, name: str) -> np.ndarray:
    """The array ``name`` of an open .npz, once its header declares no more data than the
    member holds (stored) or than ``max_data_bytes`` (compressed)."""
    try:
        zip_file = archive.zip
        assert zip_file is not None  # open until the archive is closed
        info = zip_file.getinfo(f"{name}.npy")
        with zip_file.open(info) as member:
            declared, header_bytes = _declared_bytes(member)
        if info.compress_type == zipfile.ZIP_STORED:
            _check_declared(file, f"array {name!r}", declared, info.file_size - header_bytes)
        else:
            limit = max_data_bytes()
            if declared > limit:
                raise ValueError(
                    _too_large(file, f"array {name!r} declares {declared} bytes,", limit)
                )
        return archive[name]
    except _NUMPY_READ_ERRORS as error:
        if isinstance(error, ValueError) and str(error).startswith(f"{file}: "):
            raise
        raise ValueError(f"{file}: cannot read array {name!r} ({_reason(error)})") from None


def _declared_bytes(stream: IO[bytes]) -> tuple[int, int]:
    """The bytes of data the .npy header at the start of ``stream`` declares, and the length
    of that header; only the header is read."""
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
    else:
        shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
    return math.prod(shape) * dtype.itemsize, stream.tell()


def _check_declared(file: Path, what: str, declared: int, held: int) -> None:
    if declared > held:
        raise ValueError(
            f"{file}: {what} declares {declared} bytes of data in its header but the file "
            f"holds {max(held, 0)}; it is truncated or its header is wrong"
        )


def _load_npy(file: Path) -> np.ndarray:
    """The one array of an .npy file, its header checked against the file's size."""
    raw = _read_bytes(file)
    if raw.startswith(b"PK"):
        raise ValueError(f"{file}: holds an .npz archive, not one .npy array")
    try:
        if raw.startswith(np.lib.format.MAGIC_PREFIX):
            declared, header_bytes = _declared_bytes(io.BytesIO(raw))
            _check_declared(file, "its array", declared, len(raw) - header_bytes)
        array = np.load(io.BytesIO(raw), allow_pickle=False)
    except _NUMPY_READ_ERRORS as error:
        if isinstance(error, ValueError) and str(error).startswith(f"{file}: "):
            raise
        raise ValueError(f"{file}: not a readable .npy array ({_reason(error)})") from None
    if not isinstance(array, np.ndarray):
        array.close()
        raise ValueError(f"{file}: holds an .npz archive, not one .npy array")
    return array


def _load_npz_archive(file: Path, holding: str) -> np.lib.npyio.NpzFile:
    """The open archive of an .npz file (its members are read by ``_archive_array``)."""
    raw = _read_bytes(file)
    if raw.startswith(np.lib.format.MAGIC_PREFIX):
        raise ValueError(f"{file}: holds a single array, not an .npz archive of {holding}")
    try:
        archive = np.load(io.BytesIO(raw), allow_pickle=False)
    except _NUMPY_READ_ERRORS as error:
        raise ValueError(f"{file}: not a readable .npz archive ({_reason(error)})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{file}: holds a single array, not an .npz archive of {holding}")
    return archive


def _load_npy_pair(file: Path, labels_file: Path) -> Dataset:
    if not labels_file.exists():
        raise ValueError(
            f"{file}: its labels file {labels_file} does not exist; save the labels (shape (m,)) "
            f"there or give the labels file as the target"
        )
    X, y = _load_npy(file), _load_npy(labels_file)
    return _from_arrays(file, X, y, file.name, labels_file.name, str(labels_file))


def _reason(error: BaseException) -> str:
    """Why numpy could not read a file, in one line."""
    message = _first_line(error)
    if "Object arrays" in message:
        return (
            "it holds Python objects (an object array), which are refused; save numbers or strings"
        )
    if "pickled" in message:
        return "not in numpy's format; numpy could only unpickle it, which is refused"
    return message


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _from_arrays(
    file: Path, X: np.ndarray, y: np.ndarray, x_name: str, y_name: str, target: str
) -> Dataset:
    """The dataset of X (m, n) and labels y (m,) read from numpy files, after checking them."""
    _check_feature_shape(file, X, x_name)
    if y.ndim != 1:
        hint = "; flatten it with y.ravel()" if y.ndim == 2 and 1 in y.shape else ""
        raise ValueError(f"{file}: {y_name} must be 1-D, shape (examples,), got {y.shape}{hint}")
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"{file}: {x_name} has {X.shape[0]} examples (rows) but {y_name} has "
            f"{y.shape[0]} labels"
        )
    X = _feature_array(file, X, x_name)
    return _dataset(file, X, _array_labels(file, y, y_name), target, None)


def _check_feature_shape(file: Path, X: np.ndarray, x_name: str) -> None:
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{file}: {x_name} must hold numbers, got dtype {X.dtype}")
    if X.ndim != 2:
        raise ValueError(
            f"{file}: {x_name} must be 2-D, shape (examples, features), got shape {X.shape}"
        )


def _feature_array(
    file: Path, X: np.ndarray, x_name: str, n_features: int | None = None
) -> np.ndarray:
    """X (m, n) as finite float64 numbers, m and n > 0 (and n == ``n_features`` if given)."""
    _check_feature_shape(file, X, x_name)
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"{file}: expected rows of {n_features} features, got an array of shape {X.shape}"
        )
    if X.shape[0] == 0:
        raise ValueError(f"{file}: {x_name} has no examples (0 rows)")
    if X.shape[1] == 0:
        raise ValueError(f"{file}: {x_name} has no features (0 columns)")
    X = X.astype(np.float64)
    bad = np.argwhere(~np.isfinite(X))
    if len(bad):
        row, column = (int(i) for i in bad[0])
        raise ValueError(
            f"{file}: {x_name}[{row}, {column}] is {X[row, column]}; features must be finite"
        )
    return X


def _array_labels(file: Path, y: np.ndarray, name: str) -> list[ClassLabel]:
    """Labels of a numpy array: integers (bool as 0/1, integer-valued floats) or strings."""
    if y.dtype.kind == "U":
        texts = [str(value) for value in y]
        for index, text in enumerate(texts):
            if not text.isascii():
                try:
                    text.encode("utf-8")
                except UnicodeEncodeError:  # a lone surrogate: no text can hold it
                    raise ValueError(
                        f"{file}: {name}[{index}] is {text!r}, not Unicode text (a lone "
                        "surrogate); class labels must be integers or text"
                    ) from None
        return list(texts)
    if y.dtype.kind in "biu":
        return [int(value) for value in y]
    if y.dtype.kind == "f":
        not_integer = ~(np.isfinite(y) & (y == np.round(y)))
        if not_integer.any():
            index = int(np.argmax(not_integer))
            raise ValueError(
                f"{file}: {name}[{index}] is {y[index]}, a number but not an integer; "
                f"class labels must be integers or strings"
            )
        return [int(value) for value in y]
    raise ValueError(f"{file}: {name} must hold integers or strings, got dtype {y.dtype}")
