"""Prodigy: Adam whose step size is estimated on the fly from the distance travelled, as
``pytorch_optimizer.Prodigy``."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from descentlab.optim.base import (
    Optimizer,
    Params,
    ScalarOrSchedule,
    learning_rate_at,
    record_hyperparameters,
)
from descentlab.optim.powers import Powers
from descentlab.validation import (
    check_bool,
    check_decay,
    check_nonnegative_float,
    check_positive_float,
)

DEFAULT_BETA3 = math.sqrt(0.999)
"""beta3's default, sqrt(beta2) at beta2's default: what the references' ``beta3=None`` gives."""


class ProdigyState(NamedTuple):
    step: int
    """t before this update: the number of updates applied so far."""
    mu: Params
    """m, the moving average of d g (starts at 0)."""
    nu: Params
    """v, the moving average of d^2 g^2 (starts at 0)."""
    s: Params
    """s, the beta3-average of (d / d0) d lr g, whose l1 norm divides the estimate."""
    initial_params: Params
    """x0, the weights before the first update (a copy)."""
    d: np.ndarray
    """The step-size estimate, one per run (shape params.shape[:-1] + (1,)); starts at d0."""
    numerator: np.ndarray
    """r, the beta3-average of (d / d0) d lr <g, x0 - x>, one per run; starts at 0."""


