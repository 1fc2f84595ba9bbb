"""A sweep's worker processes: chunks as tasks of a process pool, progress and Ctrl-C across
processes, and how many processes ``--jobs auto`` starts.

Worker processes receive the data once, when they start (``fork`` shares it without a copy),
and each chunk's plan as the argument of its task; they send back parameters, costs every
``COST_EVERY`` epochs and accuracies (full histories only when asked).
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from descentlab.sweep.checkpoints import ChunkSaving, SweepCheckpoints
from descentlab.sweep.chunk import ChunkResult, RunEpochsCallback, TrainingJob, train_chunk
from descentlab.sweep.config import SweepConfig
from descentlab.sweep.plan import ChunkPlan
from descentlab.threads import Setting, blas_threads, configured
from descentlab.train import TrainingInterrupted
from descentlab.validation import check_int

PROGRESS_EVERY = 10
"""Worker processes report progress, and look for a stop request, every this many epochs."""
AUTO_MIN_RUN_EPOCHS = 5000
"""``jobs="auto"`` gives each process at least this much work (runs x epochs). Measured with
adam on the published workload and an idle second core: 2 processes were 1.5x faster for
64 runs x 200 epochs (12800 run-epochs) and 1.4x slower for 64 x 50 (3200)."""


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


def train_in_processes(
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
    except BrokenProcessPool:
        # A worker killed by a signal (the out-of-memory killer, SIGKILL): what the chunks
        # saved is kept, and the folder still says "running", so the sweep can be resumed.
        # No stop.set(): the pool terminates the other workers itself, and one terminated
        # inside stop.is_set() leaves the event's lock held forever (set() would hang).
        raise ValueError(
            "a sweep worker process died (killed by a signal, e.g. for lack of memory); the "
            "chunks saved so far are kept: continue with 'descentlab resume' on the sweep's folder"
        ) from None
    except BaseException:
        stop.set()  # the workers stop within an epoch (with checkpoints) or PROGRESS_EVERY
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    stopped = [answer.epochs_done for answer in answers if isinstance(answer, _Interrupted)]
    if stopped:
        raise TrainingInterrupted(max(stopped))
    return [answer for answer in answers if isinstance(answer, ChunkResult)]


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
