"""Adam with bias correction."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from descentlab.optim.base import (
    Optimizer,
    Params,
    ScalarOrSchedule,
    describe_learning_rate,
    learning_rate_at,
)
from descentlab.validation import check_decay, check_nonnegative_float


class AdamState(NamedTuple):
    step: int
    """t before this update: the number of updates applied so far (never reset)."""
    mu: Params
    """v in the course: the moving average of the gradients."""
    nu: Params
    """s in the course: the moving average of the squared gradients."""


def adam(
    learning_rate: ScalarOrSchedule,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-8,
    eps_inside_sqrt: bool = False,
) -> Optimizer:
    r"""Adam with bias correction (Kingma & Ba, Algorithm 1).

    t = step + 1 (incremented once per update, never reset);
    m = beta1 m + (1 - beta1) g;          s = beta2 s + (1 - beta2) g^2;
    m_hat = m / (1 - beta1^t);            s_hat = s / (1 - beta2^t);
    W = W - learning_rate * m_hat / (sqrt(s_hat) + epsilon)      (default, the paper's form)
    W = W - learning_rate * m_hat / sqrt(s_hat + epsilon)        (eps_inside_sqrt=True)

    The default is the form torch.optim.Adam, optax.adam and Keras use, and the one that
    produced the course's published cost lines. The course's seed document (and the Expected
    Output of its oldest unit test) put epsilon inside the square root: ``eps_inside_sqrt=True``
    gives that form, whose denominator never drops below sqrt(epsilon) = 1e-4 for epsilon = 1e-8.
    """
    lr_at = learning_rate_at(learning_rate)
    b1 = check_decay("beta1", beta1)
    b2 = check_decay("beta2", beta2)
    eps = check_nonnegative_float("epsilon", epsilon)
    inside = bool(eps_inside_sqrt)

    def init(params: Params) -> AdamState:
        return AdamState(step=0, mu=np.zeros_like(params), nu=np.zeros_like(params))

    def update(
        grads: Params, state: AdamState, params: Params | None = None
    ) -> tuple[Params, AdamState]:
        lr = lr_at(state.step)
        t = state.step + 1
        mu = b1 * state.mu + (1 - b1) * grads
        nu = b2 * state.nu + (1 - b2) * np.power(grads, 2)
        mu_hat = mu / (1 - np.power(b1, t))
        nu_hat = nu / (1 - np.power(b2, t))
        if inside:
            step = lr * mu_hat / np.sqrt(nu_hat + eps)
        else:
            step = lr * mu_hat / (np.sqrt(nu_hat) + eps)
        return -step, AdamState(step=t, mu=mu, nu=nu)

    hyperparameters = {
        "learning_rate": describe_learning_rate(learning_rate),
        "beta1": b1,
        "beta2": b2,
        "epsilon": eps,
        "eps_inside_sqrt": inside,
    }
    return Optimizer("adam", hyperparameters, init, update)
