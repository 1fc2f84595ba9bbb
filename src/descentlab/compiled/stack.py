"""A stack's training state as the compiled kernels hold it, between ``train_stack``'s epochs.

``CompiledStack`` packs the state arrays of the groups whose optimizer has an
``ElementwiseRule`` into one (slots, K, n_params) buffer that the kernel updates in place, keeps
their step counts, and fills the per-step scalars (learning rates, bias corrections) a block of
steps at a time through each rule's ``step_scalars`` (``carried_scalars`` for a rule whose
state holds per-run numbers that each step changes, whose values after each step of the block
it keeps). ``states()`` gives the optimizer states back as the optimizers' own NamedTuples
(fresh copies, so a snapshot handed out is never written again); the groups without a rule
keep their states in ``train_stack``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from descentlab.compiled import kernels
from descentlab.nn import Network
from descentlab.optim import Optimizer, OptState
from descentlab.optim.elementwise import ElementwiseRule

SHARED_RUNS = 16
"""From this many runs that share one shuffle, the kernel that loops over the runs innermost
(``kernels.train_batches_shared``) trains them; below, run by run is faster. Both give a run
the same bits, so this is only about speed (measured, Adam on the course's [2, 5, 2, 1]
network, ms per epoch wide / run by run: 8 runs 0.29 / 0.21, 16 runs 0.20 / 0.33, 64 runs
0.63 / 1.09)."""

TABLE_STEPS = 1024
"""Steps of per-step scalars computed at a time (more when a block of epochs has more)."""

BLOCK_BYTES = 2**20
"""A block of epochs (``CompiledStack.train_epochs``) keeps its logits and outputs: at most this
many bytes of them, so that they stay in the caches while ``train_stack`` computes the costs."""

MAX_BLOCK_EPOCHS = 64
"""At most this many epochs in one kernel call: a block is also how often ``train_stack``
observes the training (callbacks, divergence, ``interrupted``). Measured on the course's
published workload (compare's three runs, 10000 epochs, in process, best of 3, noise about
10 %): one call per epoch 2.0 s, blocks of 16 to 64 epochs 0.8 to 0.95 s, 128 and 512 no
faster (their logits and costs no longer stay in the caches)."""


def rule_of(optimizer: Optimizer) -> ElementwiseRule | None:
    """The compiled rule of ``optimizer``: its ``elementwise`` rule, unless it needs more than
    the gradient (``Optimizer.needs``)."""
    if optimizer.needs or optimizer.elementwise is None:
        return None
    return optimizer.elementwise


def _per_run(value: float | np.ndarray, size: int) -> np.ndarray:
    """A hyperparameter (a number or a (k, 1) array) as (size,) floats."""
    return np.broadcast_to(np.asarray(value, dtype=float).reshape(-1), (size,))


class CompiledStack:
    """The kernel's view of one ``train_stack`` call (see the module docstring)."""

    def __init__(
        self,
        network: Network,
        params: np.ndarray,
        grads: np.ndarray,
        optimizers: Sequence[Optimizer],
        sizes: Sequence[int],
        states: Sequence[OptState],
        bounds: Sequence[tuple[int, int]],
        data_of_run: Sequence[int],
        X: np.ndarray,
        Y: np.ndarray,
    ) -> None:
        self.X = np.ascontiguousarray(X, dtype=np.float64)
        self.Y = np.ascontiguousarray(Y, dtype=np.float64)
        self.params = params
        self.grads = grads
        self.sizes = np.array(network.layer_sizes, dtype=np.int64)
        self.softmax = network.output == "softmax"
        self.bounds = np.array(bounds, dtype=np.int64).reshape(-1, 2)
        self.n_batches = len(bounds)
        self.data_of_run = np.array(data_of_run, dtype=np.int64)
        self.rules = [rule_of(optimizer) for optimizer in optimizers]
        self.names = [optimizer.name for optimizer in optimizers]
        n_runs, n_params = params.shape
        starts = np.cumsum([0, *sizes])
        self.parts = [slice(int(a), int(b)) for a, b in itertools.pairwise(starts)]
        self.kinds = np.zeros(n_runs, dtype=np.int64)
        n_hyper = max([len(rule.hyperparameters) for rule in self.rules if rule] + [1])
        # kernels._step reads three arrays whatever the rule; more_updates' rules may keep more
        n_slots = max([len(rule.slots) for rule in self.rules if rule] + [3])
        self.hyper = np.zeros((n_runs, n_hyper))
        self.slots = np.zeros((n_slots, n_runs, n_params))
        self.steps = [0] * len(self.rules)
        self.templates: list[OptState] = list(states)
        self.table_first = [0] * len(self.rules)
        self.after: list[list[Any]] = [[] for _ in self.rules]
        """Each group's carried fields after each step of its table (``ElementwiseRule``)."""
        for index, (rule, part) in enumerate(zip(self.rules, self.parts, strict=True)):
            if rule is None:
                continue
            self.kinds[part] = kernels.KINDS[rule.kind]
            for column, value in enumerate(rule.hyperparameters):
                self.hyper[part, column] = _per_run(value, part.stop - part.start)
            self.load(index, states[index])
        widths = [len(self._scalars(i, self.steps[i], 1)[0]) for i in range(len(self.rules))]
        self.n_scalars = max([*widths, 1])
        self.compiled_groups = [index for index, rule in enumerate(self.rules) if rule]
        self.whole_epochs = len(self.compiled_groups) == len(self.rules)
        """True when every group has a compiled rule: one kernel call trains a whole epoch."""
        outputs_bytes = 2 * n_runs * int(self.sizes[-1]) * self.X.shape[1] * self.X.itemsize
        self.block_epochs = (
            max(1, min(MAX_BLOCK_EPOCHS, BLOCK_BYTES // outputs_bytes)) if self.whole_epochs else 1
        )
        """The epochs ``train_epochs`` trains in one call, at most (``BLOCK_BYTES``)."""
        self.table_steps = max(TABLE_STEPS, self.n_batches * self.block_epochs)
        self.table = np.zeros((self.table_steps, n_runs, self.n_scalars))
        self.table_stale = True
        self.rows = np.zeros(n_runs, dtype=np.int64)

    @property
    def numpy_updates(self) -> tuple[str, ...]:
        """The names of the optimizers updated by numpy (no compiled rule), each once."""
        return tuple(dict.fromkeys(n for n, r in zip(self.names, self.rules, strict=True) if not r))

    def load(self, index: int, state: OptState) -> None:
        """Copy group ``index``'s optimizer state into the kernel's buffers."""
        rule = self.rules[index]
        if rule is None:
            return
        part = self.parts[index]
        self.templates[index] = state
        self.steps[index] = int(state.step)
        self.table_first[index] = self.steps[index]
        self.after[index] = []
        for slot, name in enumerate(rule.slots):
            value = getattr(state, name)
            self.slots[slot, part] = 0.0 if value is None else value
        self.table_stale = True

    def states(self, states: Sequence[OptState]) -> list[OptState]:
        """``states`` with each compiled group's entry replaced by its current state: the
        optimizer's NamedTuple with fresh copies of the arrays and its step count."""
        current = list(states)
        for index, rule in enumerate(self.rules):
            if rule is None:
                continue
            part = self.parts[index]
            arrays = {name: self.slots[slot, part].copy() for slot, name in enumerate(rule.slots)}
            numbers = dict(zip(rule.carried, self._carried(index), strict=True))
            current[index] = self.templates[index]._replace(
                step=self.steps[index], **arrays, **numbers
            )
        return current

    def _rows(self, count: int) -> np.ndarray:
        """Each run's row of the table for the next step; refills the table first when the
        next ``count`` steps are not all in it."""
        if self.table_stale or int(self.rows.max()) + count > self.table_steps:
            self._fill_table()
            for index in self.compiled_groups:
                self.rows[self.parts[index]] = self.steps[index] - self.table_first[index]
        return self.rows

    def _carried(self, index: int) -> tuple[Any, ...]:
        """Group ``index``'s carried fields at its current step."""
        rule = self.rules[index]
        if rule is None or not rule.carried:
            return ()
        done = self.steps[index] - self.table_first[index]
        if done == 0:
            return tuple(getattr(self.templates[index], name) for name in rule.carried)
        return tuple(self.after[index][done - 1])

    def _scalars(
        self, index: int, first: int, count: int
    ) -> tuple[tuple[np.ndarray, ...], list[Any]]:
        """Group ``index``'s step scalars for ``count`` steps from ``first`` (its current step
        when it carries fields), and the carried fields after each of them."""
        rule = self.rules[index]
        if rule is None:
            return (), []
        if rule.carried_scalars is None:
            return rule.step_scalars(first, count), []
        return rule.carried_scalars(first, count, self._carried(index))

    def _fill_table(self) -> None:
        for index, rule in enumerate(self.rules):
            if rule is None:
                continue
            part = self.parts[index]
            first = self.steps[index]
            size = part.stop - part.start
            if rule.carried:  # the template holds the carried fields at the table's first step
                current = dict(zip(rule.carried, self._carried(index), strict=True))
                self.templates[index] = self.templates[index]._replace(**current)
            blocks, self.after[index] = self._scalars(index, first, self.table_steps)
            for column, block in enumerate(blocks):
                values = np.asarray(block, dtype=float)
                values = values.reshape(len(values), -1)
                self.table[:, part, column] = np.broadcast_to(values, (self.table_steps, size))
            self.table_first[index] = first
        self.table_stale = False

    def train(
        self,
        orders: np.ndarray,
        logits: np.ndarray,
        outputs: np.ndarray,
        first_batch: int,
        stop_batch: int,
    ) -> None:
        """Train every run through batches ``first_batch .. stop_batch - 1`` of the epoch
        whose shuffles are ``orders`` (R, m): one row for all runs, or one per run. Z_L and A_L
        go to ``logits`` and ``outputs`` (K, C, m), from which ``train_stack`` computes the
        costs. The compiled groups take their steps; the others' gradients are left in
        ``grads`` for numpy."""
        count = stop_batch - first_batch
        rows = self._rows(count)
        if self._wide(orders.shape[0]):
            kernels.train_batches_shared(
                self.params,
                self.grads,
                self.X,
                self.Y,
                orders[0],
                self.bounds,
                first_batch,
                stop_batch,
                self.sizes,
                self.softmax,
                logits,
                outputs,
                self.kinds,
                self.hyper,
                self.table,
                rows,
                self.slots,
            )
        else:
            self._train_run_by_run(orders, logits, outputs, first_batch, stop_batch, rows)
        self._advance(count)

    def train_epochs(
        self, seeds: np.ndarray, orders: np.ndarray, logits: np.ndarray, outputs: np.ndarray
    ) -> None:
        """Train every run through B whole epochs in one kernel call (``whole_epochs`` must
        hold): epoch b shuffles with ``seeds[b]`` (B, R): one seed for all runs (R = 1) or one
        per run; its permutations go to ``orders[b]`` (B, R, m) and its Z_L and A_L to
        ``logits[b]`` and ``outputs[b]`` (B, K, C, m). The same bits as B calls of ``train``
        with those permutations."""
        count = seeds.shape[0] * self.n_batches
        rows = self._rows(count)
        kernels.train_epochs(
            self.params,
            self.grads,
            self.X,
            self.Y,
            seeds,
            orders,
            self.data_of_run,
            self._wide(seeds.shape[1]),
            self.bounds,
            self.sizes,
            self.softmax,
            logits,
            outputs,
            self.kinds,
            self.hyper,
            self.table,
            rows,
            self.slots,
        )
        self._advance(count)

    def _wide(self, shuffles: int) -> bool:
        """Whether ``kernels.train_batches_shared`` trains the stack: every update compiled,
        one shuffle for all runs (``shuffles``), at least ``SHARED_RUNS`` runs."""
        return self.whole_epochs and shuffles == 1 and self.params.shape[0] >= SHARED_RUNS

    def _advance(self, steps: int) -> None:
        """Count ``steps`` steps taken by every compiled group (its table row, its step)."""
        self.rows += steps
        for index in self.compiled_groups:
            self.steps[index] += steps

    def _train_run_by_run(
        self,
        orders: np.ndarray,
        logits: np.ndarray,
        outputs: np.ndarray,
        first_batch: int,
        stop_batch: int,
        rows: np.ndarray,
    ) -> None:
        kernels.train_batches(
            self.params,
            self.grads,
            self.X,
            self.Y,
            orders,
            self.data_of_run,
            self.bounds,
            first_batch,
            stop_batch,
            self.sizes,
            self.softmax,
            logits,
            outputs,
            self.kinds,
            self.hyper,
            self.table,
            rows,
            self.slots,
        )
