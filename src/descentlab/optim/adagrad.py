"""Adagrad in PyTorch's form (epsilon outside the square root, optional learning-rate decay)."""

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
from descentlab.validation import check_nonnegative_float


class AdagradState(NamedTuple):
    step: int
    """Updates applied so far."""
    sum_of_squares: Params
    """G, the running sum of squared gradients (starts at initial_accumulator_value)."""


def adagrad(
    learning_rate: ScalarOrSchedule,
    epsilon: float = 1e-10,
    initial_accumulator_value: float = 0.0,
    lr_decay: float = 0.0,
    weight_decay: float = 0.0,
) -> Optimizer:
    r"""Adagrad (Duchi, Hazan & Singer), exactly as ``torch.optim.Adagrad``.

    t = step + 1;  g = dW + weight_decay * W        (coupled weight decay: L2 in the gradient)
    G = G + g^2                                     (G starts at initial_accumulator_value)
    clr = learning_rate / (1 + (t - 1) * lr_decay)
    W = W - clr * g / (sqrt(G) + epsilon)

    ``lr_decay`` is torch's built-in inverse-time decay of the learning rate per update; it
    composes with a schedule (the schedule gives learning_rate at each step). Validation:
    epsilon, initial_accumulator_value, lr_decay and weight_decay >= 0.

    How it differs from the variants of the same name:
    - ``optax.adagrad(initial_accumulator_value=0.1, eps=1e-7)`` starts G at 0.1 and puts
      epsilon inside the square root, g / sqrt(G + eps); it has no lr_decay and no weight decay.
    - Keras ``Adagrad(initial_accumulator_value=0.1, epsilon=1e-7)`` does the same
      (lr g / sqrt(G + eps)); its ``weight_decay`` is decoupled (W -= lr wd W).
    """
    lr_at = learning_rate_at(learning_rate)
    epsilon = check_nonnegative_float("epsilon", epsilon)
    initial_accumulator_value = check_nonnegative_float(
        "initial_accumulator_value", initial_accumulator_value
    )
    lr_decay = check_nonnegative_float("lr_decay", lr_decay)
    weight_decay = check_nonnegative_float("weight_decay", weight_decay)
    add_l2 = coupled(weight_decay, "adagrad")

    def init(params: Params) -> AdagradState:
        return AdagradState(step=0, sum_of_squares=np.full_like(params, initial_accumulator_value))

    def update(
        grads: Params, state: AdagradState, params: Params | None = None
    ) -> tuple[Params, AdagradState]:
        lr = lr_at(state.step)
        g = add_l2(grads, params)
        clr = lr / (1 + state.step * lr_decay)  # state.step is t - 1
        sum_of_squares = state.sum_of_squares + np.power(g, 2)
        step = clr * g / (np.sqrt(sum_of_squares) + epsilon)
        return -step, AdagradState(step=state.step + 1, sum_of_squares=sum_of_squares)

    def step_scalars(first: int, count: int) -> tuple[np.ndarray, ...]:
        rates = elementwise.learning_rates(learning_rate, lr_at, first, count)
        rates = rates.reshape(len(rates), *(rates.shape[1:] or (1, 1)))
        counts = elementwise.steps(first, count).reshape(count, 1, 1)
        return (rates / (1 + counts * lr_decay),)  # clr, as update computes it

    rule = ElementwiseRule(
        "adagrad",
        (epsilon, weight_decay, elementwise.any_nonzero(weight_decay)),
        ("sum_of_squares",),
        step_scalars,
    )
    hyperparameters = record_hyperparameters(adagrad, locals())
    return Optimizer("adagrad", hyperparameters, init, update, elementwise=rule)
