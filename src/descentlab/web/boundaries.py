"""A race's decision-boundary maps: each run's predicted class and its probability over a grid
covering the view decision_boundaries.png shows (``report.plots.boundary_view``), in the
dataset's original feature space, and each run's accuracy on the training data.

When the race standardises its features (``experiment.prepare_data``), the grid's points go
through the same scaling before the network sees them, as every prediction of the library
does; the map is then drawn in the units the user's data has.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from descentlab.datasets import Dataset
from descentlab.experiment import PreparedData
from descentlab.nn import Network, predict_proba, predicted_classes
from descentlab.report.plots import boundary_view
from descentlab.splits import Standardizer


class BoundaryMaps:
    """The grid of ``cells`` x ``cells`` points of the view of ``dataset`` (original units)
    and the training data of ``data``, to evaluate a stack's parameters on.

    Grid point (row i, column j) is (linspace(x0, x1, cells)[j], linspace(y0, y1, cells)[i]):
    rows go up from y0, columns right from x0, and the cells are listed row by row. Without 2
    features there is no grid, only the accuracy."""

    def __init__(self, network: Network, dataset: Dataset, data: PreparedData, cells: int) -> None:
        self.network = network
        self.cells = cells
        self._train = data.train
        self.view = boundary_view(dataset) if dataset.n_features == 2 else None
        self._points: np.ndarray | None = None
        if self.view is not None:
            (x0, x1), (y0, y1) = self.view
            xx, yy = np.meshgrid(np.linspace(x0, x1, cells), np.linspace(y0, y1, cells))
            points = np.vstack([xx.ravel(), yy.ravel()])
            if data.scaling is not None:
                points = Standardizer.from_dict(data.scaling).transform(points)
            self._points = points

    def message(self, epoch: int, names: Sequence[str], params: np.ndarray) -> dict[str, Any]:
        """The ``boundaries`` message of the stack's ``params`` (K, n_params) after ``epoch``
        epochs: each run's training accuracy and, with a grid, its predicted class and that
        class's probability (3 decimals) in every cell, as arrays of ``cells * cells`` that
        ``messages.message_text`` writes as JSON lists."""
        with np.errstate(all="ignore"):
            train = predicted_classes(predict_proba(self.network, params, self._train.X))
        accuracy = np.mean(train == self._train.labels, axis=-1)
        grid = None
        if self.view is not None and self._points is not None:
            with np.errstate(all="ignore"):
                output = predict_proba(self.network, params, self._points)
            classes = predicted_classes(output)
            if output.shape[-2] == 1:
                confidence = np.where(classes == 1, output[:, 0, :], 1.0 - output[:, 0, :])
            else:
                confidence = np.max(output, axis=-2)
            confidence = np.round(np.nan_to_num(confidence, nan=0.0), 3)
            (x0, x1), (y0, y1) = self.view
            grid = {
                "nx": self.cells,
                "ny": self.cells,
                "x": [x0, x1],
                "y": [y0, y1],
                "classes": {n: classes[k] for k, n in enumerate(names)},
                "confidence": {n: confidence[k] for k, n in enumerate(names)},
            }
        return {
            "type": "boundaries",
            "epoch": epoch,
            "accuracy": {name: float(accuracy[k]) for k, name in enumerate(names)},
            "grid": grid,
        }

    def points(self, dataset: Dataset) -> dict[str, list[Any]] | None:
        """The training points in original units ({"x": [[x1, x2], ...], "y": [class, ...]}),
        or None without 2 features."""
        if self.view is None:
            return None
        return {"x": dataset.X.T.tolist(), "y": dataset.labels.tolist()}
