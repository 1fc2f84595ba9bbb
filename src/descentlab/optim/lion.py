"""Lion: the sign of an interpolated momentum, with decoupled weight decay, as ``optax.lion``."""

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
from descentlab.validation import check_decay, check_nonnegative_float


class LionState(NamedTuple):
    step: int
    """Updates applied so far."""
    mu: Params
    """m, the moving average of the gradients with rate beta2 (starts at 0)."""


def lion(
    learning_rate: ScalarOrSchedule,
    beta1: float = 0.9,
    beta2: float = 0.99,
    weight_decay: float = 1e-3,
) -> Optimizer:
    r"""Lion (Chen et al., 2023): the sign of a momentum, every step lr long, as ``optax.lion``.

    c = beta1 m + (1 - beta1) g                  (the interpolation whose sign is the step)
    W = W - learning_rate * (sign(c) + weight_decay * W)      (sign(0) = 0)
    m = beta2 m + (1 - beta2) g                  (m starts at 0; updated after c)

    Each coordinate moves by exactly learning_rate (plus the decay), whatever the gradient's
    size, so Lion wants a learning rate 3-10 times smaller than AdamW's and, for the same
    decay strength lr * weight_decay, a weight decay 3-10 times larger. The decay is decoupled
    and multiplied by the learning rate itself. Two rates: beta1 for the step's interpolation,
    beta2 (slower) for the momentum kept. No bias correction, no epsilon. Memory: one array
    per parameter. Validation: beta1 and beta2 in [0, 1), weight_decay >= 0.

    How it differs from the variants of the same name:
    - ``optax.lion(b1=0.9, b2=0.99, weight_decay=1e-3)``: identical (``mode='hard'``, the
      paper's sign); optax's ``mask`` exempts parameters from the decay, descentlab decays all.
    - The paper's Algorithm 2 is the same rule; lucidrains' ``lion-pytorch``
      (``Lion(weight_decay=0.0)``) and ``pytorch_optimizer.Lion`` write it
      W = W (1 - lr wd) - lr sign(c), with no decay by default.
    - Keras ``Lion(beta_1=0.9, beta_2=0.99)``: the same sign step; its ``weight_decay``
      (default None) is also decoupled.
    """
    lr_at = learning_rate_at(learning_rate)
    beta1 = check_decay("beta1", beta1)
    beta2 = check_decay("beta2", beta2)
    weight_decay = check_nonnegative_float("weight_decay", weight_decay)
    decays = not np.all(weight_decay == 0)

    def init(params: Params) -> LionState:
        return LionState(step=0, mu=np.zeros_like(params))

    def update(
        grads: Params, state: LionState, params: Params | None = None
    ) -> tuple[Params, LionState]:
        lr = lr_at(state.step)
        direction = np.sign((1 - beta1) * grads + beta1 * state.mu)
        if decays:
            if params is None:
                raise ValueError(
                    f"lion with weight_decay={weight_decay!r} needs the parameters: "
                    "call update(grads, state, params)"
                )
            direction = direction + weight_decay * params
        mu = (1 - beta2) * grads + beta2 * state.mu
        return -lr * direction, LionState(step=state.step + 1, mu=mu)

    def step_scalars(first: int, count: int) -> tuple[np.ndarray, ...]:
        return (elementwise.learning_rates(learning_rate, lr_at, first, count),)

    rule = ElementwiseRule(
        "lion", (beta1, beta2, weight_decay, elementwise.flag(decays)), ("mu",), step_scalars
    )
    hyperparameters = record_hyperparameters(lion, locals())
    return Optimizer("lion", hyperparameters, init, update, elementwise=rule)
