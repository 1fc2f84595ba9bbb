"""Rprop: per-coordinate step sizes that grow while the gradient's sign holds."""

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
from descentlab.validation import (
    check_above,
    check_nonnegative_float,
    check_open_interval,
    check_positive_float,
)


class RpropState(NamedTuple):
    step: int
    """Updates applied so far."""
    prev: Params
    """The previous update's gradient, 0 where its sign had flipped (starts at 0)."""
    step_size: Params
    """Each coordinate's step size (starts at the learning rate)."""


def rprop(
    learning_rate: ScalarOrSchedule,
    etaminus: float = 0.5,
    etaplus: float = 1.2,
    step_size_min: float = 1e-6,
    step_size_max: float = 50.0,
) -> Optimizer:
    r"""Rprop (Riedmiller & Braun, 1993) exactly as ``torch.optim.Rprop``, the Rprop- variant.

    Per coordinate, with g_prev the previous update's gradient (0 at the start) and the step
    sizes d starting at learning_rate:
    g * g_prev > 0:  d = min(d * etaplus, step_size_max)     (the sign held: a longer step)
    g * g_prev < 0:  d = max(d * etaminus, step_size_min);  g = 0   (it flipped: a shorter
                     step, and none this update; the next one sees g_prev = 0)
    g * g_prev = 0:  d = clip(d, step_size_min, step_size_max)
    W = W - sign(g) * d;   g_prev = g

    The gradient's size is never used, only its sign: the step sizes carry the scale. The
    learning rate is only the initial step size, read at step 0, so a schedule (a callable
    learning rate) is refused: torch's Rprop silently ignores a scheduler after its first step.
    Rprop is meant for full-batch gradients; on mini-batches the sign flips often and the steps
    shrink. Validation: learning_rate > 0, etaminus in (0, 1), etaplus > 1,
    0 <= step_size_min <= step_size_max, step_size_max > 0.

    How it differs from the variants of the same name:
    - ``torch.optim.Rprop(lr=0.01, etas=(0.5, 1.2), step_sizes=(1e-6, 50))``: identical,
      including its zeroing of the gradient after a sign flip (Rprop- without weight
      backtracking). ``etas`` and ``step_sizes`` are descentlab's etaminus, etaplus and
      step_size_min, step_size_max.
    - The paper's Rprop (and iRprop+, Igel & Huesken) take back the previous step after a sign
      flip (weight backtracking); torch and descentlab do not.
    - optax and Keras have no Rprop (optax.contrib has none either).
    """
    if callable(learning_rate):  # torch ignores a scheduler silently; refusing says why
        raise ValueError(
            "rprop reads its learning rate once, as its initial step size, so a learning-rate "
            "schedule would change nothing after the first step; use a constant rate"
        )
    lr_at = learning_rate_at(learning_rate)
    etaminus = check_open_interval("etaminus", etaminus, 0.0, 1.0)
    etaplus = check_above("etaplus", etaplus, 1.0)
    step_size_min = check_nonnegative_float("step_size_min", step_size_min)
    step_size_max = check_positive_float("step_size_max", step_size_max)
    too_small = np.greater(step_size_min, step_size_max)
    if np.any(too_small):
        low, high = np.broadcast_arrays(step_size_min, step_size_max)
        raise ValueError(
            f"step_size_min must be <= step_size_max, got {float(low[too_small].flat[0])!r} > "
            f"{float(high[too_small].flat[0])!r}"
        )

    def init(params: Params) -> RpropState:
        zeros = np.zeros_like(params)
        return RpropState(step=0, prev=zeros, step_size=zeros + lr_at(0))

    def update(
        grads: Params, state: RpropState, params: Params | None = None
    ) -> tuple[Params, RpropState]:
        sign = np.sign(grads * state.prev)
        # torch's replacements in order: > 0 by etaplus, < 0 by etaminus, 0 by 1 (nan stays)
        factor = np.where(
            sign > 0, etaplus, np.where(sign < 0, etaminus, np.where(sign == 0, 1, sign))
        )
        factor = factor.astype(np.result_type(state.step_size, etaplus, etaminus), copy=False)
        step_size = np.clip(state.step_size * factor, step_size_min, step_size_max)
        g = np.where(sign < 0, np.zeros_like(grads), grads)
        new_state = RpropState(step=state.step + 1, prev=g, step_size=step_size)
        return -(np.sign(g) * step_size), new_state

    rule = ElementwiseRule(
        "rprop",
        (etaminus, etaplus, step_size_min, step_size_max),
        ("prev", "step_size"),
        elementwise.nothing,
    )
    hyperparameters = record_hyperparameters(rprop, locals())
    return Optimizer("rprop", hyperparameters, init, update, elementwise=rule)
