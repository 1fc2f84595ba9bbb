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

Anything wrong with a file raises one ``ValueError`` whose one-line message names the file
and, where it applies, the row and column. CSV rows are numbered as a spreadsheet numbers
them, blank lines included: with the header on the first line, it is row 1 and the first
example row 2.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from descentlab.datasets import ClassLabel, Dataset, encode_labels

SUFFIXES = (".csv", ".npz", ".npy")
"""The file types ``load_file`` reads."""

_INTEGER = re.compile(r"[+-]?\d+")
_NUMPY_READ_ERRORS = (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError)


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
        array = _np_load(file, ".npy array")
        if not isinstance(array, np.ndarray):
            array.close()
            raise ValueError(f"{file}: holds an .npz archive, not one .npy array")
        return _feature_array(file, array, "X", len(names)), None
    archive = _np_load(file, ".npz archive")
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{file}: holds a single array, not an .npz archive of X (and y)")
    with archive:
        if "X" not in archive.files:
            held = ", ".join(archive.files) or "no arrays"
            raise ValueError(f"{file}: no array named 'X'; it holds: {held} (expected X, and y)")
        X = _archive_array(file, archive, "X")
        y = _archive_array(file, archive, "y") if "y" in archive.files else None
    labels = None if y is None else [_label_text(value) for value in y.ravel().tolist()]
    return _feature_array(file, X, "X", len(names)), labels


def _data_file(path: str | os.PathLike[str]) -> tuple[Path, str]:
    """The file and its extension, lowercased, once it is one of ``SUFFIXES`` and readable."""
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(
            f"{file}: unsupported file type {suffix or '(no extension)'!r}; "
            f"use one of: {', '.join(SUFFIXES)}"
        )
    _check_readable(file)
    return file, suffix


def _label_text(value: object) -> str:
    """A label as text: 1.0 and 1 are both "1"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _check_readable(file: Path) -> None:
    if not file.exists():
        raise ValueError(f"{file}: no such file")
    if file.is_dir():
        raise ValueError(f"{file}: is a directory, not a data file")


def _read_bytes(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError as error:
        raise ValueError(f"{file}: cannot read it ({error.strerror or error})") from None


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
    archive = _np_load(file, ".npz archive")
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{file}: holds a single array, not an .npz archive of X and {target}")
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
    try:
        return archive[name]
    except _NUMPY_READ_ERRORS as error:
        raise ValueError(f"{file}: cannot read array {name!r} ({_reason(error)})") from None


def _load_npy_pair(file: Path, labels_file: Path) -> Dataset:
    if not labels_file.exists():
        raise ValueError(
            f"{file}: its labels file {labels_file} does not exist; save the labels (shape (m,)) "
            f"there or give the labels file as the target"
        )
    _check_readable(labels_file)
    arrays = []
    for each in (file, labels_file):
        array = _np_load(each, ".npy array")
        if not isinstance(array, np.ndarray):
            array.close()
            raise ValueError(f"{each}: holds an .npz archive, not one .npy array")
        arrays.append(array)
    X, y = arrays
    return _from_arrays(file, X, y, file.name, labels_file.name, str(labels_file))


def _np_load(file: Path, kind: str) -> np.ndarray | np.lib.npyio.NpzFile:
    try:
        return np.load(file, allow_pickle=False)
    except _NUMPY_READ_ERRORS as error:
        raise ValueError(f"{file}: not a readable {kind} ({_reason(error)})") from None


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
        return [str(value) for value in y]
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
