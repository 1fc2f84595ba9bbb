"""Training a sweep's chunks: one ``train_stack`` call each, in this process or in a pool.

Every chunk trains through ``descentlab.train.train_stack``, the one training loop, so each
run equals training it alone with ``train`` with the same BLAS thread count (below),
whatever the chunking and the process count.
Worker processes receive the data once, when they start (``fork`` shares it without a copy),
and each chunk's plan as the argument of its task; they send back parameters, costs every
``COST_EVERY`` epochs and accuracies (full histories only when asked). Under the default
thread policy every process, this one included, trains with one BLAS thread
(``descentlab.threads.one_thread_per_process``): a sweep's parallelism is its processes, and a
product's last bits can depend on its thread count.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from descentlab.datasets import Dataset, labels_from_targets
from descentlab.history import COST_EVERY, History
from descentlab.nn import Network, predict_classes
from descentlab.optim import ScalarOrSchedule
from descentlab.optim.stack import stacked
from descentlab.schedules import ScheduleSpec
from descentlab.seeds import run_seeds
from descentlab.sweep.checkpoints import ChunkSaving, SweepCheckpoints
from descentlab.sweep.config import Configuration, RunSpec, SweepConfig
from descentlab.sweep.plan import (
    ChunkPlan,
    GroupPlan,
    bytes_per_run,
    default_max_stack,
    plan_chunks,
)
from descentlab.threads import Setting, blas_threads, configured, one_thread_per_process
from descentlab.train import EpochSnapshot, RunGroup, TrainingInterrupted, train_stack
from descentlab.validation import check_int

PROGRESS_EVERY = 10
"""Worker processes report progress, and look for a stop request, every this many epochs."""
AUTO_MIN_RUN_EPOCHS = 5000
"""``jobs="auto"`` gives each process at least this much work (runs x epochs). Measured with
adam on the published workload and an idle second core: 2 processes were 1.5x faster for
64 runs x 200 epochs (12800 run-epochs) and 1.4x slower for 64 x 50 (3200)."""

RunEpochsCallback = Callable[[int], None]
"""Receives a number of run-epochs just trained (k after each epoch of a k-run stack)."""


@dataclass(frozen=True)
class TrainingJob:
    """What every chunk of a sweep shares: the data, the network and the protocol."""

    layer_sizes: tuple[int, ...]
    X: np.ndarray
    Y: np.ndarray
    epochs: int
    batch_size: int | None
    schedule: ScheduleSpec

    def run_group(self, group: GroupPlan) -> RunGroup:
        """One stacked optimizer for the group's runs, each at its own (scheduled) rate."""
        settings = [
            {**run, "learning_rate": self.learning_rate(float(run["learning_rate"]))}
            for run in group.settings
        ]
        return RunGroup(stacked(group.optimizer, settings), len(settings))

    def learning_rate(self, lr0: float) -> ScalarOrSchedule:
        """``lr0``, or the schedule starting from it as a function of the step count."""
        if self.schedule.is_constant:
            return lr0
        n_examples = self.X.shape[1]
        batch = n_examples if self.batch_size is None else self.batch_size
        return self.schedule.for_optimizer(
            lr0, epochs=self.epochs, batches_per_epoch=-(-n_examples // batch)
        )


@dataclass(frozen=True)
class ChunkResult:
    """What a chunk sends back: what results.json needs, every cost only when asked."""

    params: np.ndarray
    """(k, n_params)"""
    final_costs: np.ndarray
    costs: np.ndarray
    """(k, ceil(epochs / COST_EVERY)): the epoch cost at epochs 0, 100, 200, ..."""
    diverged_epochs: list[int | None]
    train_correct: np.ndarray
    histories: list[History] | None = None


def train_chunk(
    job: TrainingJob,
    chunk: ChunkPlan,
    progress: RunEpochsCallback | None = None,
    keep_histories: bool = False,
    saving: ChunkSaving | None = None,
    interrupted: Callable[[], bool] | None = None,
) -> ChunkResult:
    """Train one chunk with one ``train_stack`` call and measure each run's accuracy.

    With ``saving`` the chunk's state goes to its checkpoint file every ``saving.every``
    epochs, when ``interrupted()`` turns True (then ``TrainingInterrupted`` is raised) and when
    it finishes; when resuming, a finished chunk is read back without training and a partial
    one continues from its file, ending exactly as if it had never stopped."""
    network = Network(job.layer_sizes)
    seeds = [run_seeds(seed) for seed in chunk.seeds]
    groups = [job.run_group(group) for group in chunk.groups]
    callback = None
    if progress is not None:
        report = progress

        def callback(epoch: int, costs: np.ndarray) -> None:
            report(costs.shape[0])

    continuation: dict[str, Any] = {}
    prior = None
    if saving is not None:
        probe = np.zeros((1, network.n_params))
        prior = saving.load(
            [group.optimizer.init(np.repeat(probe, group.size, axis=0)) for group in groups]
        )
        if prior is not None:
            continuation.update(
                params=prior.params,
                opt_states=prior.opt_states,
                start_epoch=prior.epochs_done,
                reference_costs=prior.reference_costs,
                diverged_epochs=prior.diverged_epochs,
            )
        writer = saving

        def write(snapshot: EpochSnapshot) -> None:
            writer.save(snapshot, prior)

        continuation.update(
            checkpoint=write, checkpoint_every=saving.every, interrupted=interrupted
        )
    done = 0 if prior is None else prior.epochs_done
    if done >= job.epochs:
        assert prior is not None
        params, diverged_epochs = prior.params, list(prior.diverged_epochs)
        epoch_costs, minibatch_costs = prior.epoch_costs, prior.minibatch_costs
    else:
        # One BLAS thread per process whatever --jobs, so the process count changes no bit.
        with one_thread_per_process():
            stack = train_stack(
                network, job.X, job.Y, groups,
                init_seeds=[s.init_seed for s in seeds],
                shuffle_seeds=[s.shuffle_seed for s in seeds],
                epochs=job.epochs - done, batch_size=job.batch_size, on_epoch_end=callback,
                **continuation,
            )  # fmt: skip
        params, diverged_epochs = stack.params, stack.diverged_epochs
        epoch_costs = np.stack([history.epoch_costs for history in stack.histories])
        minibatch_costs = np.stack([history.minibatch_costs for history in stack.histories])
        if prior is not None:
            epoch_costs = np.concatenate([prior.epoch_costs, epoch_costs], axis=1)
            minibatch_costs = np.concatenate([prior.minibatch_costs, minibatch_costs], axis=1)
        if saving is not None:
            # The finished state, so that a resumed sweep reads this chunk back untrained.
            saving.save(
                EpochSnapshot(
                    epochs_done=job.epochs, params=params, opt_states=stack.opt_states,
                    epoch_costs=epoch_costs, minibatch_costs=minibatch_costs,
                    diverged_epochs=diverged_epochs, reference_costs=_reference(minibatch_costs),
                ),
                None,
            )  # fmt: skip
    histories = None
    if keep_histories:
        per_epoch = minibatch_costs.shape[1] // epoch_costs.shape[1]
        histories = [
            History(epoch_costs[run], minibatch_costs[run], batches_per_epoch=per_epoch)
            for run in range(epoch_costs.shape[0])
        ]
    return ChunkResult(
        params=params,
        final_costs=epoch_costs[:, -1].copy(),
        costs=epoch_costs[:, ::COST_EVERY].copy(),
        diverged_epochs=diverged_epochs,
        train_correct=count_correct(network, params, job.X, job.Y),
        histories=histories,
    )


def _reference(minibatch_costs: np.ndarray) -> np.ndarray:
    """Each run's first mini-batch cost (``train_stack``'s yardstick of divergence)."""
    return minibatch_costs[:, 0].copy()


def count_correct(network: Network, params: np.ndarray, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """How many examples each of the K runs of ``params`` (K, n_params) classifies right
    (``nn.predicted_classes``: A > 0.5 for one output, else the most probable class)."""
    with np.errstate(over="ignore", invalid="ignore"):  # a diverged run's parameters are NaN
        predictions = predict_classes(network, params, X)
    return (predictions == labels_from_targets(Y)).sum(axis=-1)


class _Stopped(Exception):
    """Raised in a worker when the parent asked the workers to stop (Ctrl-C) or is gone."""


@dataclass(frozen=True)
class _Interrupted:
    """A worker's answer for a chunk it stopped (checkpoint saved) at a stop request."""

    epochs_done: int


_worker: dict[str, Any] = {}
"""A worker process's share of the pool: the job, the progress queue, the stop event, the
parent's pid and the parent's BLAS thread setting (``descentlab.threads.configured``)."""


def _start_worker(job: TrainingJob, queue: Any, stop: Any, blas: Setting | None) -> None:
    # Ctrl-C reaches every process of the terminal: the parent handles it and sets ``stop``.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker.update(job=job, queue=queue, stop=stop, parent=os.getppid(), busy=False, blas=blas)
    threading.Thread(target=_watch_parent, daemon=True).start()


def _parent_gone() -> bool:
    return os.getppid() != _worker["parent"]


def _watch_parent() -> None:
    """End an idle worker whose parent died (SIGKILL): the pool's pipes stay open between the
    workers, so nothing else would ever end it. A busy one ends in ``_train_in_worker``, after
    its chunk has saved its state."""
    while True:
        time.sleep(0.2)
        if _parent_gone() and not _worker["busy"]:
            os._exit(1)


def _should_stop() -> bool:
    """The parent asked the workers to stop, or died (SIGKILL): then the pool is orphaned and
    its chunks stop at the next epoch's end rather than train for nobody."""
    return bool(_worker["stop"].is_set()) or _parent_gone()


def _train_in_worker(
    chunk: ChunkPlan, keep_histories: bool, saving: ChunkSaving | None
) -> ChunkResult | _Interrupted:
    queue = _worker["queue"]
    pending = {"run_epochs": 0, "epochs": 0}

    def progress(run_epochs: int) -> None:
        pending["run_epochs"] += run_epochs
        pending["epochs"] += 1
        if pending["epochs"] < PROGRESS_EVERY:
            return
        if saving is None and _should_stop():
            raise _Stopped  # without checkpoints there is nothing to save first
        if queue is not None:
            queue.put(pending["run_epochs"])
        pending.update(run_epochs=0, epochs=0)

    if saving is not None and _should_stop():
        return _Interrupted(0)  # not started: its file (if any) is where resume begins
    _worker["busy"] = True
    try:
        with blas_threads(_worker["blas"]):
            result = train_chunk(
                _worker["job"], chunk, progress, keep_histories, saving, _should_stop
            )
    except TrainingInterrupted as interrupted:
        # An exception with a custom constructor does not survive pickling: answer instead.
        return _Interrupted(interrupted.epochs_done)
    finally:
        _worker["busy"] = False
        if _parent_gone():
            os._exit(1)  # orphaned: the chunk's state is saved and nobody awaits the answer
    if queue is not None and pending["run_epochs"]:
        queue.put(pending["run_epochs"])
    return result


def _train_in_processes(
    job: TrainingJob,
    chunks: Sequence[ChunkPlan],
    processes: int,
    progress: RunEpochsCallback | None,
    keep_histories: bool,
    checkpoints: SweepCheckpoints | None = None,
) -> list[ChunkResult]:
    """Every chunk as a task of a pool of ``processes`` workers, results in chunk order.

    With ``checkpoints``, each worker writes its chunks' files itself; when
    ``checkpoints.interrupted()`` turns True the workers are told to stop, each running chunk
    saves its state at its next epoch's end, chunks not started stay untouched, and
    ``TrainingInterrupted`` is raised here once every worker has stopped."""
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    queue = context.SimpleQueue() if progress is not None else None
    stop = context.Event()
    interrupted = None if checkpoints is None else checkpoints.interrupted
    pool = concurrent.futures.ProcessPoolExecutor(
        processes,
        mp_context=context,
        initializer=_start_worker,
        initargs=(job, queue, stop, configured()),
    )
    try:
        futures = [
            pool.submit(
                _train_in_worker,
                chunk,
                keep_histories,
                None if checkpoints is None else checkpoints.chunk(index, chunk),
            )
            for index, chunk in enumerate(chunks)
        ]
        waiting = set(futures)
        while waiting:
            _, waiting = concurrent.futures.wait(waiting, timeout=0.1)
            while queue is not None and progress is not None and not queue.empty():
                progress(queue.get())
            if interrupted is not None and interrupted():
                stop.set()
        answers = [future.result() for future in futures]
    except BaseException:
        stop.set()  # the workers stop within an epoch (with checkpoints) or PROGRESS_EVERY
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    stopped = [answer.epochs_done for answer in answers if isinstance(answer, _Interrupted)]
    if stopped:
        raise TrainingInterrupted(max(stopped))
    return [answer for answer in answers if isinstance(answer, ChunkResult)]


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


def resolve_jobs(jobs: int | str, config: SweepConfig, n_cores: int, busy: float = 0.0) -> int:
    """``jobs`` as a number of processes. ``"auto"``: one per core that other processes do not
    keep busy (``busy``: how many cores they use, see ``busy_cores``), no more than there are
    runs, and only as many as get ``AUTO_MIN_RUN_EPOCHS`` of work each (measured on a 2-core
    machine: a second process is 1.5x faster on an idle core, slower on a busy one)."""
    if jobs != "auto":
        return check_int("jobs", jobs, minimum=1)
    idle = n_cores - int(busy + 0.5)
    work = len(config.runs) * config.epochs
    return max(1, min(idle, len(config.runs), work // AUTO_MIN_RUN_EPOCHS))


def busy_cores(interval: float = 0.1) -> float:
    """How many cores other processes keep busy now: the non-idle share of all cores over
    ``interval`` seconds, from /proc/stat (this process sleeps meanwhile); without
    /proc/stat, the 1-minute load average."""
    try:
        idle_before, total_before, n_cpus = _cpu_times()
        time.sleep(interval)
        idle_after, total_after, _ = _cpu_times()
    except (OSError, ValueError, IndexError):
        return os.getloadavg()[0]
    elapsed = total_after - total_before
    return n_cpus * (1.0 - (idle_after - idle_before) / elapsed) if elapsed > 0 else 0.0


def _cpu_times() -> tuple[int, int, int]:
    """(idle, total) clock ticks of all cores from /proc/stat's "cpu" line, and how many
    cores it lists."""
    lines = Path("/proc/stat").read_text().splitlines()
    # user nice system idle iowait irq softirq steal (guest time is already in user)
    ticks = [int(value) for value in lines[0].split()[1:9]]
    n_cpus = sum(1 for line in lines if line.startswith("cpu") and line[3:4].isdigit())
    return ticks[3] + ticks[4], sum(ticks), n_cpus


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
        results = _train_in_processes(job, chunks, processes, progress, keep_histories, checkpoints)
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