def prodigy(
    learning_rate: ScalarOrSchedule,
    beta1: float = 0.9,
    beta2: float = 0.999,
    beta3: float = DEFAULT_BETA3,
    epsilon: float = 1e-8,
    d0: float = 1e-6,
    d_coef: float = 1.0,
    weight_decay: float = 0.0,
    bias_correction: bool = False,
    safeguard_warmup: bool = False,
) -> Optimizer:
    r"""Prodigy (Mishchenko & Defazio, 2023): learning-rate-free Adam; leave learning_rate at 1.

    t = step + 1;  lr = learning_rate (a multiplier of the estimate, 1 unless scheduled)
    dlr = d lr                                  (bias_correction=False, the default)
    dlr = d lr sqrt(1 - beta2^t) / (1 - beta1^t)   (bias_correction=True)
    r = beta3 r + (d / d0) dlr <g, x0 - x>      (<,>: a sum over all the run's parameters)
    m = beta1 m + d (1 - beta1) g;              v = beta2 v + d^2 (1 - beta2) g^2
    s = beta3 s + (d / d0) dlr g                (safeguard_warmup=True: (d / d0) d g)
    d_new = max(d, d_coef r / ||s||_1)          (||s||_1 over all the run's parameters)
    x = x (1 - weight_decay dlr)                (decoupled, as AdamW, with this update's dlr)
    x = x - dlr m / (sqrt(v) + d_new epsilon)

    d starts at d0 and never decreases: it grows while the weights move consistently away from
    x0 along the gradients' average (r is a weighted sum of <g, x0 - x>, s of the gradients),
    so the effective step d lr needs no tuning from d0 = 1e-6. Every sum is per run of a stack
    (over the last axis): each run has its own d. If ||s||_1 = 0 (every gradient so far 0) the
    update is skipped: the moments are kept, d and the weights are not changed. Memory: four
    arrays per parameter (m, v, s and x0). Validation: beta1, beta2 and beta3 in [0, 1),
    epsilon and weight_decay >= 0, d0 and d_coef > 0.

    The reference is ``pytorch_optimizer.Prodigy`` (4.1.0) with ``foreach=False``, the
    authors' code (facebookresearch/prodigy), chosen over ``optax.contrib.prodigy`` (0.2.8)
    because it is the one closer to the paper's Algorithm (the Adam version):
    - The paper has no bias correction, as pytorch-optimizer's default; optax always applies
      it (``bias_correction=True`` here is optax's rule, and pytorch-optimizer's with it).
    - The paper scales r and s by (1 - sqrt(beta2)) and omits the 1 / d0: both cancel in
      r / ||s||_1, as both references do. The paper adds d_k epsilon (the old d) to sqrt(v);
      both references, and descentlab, add the new d's.
    - ``pytorch_optimizer.Prodigy(growth_rate=inf, weight_decouple=True, fixed_decay=False,
      eps=1e-8)``: identical. Absent here: ``growth_rate`` (a cap on d's growth per step;
      infinite by default), ``fixed_decay``, ``eps=None`` (an atan2 step) and
      ``weight_decouple=False``, whose L2 term pytorch-optimizer adds to the gradient after the
      moments have used it (it never reaches the step).
    - ``optax.contrib.prodigy(estim_lr0=1e-6, estim_lr_coef=1.0)`` is d0 and d_coef, with
      bias_correction=True (the fixture checks it); where ||s||_1 = 0 it divides by 0 instead
      of skipping.
    - beta3 defaults to sqrt(0.999), what both references' beta3=None gives for the default
      beta2; it does not follow a changed beta2 (set both).
    """
    lr_at = learning_rate_at(learning_rate)
    beta1 = check_decay("beta1", beta1)
    beta2 = check_decay("beta2", beta2)
    beta3 = check_decay("beta3", beta3)
    epsilon = check_nonnegative_float("epsilon", epsilon)
    d0 = check_positive_float("d0", d0)
    d_coef = check_positive_float("d_coef", d_coef)
    weight_decay = check_nonnegative_float("weight_decay", weight_decay)
    bias_correction = check_bool("bias_correction", bias_correction)
    safeguard_warmup = check_bool("safeguard_warmup", safeguard_warmup)
    decays = not np.all(weight_decay == 0)
    b1_powers, b2_powers = Powers(beta1), Powers(beta2)

    def init(params: Params) -> ProdigyState:
        zeros = np.zeros_like(params)
        per_run = np.zeros((*params.shape[:-1], 1), dtype=params.dtype)
        return ProdigyState(
            step=0,
            mu=zeros,
            nu=zeros,
            s=zeros,
            initial_params=np.array(params, copy=True),
            d=per_run + d0,
            numerator=per_run,
        )

    def update(
        grads: Params, state: ProdigyState, params: Params | None = None
    ) -> tuple[Params, ProdigyState]:
        if params is None:
            raise ValueError("prodigy needs the parameters: call update(grads, state, params)")
        lr = lr_at(state.step)
        t = state.step + 1
        d = state.d
        if bias_correction:
            correction2 = 1 - b2_powers(t)
            if isinstance(correction2, float):  # a float keeps float32 state float32
                root2 = math.sqrt(correction2)
            else:
                root2 = np.sqrt(correction2)
            dlr = d * lr / ((1 - b1_powers(t)) / root2)
        else:
            dlr = d * lr
        distance = np.sum(grads * (state.initial_params - params), axis=-1, keepdims=True)
        numerator = state.numerator * beta3 + ((d / d0) * dlr) * distance
        mu = state.mu * beta1 + (d * (1 - beta1)) * grads
        nu = state.nu * beta2 + ((d * d * (1 - beta2)) * grads) * grads
        s = state.s * beta3 + ((d / d0) * (d if safeguard_warmup else dlr)) * grads
        denominator = np.sum(np.abs(s), axis=-1, keepdims=True)
        moving = denominator != 0
        with np.errstate(divide="ignore", invalid="ignore"):
            d_hat = d_coef * numerator / denominator
        new_d = np.where(moving, np.maximum(d, d_hat), d)
        updates = ((-dlr) * mu) / (np.sqrt(nu) + new_d * epsilon)
        if decays:
            # W (1 - dlr wd) + step, as the reference, returned as W_new - W: W + gives W_new back
            # exactly wherever W_new is within a factor 2 of W (Sterbenz), so a run of a stack
            # whose decay is 0 takes the step it takes alone there. (Subtracting dlr wd W beside
            # the step instead ends 6e-13 from the reference on the fixture, not 4e-16.)
            updates = (params * (1 - weight_decay * dlr) + updates) - params
        updates = np.where(moving, updates, np.zeros_like(updates))
        new_state = ProdigyState(
            step=t,
            mu=mu,
            nu=nu,
            s=s,
            initial_params=state.initial_params,
            d=new_d,
            numerator=numerator,
        )
        return updates, new_state

    return Optimizer("prodigy", record_hyperparameters(prodigy, locals()), init, update)
