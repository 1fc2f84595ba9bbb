"""What a compiled engine needs to run an elementwise optimizer's update without Python.

An optimizer whose update is elementwise per run (the same few operations on every coordinate,
with per-run hyperparameters) describes itself in ``Optimizer.elementwise`` as an
``ElementwiseRule``: which rule (``kind``), its per-run hyperparameters in the rule's order,
the names of the state's arrays the rule updates in place (``slots``), and ``step_scalars``,
the per-step numbers (learning rate, bias corrections) for a block of consecutive steps.

The per-step numbers are computed here, in Python, by the very expressions (and the very
``Powers`` tables) the optimizer's numpy ``update`` uses, so they carry the same bits in both
engines; only the elementwise arithmetic is compiled. A state's per-run numbers that each step
changes from their previous values (nadam's ``mu_product``, asgd's step size, schedule-free's
weight sum) are ``carried``: ``carried_scalars`` computes them step after step, by the same
arithmetic, with the per-step numbers. The optimizers know nothing of the compiler:
``descentlab.compiled`` reads these rules.

Shapes: a hyperparameter is a number or a (k, 1) array (one per run of a stack); a step
scalar block is an array of shape (count,) (every run alike) or (count, k, 1) (per run).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from descentlab.optim.base import ScalarOrSchedule, Schedule

StepScalars = Callable[[int, int], tuple[np.ndarray, ...]]
"""``(first_step, count) -> blocks``: each per-step number for the steps whose count before
the update is first_step, ..., first_step + count - 1 (see the module docstring for shapes)."""

CarriedScalars = Callable[[int, int, tuple[Any, ...]], tuple[tuple[np.ndarray, ...], list[Any]]]
"""``(first_step, count, values) -> (blocks, after)``: ``StepScalars`` for a rule with
``carried`` fields, ``values`` those fields before step first_step, ``after[i]`` the tuple of
their values after step first_step + i."""


class ElementwiseRule(NamedTuple):
    """An optimizer's update as a compiled engine runs it (see the module docstring)."""

    kind: str
    """The rule's name: ``gd``, ``momentum``, ``sgd``, ``adam``, ``rmsprop``, ``adagrad``,
    ``adamax``, ``lion``, ``nadam``, ``radam``, ``adabelief``, ``adadelta``, ``rprop``,
    ``adan``, ``yogi``, ``asgd`` or ``schedule_free`` (each optimizer's docstring states its
    rule)."""
    hyperparameters: tuple[float | np.ndarray, ...]
    """Per-run numbers in the order the rule reads them (switches as 1.0 / 0.0)."""
    slots: tuple[str, ...]
    """The state's array fields the rule reads and writes, in its order; a field that is None
    in a state (amsgrad's maximum before the first update) counts as zeros."""
    step_scalars: StepScalars
    carried: tuple[str, ...] = ()
    """The state's per-run numbers (floats, or (k, 1) arrays in a stack) that each step
    changes from their previous values, not from the step count alone (nadam's
    ``mu_product``); ``carried_scalars`` then replaces ``step_scalars``."""
    carried_scalars: CarriedScalars | None = None
    """The per-step numbers of a rule with ``carried`` fields (see ``CarriedScalars``)."""


def learning_rates(
    learning_rate: ScalarOrSchedule, lr_at: Schedule, first: int, count: int
) -> np.ndarray:
    """``lr_at(step)`` for ``count`` steps from ``first``: one value when the rate is a number
    or an array of them (a (1, k, 1) block for a stack), else one per step."""
    if not callable(learning_rate):
        value = np.asarray(lr_at(first), dtype=float)
        return value.reshape(1, *value.shape) if value.ndim else value.reshape(1)
    values = [lr_at(step) for step in range(first, first + count)]
    return np.array(values, dtype=float)


def steps(first: int, count: int) -> np.ndarray:
    """The step counts before each update of the block, as int64 (what ``state.step`` is)."""
    return np.arange(first, first + count, dtype=np.int64)


def flag(value: bool) -> float:
    """A switch as the kernels read it."""
    return 1.0 if value else 0.0


def any_nonzero(value: float | np.ndarray) -> float:
    """1.0 when the numpy update applies a weight decay at all (``weight_decay`` helpers skip
    it only when every run's decay is 0)."""
    return flag(not bool(np.all(value == 0)))


def per_step(block: float | np.ndarray) -> np.ndarray:
    """A block (or a hyperparameter) as a (steps or 1, runs or 1) array, so that blocks and
    hyperparameters of every shape combine elementwise into one block."""
    values = np.asarray(block, dtype=float)
    if values.ndim == 0:
        return values.reshape(1, 1)
    if values.ndim == 2:  # a (k, 1) hyperparameter: one per run
        return values.reshape(1, -1)
    return values.reshape(len(values), -1)


def by_step(values: list[Any]) -> np.ndarray:
    """One number (or (k, 1) array of them) per step as a (steps, runs or 1) block: the
    steps of a carried field may change shape (a float first, one per run once a per-run
    hyperparameter has entered it)."""
    rows = [np.asarray(value, dtype=float).reshape(-1) for value in values]
    width = max(len(row) for row in rows)
    return np.array([np.broadcast_to(row, (width,)) for row in rows])


def nothing(first: int, count: int) -> tuple[np.ndarray, ...]:
    """The step scalars of a rule that needs none."""
    return ()
