"""The one training loop: every optimizer, every batch size, the course's protocol."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from descentlab.batching import batch_bounds, epoch_seed, permutation
from descentlab.history import History
from descentlab.nn import (
    COURSE_INIT_SEED,
    Network,
    backward,
    cross_entropy_sum,
    forward,
    he_initialization,
)
from descentlab.optim import Optimizer, OptState, apply_updates
from descentlab.seeds import COURSE_SHUFFLE_SEED
from descentlab.validation import check_int

EpochCallback = Callable[[int, float], None]


@dataclass(frozen=True)
class TrainResult:
    params: np.ndarray
    """The final parameters, flat (see ``descentlab.nn.Network.layers``)."""
    opt_state: OptState
    history: History


def train(
    network: Network,
    X: np.ndarray,
    Y: np.ndarray,
    optimizer: Optimizer,
    *,
    epochs: int = 10000,
    batch_size: int | None = 64,
    init_seed: int = COURSE_INIT_SEED,
    shuffle_seed: int = COURSE_SHUFFLE_SEED,
    params: np.ndarray | None = None,
    on_epoch_end: EpochCallback | None = None,
) -> TrainResult:
    """Train ``network`` on X (n_x, m) and Y (1, m) with ``optimizer``; the course's ``model``.

    Parameters start from ``he_initialization(network, init_seed)`` unless ``params`` is given.
    Before epoch e (0-based) the columns are shuffled with ``permutation(m, shuffle_seed + e + 1)``
    and cut into batches of ``batch_size`` (``None``: one batch of all m examples), the last one
    smaller when m is not a multiple. Each batch: forward, cost, backward, one optimizer update.
    ``on_epoch_end(epoch, epoch_cost)`` is called after every epoch.
    """
    epochs = check_int("epochs", epochs, minimum=1)
    m = X.shape[1]
    bounds = batch_bounds(m, m if batch_size is None else batch_size)
    if params is None:
        params = he_initialization(network, init_seed)
    state = optimizer.init(params)
    epoch_costs = np.empty(epochs)
    minibatch_costs = np.empty(epochs * len(bounds))
    step = 0
    # exp(-Z) overflows harmlessly to inf (sigmoid -> 0) when an output saturates.
    with np.errstate(over="ignore"):
        for epoch in range(epochs):
            order = permutation(m, epoch_seed(shuffle_seed, epoch))
            shuffled_X = X[:, order]
            shuffled_Y = Y[:, order]
            cost_total = 0.0
            for start, stop in bounds:
                batch_X = shuffled_X[:, start:stop]
                batch_Y = shuffled_Y[:, start:stop]
                cache = forward(network, params, batch_X)
                batch_cost = float(cross_entropy_sum(cache, batch_Y))
                cost_total += batch_cost
                minibatch_costs[step] = batch_cost / (stop - start)
                grads = backward(network, params, cache, batch_Y)
                updates, state = optimizer.update(grads, state, params)
                params = apply_updates(params, updates)
                step += 1
            epoch_costs[epoch] = cost_total / m
            if on_epoch_end is not None:
                on_epoch_end(epoch, epoch_costs[epoch])
    history = History(epoch_costs, minibatch_costs, batches_per_epoch=len(bounds))
    return TrainResult(params=params, opt_state=state, history=history)
