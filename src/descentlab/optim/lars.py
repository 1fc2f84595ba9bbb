"""LARS: momentum SGD whose step is rescaled per layer by a trust ratio, as ``optax.lars``."""

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
from descentlab.optim.trust_ratio import scale_by_trust_ratio
from descentlab.validation import (
    check_bool,
    check_decay,
    check_nonnegative_float,
    check_positive_float,
)


class LarsState(NamedTuple):
    step: int
    """Updates applied so far."""
    trace: Params
    """v, the momentum of the scaled steps -learning_rate r (g + weight_decay W) (starts at 0)."""


def lars(
    learning_rate: ScalarOrSchedule,
    weight_decay: float = 0.0,
    trust_coefficient: float = 0.001,
    epsilon: float = 0.0,
    momentum: float = 0.9,
    nesterov: bool = False,
) -> Optimizer:
    r"""LARS (You et al., 2017): momentum SGD with a per-layer trust ratio, as ``optax.lars``.

    u = g + weight_decay * W
    per parameter array (slot of the layout: W1, b1, W2, ...; per run of a stack):
    r = trust_coefficient * ||W|| / (||u|| + epsilon)   (r = 1 where ||W|| = 0 or ||u|| = 0)
    s = -learning_rate * r * u
    v = s + momentum * v                           (v starts at 0)
    W = W + v;    W = W + s + momentum * v          (nesterov=True)

    Each layer's step before momentum is learning_rate * trust_coefficient * ||W|| long
    (epsilon aside), whatever the gradient's scale: with the default trust_coefficient 0.001 a
    learning rate near 1 and above is usual (momentum then multiplies the steady step by up to
    1 / (1 - momentum) = 10). A layer at zero (biases at their start) takes the plain gradient
    step -learning_rate u. The learning rate multiplies each step before it enters the
    momentum, so a schedule changes only the new steps. Needs the layout
    (``needs={"layout"}``); on a landscape the point is one array. Memory: one array per
    parameter. Validation: weight_decay and epsilon >= 0, trust_coefficient > 0, momentum in
    [0, 1).

    How it differs from the variants of the same name:
    - ``optax.lars(weight_decay=0.0, trust_coefficient=0.001, eps=0.0, momentum=0.9,
      nesterov=False)``: identical; optax's ``weight_decay_mask`` and ``trust_ratio_mask``
      exempt arrays from the decay and the ratio, descentlab applies both to every array
      (biases included).
    - torch-style LARS (``pytorch_optimizer.LARS`` 4.1, the paper's Algorithm 1, NVIDIA's LARC)
      divide by ||g|| + weight_decay ||W|| instead of ||g + weight_decay W||, apply the ratio
      and the decay to weight matrices only (plain momentum SGD for biases), and keep the
      momentum of the unscaled r u, multiplying by the learning rate after it (so a schedule
      rescales the whole momentum at once); LARC also clips the ratio so that the step never
      exceeds the plain SGD step.
    - torch.optim has no LARS.
    """
    lr_at = learning_rate_at(learning_rate)
    weight_decay = check_nonnegative_float("weight_decay", weight_decay)
    trust_coefficient = check_positive_float("trust_coefficient", trust_coefficient)
    epsilon = check_nonnegative_float("epsilon", epsilon)
    momentum = check_decay("momentum", momentum)
    nesterov = check_bool("nesterov", nesterov)
    decays = not np.all(weight_decay == 0)

    def init(params: Params, *, layout: Layout) -> LarsState:
        layout.check(params)
        return LarsState(step=0, trace=np.zeros_like(params))

    def update(
        grads: Params, state: LarsState, params: Params | None = None, *, layout: Layout
    ) -> tuple[Params, LarsState]:
        if params is None:
            raise ValueError("lars needs the parameters: call update(grads, state, params)")
        lr = lr_at(state.step)
        direction = grads + weight_decay * params if decays else grads
        scaled = scale_by_trust_ratio(direction, params, layout, trust_coefficient, epsilon)
        step = scaled * -lr
        trace = step + momentum * state.trace
        updates = step + momentum * trace if nesterov else trace
        return updates, LarsState(step=state.step + 1, trace=trace)

    return Optimizer(
        "lars", record_hyperparameters(lars, locals()), init, update, needs=frozenset({"layout"})
    )
