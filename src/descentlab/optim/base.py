"""The optimizer interface: a pair of pure functions, as in optax.

``state = opt.init(params)`` and ``updates, state = opt.update(grads, state, params)``;
``params = apply_updates(params, updates)``. Nothing is mutated: the state is a small
NamedTuple that carries its own ``step`` count. The math is elementwise on arrays of any
shape, and hyperparameters broadcast against them, so one call updates a stack of K runs
whose parameters have a leading run axis.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np

from descentlab.validation import check_positive_float

Params = np.ndarray
"""Parameters (and gradients, updates) are numpy arrays; descentlab keeps a whole network
in one flat buffer, so one array is the whole model."""

OptState = Any

INNER = "inner"
"""The parameter through which a wrapper's factory (lookahead, SAM) receives the optimizer it
wraps: its first one. The inner optimizer is not a hyperparameter of the wrapper; it records its
own."""

Schedule = Callable[[int], float]
"""A learning rate as a function of the optimizer's step count (updates applied so far)."""

ScalarOrSchedule = float | np.ndarray | Schedule
"""A learning rate: a number, an array of them (one per run of a stack, shape (K, 1)), or a
schedule."""


class Optimizer(NamedTuple):
    """A named optimizer: ``init(params) -> state`` and
    ``update(grads, state, params) -> (updates, state)``."""

    name: str
    hyperparameters: Mapping[str, float | bool | str]
    init: Callable[[Params], OptState]
    update: Callable[[Params, OptState, Params | None], tuple[Params, OptState]]


def learning_rate_at(learning_rate: ScalarOrSchedule) -> Schedule:
    """``learning_rate`` as a function of the step count; a number is validated (> 0)
    and becomes a constant schedule."""
    if callable(learning_rate):
        return learning_rate
    lr = check_positive_float("learning_rate", learning_rate)
    return lambda step: lr


def describe_learning_rate(learning_rate: ScalarOrSchedule) -> float | str:
    """What ``Optimizer.hyperparameters`` records: the number, or "schedule"."""
    if callable(learning_rate):
        return "schedule"
    if isinstance(learning_rate, np.ndarray) and learning_rate.size > 1:
        return "per run"
    return float(learning_rate)


def record_hyperparameters(
    factory: Callable[..., Optimizer], arguments: Mapping[str, Any]
) -> dict[str, float | bool | str]:
    """What ``Optimizer.hyperparameters`` records for one call of ``factory``: every parameter
    of its signature, in order (``INNER`` aside), with its value in ``arguments``, the learning
    rate described by ``describe_learning_rate``.

    A factory passes its ``locals()`` after rebinding each argument to its checked value
    (``beta1 = check_decay("beta1", beta1)``), so the record holds exactly what the update
    uses: floats (or one per run of a stack), bools, and the learning rate as a number,
    "schedule" or "per run". A new keyword is recorded without being written twice.
    """
    return {
        name: describe_learning_rate(arguments[name])
        if name == "learning_rate"
        else arguments[name]
        for name in inspect.signature(factory).parameters
        if name != INNER
    }


def apply_updates(params: Params, updates: Params) -> Params:
    """``params + updates``: every optimizer returns the step already signed and scaled."""
    return params + updates
