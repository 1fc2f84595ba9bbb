"""Adamax: Adam with the infinity norm in place of the root mean square."""

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
from descentlab.optim.powers import Powers
from descentlab.validation import check_decay, check_nonnegative_float


class AdamaxState(NamedTuple):
    step: int
    """Updates applied so far."""
    mu: Params
    """m, the moving average of the gradients."""
    infinity_norm: Params
    """u, the exponentially weighted infinity norm of the gradients (starts at 0)."""


def adamax(
    learning_rate: ScalarOrSchedule,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-8,
) -> Optimizer:
    r"""Adamax (Kingma & Ba, Algorithm 2) exactly as ``torch.optim.Adamax``.

    t = step + 1;  m = beta1 m + (1 - beta1) g;  u = max(beta2 u, |g| + epsilon)
    W = W - learning_rate / (1 - beta1^t) * m / u

    Epsilon sits inside the maximum, so u >= epsilon; u needs no bias correction.
    Validation: beta1 and beta2 in [0, 1), epsilon >= 0 (with epsilon = 0, a coordinate whose
    gradients have all been 0 divides 0 by 0).

    How it differs from the variants of the same name:
    - ``torch.optim.Adamax``: identical; torch also offers ``weight_decay`` (coupled: add
      weight_decay * W to the gradient before calling update gives the same).
    - ``optax.adamax(eps=1e-8)``: identical (u = max(beta2 u, |g| + eps)).
    - Keras ``Adamax(epsilon=1e-7)``: u = max(beta2 u, |g|), and epsilon is added afterwards,
      m / (u + epsilon).
    """
    lr_at = learning_rate_at(learning_rate)
    beta1 = check_decay("beta1", beta1)
    beta2 = check_decay("beta2", beta2)
    epsilon = check_nonnegative_float("epsilon", epsilon)

    b1_powers = Powers(beta1)

    def init(params: Params) -> AdamaxState:
        return AdamaxState(step=0, mu=np.zeros_like(params), infinity_norm=np.zeros_like(params))

    def update(
        grads: Params, state: AdamaxState, params: Params | None = None
    ) -> tuple[Params, AdamaxState]:
        lr = lr_at(state.step)
        t = state.step + 1
        mu = beta1 * state.mu + (1 - beta1) * grads
        infinity_norm = np.maximum(beta2 * state.infinity_norm, np.abs(grads) + epsilon)
        step = lr / (1 - b1_powers(t)) * mu / infinity_norm
        return -step, AdamaxState(step=t, mu=mu, infinity_norm=infinity_norm)

    def step_scalars(first: int, count: int) -> tuple[np.ndarray, ...]:
        rates = elementwise.learning_rates(learning_rate, lr_at, first, count)
        return (rates, 1 - b1_powers.block(first + 1, count))

    rule = ElementwiseRule("adamax", (beta1, beta2, epsilon), ("mu", "infinity_norm"), step_scalars)
    hyperparameters = record_hyperparameters(adamax, locals())
    return Optimizer("adamax", hyperparameters, init, update, elementwise=rule)
