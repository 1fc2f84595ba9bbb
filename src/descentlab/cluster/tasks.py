"""Independent pieces of work (a sweep's chunks, a benchmark's tasks) as Dask tasks: sent,
watched, stopped on request, and their answers handed back as they come.

``run_tasks(cluster, work, items, shared, ...)`` submits ``work(item, shared, should_stop)``
for every item; ``shared`` (the data every piece needs) travels once, as the argument of a
task of its own that every piece depends on, copied to every worker before the pieces are
sent (``client.replicate``: otherwise Dask would place every piece on the one worker holding
it); when every worker holding it dies the scheduler computes it again from the task (data
scattered with ``client.scatter`` would be lost with its workers, cancelling every piece).
On a worker, ``should_stop()`` turns True when the caller asked the tasks to stop (a Dask
``Event`` named for this run, read at most every ``STOP_POLL`` seconds) or when the scheduler
cannot be reached; ``work`` then raises ``train.TrainingInterrupted`` after saving what it
can, and the task answers "stopped".

What the caller sees, for each item:

- finished: ``on_done(index, value, placement)`` (``Placement``: the worker that answered and
  the task's seconds there), as soon as it finishes;
- a real error raised by ``work``: a ``Failure`` naming it (``Type: message``), never retried;
- its worker died (SIGKILL, out of memory): Dask runs it again on another worker, up to the
  scheduler's ``allowed-failures`` (3 by default), and then it is a ``Failure``
  (``KilledWorker``);
- the caller's ``interrupted()`` turned True: every task is asked to stop, the running ones
  save their state and answer "stopped", and ``ClusterInterrupted`` is raised once none is
  running; the finished ones were handed over already;
- the scheduler was lost (the connection down for ``LOST_AFTER`` seconds): ``ClusterLost``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from descentlab.cluster.scheduler import Cluster, require_dask

__all__ = [
    "ClusterInterrupted",
    "ClusterLost",
    "Failure",
    "Placement",
    "run_tasks",
]

T = TypeVar("T")
S = TypeVar("S")
R = TypeVar("R")

STOP_POLL = 0.5
"""A task asks the scheduler whether to stop at most this often (a round trip each)."""
WATCH_EVERY = 0.05
"""The caller looks at its tasks' states this often."""
LOST_AFTER = 10.0
"""The scheduler counts as lost when the client has been disconnected this long."""


@dataclass(frozen=True)
class Placement:
    """Where and how long one task ran (its last attempt)."""

    index: int
    worker: str
    seconds: float


@dataclass(frozen=True)
class Failure:
    """A task that raised (or whose workers kept dying): its one-line error."""

    index: int
    error: str


class ClusterInterrupted(Exception):
    """The tasks stopped at the caller's request; the finished ones were handed over."""


class ClusterLost(Exception):
    """The scheduler went away; the finished tasks were handed over."""


@dataclass(frozen=True)
class _Answer:
    value: Any
    stopped: bool
    worker: str
    seconds: float


def _run_one(
    work: Callable[[Any, Any, Callable[[], bool]], Any], item: Any, shared: Any, stop_name: str
) -> _Answer:
    """A task's body on a worker: ``work`` with a ``should_stop`` that reads the run's stop
    event (and says stop when the scheduler is unreachable)."""
    from distributed import Event, get_worker

    from descentlab.train import TrainingInterrupted

    worker = get_worker()
    event = Event(stop_name)  # type: ignore[no-untyped-call]
    state = {"asked": -STOP_POLL, "stop": False}

    def should_stop() -> bool:
        now = time.monotonic()
        if not state["stop"] and now - state["asked"] >= STOP_POLL:
            state["asked"] = now
            try:
                state["stop"] = _scheduler_gone(worker) or bool(event.is_set())  # type: ignore[no-untyped-call]
            except Exception:  # no scheduler to ask: stop, and keep what is saved
                state["stop"] = True
        return bool(state["stop"])

    started = time.perf_counter()
    if should_stop():
        return _Answer(None, True, worker.address, 0.0)
    try:
        value = work(item, shared, should_stop)
    except TrainingInterrupted:
        return _Answer(None, True, worker.address, time.perf_counter() - started)
    return _Answer(value, False, worker.address, time.perf_counter() - started)


