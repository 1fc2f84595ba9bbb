"""Plain gradient descent."""

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


class GDState(NamedTuple):
    step: int
    """Updates applied so far."""


def gd(learning_rate: ScalarOrSchedule) -> Optimizer:
    r"""Gradient descent: ``W = W - learning_rate * dW``.

    The same rule is called SGD in torch.optim and optax when the gradient is a mini-batch's;
    here the batch size decides (full batch, mini-batch or one example).
    """
    lr_at = learning_rate_at(learning_rate)

    def init(params: Params) -> GDState:
        return GDState(step=0)

    def update(
        grads: Params, state: GDState, params: Params | None = None
    ) -> tuple[Params, GDState]:
        lr = lr_at(state.step)
        return -(lr * grads), GDState(step=state.step + 1)

    def step_scalars(first: int, count: int) -> tuple[np.ndarray, ...]:
        return (learning_rates(learning_rate, lr_at, first, count),)

    rule = ElementwiseRule("gd", (), (), step_scalars)
    hyperparameters = record_hyperparameters(gd, locals())
    return Optimizer("gd", hyperparameters, init, update, elementwise=rule)
