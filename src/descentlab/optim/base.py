"""The optimizer interface: a pair of pure functions, as in optax.

``state = opt.init(params)`` and ``updates, state = opt.update(grads, state, params)``;
``params = apply_updates(params, updates)``. Nothing is mutated: the state is a small
NamedTuple that carries its own ``step`` count. The math is elementwise on arrays of any
shape (or per layer, per run), and hyperparameters broadcast against them, so one call updates a
stack of K runs whose parameters have a leading run axis.

Beyond the gradient at the current weights, an optimizer may need more of the training loop.
It says what in ``Optimizer.needs`` (its registry entry declares the same), and the loop then
passes exactly those keywords, and no others, so the optimizers that need nothing are called as
they always were:

- ``layout``: the ``descentlab.optim.layout.Layout`` of the flat buffer, to ``init`` and to
  every ``update`` (Muon, LAMB, LARS, Adafactor: per-layer matrices and norms).
- ``value``: the mini-batch loss at ``params``, one per run, shape ``params.shape[:-1] + (1,)``
  (L-BFGS's tolerance on the change of loss).
- ``value_and_grad``: a function ``points -> (values, grads)`` that evaluates the same
  mini-batch's loss and gradient at other points of ``params``'s shape, one per run, without
  touching the recorded costs (SAM's perturbed point, L-BFGS's inner iterations). It returns
  fresh arrays the optimizer may keep.

This is optax's answer to the same problem (``update(updates, state, params, value=...,
grad=..., value_fn=...)`` with ``optax.contrib.sam`` and ``optax.lbfgs``), with the one change
that the keywords are passed only to the optimizers that declare them. An optimizer that trains
weights other than the ones to evaluate (ASGD's average, schedule-free's x, Lookahead's slow
weights) gives ``Optimizer.report(state, params)``: evaluation, ``--save`` and ``predict`` use
what it returns (``reported_params``), the training loop and checkpoints the raw ``params``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from descentlab.validation import check_positive_float

if TYPE_CHECKING:
    from descentlab.optim.elementwise import ElementwiseRule

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


NEED_KEYWORDS = ("layout", "value", "value_and_grad")
"""What an optimizer may be given by the training loop beyond the gradient, each the name of the
keyword that passes it (see the module docstring; ``descentlab.optim.registry.NEEDS`` says
which optimizers ask for each, and adds ``full_batch``, a condition rather than a keyword)."""

ValueAndGrad = Callable[[Params], tuple[np.ndarray, Params]]
"""``points -> (values, grads)``: the current mini-batch's loss (shape ``points.shape[:-1] +
(1,)``) and gradient (``points``'s shape) at ``points``, one per run."""

Report = Callable[[OptState, Params], Params]
"""``(state, params) -> weights``: the weights to evaluate, save and predict with."""


class Optimizer(NamedTuple):
    """A named optimizer: ``init(params) -> state`` and
    ``update(grads, state, params) -> (updates, state)``, each also given the keywords named in
    ``needs`` (``layout`` to both; ``value`` and ``value_and_grad`` to ``update``)."""

    name: str
    hyperparameters: Mapping[str, float | bool | str]
    init: Callable[..., OptState]
    update: Callable[..., tuple[Params, OptState]]
    needs: frozenset[str] = frozenset()
    """A subset of ``registry.NEEDS``: the keywords of ``NEED_KEYWORDS`` the training loop
    passes besides the gradient, and ``full_batch``."""
    report: Report | None = None
    """The weights to evaluate, when they are not ``params`` (``reported_params``)."""
    elementwise: ElementwiseRule | None = None
    """The update as a compiled engine runs it (``descentlab.optim.elementwise``), for the
    optimizers whose update is elementwise; None: the compiled engine calls ``update``."""


def reported_params(optimizer: Optimizer, state: OptState, params: Params) -> Params:
    """The weights ``optimizer`` reports for evaluation, ``--save`` and ``predict``: its
    ``report(state, params)``, or ``params`` itself when it has none."""
    return params if optimizer.report is None else optimizer.report(state, params)


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