def _identity(value: Any) -> Any:
    return value


def _scheduler_gone(worker: Any) -> bool:
    stream = getattr(worker, "batched_stream", None)
    comm = getattr(stream, "comm", None)
    return comm is None or bool(comm.closed())


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def run_tasks(
    cluster: Cluster,
    work: Callable[[T, S, Callable[[], bool]], R],
    items: Sequence[T],
    shared: S,
    *,
    name: str,
    on_done: Callable[[int, R, Placement], None],
    interrupted: Callable[[], bool] | None = None,
) -> tuple[list[Placement], list[Failure]]:
    """Run ``work(items[i], shared, should_stop)`` for every i on ``cluster`` (see the module
    docstring); ``name`` names the run's tasks and its stop event (unique per run).
    Returns where each finished task ran and which failed, in item order."""
    distributed = require_dask()
    client = cluster.client
    stop_name = f"descentlab-stop-{name}"
    stop = distributed.Event(stop_name, client=client)
    stop.clear()
    shared_future = client.submit(_identity, shared, key=f"{name}-shared", pure=False)
    # On every worker, so that pieces go where there is room rather than all to the one
    # worker that holds it (Dask places a task by its data).
    distributed.wait([shared_future])
    client.replicate([shared_future])
    futures = {
        client.submit(
            _run_one, work, item, shared_future, stop_name, key=f"{name}-{index}", pure=False
        ): index
        for index, item in enumerate(items)
    }
    placements: dict[int, Placement] = {}
    failures: dict[int, Failure] = {}
    stopped = False
    asked_to_stop = False
    disconnected_since: float | None = None
    pending = set(futures)
    try:
        while pending:
            for future in [f for f in pending if f.status != "pending"]:
                pending.discard(future)
                index = futures[future]
                if future.status == "finished":
                    answer = _fetched(future.result, index)
                    if answer.stopped:
                        stopped = True
                        continue
                    placement = Placement(index, answer.worker, answer.seconds)
                    placements[index] = placement
                    on_done(index, answer.value, placement)
                elif future.status == "error":
                    failures[index] = Failure(index, _one_line(_fetched(future.exception, index)))
                else:  # cancelled or lost: the scheduler forgot it
                    raise ClusterLost(f"task {index} was {future.status}")
            if client.status != "running":
                disconnected_since = disconnected_since or time.monotonic()
                if time.monotonic() - disconnected_since > LOST_AFTER:
                    raise ClusterLost(f"the client is {client.status}")
            else:
                disconnected_since = None
            if not asked_to_stop and interrupted is not None and interrupted():
                asked_to_stop = True
                stop.set()
            time.sleep(WATCH_EVERY)
    except ClusterLost:
        raise
    except BaseException:
        _stop_quietly(stop)
        raise
    if stopped or asked_to_stop:
        raise ClusterInterrupted(f"{len(placements)} of {len(items)} tasks finished")
    return [placements[i] for i in sorted(placements)], [failures[i] for i in sorted(failures)]


def _fetched(fetch: Callable[[], Any], index: int) -> Any:
    """A finished task's answer (or error), fetched through the scheduler: ``ClusterLost``
    when the scheduler goes away meanwhile (a closed connection, an ``OSError``)."""
    try:
        return fetch()
    except OSError as error:
        raise ClusterLost(f"task {index}'s answer was lost ({type(error).__name__})") from None


def _stop_quietly(stop: Any) -> None:
    with contextlib.suppress(Exception):  # the scheduler may be the thing that failed
        stop.set()
