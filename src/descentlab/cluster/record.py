"""What results.json records of where a sweep or benchmark ran on a cluster (its ``cluster``
block), and whether its workers share the run folder."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from descentlab.cluster.scheduler import Cluster
from descentlab.cluster.tasks import Placement

__all__ = ["cluster_record", "resolve_shared_folder"]


def resolve_shared_folder(cluster: Cluster, folder: Path, choice: str) -> bool:
    """``--shared-folder``: ``yes`` / ``no`` as stated, ``auto`` by ``Cluster.shares_folder``
    (every worker reads back a probe file written in ``folder``)."""
    if choice == "auto":
        return cluster.shares_folder(folder)
    return choice == "yes"


def cluster_record(
    cluster: Cluster,
    workers: Mapping[str, Mapping[str, Any]],
    shared_folder: bool,
    placements: Sequence[Placement],
    *,
    pieces: str,
) -> dict[str, Any]:
    """results.json's ``cluster``: the scheduler (as given, and its address), the dashboard
    (or None), whether the workers shared the run folder, each worker's host, pid and numpy
    CPU features, and for each piece of work (``pieces``: "chunks" or "tasks") the worker
    that finished it and its seconds there. CPU families: ``workers[*].cpu``."""
    return {
        "scheduler": str(cluster.spec),
        "address": cluster.scheduler_address,
        "dashboard": cluster.dashboard,
        "shared_folder": shared_folder,
        "workers": {address: dict(info) for address, info in workers.items()},
        pieces: [
            {"index": p.index, "worker": p.worker, "seconds": round(p.seconds, 3)}
            for p in placements
        ],
    }
