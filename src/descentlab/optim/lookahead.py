"""Lookahead: k fast steps of an inner optimizer, then one slow step toward them, as
``optax.lookahead``."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from descentlab.optim.base import Optimizer, OptState, Params, record_hyperparameters
from descentlab.validation import check_count, check_unit_interval


class LookaheadState(NamedTuple):
    step: int
    """Updates applied so far (fast steps, never reset)."""
    slow: Params
    """phi, the slow weights: the weights Lookahead reports (see ``lookahead``)."""
    inner: OptState
    """The inner optimizer's state, which steps the fast weights."""


def lookahead(inner: Optimizer, sync_period: int = 5, slow_step_size: float = 0.5) -> Optimizer:
    r"""Lookahead (Zhang et al. 2019): k fast steps of the inner optimizer, then one slow step.

    The flat buffer holds the fast weights theta; the state the slow weights phi (starting at
    the initial weights) and the inner optimizer's state. t = step + 1, k = sync_period,
    alpha = slow_step_size:

    u = the inner optimizer's update at theta (from its gradient, state and theta)
    if t is a multiple of k:  d = (theta + u) - phi;  phi = phi + alpha d;
                              theta = theta + (u - (1 - alpha) d)      (= phi up to rounding)
    otherwise:                theta = theta + u                        (phi unchanged)

    The inner optimizer's state is kept across synchronisations (optax's ``reset_state=False``,
    pytorch-optimizer's ``pullback_momentum="none"``). It reports phi: evaluation, ``--save``
    and ``predict`` use the slow weights, which the paper evaluates and whose path is the
    smoothed one; the training loop and checkpoints keep theta and the state. It needs what its
    inner optimizer needs and passes it on. Validation: sync_period an integer >= 1 (per run
    of a stack too), slow_step_size in [0, 1] (1: phi follows theta, plain inner optimizer;
    0: theta returns to the start every k steps).

    How it differs from the variants of the same name:
    - ``optax.lookahead(fast_optimizer, sync_period, slow_step_size, reset_state=False)``: the
      same arithmetic operation for operation (the fixture's reference); optax keeps both
      weights in a ``LookaheadParams`` pair the user must carry, its ``reset_state=True`` (not
      offered here) re-initialises the inner state at every synchronisation, and it has no
      defaults for k and alpha.
    - ``pytorch_optimizer.Lookahead(optimizer, k=5, alpha=0.5)``: the same rule, but at a
      synchronisation it copies phi into theta (theta = phi exactly, where here theta and phi
      may differ in the last bit); its ``pullback_momentum`` "reset" and "pullback" also change
      the inner momentum, not offered here.
    - The paper (Algorithm 1) writes the same rule with the inner state kept; its Keras and
      torch code by the authors are pytorch-optimizer's form.
    """
    sync_period = check_count("sync_period", sync_period)
    slow_step_size = check_unit_interval("slow_step_size", slow_step_size)
    alpha = slow_step_size

    def init(params: Params, **given: Any) -> LookaheadState:
        return LookaheadState(step=0, slow=params.copy(), inner=inner.init(params, **given))

    def update(
        grads: Params, state: LookaheadState, params: Params, **given: Any
    ) -> tuple[Params, LookaheadState]:
        updates, inner_state = inner.update(grads, state.inner, params, **given)
        dtype = updates.dtype  # per-run (float64) settings must not widen float32 weights
        sync = (state.step + 1) % sync_period == 0
        slow = state.slow
        if np.ndim(sync) == 0:
            if sync:
                difference = (params + updates) - slow
                slow = slow + alpha * difference
                updates = updates - (1 - alpha) * difference
        elif np.any(sync):
            difference = (params + updates) - slow
            slow = np.where(sync, slow + alpha * difference, slow)
            updates = np.where(sync, updates - (1 - alpha) * difference, updates)
        slow = slow.astype(state.slow.dtype, copy=False)
        updates = updates.astype(dtype, copy=False)
        return updates, LookaheadState(step=state.step + 1, slow=slow, inner=inner_state)

    def report(state: LookaheadState, params: Params) -> Params:
        return state.slow

    return Optimizer(
        f"lookahead:{inner.name}",
        {**inner.hyperparameters, **record_hyperparameters(lookahead, locals())},
        init,
        update,
        needs=inner.needs,
        report=report,
    )
