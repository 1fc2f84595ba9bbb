"""Training a sweep: its runs cut into chunks (``plan``), each chunk trained as one stack
(``chunk``) in this process or in a pool of worker processes (``pool``), the runs gathered back
in order.

Every run equals training it alone with ``train``, whatever the chunking and the process count
(see ``descentlab.sweep.chunk``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from descentlab.datasets import Dataset
from descentlab.history import History
from descentlab.sweep.checkpoints import SweepCheckpoints
from descentlab.sweep.chunk import ChunkResult, RunEpochsCallback, TrainingJob, train_chunk
from descentlab.sweep.config import Configuration, RunSpec, SweepConfig
from descentlab.sweep.plan import ChunkPlan, bytes_per_run, default_max_stack, plan_chunks
from descentlab.sweep.pool import train_in_processes
from descentlab.validation import check_int


@dataclass(frozen=True)
class RunResult:
    """One trained run of a sweep."""

    spec: RunSpec
    configuration: Configuration
    params: np.ndarray
    final_cost: float
    costs: np.ndarray
    """The epoch cost at epochs 0, 100, 200, ... (``COST_EVERY``)."""
    diverged_epoch: int | None
    """The first epoch whose cost was NaN or infinite, or None."""
    train_correct: int
    n_examples: int
    history: History | None = None
    """Every epoch's and mini-batch's cost, only with ``run_sweep(keep_histories=True)``."""

    @property
    def status(self) -> str:
        return "finished" if self.diverged_epoch is None else "diverged"

    @property
    def train_accuracy(self) -> float:
        return self.train_correct / self.n_examples


@dataclass(frozen=True)
class Execution:
    """How a sweep was run; it never changes the results."""

    stacks: int
    processes: int
    seconds: float
    max_stack: int
    bytes_per_run: int


@dataclass(frozen=True)
class SweepOutcome:
    config: SweepConfig
    runs: list[RunResult]
    """One per ``config.runs`` entry, in that order."""
    execution: Execution


def run_sweep(
    config: SweepConfig,
    dataset: Dataset,
    *,
    max_stack: int | None = None,
    jobs: int = 1,
    progress: RunEpochsCallback | None = None,
    keep_histories: bool = False,
    checkpoints: SweepCheckpoints | None = None,
) -> SweepOutcome:
    """Train every run of ``config`` on ``dataset`` in chunks of at most ``max_stack`` runs
    (default: ``plan.default_max_stack``), in this process (``jobs=1``) or in ``jobs`` worker
    processes (then in at least ``jobs`` chunks). ``progress`` receives run-epochs as they are
    trained; ``keep_histories`` keeps every run's whole ``History``.

    With ``checkpoints`` every chunk saves its state (see ``sweep.checkpoints``) and the chunk
    plan is stored; when ``checkpoints.interrupted()`` turns True, the running chunks save
    theirs and ``TrainingInterrupted`` is raised. With ``checkpoints.resume`` the stored plan
    is used, finished chunks are read back and partial ones continue: the outcome equals the
    uninterrupted sweep's, run for run.
    """
    jobs = check_int("jobs", jobs, minimum=1)
    per_run = bytes_per_run(config, dataset.n_features, dataset.n_examples, dataset.n_classes)
    limit = default_max_stack(per_run) if max_stack is None else max_stack
    if checkpoints is None:
        chunks = plan_chunks(config, limit, min_chunks=jobs)
    else:
        checkpoints = checkpoints.of_run(config, dataset)  # what chunk files are checked against
        chunks = checkpoints.plan(config, lambda: plan_chunks(config, limit, min_chunks=jobs))
    processes = min(jobs, len(chunks))
    job = TrainingJob(
        config.network(dataset.n_features, dataset.n_classes).layer_sizes, dataset.X, dataset.Y,
        config.epochs, config.batch_size, config.schedule,
    )  # fmt: skip
    started = time.perf_counter()
    if processes == 1:
        results = []
        for index, chunk in enumerate(chunks):
            saving = None if checkpoints is None else checkpoints.chunk(index, chunk)
            interrupted = None if checkpoints is None else checkpoints.interrupted
            results.append(train_chunk(job, chunk, progress, keep_histories, saving, interrupted))
    else:
        results = train_in_processes(job, chunks, processes, progress, keep_histories, checkpoints)
    seconds = time.perf_counter() - started
    runs = _collect(config, chunks, results, dataset.n_examples)
    return SweepOutcome(config, runs, Execution(len(chunks), processes, seconds, limit, per_run))


def _collect(
    config: SweepConfig,
    chunks: Sequence[ChunkPlan],
    results: Sequence[ChunkResult],
    n_examples: int,
) -> list[RunResult]:
    """The chunks' runs back in ``config.runs`` order."""
    specs = config.runs
    by_index: dict[int, RunResult] = {}
    for chunk, result in zip(chunks, results, strict=True):
        for k, index in enumerate(chunk.runs):
            by_index[index] = RunResult(
                spec=specs[index],
                configuration=config.configurations[specs[index].configuration],
                params=result.params[k],
                final_cost=float(result.final_costs[k]),
                costs=result.costs[k],
                diverged_epoch=result.diverged_epochs[k],
                train_correct=int(result.train_correct[k]),
                n_examples=n_examples,
                history=None if result.histories is None else result.histories[k],
            )
    return [by_index[index] for index in range(len(specs))]
