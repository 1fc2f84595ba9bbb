"""Momentum in the course's averaged form."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from descentlab.optim.base import (
    Optimizer,
    Params,
    ScalarOrSchedule,
    learning_rate_at,
    record_hyperparameters,
)
from descentlab.optim.elementwise import ElementwiseRule, learning_rates
from descentlab.validation import check_decay


class MomentumState(NamedTuple):
    step: int
    """Updates applied so far."""
    velocity: Params
    """v, the exponentially weighted average of past gradients (starts at zero)."""


def momentum(learning_rate: ScalarOrSchedule, beta: float = 0.9) -> Optimizer:
    r"""Momentum as the course writes it (an exponentially weighted average of gradients).

    v = beta * v + (1 - beta) * dW;   W = W - learning_rate * v;   v starts at 0.

    No bias correction, so the first steps are (1 - beta) times smaller than gradient
    descent's. This differs from PyTorch's ``SGD(momentum=beta)`` and optax's ``sgd(momentum=)``
    (the heavy-ball buffer v = beta v + g, no (1 - beta), starting at the first gradient): with
    the same beta their step is 1 / (1 - beta) times larger once the average has settled.
    """
    lr_at = learning_rate_at(learning_rate)
    beta = check_decay("beta", beta)

    def init(params: Params) -> MomentumState:
        return MomentumState(step=0, velocity=np.zeros_like(params))

    def update(
        grads: Params, state: MomentumState, params: Params | None = None
    ) -> tuple[Params, MomentumState]:
        lr = lr_at(state.step)
        velocity = beta * state.velocity + (1 - beta) * grads
        return -(lr * velocity), MomentumState(step=state.step + 1, velocity=velocity)

    def step_scalars(first: int, count: int) -> tuple[np.ndarray, ...]:
        return (learning_rates(learning_rate, lr_at, first, count),)

    rule = ElementwiseRule("momentum", (beta,), ("velocity",), step_scalars)
    hyperparameters = record_hyperparameters(momentum, locals())
    return Optimizer("momentum", hyperparameters, init, update, elementwise=rule)
