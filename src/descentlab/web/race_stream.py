"""What a race streams of its runs: the progress messages (each run's epoch costs, thinned
mini-batch costs and oscillation since the last message) and the results of the ``done``
message. Built in the race's process (``race_worker``) from the training's epochs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from descentlab.experiment import RunOutcome
from descentlab.train import EpochDetail
from descentlab.web.live import RunningOscillation, minibatch_points, oscillation_message

Message = dict[str, Any]


def finite_list(values: np.ndarray) -> list[float | None]:
    """``values`` as a list, each NaN or infinity as None (JSON holds neither)."""
    return [value if math.isfinite(value) else None for value in values.tolist()]


class ProgressStream:
    """The epochs trained since the last progress message, and the messages they make. A run
    that diverged streams up to and including its divergence epoch, as results.json keeps it.
    """

    def __init__(self, names: Sequence[str], batches_per_epoch: int, epochs: int) -> None:
        self.names = tuple(names)
        self.batches_per_epoch = batches_per_epoch
        self.epochs = epochs
        self.oscillations = [RunningOscillation() for _ in self.names]
        self._epoch_chunks: list[np.ndarray] = []
        self._minibatch_chunks: list[np.ndarray] = []
        self._streamed = 0
        self._diverged: tuple[int | None, ...] = (None,) * len(self.names)

    @property
    def epochs_done(self) -> int:
        return self._streamed + len(self._epoch_chunks)

    @property
    def pending(self) -> bool:
        """Whether epochs ran since the last message."""
        return bool(self._epoch_chunks)

    def add(self, detail: EpochDetail) -> None:
        """Keep one epoch's costs (copied: the detail's arrays are the training's)."""
        self._epoch_chunks.append(detail.epoch_costs.copy())
        self._minibatch_chunks.append(detail.minibatch_costs.copy())
        self._diverged = tuple(detail.diverged_epochs)

    def message(
        self, epochs_per_second: float, outcomes: Sequence[RunOutcome] | None = None
    ) -> Message | None:
        """The progress message of the epochs since the last one (None if there were none).
        Once the race has ended (``outcomes``), the oscillation is the measured runs'
        (``RunOutcome.oscillation``, which the running sums equal up to rounding)."""
        if not self._epoch_chunks:
            return None
        epoch_costs = np.stack(self._epoch_chunks, axis=1)
        minibatch_costs = np.concatenate(self._minibatch_chunks, axis=1)
        self._epoch_chunks, self._minibatch_chunks = [], []
        n_epochs = epoch_costs.shape[1]
        first, self._streamed = self._streamed, self._streamed + n_epochs
        per_epoch = self.batches_per_epoch
        costs: dict[str, list[float | None]] = {}
        minibatch: dict[str, dict[str, list[float | None]]] = {}
        oscillation: dict[str, dict[str, Any]] = {}
        for run, name in enumerate(self.names):
            diverged = self._diverged[run]
            kept = n_epochs if diverged is None else max(0, min(n_epochs, diverged + 1 - first))
            run_costs = epoch_costs[run, :kept]
            batch_costs = minibatch_costs[run, : kept * per_epoch]
            self.oscillations[run].add(run_costs, batch_costs)
            costs[name] = finite_list(run_costs)
            minibatch[name] = minibatch_points(batch_costs, first * per_epoch, per_epoch)
            oscillation[name] = self.oscillations[run].message()
        if outcomes is not None:
            for name, outcome in zip(self.names, outcomes, strict=True):
                oscillation[name] = oscillation_message(outcome.oscillation)
        return {
            "type": "progress",
            "epoch": self._streamed,
            "epochs": self.epochs,
            "epochs_per_second": epochs_per_second,
            "first_epoch": first,
            "costs": costs,
            "minibatch": minibatch,
            "oscillation": oscillation,
        }


def results_of(names: Sequence[str], outcomes: Sequence[RunOutcome]) -> dict[str, dict[str, Any]]:
    """What the page shows of each finished run, by optimizer name."""
    return {
        name: {
            "final_cost": _finite(outcome.final_cost),
            "train_accuracy": outcome.train_accuracy,
            "oscillation": _finite(outcome.oscillation),
            "cost_shape": outcome.cost_shape,
            "diverged_epoch": outcome.result.diverged_epoch,
        }
        for name, outcome in zip(names, outcomes, strict=True)
    }


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
