"""LAMB: Adam's step rescaled per layer by ||W|| / ||step||, as ``optax.lamb``."""

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
from descentlab.optim.layout import Layout
from descentlab.optim.powers import Powers
from descentlab.optim.trust_ratio import scale_by_trust_ratio
from descentlab.validation import check_decay, check_nonnegative_float


class LambState(NamedTuple):
    step: int
    """Updates applied so far."""
    mu: Params
    """m, the moving average of the gradients (starts at 0)."""
    nu: Params
    """s, the moving average of the squared gradients (starts at 0)."""


def lamb(
    learning_rate: ScalarOrSchedule,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-6,
    epsilon_root: float = 0.0,
    weight_decay: float = 0.0,
) -> Optimizer:
    r"""LAMB (You et al., 2020): Adam's step rescaled per layer to ||W||, as ``optax.lamb``.

    t = step + 1;  m = beta1 m + (1 - beta1) g;  s = beta2 s + (1 - beta2) g^2
    m_hat = m / (1 - beta1^t);  s_hat = s / (1 - beta2^t)
    u = m_hat / (sqrt(s_hat + epsilon_root) + epsilon) + weight_decay * W
    per parameter array (slot of the layout: W1, b1, W2, ...; per run of a stack):
    r = ||W|| / ||u||   (Euclidean norms of that array; r = 1 where ||W|| = 0 or ||u|| = 0)
    W = W - learning_rate * r * u

    Each layer moves by learning_rate times its own norm, whatever the gradient's scale, so
    the learning rate is a relative step (0.001 to 0.01 is usual) and a layer at zero (biases at
    their start) takes Adam's step unscaled. The decay is added to the Adam direction before the
    ratio, so it is rescaled with it. Needs the layout (``needs={"layout"}``); on a landscape
    the point is one array, so the whole point moves by learning_rate ||x|| a step. Memory: two
    arrays per parameter. Validation: beta1 and beta2 in [0, 1), epsilon, epsilon_root and
    weight_decay >= 0.

    How it differs from the variants of the same name:
    - ``optax.lamb(b1=0.9, b2=0.999, eps=1e-6, eps_root=0.0, weight_decay=0.0)``: identical
      (a chain of scale_by_adam, add_decayed_weights, scale_by_trust_ratio and the learning
      rate); optax's ``mask`` exempts arrays from the decay, descentlab decays all of them.
    - The paper (Algorithm 2) scales by phi(||W||) / ||u|| with a scaling function phi, for
      instance ||W|| clipped to [gamma_l, gamma_u]; optax and descentlab take phi the identity
      and set the ratio to 1 when a norm is 0 (the paper leaves 0 / 0 undefined).
    - ``pytorch_optimizer.Lamb(lr=1e-3, eps=1e-6)`` (4.1) follows the paper's third version:
      no bias correction, ||W|| clipped at 10 (phi), r = ||W|| / (||u|| + eps), and a decoupled
      weight decay (W multiplied by 1 - lr wd) outside the ratio by default.
    - torch.optim has no LAMB.
    """
    lr_at = learning_rate_at(learning_rate)
    beta1 = check_decay("beta1", beta1)
    beta2 = check_decay("beta2", beta2)
    epsilon = check_nonnegative_float("epsilon", epsilon)
    epsilon_root = check_nonnegative_float("epsilon_root", epsilon_root)
    weight_decay = check_nonnegative_float("weight_decay", weight_decay)
    decays = not np.all(weight_decay == 0)
    b1_powers, b2_powers = Powers(beta1), Powers(beta2)

    def init(params: Params, *, layout: Layout) -> LambState:
        layout.check(params)
        return LambState(step=0, mu=np.zeros_like(params), nu=np.zeros_like(params))

    def update(
        grads: Params, state: LambState, params: Params | None = None, *, layout: Layout
    ) -> tuple[Params, LambState]:
        if params is None:
            raise ValueError("lamb needs the parameters: call update(grads, state, params)")
        lr = lr_at(state.step)
        t = state.step + 1
        mu = (1 - beta1) * grads + beta1 * state.mu
        nu = (1 - beta2) * (grads * grads) + beta2 * state.nu
        mu_hat = mu / (1 - b1_powers(t))
        nu_hat = nu / (1 - b2_powers(t))
        direction = mu_hat / (np.sqrt(nu_hat + epsilon_root) + epsilon)
        if decays:
            direction = direction + weight_decay * params
        scaled = scale_by_trust_ratio(direction, params, layout)
        return scaled * -lr, LambState(step=t, mu=mu, nu=nu)

    return Optimizer(
        "lamb", record_hyperparameters(lamb, locals()), init, update, needs=frozenset({"layout"})
    )
