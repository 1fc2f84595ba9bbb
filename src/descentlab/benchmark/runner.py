"""Running a benchmark: its tasks in this process, in a pool of worker processes, or on a
Dask cluster (``on_cluster``), each finished task saved (``store``), the records gathered back
in the benchmark's task order.

A task's record does not depend on the process that ran it nor on when (``tasks``), so the
outcome is the same, bit for bit (timings aside), for any ``jobs``, on any cluster whose
workers have this machine's CPU features, and after any number of interruptions. One BLAS
thread per process, as in sweeps: the parallelism is the processes.

Interruption: when ``interrupted()`` turns True, every running task stops at its next
epoch's end and its work is dropped; finished tasks are saved; ``BenchmarkInterrupted`` is
raised. When the parent process dies (SIGKILL), its workers notice within 0.2 s and end:
what they finished is already saved. On a cluster, a task that raised or a lost scheduler is
``BenchmarkIncomplete``, raised once nothing runs any more (the finished tasks saved).
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
from typing import TYPE_CHECKING, Any

from descentlab.benchmark.config import BenchmarkConfig, Task
from descentlab.benchmark.store import TaskStore
from descentlab.benchmark.tasks import TaskRecord, run_task
from descentlab.engines import Engine, Setting
from descentlab.engines import resolve as resolve_engine
from descentlab.train import TrainingInterrupted
from descentlab.validation import check_int

if TYPE_CHECKING:
    from descentlab.cluster.scheduler import Cluster

__all__ = [
    "BenchmarkIncomplete",
    "BenchmarkInterrupted",
    "BenchmarkOutcome",
    "Execution",
    "run_benchmark",
]

TaskDone = Callable[[TaskRecord], None]
"""Called in the parent process as each task finishes (saved ones included, when resuming)."""


class BenchmarkInterrupted(Exception):
    """The benchmark stopped at a request; ``finished`` of ``total`` tasks are saved."""

    def __init__(self, finished: int, total: int) -> None:
        super().__init__(f"interrupted with {finished} of {total} tasks finished")
        self.finished = finished
        self.total = total


class BenchmarkIncomplete(Exception):
    """A benchmark on a cluster ended with tasks unfinished: ``failed`` maps each task that
    raised (or whose workers kept dying) to its one-line error; ``lost`` says why the cluster
    went away, when it did (else ""). ``finished`` of ``total`` tasks are saved."""

    def __init__(self, finished: int, total: int, failed: dict[str, str], lost: str = "") -> None:
        why = lost or f"{len(failed)} {'task' if len(failed) == 1 else 'tasks'} failed"
        super().__init__(f"{why}; {finished} of {total} tasks finished")
        self.finished = finished
        self.total = total
        self.failed = failed
        self.lost = lost


@dataclass(frozen=True)
class Execution:
    """How a benchmark ran; it never changes the results."""

    processes: int
    seconds: float
    """Wall time of this invocation (a resumed one: since it resumed)."""
    resumed_tasks: int
    """Tasks read back from their files rather than run."""
    cluster: dict[str, Any] | None = None
    """results.json's ``cluster`` block when the tasks ran on a Dask cluster (``processes``
    is then the number of its workers, those seen at the start or at the end)."""


@dataclass(frozen=True)
class BenchmarkOutcome:
    config: BenchmarkConfig
    records: list[TaskRecord]
    """One per ``config.tasks`` entry, in that order."""
    execution: Execution
    engine: Engine = "numpy"
    """The engine this invocation trained with (each task records its own: a resumed
    benchmark's saved tasks keep theirs)."""


def run_benchmark(
    config: BenchmarkConfig,
    *,
    jobs: int = 1,
    store: TaskStore | None = None,
    on_task: TaskDone | None = None,
    interrupted: Callable[[], bool] | None = None,
    cluster: Cluster | None = None,
    engine: Setting | str | None = None,
) -> BenchmarkOutcome:
    """Run every task of ``config``: in this process (``jobs=1``), in ``jobs`` worker
    processes, or on ``cluster`` (a connected Dask cluster; ``jobs`` must then be 1). With
    ``store`` each finished task is saved (by this process) and, when ``store.resume``, saved
    tasks are read back instead of run. ``on_task`` sees each record as it finishes.
    ``engine`` (``descentlab.engines``; None: the one configured, numpy when nothing is) is
    resolved here, once, and every task trains with it, in any process or worker."""
    jobs = check_int("jobs", jobs, minimum=1)
    chosen_engine = resolve_engine(engine)
    if cluster is not None and jobs != 1:
        raise ValueError(f"jobs must be 1 when the tasks run on a cluster, got {jobs}")
    started = time.perf_counter()
    done = store.start(config) if store is not None else {}
    for record in done.values():
        if on_task is not None:
            on_task(record)
    pending = [task for task in config.tasks if task.key not in done]
    processes = max(1, min(jobs, len(pending)))
    where = None
    if cluster is not None:
        where = _run_on_cluster(
            cluster, config, pending, store, done, on_task, interrupted, chosen_engine
        )
        processes = len(where["workers"])
    elif processes == 1:
        for task in pending:
            if interrupted is not None and interrupted():
                raise BenchmarkInterrupted(len(done), len(config.tasks))
            try:
                record = run_task(task, config, interrupted, chosen_engine)
            except TrainingInterrupted:
                raise BenchmarkInterrupted(len(done), len(config.tasks)) from None
            _keep(record, done, on_task, store)
    else:
        _run_in_processes(
            config, pending, processes, store, done, on_task, interrupted, chosen_engine
        )
    seconds = time.perf_counter() - started
    records = [done[task.key] for task in config.tasks]
    resumed = len(config.tasks) - len(pending)
    return BenchmarkOutcome(
        config, records, Execution(processes, seconds, resumed, where), chosen_engine
    )


def _keep(
    record: TaskRecord,
    done: dict[str, TaskRecord],
    on_task: TaskDone | None,
    store: TaskStore | None = None,
) -> None:
    """A finished task: saved (in ``store``, unless its worker process saved it), counted
    among ``done`` and shown to ``on_task``."""
    if store is not None:
        store.save(record)
    done[record.key] = record
    if on_task is not None:
        on_task(record)


def _run_on_cluster(
    cluster: Cluster,
    config: BenchmarkConfig,
    pending: list[Task],
    store: TaskStore | None,
    done: dict[str, TaskRecord],
    on_task: TaskDone | None,
    interrupted: Callable[[], bool] | None,
    engine: Engine,
) -> dict[str, Any]:
    """``pending`` on ``cluster``, each record saved here as it comes back; results.json's
    ``cluster`` block."""
    from descentlab.benchmark.on_cluster import run_on_cluster
    from descentlab.cluster.tasks import ClusterInterrupted, ClusterLost

    def finished(record: TaskRecord) -> None:
        _keep(record, done, on_task, store)

    try:
        where, failed = run_on_cluster(cluster, config, pending, finished, interrupted, engine)
    except ClusterInterrupted:
        raise BenchmarkInterrupted(len(done), len(config.tasks)) from None
    except ClusterLost as lost:
        raise BenchmarkIncomplete(
            len(done), len(config.tasks), {}, f"the Dask scheduler was lost ({lost})"
        ) from None
    if failed:
        raise BenchmarkIncomplete(len(done), len(config.tasks), failed)
    return where


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
    task: Task, config: BenchmarkConfig, store: TaskStore | None, engine: Engine
) -> TaskRecord | None:
    def should_stop() -> bool:
        return bool(_worker["stop"].is_set()) or _parent_gone()

    if should_stop():
        return None
    try:
        record = run_task(task, config, should_stop, engine)
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
    engine: Engine,
) -> None:
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    stop = context.Event()
    pool = concurrent.futures.ProcessPoolExecutor(
        processes, mp_context=context, initializer=_start_worker, initargs=(stop,)
    )
    asked = False
    try:
        futures = {
            pool.submit(_run_in_worker, task, config, store, engine): task for task in pending
        }
        waiting = set(futures)
        while waiting:
            finished, waiting = concurrent.futures.wait(waiting, timeout=0.1)
            for future in finished:
                record = future.result()
                if record is not None:  # None: stopped at the request, its work dropped
                    _keep(record, done, on_task)  # its worker saved it
            if not asked and interrupted is not None and interrupted():
                stop.set()
                asked = True
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
    if len(done) < len(config.tasks):  # a request came before every task had finished
        raise BenchmarkInterrupted(len(done), len(config.tasks))
