"""One task of a benchmark, run, and its record: the unit that is trained, saved and resumed.

A task (``config.Task``) is one optimizer on one problem, of one kind:

- ``tuned``: ``trials.tune(problem, optimizer, budget, seed)`` (validation split only), then
  ``trials.retest`` of its best configuration with ``retest_seeds(seed, seeds)`` (test split);
- ``defaults``: ``trials.retest`` of ``search_space.defaults(optimizer)`` with the same trial
  seeds; nothing is tuned.

``run_task`` depends on nothing but its arguments, so a task gives the same record, bit for
bit, in any process, in any order and after any interruption (timings aside): a benchmark
saves each finished task's record and a resumed one trains only the others.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from descentlab.benchmark.config import KINDS, BenchmarkConfig, Task, task_key
from descentlab.benchmark.search_space import defaults
from descentlab.benchmark.trials import (
    Interrupted,
    TrialRecord,
    TuningRecord,
    retest,
    retest_seeds,
    tune,
)
from descentlab.engines import NUMPY, Setting, using
from descentlab.engines import resolve as resolve_engine
from descentlab.threads import one_thread_per_process
from descentlab.train import StackResult

__all__ = ["TaskRecord", "run_task"]


@dataclass(frozen=True)
class TaskRecord:
    """What one task measured: its tuning (None for ``defaults``) and its re-runs."""

    problem: str
    optimizer: str
    kind: str
    tuning: TuningRecord | None
    trials: tuple[TrialRecord, ...]
    """One per trial seed, in ``retest_seeds`` order, measured on the test split."""
    seconds: float
    """Wall time of the task; the only field that differs between two runs of it."""
    engine: str = "numpy"
    """The engine that trained its networks (``descentlab.engines``; a problem without a
    network, a landscape, trains none: numpy)."""
    numpy_updates: tuple[str, ...] = ()
    """Optimizers the compiled engine updated with numpy (``train.StackResult``)."""

    @property
    def key(self) -> str:
        return task_key(self.problem, self.optimizer, self.kind)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (NaN and infinities as null, see ``trials``)."""
        return {
            "problem": self.problem,
            "optimizer": self.optimizer,
            "kind": self.kind,
            "tuning": None if self.tuning is None else self.tuning.to_dict(),
            "trials": [trial.to_dict() for trial in self.trials],
            "seconds": self.seconds,
            "engine": self.engine,
            "numpy_updates": list(self.numpy_updates),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskRecord:
        """The record ``to_dict`` wrote; a ``KeyError``/``TypeError``/``ValueError`` for
        anything else (callers name the file)."""
        kind = str(data["kind"])
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
        tuning = data["tuning"]
        return cls(
            str(data["problem"]),
            str(data["optimizer"]),
            kind,
            None if tuning is None else TuningRecord.from_dict(tuning),
            tuple(TrialRecord.from_dict(trial) for trial in data["trials"]),
            float(data["seconds"]),
            # Records saved before engines were recorded: numpy, the only engine then.
            str(data.get("engine", "numpy")),
            tuple(str(name) for name in data.get("numpy_updates", ())),
        )

    def without_timing(self) -> dict[str, Any]:
        """``to_dict`` without ``seconds``: what two runs of the task must agree on."""
        data = self.to_dict()
        del data["seconds"]
        return data


def run_task(
    task: Task,
    config: BenchmarkConfig,
    interrupted: Interrupted = None,
    engine: Setting | str | None = None,
) -> TaskRecord:
    """Train ``task`` under ``config``'s budget and seeds, with one BLAS thread (as every
    sweep chunk: the thread count may change a product's last bits) and with ``engine``
    (``descentlab.engines``; None: the one configured, numpy when nothing is). When
    ``interrupted()`` turns True (asked at every epoch's end) ``train.TrainingInterrupted`` is
    raised and the task's work is dropped: a task is short, and rerunning it gives the same
    bits."""
    problem, name = task.problem, task.optimizer
    trial_seeds = retest_seeds(config.seed, config.seeds)
    chosen_engine = resolve_engine(engine)
    stacks: list[StackResult] = []
    started = time.perf_counter()
    with one_thread_per_process(), using(chosen_engine):
        if task.kind == "tuned":
            tuning: TuningRecord | None = tune(
                problem, name, config.budget, config.seed, interrupted, stacks.append
            )
            assert tuning is not None
            chosen = tuning.best.configuration
        else:
            tuning, chosen = None, defaults(name)
        trials = retest(problem, name, chosen, trial_seeds, interrupted, stacks.append)
    seconds = time.perf_counter() - started
    return TaskRecord(
        problem.name, name, task.kind, tuning, tuple(trials), seconds,
        engine=stacks[-1].engine if stacks else NUMPY,
        numpy_updates=tuple(sorted({n for stack in stacks for n in stack.numpy_updates})),
    )  # fmt: skip
