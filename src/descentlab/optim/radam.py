"""RAdam: Adam with its adaptive step rectified while the second moment is young."""

from __future__ import annotations

import math
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
from descentlab.optim.weight_decay import coupled, decoupled
from descentlab.validation import check_bool, check_decay, check_nonnegative_float

RECTIFICATION_THRESHOLD = 5.0
"""The adaptive step is used once rho_t exceeds this (torch's and the paper's 5; optax's 5 too,
its ``threshold``)."""


class RAdamState(NamedTuple):
    step: int
    """Updates applied so far."""
    mu: Params
    """m, the moving average of the gradients (starts at 0)."""
    nu: Params
    """s, the moving average of the squared gradients (starts at 0)."""


def radam(
    learning_rate: ScalarOrSchedule,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-8,
    weight_decay: float = 0.0,
    decoupled_weight_decay: bool = False,
) -> Optimizer:
    r"""RAdam (Liu et al., 2020), rectified Adam, exactly as ``torch.optim.RAdam``.

    t = step + 1
    g = dW + weight_decay * W                  (weight_decay, decoupled_weight_decay=False)
    m = beta1 m + (1 - beta1) g;               s = beta2 s + (1 - beta2) g^2
    m_hat = m / (1 - beta1^t)
    rho_inf = 2 / (1 - beta2) - 1;             rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
    if rho_t > 5:                              (the rectified, adaptive step)
        r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
        W = W - learning_rate * m_hat * sqrt(1 - beta2^t) / (sqrt(s) + epsilon) * r_t
    else:                                      (the early steps: momentum SGD, un-adapted)
        W = W - learning_rate * m_hat
    decoupled_weight_decay=True: W = W - learning_rate * weight_decay * W beside the step above
    (the gradient is left raw), as AdamW.

    rho_t is 1 at t = 1 and grows towards rho_inf, so the first steps (t <= 5 for beta2 = 0.999;
    every step when beta2 <= 2/3, where rho_inf <= 5) are the bias-corrected momentum alone,
    whose size is learning_rate times the gradient's, not learning_rate: a learning rate tuned
    for Adam can be far too large there. s is updated in every step, so the adaptive step, once
    it starts, has the whole history. Validation: beta1 and beta2 in [0, 1), epsilon and
    weight_decay >= 0.

    How it differs from the variants of the same name:
    - ``torch.optim.RAdam``: identical, both weight decays included; epsilon is added to
      sqrt(s), and the bias correction sqrt(1 - beta2^t) multiplies the quotient.
    - ``optax.radam(threshold=5.0, eps=1e-8, eps_root=0.0)``: the same threshold, but epsilon
      is added to the bias-corrected sqrt(s / (1 - beta2^t)) (an epsilon sqrt(1 - beta2^t)
      times smaller here in the early steps); no weight decay.
    - Keras has no RAdam; TensorFlow Addons' ``RectifiedAdam`` uses the threshold
      rho_t >= 5 and offers warmup and a minimum learning rate.
    - The paper uses rho_t > 4 (where r_t is defined); torch, optax and descentlab use 5.
    """
    lr_at = learning_rate_at(learning_rate)
    beta1 = check_decay("beta1", beta1)
    beta2 = check_decay("beta2", beta2)
    epsilon = check_nonnegative_float("epsilon", epsilon)
    weight_decay = check_nonnegative_float("weight_decay", weight_decay)
    decoupled_weight_decay = check_bool("decoupled_weight_decay", decoupled_weight_decay)
    add_l2 = coupled(0.0 if decoupled_weight_decay else weight_decay, "radam")
    shrink = decoupled(weight_decay if decoupled_weight_decay else 0.0, "radam")
    b1_powers, b2_powers = Powers(beta1), Powers(beta2)
    rho_inf = 2 / (1 - beta2) - 1

    def init(params: Params) -> RAdamState:
        return RAdamState(step=0, mu=np.zeros_like(params), nu=np.zeros_like(params))

    def update(
        grads: Params, state: RAdamState, params: Params | None = None
    ) -> tuple[Params, RAdamState]:
        lr = lr_at(state.step)
        g = add_l2(grads, params)
        t = state.step + 1
        mu = beta1 * state.mu + (1 - beta1) * g
        nu = beta2 * state.nu + (1 - beta2) * np.power(g, 2)
        b2_power = b2_powers(t)
        bias_correction2 = 1 - b2_power
        rho_t = rho_inf - 2 * t * b2_power / bias_correction2
        momentum_step = mu / (1 - b1_powers(t)) * lr
        rectified = rho_t > RECTIFICATION_THRESHOLD
        if np.ndim(rectified) == 0:  # one run, or runs sharing beta2: a Python branch
            if not rectified:
                step = momentum_step
            else:
                rectification = math.sqrt(
                    (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
                )
                adaptive = math.sqrt(bias_correction2) / (np.sqrt(nu) + epsilon)
                step = momentum_step * adaptive * rectification
        else:
            # Runs of a stack with their own beta2 may sit on both sides of the threshold: the
            # same arithmetic for all (np.sqrt and math.sqrt round alike), the rectified step
            # kept where rho_t > 5 (elsewhere the rectification may be nan, and is unused).
            with np.errstate(divide="ignore", invalid="ignore"):
                rectification = np.sqrt(
                    (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
                )
                adaptive = np.sqrt(bias_correction2) / (np.sqrt(nu) + epsilon)
                step = np.where(rectified, momentum_step * adaptive * rectification, momentum_step)
        updates = shrink(-step, lr, params)
        return updates, RAdamState(step=t, mu=mu, nu=nu)

    def step_scalars(first: int, count: int) -> tuple[np.ndarray, ...]:
        # update's scalars for each step (its Python branch or its per-run arrays, which
        # round alike); the rectification is unused (and may be nan) where not rectified.
        per_step = elementwise.per_step
        t = per_step(elementwise.steps(first + 1, count))
        b2_power = per_step(b2_powers.block(first + 1, count))
        bias_correction2 = 1 - b2_power
        inf = per_step(rho_inf)
        rho_t = inf - 2 * t * b2_power / bias_correction2
        with np.errstate(divide="ignore", invalid="ignore"):
            rectification = np.sqrt(
                (rho_t - 4) * (rho_t - 2) * inf / ((inf - 4) * (inf - 2) * rho_t)
            )
        return (
            elementwise.learning_rates(learning_rate, lr_at, first, count),
            1 - b1_powers.block(first + 1, count),
            (rho_t > RECTIFICATION_THRESHOLD).astype(float),
            np.sqrt(bias_correction2),
            rectification,
        )

    coupled_decay = 0.0 if decoupled_weight_decay else weight_decay
    decoupled_decay = weight_decay if decoupled_weight_decay else 0.0
    rule = ElementwiseRule(
        "radam",
        (
            beta1,
            beta2,
            epsilon,
            coupled_decay,
            elementwise.any_nonzero(coupled_decay),
            decoupled_decay,
            elementwise.any_nonzero(decoupled_decay),
        ),
        ("mu", "nu"),
        step_scalars,
    )
    hyperparameters = record_hyperparameters(radam, locals())
    return Optimizer("radam", hyperparameters, init, update, elementwise=rule)
