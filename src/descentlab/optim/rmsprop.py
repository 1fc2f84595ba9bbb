"""RMSprop in PyTorch's form (epsilon outside the square root)."""

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
from descentlab.validation import check_bool, check_decay, check_nonnegative_float


class RMSpropState(NamedTuple):
    step: int
    """Updates applied so far."""
    square_avg: Params
    """s, the moving average of the squared gradients (starts at 0)."""
    grad_avg: Params
    """a, the moving average of the gradients (centered=True only; stays 0 otherwise)."""
    momentum_buffer: Params
    """b, the momentum buffer of scaled gradients (starts at 0)."""


def rmsprop(
    learning_rate: ScalarOrSchedule,
    rho: float = 0.99,
    epsilon: float = 1e-8,
    momentum: float = 0.0,
    centered: bool = False,
    weight_decay: float = 0.0,
) -> Optimizer:
    r"""RMSprop (Tieleman & Hinton), exactly as ``torch.optim.RMSprop`` (whose ``alpha`` is rho).

    g = dW + weight_decay * W                        (coupled weight decay: L2 in the gradient)
    s = rho * s + (1 - rho) * g^2
    denominator = sqrt(s) + epsilon                  (centered=False)
    a = rho * a + (1 - rho) * g;  denominator = sqrt(s - a^2) + epsilon     (centered=True)
    b = momentum * b + g / denominator               (s, a, b start at 0)
    W = W - learning_rate * b                        (momentum = 0: W - lr * g / denominator)

    Validation: rho and momentum in [0, 1), epsilon and weight_decay >= 0.

    How it differs from the variants of the same name:
    - ``optax.rmsprop(decay=0.9, eps=1e-8, eps_in_sqrt=True)`` puts epsilon inside the square
      root by default, g / sqrt(s + eps) (``eps_in_sqrt=False`` gives this form), defaults to
      decay 0.9, and applies the learning rate before its momentum trace (b = m b + lr g / den:
      the same steps for a constant learning rate, different under a schedule); it has an
      ``initial_scale`` for s, optional Nesterov momentum and bias correction, and no weight decay.
    - Keras ``RMSprop(rho=0.9, epsilon=1e-7)`` also puts epsilon inside the root,
      lr g / sqrt(s + eps) (centered: sqrt(s - a^2 + eps)), keeps lr inside the momentum buffer
      like optax, and its ``weight_decay`` is decoupled (W -= lr wd W).
    """
    lr_at = learning_rate_at(learning_rate)
    rho = check_decay("rho", rho)
    epsilon = check_nonnegative_float("epsilon", epsilon)
    momentum = check_decay("momentum", momentum)
    centered = check_bool("centered", centered)
    weight_decay = check_nonnegative_float("weight_decay", weight_decay)
    add_l2 = coupled(weight_decay, "rmsprop")

    def init(params: Params) -> RMSpropState:
        zeros = np.zeros_like(params)
        return RMSpropState(step=0, square_avg=zeros, grad_avg=zeros, momentum_buffer=zeros)

    def update(
        grads: Params, state: RMSpropState, params: Params | None = None
    ) -> tuple[Params, RMSpropState]:
        lr = lr_at(state.step)
        g = add_l2(grads, params)
        square_avg = rho * state.square_avg + (1 - rho) * np.power(g, 2)
        if centered:
            grad_avg = rho * state.grad_avg + (1 - rho) * g
            denominator = np.sqrt(square_avg - np.power(grad_avg, 2)) + epsilon
        else:
            grad_avg = state.grad_avg
            denominator = np.sqrt(square_avg) + epsilon
        buffer = (
            momentum * state.momentum_buffer + g / denominator
        )  # = g / denominator when momentum = 0
        new_state = RMSpropState(
            step=state.step + 1, square_avg=square_avg, grad_avg=grad_avg, momentum_buffer=buffer
        )
        return -(lr * buffer), new_state

    def step_scalars(first: int, count: int) -> tuple[np.ndarray, ...]:
        return (elementwise.learning_rates(learning_rate, lr_at, first, count),)

    rule = ElementwiseRule(
        "rmsprop",
        (
            rho,
            epsilon,
            momentum,
            elementwise.flag(centered),
            weight_decay,
            elementwise.any_nonzero(weight_decay),
        ),
        ("square_avg", "grad_avg", "momentum_buffer"),
        step_scalars,
    )
    hyperparameters = record_hyperparameters(rmsprop, locals())
    return Optimizer("rmsprop", hyperparameters, init, update, elementwise=rule)
