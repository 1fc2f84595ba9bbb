"""A sweep's chunks as tasks of a Dask cluster (``descentlab.cluster``): the same chunks as
in this process, each trained by ``train_chunk``, so every run has the same bits.

The ``TrainingJob`` (the data) is sent to every worker once; each task is one chunk.

- Workers that share the run folder (``shared_folder``) write their chunk's checkpoint file
  there as a local sweep does, and always continue the file they find: a chunk run again
  after its worker died starts from its last checkpoint.
- Workers that do not write no file: a finished task sends back its final snapshot and this
  process writes the chunk's file (so ``descentlab resume`` reads it back); a chunk run again
  starts from scratch, and ends with the same bits. A resumed sweep reads its finished chunks
  back here and sends the others.
- A chunk that raises is a ``ChunkFailure`` (its runs fail, the sweep goes on); a stop request
  (``checkpoints.interrupted()``) raises ``TrainingInterrupted`` once no task runs, the
  running chunks saved where they can; a lost scheduler raises ``cluster.tasks.ClusterLost``.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from descentlab import checkpoint
from descentlab.cluster.scheduler import Cluster
from descentlab.cluster.tasks import ClusterInterrupted, Placement, run_tasks
from descentlab.optim import OptState
from descentlab.sweep.checkpoints import ChunkSaving, SweepCheckpoints
from descentlab.sweep.chunk import ChunkResult, RunEpochsCallback, TrainingJob, train_chunk
from descentlab.sweep.plan import ChunkPlan
from descentlab.train import EpochSnapshot, TrainingInterrupted


@dataclass(frozen=True)
class ChunkFailure:
    """A chunk whose task raised: its runs and the one-line error."""

    index: int
    runs: tuple[int, ...]
    error: str


@dataclass(frozen=True)
class ClusterRun:
    """What the cluster did: each chunk's result (None for a failed one), where the finished
    ones ran, the failures, and for each chunk the epochs its file held when its last task
    started (0: from scratch; None: read back here, not sent)."""

    results: list[ChunkResult | None]
    placements: list[Placement]
    failures: list[ChunkFailure]
    started_from: dict[int, int | None]


@dataclass(frozen=True)
class _ChunkTask:
    index: int
    chunk: ChunkPlan
    saving: ChunkSaving | None
    """The chunk's file (shared folder), or None: the worker writes nothing."""
    keep_snapshot: bool
    """Send the final snapshot back (unshared folder, a sweep with checkpoints)."""
    keep_histories: bool


@dataclass(frozen=True)
class _ChunkAnswer:
    result: ChunkResult
    snapshot: EpochSnapshot | None
    started_from: int


@dataclass(frozen=True)
class _InMemory(ChunkSaving):
    """A chunk's "file" kept in the worker's memory: nothing to continue, the last snapshot
    saved kept for the answer."""

    kept: list[EpochSnapshot] = field(default_factory=list)

    def load(
        self, initial_states: list[OptState], n_params: int, epochs: int, batches_per_epoch: int
    ) -> EpochSnapshot | None:
        return None

    def save(self, snapshot: EpochSnapshot) -> None:
        self.kept[:] = [snapshot]


def _train_task(
    task: _ChunkTask, job: TrainingJob, should_stop: Callable[[], bool]
) -> _ChunkAnswer:
    """One chunk on a worker (``cluster.tasks.run_tasks``'s ``work``); it stops at an epoch's
    end once ``should_stop()`` says so (``TrainingInterrupted``), its state saved first."""
    if task.saving is None:
        memory = _InMemory(Path(), 0, False, task.chunk.runs)  # the path is never opened
        result = train_chunk(job, task.chunk, None, task.keep_histories, memory, should_stop)
        snapshot = memory.kept[-1] if task.keep_snapshot else None
        return _ChunkAnswer(result, snapshot, 0)
    started_from = checkpoint.epochs_done(task.saving.path) or 0
    result = train_chunk(job, task.chunk, None, task.keep_histories, task.saving, should_stop)
    return _ChunkAnswer(result, None, started_from)


def train_on_cluster(
    cluster: Cluster,
    job: TrainingJob,
    chunks: Sequence[ChunkPlan],
    *,
    shared_folder: bool,
    progress: RunEpochsCallback | None = None,
    keep_histories: bool = False,
    checkpoints: SweepCheckpoints | None = None,
) -> ClusterRun:
    """Every chunk as a task of ``cluster`` (see the module docstring). ``progress`` receives
    the run-epochs of each chunk as it finishes (read-back chunks included)."""
    results: list[ChunkResult | None] = [None] * len(chunks)
    started_from: dict[int, int | None] = {}
    tasks: list[_ChunkTask] = []
    for index, chunk in enumerate(chunks):
        saving = None if checkpoints is None else checkpoints.chunk(index, chunk)
        if saving is not None and not shared_folder:
            if saving.resume and checkpoint.epochs_done(saving.path) == job.epochs:
                results[index] = train_chunk(job, chunk, None, keep_histories, saving)
                started_from[index] = None
                if progress is not None:
                    progress(len(chunk.runs) * job.epochs)
                continue
            saving = None  # the workers cannot see the file: this process writes it
        elif saving is not None:
            saving = dataclasses.replace(saving, resume=True)  # a re-run continues its file
        tasks.append(_ChunkTask(index, chunk, saving, checkpoints is not None, keep_histories))

    def done(position: int, answer: _ChunkAnswer, placement: Placement) -> None:
        task = tasks[position]
        results[task.index] = answer.result
        started_from[task.index] = answer.started_from
        if answer.snapshot is not None and checkpoints is not None:
            checkpoints.chunk(task.index, task.chunk).save(answer.snapshot)
        if progress is not None:
            progress(len(task.chunk.runs) * job.epochs)

    interrupted = None if checkpoints is None else checkpoints.interrupted
    try:
        placements, failures = run_tasks(
            cluster, _train_task, tasks, job, name=f"sweep-{secrets.token_hex(4)}",
            on_done=done, interrupted=interrupted,
        )  # fmt: skip
    except ClusterInterrupted:
        # Its chunks stopped at different epochs: no one epoch to report.
        raise TrainingInterrupted(0) from None
    return ClusterRun(
        results,
        [dataclasses.replace(p, index=tasks[p.index].index) for p in placements],
        [ChunkFailure(tasks[f.index].index, tasks[f.index].chunk.runs, f.error) for f in failures],
        started_from,
    )
