"""ASGD: SGD with a decaying step size whose reported weights are the running average."""

from __future__ import annotations

from typing import Any, NamedTuple

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
from descentlab.optim.per_run import per_run
from descentlab.optim.weight_decay import coupled
from descentlab.validation import check_nonnegative_float


class ASGDState(NamedTuple):
    step: int
    """Updates applied so far."""
    eta: float | Params
    """The step size of the next update (torch's ``eta``; starts at the learning rate)."""
    average_weight: float | Params
    """The weight of the new point in the next average (torch's ``mu``; starts at 1)."""
    ax: Params
    """The average of the weights: the weights ASGD reports (starts at the initial weights)."""


def asgd(
    learning_rate: ScalarOrSchedule,
    lambd: float = 1e-4,
    alpha: float = 0.75,
    t0: float = 1e6,
    weight_decay: float = 0.0,
) -> Optimizer:
    r"""ASGD (Polyak & Juditsky; Bottou), averaged SGD, exactly as ``torch.optim.ASGD``.

    t = step + 1;  eta starts at learning_rate, mu (``average_weight``) at 1
    g = dW + weight_decay * W                       (coupled weight decay: L2 in the gradient)
    W = W (1 - lambd eta) - eta g                   (the step, with its own decay lambd)
    ax = W  if mu = 1,  else  ax = ax + (W - ax) mu (the running average, with the new W)
    eta = lr / (1 + lambd lr t)^alpha;   mu = 1 / max(1, t - t0)   (for the next update)

    The weights to evaluate are the average ax (``report``): evaluation, ``--save`` and
    ``predict`` use it, the training loop and its gradients the raw W. Until step t0 the
    average is W itself (mu = 1), so with the default t0 = 1e6 ASGD reports the last W and is
    SGD with a slowly decaying step; after it, ax is the mean of every W from update t0 + 2 on
    (mu = 1 / max(1, t - t0) is still 1 at t = t0 + 1; with t0 = 0, the mean of W_2 .. W_t).
    The step size decays as t^-alpha (alpha = 0.75 by default); eta is computed at the end of
    an update from that update's learning rate, so under a schedule it lags one update, as
    torch's does. Memory: one array per parameter (ax). Validation: lambd, alpha, t0 and
    weight_decay >= 0.

    How it differs from the variants of the same name:
    - ``torch.optim.ASGD(lr=0.01, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0)``: the same
      rule and state (eta, mu, ax); torch starts ax at 0, descentlab at the initial weights,
      which is the same after the first update (mu = 1 copies W into ax) and makes the report
      of a fresh state the initial weights. torch's default learning rate is 0.01; here it is
      required, as for every descentlab optimizer. torch's ``ax`` is its state, never used
      unless the user copies it into the model; descentlab evaluates with it.
    - Polyak & Juditsky average every iterate with equal weights from the start (t0 = 0 here);
      Bottou's (2012) ASGD, whose step size and decay torch follows, starts averaging at t0.
    - optax and Keras have no ASGD.
    """
    lr_at = learning_rate_at(learning_rate)
    lambd = check_nonnegative_float("lambd", lambd)
    alpha = check_nonnegative_float("alpha", alpha)
    t0 = check_nonnegative_float("t0", t0)
    weight_decay = check_nonnegative_float("weight_decay", weight_decay)
    add_l2 = coupled(weight_decay, "asgd")
    decays = not np.all(lambd == 0)

    def next_eta(lr: float, lambd: float, alpha: float, t: float) -> float:
        return lr / ((1 + lambd * lr * t) ** alpha)  # torch's Python floats

    def next_average_weight(t: float, t0: float) -> float:
        return 1 / max(1, t - t0)

    def init(params: Params) -> ASGDState:
        return ASGDState(step=0, eta=lr_at(0), average_weight=1.0, ax=np.copy(params))

    def update(
        grads: Params, state: ASGDState, params: Params | None = None
    ) -> tuple[Params, ASGDState]:
        if params is None:
            raise ValueError(
                "asgd needs the parameters to average them: call update(grads, state, params)"
            )
        lr = lr_at(state.step)
        t = state.step + 1
        g = add_l2(grads, params)
        if decays:
            g = g + lambd * params
        updates = -(state.eta * g)
        weights = params + updates
        mu = state.average_weight
        if np.ndim(mu) == 0:
            ax = weights if mu == 1 else state.ax + (weights - state.ax) * mu
        else:  # runs of a stack with their own t0 may sit on both sides of it
            ax = np.where(mu != 1, state.ax + (weights - state.ax) * mu, weights)
        new_state = ASGDState(
            step=t,
            eta=per_run(next_eta, lr, lambd, alpha, t),
            average_weight=per_run(next_average_weight, t, t0),
            ax=ax,
        )
        return updates, new_state

    def report(state: ASGDState, params: Params) -> Params:
        return state.ax

    def carried_scalars(
        first: int, count: int, values: tuple[Any, ...]
    ) -> tuple[tuple[np.ndarray, ...], list[Any]]:
        # update's scalar arithmetic, step after step from the state's eta and average weight
        eta, mu = values
        etas, mus, after = [], [], []
        for step in range(first, first + count):
            lr = lr_at(step)
            t = step + 1
            etas.append(eta)
            mus.append(mu)
            eta = per_run(next_eta, lr, lambd, alpha, t)
            mu = per_run(next_average_weight, t, t0)
            after.append((eta, mu))
        by_step = elementwise.by_step
        return (by_step(etas), by_step(mus), (by_step(mus) != 1).astype(float)), after

    rule = ElementwiseRule(
        "asgd",
        (weight_decay, elementwise.any_nonzero(weight_decay), lambd, elementwise.flag(decays)),
        ("ax",),
        elementwise.nothing,
        carried=("eta", "average_weight"),
        carried_scalars=carried_scalars,
    )
    hyperparameters = record_hyperparameters(asgd, locals())
    return Optimizer("asgd", hyperparameters, init, update, report=report, elementwise=rule)
