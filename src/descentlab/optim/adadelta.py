"""Adadelta: steps whose units come from a moving average of the past steps themselves."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from descentlab.optim import elementwise
from descentlab.optim.base import (
    Optimizer,
    Params,
    ScalarOrSchedule,
    learning_rate_at,
    record_hyperparameters,
)
from descentlab.optim.elementwise import ElementwiseRule
from descentlab.optim.weight_decay import coupled
from descentlab.validation import check_nonnegative_float, check_positive_float, check_unit_interval


class AdadeltaState(NamedTuple):
    step: int
    """Updates applied so far."""
    square_avg: Params
    """E[g^2], the moving average of the squared gradients (starts at 0)."""
    acc_delta: Params
    """E[dx^2], the moving average of the squared steps before the learning rate (starts at 0)."""


def adadelta(
    learning_rate: ScalarOrSchedule,
    rho: float = 0.9,
    epsilon: float = 1e-6,
    weight_decay: float = 0.0,
) -> Optimizer:
    r"""Adadelta (Zeiler, 2012) exactly as ``torch.optim.Adadelta``, whose default lr is 1.0.

    g = dW + weight_decay * W                   (coupled weight decay: L2 in the gradient)
    E[g^2] = rho E[g^2] + (1 - rho) g^2
    dx = sqrt(E[dx^2] + epsilon) / sqrt(E[g^2] + epsilon) * g
    E[dx^2] = rho E[dx^2] + (1 - rho) dx^2     (E[g^2] and E[dx^2] start at 0)
    W = W - learning_rate * dx

    The paper has no learning rate (learning_rate = 1.0, torch's default and the value to start
    from): the ratio of the two root-mean-squares gives the step its units, so the first step
    is about sqrt(epsilon / (1 - rho)) = 3e-3 per coordinate whatever the gradient's scale (once
    (1 - rho) g^2 is well above epsilon; a far smaller gradient is stepped about as gd would),
    and the steps grow only as E[dx^2] accumulates: learning rates well above 1 are common.
    Validation: rho in [0, 1] (rho = 1 freezes both averages at 0: steps of g, as gd),
    epsilon > 0 (torch also takes 0, with which every step is 0),
    weight_decay >= 0.

    How it differs from the variants of the same name:
    - ``torch.optim.Adadelta(lr=1.0, rho=0.9, eps=1e-6)``: identical, weight decay included.
    - ``optax.adadelta(rho=0.9, eps=1e-6)``: the same rule (``optax.scale_by_adadelta``); its
      ``weight_decay`` is added to the gradient too.
    - Keras ``Adadelta(learning_rate=0.001, rho=0.95, epsilon=1e-7)``: the same rule with a
      learning rate 1000 times smaller by default (so it barely moves unless raised), and a
      decoupled ``weight_decay`` (W -= lr wd W).
    """
    lr_at = learning_rate_at(learning_rate)
    rho = check_unit_interval("rho", rho)
    epsilon = check_positive_float("epsilon", epsilon)
    weight_decay = check_nonnegative_float("weight_decay", weight_decay)
    add_l2 = coupled(weight_decay, "adadelta")

    def init(params: Params) -> AdadeltaState:
        return AdadeltaState(
            step=0, square_avg=np.zeros_like(params), acc_delta=np.zeros_like(params)
        )

    def update(
        grads: Params, state: AdadeltaState, params: Params | None = None
    ) -> tuple[Params, AdadeltaState]:
        lr = lr_at(state.step)
        g = add_l2(grads, params)
        square_avg = rho * state.square_avg + (1 - rho) * np.power(g, 2)
        delta = np.sqrt(state.acc_delta + epsilon) / np.sqrt(square_avg + epsilon) * g
        acc_delta = rho * state.acc_delta + (1 - rho) * np.power(delta, 2)
        new_state = AdadeltaState(step=state.step + 1, square_avg=square_avg, acc_delta=acc_delta)
        return -(lr * delta), new_state

    def step_scalars(first: int, count: int) -> tuple[np.ndarray, ...]:
        return (elementwise.learning_rates(learning_rate, lr_at, first, count),)

    rule = ElementwiseRule(
        "adadelta",
        (rho, epsilon, weight_decay, elementwise.any_nonzero(weight_decay)),
        ("square_avg", "acc_delta"),
        step_scalars,
    )
    hyperparameters = record_hyperparameters(adadelta, locals())
    return Optimizer("adadelta", hyperparameters, init, update, elementwise=rule)
