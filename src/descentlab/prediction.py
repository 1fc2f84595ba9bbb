"""Predicting a file's rows with a saved model: the rows (features by the model's names, labels
if present), the predictions, their accuracy, and the predictions as CSV."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from descentlab.atomic import write_text_atomic
from descentlab.model_file import Model


@dataclass(frozen=True)
class Predictions:
    """A model's predictions for the rows of a file."""

    classes: tuple[str, ...]
    """The model's classes, as text."""
    labels: np.ndarray
    """The predicted class of every row, shape (n_rows,)."""
    probabilities: np.ndarray
    """(n_rows, 1), the probability of ``classes[1]``, for a sigmoid output; (n_rows, C)."""
    true_labels: list[str] | None
    """The file's own labels, as text, when it has them."""

    def correct(self) -> int | None:
        """How many predictions equal the file's labels (None without labels)."""
        if self.true_labels is None:
            return None
        predicted = np.asarray(self.labels).astype(str)
        return int(np.sum(predicted == np.asarray(self.true_labels).astype(str)))

    def to_csv(self) -> str:
        """row, prediction, then the probability of each class (of the second only, for a
        sigmoid output), one line per row numbered from 1."""
        classes = self.classes
        header = ["row", "prediction"] + (
            [f"probability_{classes[1]}"] if self.probabilities.shape[1] == 1 else
            [f"probability_{c}" for c in classes]
        )  # fmt: skip
        lines = [",".join(header)]
        for index, (label, row) in enumerate(zip(self.labels, self.probabilities, strict=True)):
            lines.append(",".join([str(index + 1), str(label), *(f"{p:.6g}" for p in row)]))
        return "\n".join(lines) + "\n"


def predict_file(model: Model, path: Path, target: str | None = None) -> Predictions:
    """``model``'s predictions for every row of the file ``path`` (see ``read_rows``)."""
    rows, true_labels = read_rows(path, model.feature_names, target)
    return Predictions(
        tuple(str(c) for c in model.classes),
        model.predict(rows),
        model.predict_proba(rows),
        true_labels,
    )


def write_predictions(path: Path, predictions: Predictions) -> None:
    """The predictions as CSV in ``path``, written atomically."""
    write_text_atomic(path, predictions.to_csv())


def read_rows(
    path: Path, feature_names: Sequence[str], target: str | None = None
) -> tuple[np.ndarray, list[str] | None]:
    """Features (n_samples, n_features) in the model's column order, and the labels as text
    when the file has them. CSV: the header must name every feature; a remaining column (or
    ``target``) holds labels. ``.npz``: ``X`` and optionally ``y``. ``.npy``: features only.
    Raises a one-line ``ValueError`` naming the file, row and column of any problem."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    if path.suffix == ".npy":
        return _checked(path, _load_array(path, None), len(feature_names)), None
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            if "X" not in archive.files:
                raise ValueError(f"{path}: no array 'X' (features) in the archive")
            X = _load_array(path, archive, "X")
            y = _load_array(path, archive, "y") if "y" in archive.files else None
        labels = None if y is None else [_label_text(v) for v in y.ravel().tolist()]
        return _checked(path, X, len(feature_names)), labels
    if path.suffix != ".csv":
        raise ValueError(f"{path}: unsupported file type {path.suffix!r}; use .csv, .npz or .npy")
    return _read_csv(path, list(feature_names), target)


def _load_array(path: Path, archive: object, name: str | None = None) -> np.ndarray:
    try:
        if archive is None:
            return np.load(path, allow_pickle=False)
        return archive[name]  # type: ignore[index]
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise ValueError(f"{path}: contains pickled objects; refusing to load it") from None
        raise ValueError(f"{path}: unreadable array ({error})") from None
    except Exception as error:
        raise ValueError(f"{path}: not a readable numpy file ({error})") from None


def _label_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _checked(path: Path, X: np.ndarray, n_features: int) -> np.ndarray:
    if X.ndim != 2 or X.shape[1] != n_features or X.shape[0] == 0:
        raise ValueError(
            f"{path}: expected rows of {n_features} features, got an array of shape {X.shape}"
        )
    if X.dtype.kind not in "fiu" or not np.isfinite(X).all():
        raise ValueError(f"{path}: features must be finite numbers")
    return X.astype(np.float64)


def _read_csv(
    path: Path, features: list[str], target: str | None
) -> tuple[np.ndarray, list[str] | None]:
    try:
        with path.open(newline="", encoding="utf-8") as f:
            table = [row for row in csv.reader(f) if any(cell.strip() for cell in row)]
    except (UnicodeDecodeError, csv.Error) as error:
        raise ValueError(f"{path}: not a readable CSV file ({error})") from None
    if not table:
        raise ValueError(f"{path}: empty file")
    header = [cell.strip() for cell in table[0]]
    missing = [name for name in features if name not in header]
    if missing:
        raise ValueError(
            f"{path}: no column {missing[0]!r}; the model needs: {', '.join(map(repr, features))}"
        )
    others = [name for name in header if name not in features]
    if target is not None and target not in header:
        raise ValueError(f"{path}: no column {target!r}")
    label_column = target if target is not None else (others[0] if len(others) == 1 else None)
    indices = [header.index(name) for name in features]
    label_index = None if label_column is None else header.index(label_column)
    rows, labels = [], []
    for number, row in enumerate(table[1:], start=2):
        if len(row) != len(header):
            raise ValueError(
                f"{path}: row {number} has {len(row)} cells, the header has {len(header)}"
            )
        values = []
        for index in indices:
            cell = row[index].strip()
            try:
                value = float(cell)
            except ValueError:
                raise ValueError(
                    f"{path}: row {number}, column {header[index]!r}: {cell!r} is not a number"
                ) from None
            if not math.isfinite(value):
                raise ValueError(
                    f"{path}: row {number}, column {header[index]!r}: {cell!r} is not finite"
                )
            values.append(value)
        rows.append(values)
        if label_index is not None:
            labels.append(_label_text(_number_or_text(row[label_index].strip())))
    if not rows:
        raise ValueError(f"{path}: no rows after the header")
    return np.array(rows), (labels if label_index is not None else None)


def _number_or_text(cell: str) -> object:
    try:
        return float(cell)
    except ValueError:
        return cell
