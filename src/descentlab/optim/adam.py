"""Adam with bias correction."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from descentlab.optim.base import Optimizer, Params
from descentlab.validation import check_decay, check_nonnegative_float, check_positive_float


class AdamState(NamedTuple):
    step: int
    """t before this update: the number of updates applied so far (never reset)."""
    mu: Params
    """v in the course: the moving average of the gradients."""
    nu: Params
    """s in the course: the moving average of the squared gradients."""


def adam(
    learning_rate: float,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-8,
    eps_inside_sqrt: bool = False,
) -> Optimizer:
    r"""Adam with bias correction (Kingma & Ba, Algorithm 1), the course's variant by default.

    t = step + 1 (incremented once per update, never reset);
    v = beta1 v + (1 - beta1) dW;          s = beta2 s + (1 - beta2) dW^2;
    v_hat = v / (1 - beta1^t);             s_hat = s / (1 - beta2^t);
    W = W - learning_rate * v_hat / sqrt(s_hat + epsilon)        (eps_inside_sqrt=True, default)
    W = W - learning_rate * v_hat / (sqrt(s_hat) + epsilon)      (eps_inside_sqrt=False)

    The default puts epsilon inside the square root, as the course's seed document writes
    the update; that makes the effective floor sqrt(epsilon) = 1e-4 rather than 1e-8.
    ``eps_inside_sqrt=False`` is the paper's form and what torch.optim.Adam, optax.adam and
    Keras compute (Keras names epsilon "epsilon hat" and applies it after the square root too).
    """
    lr = check_positive_float("learning_rate", learning_rate)
    b1 = check_decay("beta1", beta1)
    b2 = check_decay("beta2", beta2)
    eps = check_nonnegative_float("epsilon", epsilon)
    inside = bool(eps_inside_sqrt)

    def init(params: Params) -> AdamState:
        return AdamState(step=0, mu=np.zeros_like(params), nu=np.zeros_like(params))

    def update(
        grads: Params, state: AdamState, params: Params | None = None
    ) -> tuple[Params, AdamState]:
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
        "learning_rate": lr,
        "beta1": b1,
        "beta2": b2,
        "epsilon": eps,
        "eps_inside_sqrt": inside,
    }
    return Optimizer("adam", hyperparameters, init, update)
