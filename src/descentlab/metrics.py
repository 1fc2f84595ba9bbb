"""Numbers that describe a trained run: accuracy and the shape of its cost curve."""

from __future__ import annotations

import numpy as np

from descentlab.history import History

OSCILLATION_THRESHOLD = 0.13
"""Above this oscillation index a cost curve is labelled "oscillates", at or below "smoother".

On the published experiment (moons, [2, 5, 2, 1], lr 0.0007, batch 64, 10000 epochs) the index
is 0.168 for gd, 0.168 for momentum and 0.101 for adam; the threshold sits between them, near
their geometric mean."""


def accuracy(predictions: np.ndarray, Y: np.ndarray) -> float:
    """The fraction of columns where the predicted label equals Y."""
    return float(np.mean(predictions == Y))


def oscillation_index(history: History) -> float:
    r"""How much the mini-batch cost jumps, relative to the progress training made.

    index = mean_k |c_{k+1} - c_k| / (C_0 - C_final)

    where c_k is the cost of the k-th mini-batch (over the whole run) and C_e the cost of epoch
    e. A run whose mini-batch cost moves a lot from one batch to the next while its epoch cost
    barely decreases oscillates; one that makes the same jumps while descending far is
    smoother. Infinite when the epoch cost did not decrease; 0 with a single mini-batch.
    """
    minibatch = history.minibatch_costs
    if minibatch.size < 2:
        return 0.0
    decrease = float(history.epoch_costs[0]) - float(history.epoch_costs[-1])  # inf - inf: nan
    if not decrease > 0:
        return float("inf")
    with np.errstate(invalid="ignore", over="ignore"):  # a diverged run's costs are inf or nan
        return float(np.mean(np.abs(np.diff(minibatch))) / decrease)


def cost_shape(index: float, threshold: float = OSCILLATION_THRESHOLD) -> str:
    """ "oscillates", "smoother", or "no decrease" (the cost did not go down at all)."""
    if np.isinf(index) or np.isnan(index):
        return "no decrease"
    return "oscillates" if index > threshold else "smoother"
