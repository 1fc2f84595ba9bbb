"""Training a sweep: its runs cut into chunks (``plan``), each chunk trained as one stack
(``chunk``) in this process, in a pool of worker processes (``pool``) or on a Dask cluster
(``on_cluster``), the runs gathered back in order.

Every run equals training it alone with ``train``, whatever the chunking and the process count
(see ``descentlab.sweep.chunk``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from descentlab.datasets import Dataset
from descentlab.engines import NUMPY, Engine, Setting
from descentlab.engines import resolve as resolve_engine
from descentlab.history import History
from descentlab.sweep.checkpoints import SweepCheckpoints
from descentlab.sweep.chunk import ChunkResult, RunEpochsCallback, TrainingJob, train_chunk
from descentlab.sweep.config import Configuration, RunSpec, SweepConfig
from descentlab.sweep.plan import ChunkPlan, bytes_per_run, default_max_stack, plan_chunks
from descentlab.sweep.pool import train_in_processes
from descentlab.validation import check_int

if TYPE_CHECKING:
    from descentlab.cluster.scheduler import Cluster
    from descentlab.sweep.on_cluster import ChunkFailure


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
    error: str | None = None
    """Why its chunk failed on a cluster (one line); then it has no numbers (NaN)."""

    @property
    def status(self) -> str:
        """ "failed" (its chunk raised, on a cluster only), "diverged" or "finished"."""
        if self.error is not None:
            return "failed"
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
    cluster: bool = False
    """``processes`` counts a Dask cluster's workers (``run_sweep(cluster=...)``)."""


@dataclass(frozen=True)
class SweepOutcome:
    config: SweepConfig
    runs: list[RunResult]
    """One per ``config.runs`` entry, in that order."""
    execution: Execution
    failures: tuple[ChunkFailure, ...] = ()
    """The chunks that failed on a cluster (their runs are "failed")."""
    cluster: Mapping[str, Any] | None = None
    """Where it ran on a cluster: results.json's ``cluster`` (``cluster.record``)."""
    engine: Engine = NUMPY
    """The engine that trained every chunk (``descentlab.engines``)."""
    numpy_updates: tuple[str, ...] = ()
    """The optimizers the compiled engine updated with numpy, in any chunk (sorted)."""


def run_sweep(
    config: SweepConfig,
    dataset: Dataset,
    *,
    max_stack: int | None = None,
    jobs: int = 1,
    progress: RunEpochsCallback | None = None,
    keep_histories: bool = False,
    checkpoints: SweepCheckpoints | None = None,
    cluster: Cluster | None = None,
    shared_folder: bool = False,
    engine: Setting | str | None = None,
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

    With ``cluster`` (then ``jobs`` must be 1) the chunks, at least one per worker, are tasks
    of that Dask cluster (``sweep.on_cluster``; ``shared_folder``: its workers see
    ``checkpoints.folder``); ``progress`` then receives a chunk's run-epochs when it finishes,
    and a chunk that raises makes its runs "failed" rather than the sweep.

    ``engine`` (``descentlab.engines``; None: the one configured, numpy when nothing is) is
    resolved here, once, and every chunk trains with it, in any process or worker;
    ``SweepOutcome.engine`` is the one the chunks report.
    """
    chosen_engine = resolve_engine(engine)
    jobs = check_int("jobs", jobs, minimum=1)
    if cluster is not None:
        if jobs != 1:
            raise ValueError(f"a sweep on a cluster takes jobs=1 (its workers), got {jobs}")
        workers = cluster.workers()
        jobs = max(1, len(workers))
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
        config.epochs, config.batch_size, config.schedule, chosen_engine,
    )  # fmt: skip
    started = time.perf_counter()
    if cluster is not None:
        return _on_cluster(
            cluster, workers, config, chunks, job, dataset.n_examples, started,
            Execution(len(chunks), len(workers), 0.0, limit, per_run, cluster=True),
            shared_folder=shared_folder, progress=progress, keep_histories=keep_histories,
            checkpoints=checkpoints,
        )  # fmt: skip
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
    return SweepOutcome(
        config,
        runs,
        Execution(len(chunks), processes, seconds, limit, per_run),
        **_engine_of(results, chosen_engine),
    )


def _on_cluster(
    cluster: Cluster,
    workers: Mapping[str, Mapping[str, Any]],
    config: SweepConfig,
    chunks: Sequence[ChunkPlan],
    job: TrainingJob,
    n_examples: int,
    started: float,
    execution: Execution,
    *,
    shared_folder: bool,
    progress: RunEpochsCallback | None,
    keep_histories: bool,
    checkpoints: SweepCheckpoints | None,
) -> SweepOutcome:
    from descentlab.cluster.record import cluster_record
    from descentlab.sweep.on_cluster import train_on_cluster

    done = train_on_cluster(
        cluster, job, chunks, shared_folder=shared_folder, progress=progress,
        keep_histories=keep_histories, checkpoints=checkpoints,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    record = cluster_record(cluster, workers, shared_folder, done.placements, pieces="chunks")
    for entry in record["chunks"]:
        entry["started_from_epoch"] = done.started_from[entry["index"]]
    failed = {failure.index: failure.error for failure in done.failures}
    runs = _collect(config, chunks, done.results, n_examples, failed)
    return SweepOutcome(
        config,
        runs,
        dataclasses.replace(execution, seconds=seconds),
        tuple(done.failures),
        record,
        **_engine_of(done.results, job.engine),
    )


def _engine_of(results: Sequence[ChunkResult | None], asked: Engine) -> dict[str, Any]:
    """``SweepOutcome``'s engine and numpy updates, from what the chunks report (``asked``
    when none finished); a ``ValueError`` if they disagree, which no chunk told ``asked``
    should ever do."""
    finished = [result for result in results if result is not None]
    used = {result.engine for result in finished} or {asked}
    if used != {asked}:
        raise ValueError(
            f"the sweep's chunks trained with the engines {', '.join(sorted(used))}, but "
            f"{asked} was asked for"
        )
    updates = sorted({name for result in finished for name in result.numpy_updates})
    return {"engine": asked, "numpy_updates": tuple(updates)}


def _collect(
    config: SweepConfig,
    chunks: Sequence[ChunkPlan],
    results: Sequence[ChunkResult | None],
    n_examples: int,
    failed: Mapping[int, str] | None = None,
) -> list[RunResult]:
    """The chunks' runs back in ``config.runs`` order; a failed chunk's (``failed``: chunk
    index -> error, its result None) with NaN numbers and the error."""
    specs = config.runs
    by_index: dict[int, RunResult] = {}
    for position, (chunk, result) in enumerate(zip(chunks, results, strict=True)):
        if result is None:
            error = (failed or {})[position]
            for index in chunk.runs:
                by_index[index] = RunResult(
                    spec=specs[index],
                    configuration=config.configurations[specs[index].configuration],
                    params=np.full(0, np.nan),
                    final_cost=float("nan"),
                    costs=np.full(0, np.nan),
                    diverged_epoch=None,
                    train_correct=0,
                    n_examples=n_examples,
                    error=error,
                )
            continue
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
