"""Stochastic gradient descent with PyTorch's heavy-ball momentum."""

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
from descentlab.optim.weight_decay import coupled
from descentlab.validation import (
    check_bool,
    check_decay,
    check_nonnegative_float,
    check_unit_interval,
)


class SGDState(NamedTuple):
    step: int
    """Updates applied so far."""
    momentum_buffer: Params
    """b, the heavy-ball buffer (the last gradient itself when momentum is 0)."""


def sgd(
    learning_rate: ScalarOrSchedule,
    momentum: float = 0.0,
    dampening: float = 0.0,
    nesterov: bool = False,
    weight_decay: float = 0.0,
) -> Optimizer:
    r"""SGD with heavy-ball or Nesterov momentum, exactly as ``torch.optim.SGD``.

    g = dW + weight_decay * W                       (coupled weight decay: L2 in the gradient)
    b = g at the first update, then b = momentum * b + (1 - dampening) * g
    d = g + momentum * b  (nesterov=True)   or   d = b  (nesterov=False)
    W = W - learning_rate * d

    With momentum = 0 this is plain gradient descent (dampening is then ignored, as in torch).
    Validation: momentum in [0, 1), dampening in [0, 1], weight_decay >= 0, and nesterov needs
    momentum > 0 and dampening = 0 (torch's rule; torch also accepts momentum >= 1).

    How it differs from the variants of the same name:
    - descentlab's ``momentum`` (the course's form) averages: v = beta v + (1 - beta) g from
      v = 0, so its steps are (1 - beta) times this one's once the buffer has settled.
    - ``optax.sgd(momentum=m, nesterov=)`` keeps b = g + m b from b = 0 (the same buffer as
      here with dampening 0, since the first buffer is g either way); it has no dampening and no
      weight decay (chain ``optax.add_decayed_weights`` in front for the coupled form).
    - Keras ``SGD`` keeps the learning rate inside the buffer (v = m v - lr g; W = W + v, and
      W = W + m v - lr g with Nesterov): the same steps for a constant learning rate, different
      ones once a schedule changes it. Keras's ``weight_decay`` is decoupled (W -= lr wd W).
    """
    lr_at = learning_rate_at(learning_rate)
    momentum_given, dampening_given = momentum, dampening  # the error message names these
    momentum = check_decay("momentum", momentum)
    dampening = check_unit_interval("dampening", dampening)
    nesterov = check_bool("nesterov", nesterov)
    weight_decay = check_nonnegative_float("weight_decay", weight_decay)
    if nesterov and (np.any(momentum <= 0) or np.any(dampening != 0)):
        raise ValueError(
            f"nesterov=True needs momentum > 0 and dampening = 0, got momentum={momentum_given!r}, "
            f"dampening={dampening_given!r}"
        )
    # With momentum 0 torch skips the buffer; b = 0 * b + 1 * g = g is the same step.
    dampening_where = np.where(momentum > 0, dampening, 0.0)
    # a Python float unless stacked, so that float32 parameters keep a float32 buffer
    buffer_dampening = float(dampening_where) if dampening_where.ndim == 0 else dampening_where
    add_l2 = coupled(weight_decay, "sgd")

    def init(params: Params) -> SGDState:
        return SGDState(step=0, momentum_buffer=np.zeros_like(params))

    def update(
        grads: Params, state: SGDState, params: Params | None = None
    ) -> tuple[Params, SGDState]:
        lr = lr_at(state.step)
        g = add_l2(grads, params)
        if state.step == 0:
            buffer = np.copy(g)  # torch starts the buffer at the first gradient
        else:
            buffer = momentum * state.momentum_buffer + (1 - buffer_dampening) * g
        direction = g + momentum * buffer if nesterov else buffer
        return -(lr * direction), SGDState(step=state.step + 1, momentum_buffer=buffer)

    def step_scalars(first: int, count: int) -> tuple[np.ndarray, ...]:
        is_first = (elementwise.steps(first, count) == 0).astype(float)
        return (elementwise.learning_rates(learning_rate, lr_at, first, count), is_first)

    rule = ElementwiseRule(
        "sgd",
        (
            momentum,
            buffer_dampening,
            weight_decay,
            elementwise.any_nonzero(weight_decay),
            elementwise.flag(nesterov),
        ),
        ("momentum_buffer",),
        step_scalars,
    )
    hyperparameters = record_hyperparameters(sgd, locals())
    return Optimizer("sgd", hyperparameters, init, update, elementwise=rule)
