"""What a training run records: every epoch's cost and every mini-batch's cost."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COST_EVERY = 100
"""Results keep the epoch cost every 100 epochs, as the course's ``costs`` list does."""


@dataclass(frozen=True)
class History:
    """Costs recorded by ``descentlab.train.train``.

    ``epoch_costs[e]`` is the mean per-example loss over epoch ``e`` (the sum of every
    example's loss during the epoch divided by m, the course's ``cost_total / m``);
    ``minibatch_costs[e * batches_per_epoch + j]`` is the mean loss of mini-batch j of epoch e,
    measured before that batch's update.
    """

    epoch_costs: np.ndarray
    minibatch_costs: np.ndarray
    batches_per_epoch: int

    @property
    def epochs(self) -> int:
        return int(self.epoch_costs.shape[0])

    def costs_every(self, every: int) -> np.ndarray:
        """Epoch costs at epochs 0, every, 2 * every, ... (the course keeps every 100th)."""
        return self.epoch_costs[::every]
