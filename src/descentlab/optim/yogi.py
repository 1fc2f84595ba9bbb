"""Yogi: Adam whose second moment moves additively, by the sign of its error, as ``optax.yogi``."""

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


class YogiState(NamedTuple):
    step: int
    """t before this update: the number of updates applied so far."""
    mu: Params
    """m, the moving average of the gradients (starts at initial_accumulator_value)."""
    nu: Params
    """v, the second moment, moved by sign(v - g^2) (starts at initial_accumulator_value)."""


def yogi(
    learning_rate: ScalarOrSchedule,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-3,
    initial_accumulator_value: float = 1e-6,
) -> Optimizer:
    r"""Yogi (Zaheer et al., 2018): Adam with an additive second moment, as ``optax.yogi``.

    t = step + 1;  m and v start at initial_accumulator_value (both, as optax does)
    m = beta1 m + (1 - beta1) g
    v = v - (1 - beta2) sign(v - g^2) g^2                  (sign(0) = 0)
    W = W - learning_rate * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + epsilon)

    Adam's v = v + (1 - beta2) (g^2 - v) moves v by a fraction of its error; Yogi moves it by
    (1 - beta2) g^2 in the direction of the error, so v grows as fast as Adam's after a large
    gradient but shrinks at most by (1 - beta2) g^2 per step: the effective rate cannot jump
    up when gradients fall quiet. v never turns negative. Memory: two arrays per parameter.
    Validation: beta1 and beta2 in [0, 1), epsilon and initial_accumulator_value >= 0 (with
    epsilon = 0 and a zero start, a coordinate whose gradients are all 0 divides 0 by 0).

    How it differs from the variants of the same name:
    - ``optax.yogi(b1=0.9, b2=0.999, eps=1e-3)``: identical; its ``scale_by_yogi`` takes
      ``initial_accumulator_value`` (1e-6) and an ``eps_root`` (0), not exposed by the alias.
      optax starts m at initial_accumulator_value too, not at 0.
    - The paper's Algorithm 2 starts m at 0 and has no bias correction;
      TensorFlow Addons' ``Yogi(initial_accumulator_value=1e-6, epsilon=1e-3)`` starts only v
      there (m at 0), bias-corrects, and adds l1/l2 regularisation options.
    - ``pytorch_optimizer.Yogi(initial_accumulator=1e-6, eps=1e-3)`` starts both at the value
      like optax, with a default learning rate of 1e-2 and decoupled weight decay.
    - Keras has no Yogi.
    """
    lr_at = learning_rate_at(learning_rate)
    beta1 = check_decay("beta1", beta1)
    beta2 = check_decay("beta2", beta2)
    epsilon = check_nonnegative_float("epsilon", epsilon)
    initial_accumulator_value = check_nonnegative_float(
        "initial_accumulator_value", initial_accumulator_value
    )
    b1_powers, b2_powers = Powers(beta1), Powers(beta2)

    def init(params: Params) -> YogiState:
        return YogiState(
            step=0,
            mu=np.full_like(params, initial_accumulator_value),
            nu=np.full_like(params, initial_accumulator_value),
        )

    def update(
        grads: Params, state: YogiState, params: Params | None = None
    ) -> tuple[Params, YogiState]:
        lr = lr_at(state.step)
        t = state.step + 1
        mu = (1 - beta1) * grads + beta1 * state.mu
        squared = grads * grads
        nu = state.nu - (1 - beta2) * np.sign(state.nu - squared) * squared
        mu_hat = mu / (1 - b1_powers(t))
        nu_hat = nu / (1 - b2_powers(t))
        updates = -lr * (mu_hat / (np.sqrt(nu_hat) + epsilon))
        return updates, YogiState(step=t, mu=mu, nu=nu)

    def step_scalars(first: int, count: int) -> tuple[np.ndarray, ...]:
        return (
            elementwise.learning_rates(learning_rate, lr_at, first, count),
            1 - b1_powers.block(first + 1, count),
            1 - b2_powers.block(first + 1, count),
        )

    rule = ElementwiseRule("yogi", (beta1, beta2, epsilon), ("mu", "nu"), step_scalars)
    hyperparameters = record_hyperparameters(yogi, locals())
    return Optimizer("yogi", hyperparameters, init, update, elementwise=rule)
