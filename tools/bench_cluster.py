"""What a sweep's chunk costs on a Dask cluster besides its training (issue 16).

    python tools/bench_cluster.py [--workers N] [--tasks N] [--repeat N]

A sweep of ``--tasks`` one-run, one-epoch chunks (``--max-stack 1``: each chunk is one task)
runs on a ``LocalCluster`` of ``--workers`` processes on 127.0.0.1 through ``run_sweep``, the
path of ``descentlab sweep --scheduler local:N``. With W workers kept busy, the per-task
overhead is ``(wall x W - sum of the tasks' own seconds) / tasks``: sending the chunk,
answering, gathering, and the caller's polling. The tasks' own seconds are what the workers
measured around ``train_chunk`` (results.json's ``cluster.chunks[*].seconds``). The cluster's
start (``connect``) is timed apart: a sweep pays it once. Each figure is the best of
``--repeat`` sweeps.
"""

from __future__ import annotations

import argparse
import time

from descentlab import datasets
from descentlab.cluster.scheduler import SchedulerSpec, connect
from descentlab.sweep import SweepConfig, run_sweep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tasks", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    dataset = datasets.load("moons")
    config = SweepConfig(
        optimizers=("gd",),
        learning_rate=f"1e-4..1e-1:log:{args.tasks}",
        seeds=(0,),
        epochs=1,
    )
    started = time.perf_counter()
    with connect(SchedulerSpec(local_workers=args.workers)) as cluster:
        start_seconds = time.perf_counter() - started
        overheads, walls, trainings = [], [], []
        for _ in range(args.repeat):
            began = time.perf_counter()
            outcome = run_sweep(config, dataset, max_stack=1, cluster=cluster)
            wall = time.perf_counter() - began
            assert outcome.cluster is not None
            own = sum(chunk["seconds"] for chunk in outcome.cluster["chunks"])
            overheads.append((wall * args.workers - own) / args.tasks)
            walls.append(wall)
            trainings.append(own / args.tasks)
    local = time.perf_counter()
    run_sweep(config, dataset, max_stack=1)
    local_per_chunk = (time.perf_counter() - local) / args.tasks
    print(f"LocalCluster of {args.workers} worker processes started in {start_seconds:.2f} s")
    print(
        f"{args.tasks} one-run, one-epoch chunks: best wall {min(walls):.3f} s; a task's own "
        f"seconds {1e3 * min(trainings):.2f} ms (in this process: {1e3 * local_per_chunk:.2f} ms "
        "per chunk)"
    )
    print(
        f"per-task overhead: {1e3 * min(overheads):.1f} ms (best of {args.repeat}; all: "
        + ", ".join(f"{1e3 * o:.1f}" for o in overheads)
        + " ms)"
    )


if __name__ == "__main__":
    main()
