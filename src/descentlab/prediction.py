"""Predicting a file's rows with a saved model: the predictions, their accuracy when the file
has labels, and the predictions as CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from descentlab import budget
from descentlab.atomic import write_text_atomic
from descentlab.loaders import read_features
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
        sigmoid output), one record per row numbered from 1, written by the csv module: a
        label holding a comma, a quote or a line break is quoted, so ``csv.reader`` gives
        back every label as it was."""
        classes = self.classes
        header = ["row", "prediction"] + (
            [f"probability_{classes[1]}"] if self.probabilities.shape[1] == 1 else
            [f"probability_{c}" for c in classes]
        )  # fmt: skip
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(header)
        for index, (label, row) in enumerate(zip(self.labels, self.probabilities, strict=True)):
            writer.writerow([str(index + 1), str(label), *(f"{p:.6g}" for p in row)])
        return text.getvalue()


def predict_file(model: Model, path: Path, target: str | None = None) -> Predictions:
    """``model``'s predictions for every row of the file ``path``, read by the reader
    training uses (``loaders.read_features``)."""
    rows, true_labels = read_features(path, model.feature_names, target)
    budget.check(budget.prediction_estimate(model.network.layer_sizes, len(rows)))
    return Predictions(
        tuple(str(c) for c in model.classes),
        model.predict(rows),
        model.predict_proba(rows),
        true_labels,
    )


def write_predictions(path: Path, predictions: Predictions) -> None:
    """The predictions as CSV in ``path``, written atomically."""
    write_text_atomic(path, predictions.to_csv())
