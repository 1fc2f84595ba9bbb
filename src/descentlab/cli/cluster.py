"""The Dask cluster a command's ``--scheduler`` names, connected around its work."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from descentlab.cluster.scheduler import Cluster


@contextlib.contextmanager
def cluster_of(args: argparse.Namespace, command: str) -> Iterator[Cluster | None]:
    """The cluster ``args.scheduler`` names, connected (``cluster.scheduler.connect``; a
    local one is shut down on exit), or None without the option. Its dashboard's link, when
    it serves one, is one line on stderr (not with --quiet)."""
    spec = getattr(args, "scheduler", None)
    if spec is None:
        yield None
        return
    from descentlab.cluster.scheduler import connect

    with connect(spec) as cluster:
        dashboard = cluster.dashboard
        if dashboard is not None and not args.quiet:
            print(f"descentlab {command}: Dask dashboard at {dashboard}", file=sys.stderr)
        yield cluster
