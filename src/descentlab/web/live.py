"""What a race streams of its runs while they train: the thinned mini-batch trace of each new
chunk of epochs, and each run's oscillation index measured on its history so far.

Both reuse the library's rules: the trace is ``report.plots.minibatch_trace`` (positions
k / batches_per_epoch, each bin's lowest and highest cost), the index is
``metrics.oscillation_index`` and its label ``metrics.cost_shape``. The index is kept as running
sums, so each update costs what the new epochs cost, however long the run already is.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from descentlab.history import History
from descentlab.metrics import cost_shape
from descentlab.report.plots import minibatch_trace

MINIBATCH_POINTS = 2000
"""At most about this many mini-batch costs per optimizer in one progress message."""


def minibatch_points(
    costs: np.ndarray, first_batch: int, batches_per_epoch: int, max_points: int = MINIBATCH_POINTS
) -> dict[str, list[float | None]]:
    """``{"x": [...], "costs": [...]}`` of the mini-batch costs ``costs`` whose first is the
    run's mini-batch number ``first_batch``: x = k / batches_per_epoch, thinned as
    ``minibatch_trace`` thins (non-finite costs as None)."""
    x, trace = minibatch_trace(History(np.empty(0), costs, batches_per_epoch), max_points)
    # minibatch_trace counts k from 0 in this chunk; the run's k is first_batch + that.
    indices = np.rint(x * batches_per_epoch).astype(np.int64) + first_batch
    positions = (indices / batches_per_epoch).tolist()
    return {"x": positions, "costs": [c if math.isfinite(c) else None for c in trace.tolist()]}


class RunningOscillation:
    """One run's ``metrics.oscillation_index`` over its history so far, kept up to date epoch
    chunk by epoch chunk: mean_k |c_{k+1} - c_k| / (C_0 - C_last), c the mini-batch costs and
    C the epoch costs. A run that diverged is measured up to its divergence epoch, as
    ``experiment.run_experiment`` measures it."""

    def __init__(self) -> None:
        self._jumps = 0.0
        self._count = 0
        self._last_batch: float | None = None
        self._first_epoch: float | None = None
        self._last_epoch: float | None = None
        self._batches = 0

    def add(self, epoch_costs: np.ndarray, minibatch_costs: np.ndarray) -> None:
        """The next epochs' costs (in order) and their mini-batch costs."""
        if epoch_costs.size == 0:
            return
        if self._first_epoch is None:
            self._first_epoch = float(epoch_costs[0])
        self._last_epoch = float(epoch_costs[-1])
        batches = np.asarray(minibatch_costs, dtype=np.float64)
        if self._last_batch is not None:
            batches = np.concatenate([[self._last_batch], batches])
        if batches.size >= 2:
            self._jumps += float(np.sum(np.abs(np.diff(batches))))
            self._count += batches.size - 1
        self._batches += minibatch_costs.size
        self._last_batch = float(batches[-1])

    @property
    def index(self) -> float | None:
        """The oscillation index so far; None before any epoch (and 0.0 with one batch, inf
        when the cost has not gone down, as ``metrics.oscillation_index``)."""
        if self._first_epoch is None or self._last_epoch is None:
            return None
        if self._batches < 2:
            return 0.0
        decrease = self._first_epoch - self._last_epoch
        if not decrease > 0:
            return math.inf
        return (self._jumps / self._count) / decrease

    def message(self) -> dict[str, Any]:
        """``oscillation_message`` of the index so far."""
        return oscillation_message(self.index)


def oscillation_message(index: float | None) -> dict[str, Any]:
    """``{"index", "label"}`` for a progress message: the index and ``metrics.cost_shape``'s
    label when the index is a finite number; both None when it is not measurable (no epoch
    yet, or no decrease)."""
    if index is None or not math.isfinite(index):
        return {"index": None, "label": None}
    return {"index": index, "label": cost_shape(index)}
