"""AdaBelief: Adam scaled by the gradient's spread around its average, as ``optax.adabelief``."""

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
from descentlab.validation import check_bool, check_decay, check_nonnegative_float


class AdaBeliefState(NamedTuple):
    step: int
    """t before this update: the number of updates applied so far."""
    mu: Params
    """m, the moving average of the gradients (starts at 0)."""
    nu: Params
    """s, the moving average of (g - m)^2, epsilon_root added every step (starts at 0)."""


def adabelief(
    learning_rate: ScalarOrSchedule,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-16,
    epsilon_root: float = 1e-16,
    nesterov: bool = False,
) -> Optimizer:
    r"""AdaBelief (Zhuang et al., 2020): Adam whose denominator is the gradient's spread.

    t = step + 1;  m = beta1 m + (1 - beta1) g
    s = beta2 s + (1 - beta2) (g - m)^2 + epsilon_root     (the new m; s starts at 0)
    m_hat = m / (1 - beta1^t)
    m_hat = beta1 m / (1 - beta1^(t+1)) + (1 - beta1) g / (1 - beta1^t)      (nesterov=True)
    s_hat = s / (1 - beta2^t)
    W = W - learning_rate * m_hat / (sqrt(s_hat) + epsilon)

    Where Adam divides by the root mean square of the gradients, AdaBelief divides by that of
    their deviation from the average m (the "belief"): steps are large where the gradient is
    what the average predicted, small where it scatters. epsilon_root is added to the stored s
    at every step, so it accumulates (about epsilon_root / (1 - beta2) in the long run), as
    in the paper's Algorithm 2. Memory: two arrays per parameter. Validation: beta1 and beta2
    in [0, 1), epsilon and epsilon_root >= 0 (with both 0, a coordinate whose gradient never
    changed divides 0 by 0).

    How it differs from the variants of the same name:
    - ``optax.adabelief(b1=0.9, b2=0.999, eps=1e-16, eps_root=1e-16, nesterov=False)``:
      identical (descentlab's epsilon is optax's eps, epsilon_root its eps_root).
    - The authors' ``adabelief_pytorch.AdaBelief(eps=1e-16)`` (0.2) uses the one eps in both
      places, as epsilon = epsilon_root here; it rectifies (RAdam) and decouples a weight decay
      by default, which descentlab's adabelief does not do. ``pytorch_optimizer.AdaBelief``
      likewise adds eps inside and outside. The paper's experiments use eps = 1e-8 (optax's
      note: the paper's defaults are eps=1e-8, eps_root=0).
    - Keras has no AdaBelief; TensorFlow Addons' ``AdaBelief(epsilon=1e-14)`` rectifies by
      default and adds epsilon inside and outside.
    """
    lr_at = learning_rate_at(learning_rate)
    beta1 = check_decay("beta1", beta1)
    beta2 = check_decay("beta2", beta2)
    epsilon = check_nonnegative_float("epsilon", epsilon)
    epsilon_root = check_nonnegative_float("epsilon_root", epsilon_root)
    nesterov = check_bool("nesterov", nesterov)
    b1_powers, b2_powers = Powers(beta1), Powers(beta2)

    def init(params: Params) -> AdaBeliefState:
        return AdaBeliefState(step=0, mu=np.zeros_like(params), nu=np.zeros_like(params))

    def update(
        grads: Params, state: AdaBeliefState, params: Params | None = None
    ) -> tuple[Params, AdaBeliefState]:
        lr = lr_at(state.step)
        t = state.step + 1
        mu = (1 - beta1) * grads + beta1 * state.mu
        nu = (1 - beta2) * np.power(grads - mu, 2) + beta2 * state.nu
        nu = nu + epsilon_root
        if nesterov:
            mu_hat = beta1 * (mu / (1 - b1_powers(t + 1))) + (1 - beta1) * (
                grads / (1 - b1_powers(t))
            )
        else:
            mu_hat = mu / (1 - b1_powers(t))
        nu_hat = nu / (1 - b2_powers(t))
        updates = -lr * (mu_hat / (np.sqrt(nu_hat) + epsilon))
        return updates, AdaBeliefState(step=t, mu=mu, nu=nu)

    def step_scalars(first: int, count: int) -> tuple[np.ndarray, ...]:
        return (
            elementwise.learning_rates(learning_rate, lr_at, first, count),
            1 - b1_powers.block(first + 1, count),
            1 - b2_powers.block(first + 1, count),
            1 - b1_powers.block(first + 2, count),
        )

    rule = ElementwiseRule(
        "adabelief",
        (beta1, beta2, epsilon, epsilon_root, elementwise.flag(nesterov)),
        ("mu", "nu"),
        step_scalars,
    )
    hyperparameters = record_hyperparameters(adabelief, locals())
    return Optimizer("adabelief", hyperparameters, init, update, elementwise=rule)
