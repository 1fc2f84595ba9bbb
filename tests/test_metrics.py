from __future__ import annotations

import math

import numpy as np
import pytest

from descentlab.history import History
from descentlab.metrics import OSCILLATION_THRESHOLD, accuracy, cost_shape, oscillation_index


def _history(minibatch: list[float], per_epoch: int) -> History:
    batches = np.array(minibatch)
    epochs = batches.reshape(-1, per_epoch).mean(axis=1)
    return History(epochs, batches, per_epoch)


def test_oscillation_index_is_mean_jump_over_net_decrease() -> None:
    history = _history([1.0, 0.6, 0.8, 0.4, 0.6, 0.2], per_epoch=2)
    # Epoch costs 0.8, 0.6, 0.4: net decrease 0.4; jumps 0.4, 0.2, 0.4, 0.2, 0.4: mean 0.32.
    assert oscillation_index(history) == pytest.approx(0.32 / 0.4)


def test_smooth_descent_scores_lower_than_jumpy_descent() -> None:
    smooth = _history(list(np.linspace(1.0, 0.1, 40)), per_epoch=4)
    noise = np.tile([0.2, -0.2], 20)
    jumpy = _history(list(np.linspace(1.0, 0.1, 40) + noise), per_epoch=4)
    assert oscillation_index(smooth) < OSCILLATION_THRESHOLD < oscillation_index(jumpy)
    assert cost_shape(oscillation_index(smooth)) == "smoother"
    assert cost_shape(oscillation_index(jumpy)) == "oscillates"


def test_no_decrease_is_infinite_and_labelled() -> None:
    history = _history([0.5, 0.6, 0.7, 0.8], per_epoch=2)
    assert math.isinf(oscillation_index(history))
    assert cost_shape(oscillation_index(history)) == "no decrease"


def test_single_minibatch_has_no_oscillation() -> None:
    assert oscillation_index(_history([0.5], per_epoch=1)) == 0.0


def test_accuracy() -> None:
    assert accuracy(np.array([[1, 0, 1, 1]]), np.array([[1.0, 0.0, 0.0, 1.0]])) == 0.75
