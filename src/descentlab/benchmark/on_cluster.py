"""A benchmark's tasks on a Dask cluster (``--scheduler``): each task one Dask task
(``cluster.tasks.run_tasks``), the ``BenchmarkConfig`` sent once to every worker.

The workers never write in the run folder: each finished task's record comes back to this
process, which saves it (``runner``), so the workers need not see the folder (shared or
unshared storage makes no difference). A task is short and its record does not depend on the
process that ran it (``tasks``), so:

- a task whose worker dies is run again, from scratch, on another worker by Dask: same record;
- a task that raises is reported (its key and its one-line error) once the others finished;
- a stop request stops the running tasks at their next epoch's end, their work dropped
  (``cluster.tasks.ClusterInterrupted``); a lost scheduler is ``cluster.tasks.ClusterLost``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from descentlab.benchmark.config import BenchmarkConfig, Task
from descentlab.benchmark.tasks import TaskRecord, run_task
from descentlab.engines import NUMPY, Engine

if TYPE_CHECKING:
    from descentlab.cluster.scheduler import Cluster

__all__ = ["run_on_cluster", "run_on_worker"]


def run_on_worker(
    task: Task, shared: tuple[BenchmarkConfig, Engine], should_stop: Callable[[], bool]
) -> TaskRecord:
    """One task on a worker (``run_tasks``'s ``work``; ``shared``: the config and the engine
    resolved in the parent): ``run_task`` with ``should_stop`` as its ``interrupted``;
    ``train.TrainingInterrupted`` when asked to stop."""
    config, engine = shared
    return run_task(task, config, should_stop, engine)


def run_on_cluster(
    cluster: Cluster,
    config: BenchmarkConfig,
    pending: Sequence[Task],
    on_done: Callable[[TaskRecord], None],
    interrupted: Callable[[], bool] | None,
    engine: Engine = NUMPY,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Run ``pending`` (tasks of ``config``) on ``cluster``, with ``engine`` on every worker
    (a worker without numba fails its tasks in one line); ``on_done(record)`` here as each
    finishes. Returns results.json's ``cluster`` block (``cluster.record.cluster_record``
    with ``pieces="tasks"``: each ``index`` is the task's place in ``config.tasks``, so in
    results.json's ``tasks``; ``shared_folder`` is always False, as the workers never use
    the folder) and the failed tasks' one-line errors by task key."""
    from descentlab.cluster.record import cluster_record
    from descentlab.cluster.tasks import Placement, run_tasks

    position = {task.key: index for index, task in enumerate(config.tasks)}
    workers = cluster.workers()
    placements, failures = run_tasks(
        cluster,
        run_on_worker,
        list(pending),
        (config, engine),
        name=f"benchmark-{secrets.token_hex(8)}",
        on_done=lambda _, record, __: on_done(record),
        interrupted=interrupted,
    )
    # A worker that joined (or was restarted by its nanny) during the run is recorded too.
    workers.update(cluster.workers())
    placed = [Placement(position[pending[p.index].key], p.worker, p.seconds) for p in placements]
    record = cluster_record(cluster, workers, False, placed, pieces="tasks")
    return record, {pending[failure.index].key: failure.error for failure in failures}
