"""Adan: adaptive Nesterov momentum from gradient differences, as the authors' implementation
and ``pytorch_optimizer.Adan``."""

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
from descentlab.validation import check_bool, check_decay, check_nonnegative_float


class AdanState(NamedTuple):
    step: int
    """t before this update: the number of updates applied so far."""
    mu: Params
    """m, the moving average of the gradients (starts at 0)."""
    diff_avg: Params
    """v, the moving average of the gradient differences g - g_prev (starts at 0)."""
    nu: Params
    """n, the moving average of (g + beta2 (g - g_prev))^2 (starts at 0)."""
    previous_grad: Params
    """g_prev, the last update's gradient (0 before the first; unused at t = 1)."""


def adan(
    learning_rate: ScalarOrSchedule,
    beta1: float = 0.98,
    beta2: float = 0.92,
    beta3: float = 0.99,
    epsilon: float = 1e-8,
    weight_decay: float = 0.0,
    weight_decouple: bool = False,
) -> Optimizer:
    r"""Adan (Xie et al., 2022): Adam-like steps on a Nesterov estimate from gradient differences.

    t = step + 1;  d = g - g_prev  (d = 0 at t = 1)
    m = beta1 m + (1 - beta1) g;   v = beta2 v + (1 - beta2) d
    n = beta3 n + (1 - beta3) (g + beta2 d)^2                   (m, v, n start at 0)
    denominator = sqrt(n) / sqrt(1 - beta3^t) + epsilon
    step = learning_rate * [m / (1 - beta1^t) + beta2 v / (1 - beta2^t)] / denominator
    W = (W - step) / (1 + learning_rate * weight_decay)     (default: the paper's proximal decay)
    W = W (1 - learning_rate * weight_decay) - step         (weight_decouple=True)

    The betas are decay rates, as in Adam (the paper writes 1 - beta: its beta1 = 0.02 is
    0.98 here). The gradient extrapolated along its last change, g + beta2 (g - g_prev), is the
    Nesterov estimate the second moment tracks, and the step adds beta2 v to m. Memory: four
    arrays per parameter (m, v, n and the previous gradient). Validation: beta1, beta2 and
    beta3 in [0, 1), epsilon and weight_decay >= 0.

    The reference is ``pytorch_optimizer.Adan`` (4.1.0), the authors' rule (sail-sg/Adan), not
    ``optax.adan``, because it is the one closer to the paper:
    - The paper's Algorithm 1 has the same moments and the same proximal decay, without bias
      correction; the authors' code, pytorch-optimizer and optax all bias-correct.
    - ``optax.adan(b1=0.98, b2=0.92, b3=0.99, eps=1e-8, eps_root=1e-8)`` (0.2.8) weights the
      gradient difference by 1 - b2 = 0.08 in n and in the step where the paper has
      1 - beta2 = 0.92 in its own convention (b2 = 0.92 here), puts eps_root = 1e-8 inside the
      square root, and decays as AdamW (W -= lr (step + wd W)), not proximally.
    - ``pytorch_optimizer.Adan(weight_decouple=False)``: identical (its ``max_grad_norm``
      clipping, AdaNorm and gradient centralisation are off by default and absent here); the
      authors' ``Adan(no_prox=False)`` is the same rule, ``no_prox=True`` is weight_decouple.
    """
    lr_at = learning_rate_at(learning_rate)
    beta1 = check_decay("beta1", beta1)
    beta2 = check_decay("beta2", beta2)
    beta3 = check_decay("beta3", beta3)
    epsilon = check_nonnegative_float("epsilon", epsilon)
    weight_decay = check_nonnegative_float("weight_decay", weight_decay)
    weight_decouple = check_bool("weight_decouple", weight_decouple)
    decays = not np.all(weight_decay == 0)
    b1_powers, b2_powers, b3_powers = Powers(beta1), Powers(beta2), Powers(beta3)

    def init(params: Params) -> AdanState:
        zeros = np.zeros_like(params)
        return AdanState(step=0, mu=zeros, diff_avg=zeros, nu=zeros, previous_grad=zeros)

    def update(
        grads: Params, state: AdanState, params: Params | None = None
    ) -> tuple[Params, AdanState]:
        lr = lr_at(state.step)
        t = state.step + 1
        diff = grads - state.previous_grad if state.step > 0 else np.zeros_like(grads)
        mu = beta1 * state.mu + (1 - beta1) * grads
        diff_avg = beta2 * state.diff_avg + (1 - beta2) * diff
        nesterov = beta2 * diff + grads
        nu = beta3 * state.nu + (1 - beta3) * (nesterov * nesterov)
        bias3 = 1 - b3_powers(t)  # a float, or one per run of a stack
        root3 = math.sqrt(bias3) if isinstance(bias3, float) else np.sqrt(bias3)
        denominator = np.sqrt(nu) / root3 + epsilon  # a float keeps float32 state float32
        step = (lr / (1 - b1_powers(t))) * (mu / denominator) + (
            lr * beta2 / (1 - b2_powers(t))
        ) * (diff_avg / denominator)
        # a copy: the caller may reuse its gradient buffer, and the state must not change with it
        previous_grad = np.array(grads, copy=True)
        new_state = AdanState(step=t, mu=mu, diff_avg=diff_avg, nu=nu, previous_grad=previous_grad)
        if not decays:
            return -step, new_state
        if params is None:
            raise ValueError(
                f"adan with weight_decay={weight_decay!r} needs the parameters: "
                "call update(grads, state, params)"
            )
        if weight_decouple:
            new_params = params * (1 - lr * weight_decay) - step
        else:
            new_params = (params - step) / (1 + lr * weight_decay)
        # As an update, W_new - W: wherever W_new is within a factor 2 of W, that difference is
        # exact (Sterbenz), so apply_updates gives W_new's very bits back.
        # A run of a stack whose decay is 0 gets (W - step) - W, which W + gives back as the
        # bits of W - step: the step it takes alone.
        return new_params - params, new_state

    def step_scalars(first: int, count: int) -> tuple[np.ndarray, ...]:
        # update's expressions, elementwise over the steps (np.sqrt and math.sqrt round alike)
        per_step = elementwise.per_step
        lr = per_step(elementwise.learning_rates(learning_rate, lr_at, first, count))
        return (
            (elementwise.steps(first, count) == 0).astype(float),
            np.sqrt(1 - b3_powers.block(first + 1, count)),
            lr / (1 - per_step(b1_powers.block(first + 1, count))),
            lr * per_step(beta2) / (1 - per_step(b2_powers.block(first + 1, count))),
            lr,
        )

    rule = ElementwiseRule(
        "adan",
        (
            beta1,
            beta2,
            beta3,
            epsilon,
            weight_decay,
            elementwise.flag(decays),
            elementwise.flag(weight_decouple),
        ),
        ("mu", "diff_avg", "nu", "previous_grad"),
        step_scalars,
    )
    hyperparameters = record_hyperparameters(adan, locals())
    return Optimizer("adan", hyperparameters, init, update, elementwise=rule)
