"""Running a benchmark: its tasks in this process or in a pool of worker processes, each
finished task saved (``store``), the records gathered back in the benchmark's task order.

A task's record does not depend on the process that ran it nor on when (``tasks``), so the
outcome is the same, bit for bit (timings aside), for any ``jobs`` and after any number of
interruptions. One BLAS thread per process, as in sweeps: the parallelism is the processes.

Interruption: when ``interrupted()`` turns True, every running task stops at its next
epoch's end and its work is dropped; finished tasks are saved; ``BenchmarkInterrupted`` is
raised. When the parent process dies (SIGKILL), its workers notice within 0.2 s and end:
what they finished is already saved.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from descentlab.benchmark.config import BenchmarkConfig, Task
from descentlab.benchmark.store import TaskStore
from descentlab.benchmark.tasks import TaskRecord, run_task
from descentlab.train import TrainingInterrupted
from descentlab.validation import check_int

__all__ = ["BenchmarkInterrupted", "BenchmarkOutcome", "Execution", "run_benchmark"]

TaskDone = Callable[[TaskRecord], None]
"""Called in the parent process as each task finishes (saved ones included, when resuming)."""


class BenchmarkInterrupted(Exception):
    """The benchmark stopped at a request; ``finished`` of ``total`` tasks are saved."""

    def __init__(self, finished: int, total: int) -> None:
        super().__init__(f"interrupted with {finished} of {total} tasks finished")
        self.finished = finished
        self.total = total


@dataclass(frozen=True)
class Execution:
    """How a benchmark ran; it never changes the results."""

    processes: int
    seconds: float
    """Wall time of this invocation (a resumed one: since it resumed)."""
    resumed_tasks: int
    """Tasks read back from their files rather than run."""


@dataclass(frozen=True)
class BenchmarkOutcome:
    config: BenchmarkConfig
    records: list[TaskRecord]
    """One per ``config.tasks`` entry, in that order."""
    execution: Execution


def run_benchmark(
    config: BenchmarkConfig,
    *,
    jobs: int = 1,
    store: TaskStore | None = None,
    on_task: TaskDone | None = None,
    interrupted: Callable[[], bool] | None = None,
) -> BenchmarkOutcome:
    """Run every task of ``config``: in this process (``jobs=1``) or in ``jobs`` worker
    processes. With ``store`` each finished task is saved and, when ``store.resume``, saved
    tasks are read back instead of run. ``on_task`` sees each record as it finishes."""
    jobs = check_int("jobs", jobs, minimum=1)
    started = time.perf_counter()
    done = store.start(config) if store is not None else {}
    for record in done.values():
        if on_task is not None:
            on_task(record)
    pending = [task for task in config.tasks if task.key not in done]
    processes = max(1, min(jobs, len(pending)))
    if processes == 1:
        for task in pending:
            if interrupted is not None and interrupted():
                raise BenchmarkInterrupted(len(done), len(config.tasks))
            try:
                record = run_task(task, config, interrupted)
            except TrainingInterrupted:
                raise BenchmarkInterrupted(len(done), len(config.tasks)) from None
            if store is not None:
                store.save(record)
            done[task.key] = record
            if on_task is not None:
                on_task(record)
    else:
        _run_in_processes(config, pending, processes, store, done, on_task, interrupted)
    seconds = time.perf_counter() - started
    records = [done[task.key] for task in config.tasks]
    resumed = len(config.tasks) - len(pending)
    return BenchmarkOutcome(config, records, Execution(processes, seconds, resumed))


_worker: dict[str, Any] = {}
"""A worker process's share of the pool: the stop event and the parent's pid."""


def _start_worker(stop: Any) -> None:
    # Ctrl-C reaches every process of the terminal: the parent handles it and sets ``stop``.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker.update(stop=stop, parent=os.getppid())
    threading.Thread(target=_watch_parent, daemon=True).start()


def _parent_gone() -> bool:
    return os.getppid() != _worker["parent"]


def _watch_parent() -> None:
    """End a worker whose parent died: nobody awaits its task, whose work would be dropped
    (finished tasks are saved by the worker itself)."""
    while True:
        time.sleep(0.2)
        if _parent_gone():
            os._exit(1)


def _run_in_worker(
    task: Task, config: BenchmarkConfig, store: TaskStore | None
) -> TaskRecord | None:
    def should_stop() -> bool:
        return bool(_worker["stop"].is_set()) or _parent_gone()

    if should_stop():
        return None
    try:
        record = run_task(task, config, should_stop)
    except TrainingInterrupted:
        return None
    if store is not None:
        store.save(record)
    return record


def _run_in_processes(
    config: BenchmarkConfig,
    pending: list[Task],
    processes: int,
    store: TaskStore | None,
    done: dict[str, TaskRecord],
    on_task: TaskDone | None,
    interrupted: Callable[[], bool] | None,
) -> None:
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    stop = context.Event()
    pool = concurrent.futures.ProcessPoolExecutor(
        processes, mp_context=context, initializer=_start_worker, initargs=(stop,)
    )
    stopped = False
    try:
        futures = {pool.submit(_run_in_worker, task, config, store): task for task in pending}
        waiting = set(futures)
        while waiting:
            finished, waiting = concurrent.futures.wait(waiting, timeout=0.1)
            for future in finished:
                record = future.result()
                if record is None:
                    stopped = True
                    continue
                done[futures[future].key] = record
                if on_task is not None:
                    on_task(record)
            if not stopped and interrupted is not None and interrupted():
                stop.set()
                stopped = True
    except BrokenProcessPool:
        # No stop.set(): the pool terminates the other workers itself, and one terminated
        # inside stop.is_set() leaves the event's lock held forever (set() would hang).
        raise ValueError(
            "a benchmark worker process died (killed by a signal, e.g. for lack of memory); the "
            "finished tasks are saved: continue with 'descentlab resume' on the benchmark's folder"
        ) from None
    except BaseException:
        stop.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if stopped:
        raise BenchmarkInterrupted(len(done), len(config.tasks))
