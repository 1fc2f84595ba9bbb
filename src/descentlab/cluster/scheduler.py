"""Which Dask cluster a sweep or benchmark runs on, and the connection to it.

``--scheduler`` names it (``parse_scheduler``):

- ``local`` or ``local:N``: a ``distributed.LocalCluster`` started here, with N worker
  processes (default: one per core) of one thread each, every address on 127.0.0.1;
- ``tcp://HOST:PORT``: an existing scheduler (``dask scheduler``) and its workers
  (``dask worker tcp://HOST:PORT --nworkers N --nthreads 1``).

Dask is an optional extra (``pip install 'descentlab[dask]'``), imported only here and only
when a cluster is asked for (``require_dask``: one line saying how to install it otherwise).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = [
    "LOCAL",
    "MISSING_EXTRA",
    "Cluster",
    "SchedulerSpec",
    "connect",
    "parse_scheduler",
    "require_dask",
]

LOCAL = "local"
MISSING_EXTRA = (
    "--scheduler needs Dask, an optional extra of descentlab: pip install 'descentlab[dask]'"
)
CONNECT_TIMEOUT = 10.0
"""Seconds to reach a ``tcp://`` scheduler before giving up with one line."""
PROBE_FILE = ".descentlab-cluster-probe"


@dataclass(frozen=True)
class SchedulerSpec:
    """A cluster to run on: a local one of ``local_workers`` processes (None: one per core),
    or the scheduler at ``address``."""

    address: str | None = None
    local_workers: int | None = None

    @property
    def is_local(self) -> bool:
        return self.address is None

    def __str__(self) -> str:
        if self.address is not None:
            return self.address
        return LOCAL if self.local_workers is None else f"{LOCAL}:{self.local_workers}"


def parse_scheduler(text: str) -> SchedulerSpec:
    """``local``, ``local:N`` (N >= 1 worker processes) or ``tcp://HOST:PORT``; a one-line
    ``ValueError`` naming the value otherwise (its text lists ``none`` too, which the command
    line's ``--scheduler`` takes before calling this: ``cli.arguments.parse_scheduler_option``)."""
    value = text.strip()
    if value == LOCAL:
        return SchedulerSpec()
    if value.startswith(LOCAL + ":"):
        count = value[len(LOCAL) + 1 :]
        if count.isascii() and count.isdecimal() and int(count) >= 1:
            return SchedulerSpec(local_workers=int(count))
        raise ValueError(f"--scheduler local:N needs N, a whole number >= 1, got {text!r}")
    host, colon, port = value.removeprefix("tcp://").rpartition(":")
    if (
        value.startswith("tcp://")
        and host
        and colon
        and port.isascii()
        and port.isdecimal()
        and 0 < int(port) < 65536
    ):
        return SchedulerSpec(address=value)
    raise ValueError(
        "--scheduler must be local, local:N, tcp://HOST:PORT (a Dask scheduler) or none (this "
        f"machine's processes, as without the option), got {text!r}"
    )


def require_dask() -> ModuleType:
    """``distributed``, or a one-line ``ValueError`` saying how to install the extra."""
    try:
        import distributed
    except ImportError:
        raise ValueError(MISSING_EXTRA) from None
    return distributed


@dataclass
class Cluster:
    """A connected client and what results.json records of where a run ran."""

    client: Any
    spec: SchedulerSpec
    scheduler_address: str

    @property
    def dashboard(self) -> str | None:
        """The dashboard's address, when the scheduler serves one (it needs bokeh)."""
        services = self.client.scheduler_info().get("services", {})
        if "dashboard" not in services:
            return None
        link = self.client.dashboard_link
        return str(link) if link else None

    def workers(self) -> dict[str, dict[str, Any]]:
        """Each worker's address -> its host, process id and numpy CPU features
        (``descentlab.cpu.describe``), asked of the workers themselves."""
        answers = self.client.run(_describe_worker)
        return {address: answers[address] for address in sorted(answers)}

    def shares_folder(self, folder: Path) -> bool:
        """Whether every worker sees ``folder`` as this process does (shared storage): a
        probe file with a random token is written there and each worker reads it back."""
        token = secrets.token_hex(16)
        probe = Path(folder) / PROBE_FILE
        probe.write_text(token)
        try:
            answers = self.client.run(_reads_token, str(probe.resolve()), token)
        finally:
            with contextlib.suppress(OSError):
                probe.unlink()
        return bool(answers) and all(answers.values())


def _describe_worker() -> dict[str, Any]:
    import platform

    from descentlab import cpu

    return {"host": platform.node(), "pid": os.getpid(), "cpu": cpu.describe()}


def _reads_token(path: str, token: str) -> bool:
    try:
        return Path(path).read_text() == token
    except OSError:
        return False


@contextlib.contextmanager
def connect(spec: SchedulerSpec) -> Iterator[Cluster]:
    """A client of the cluster ``spec`` names, closed (and a local cluster shut down) on
    exit. A local cluster's scheduler, workers and dashboard listen on 127.0.0.1 only; its
    workers are processes of one thread each. An unreachable scheduler is one line."""
    distributed = require_dask()
    with contextlib.ExitStack() as stack:
        if spec.is_local:
            cluster = stack.enter_context(
                distributed.LocalCluster(
                    n_workers=spec.local_workers or len(os.sched_getaffinity(0)),
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address="127.0.0.1:0" if _has_bokeh() else None,
                    # A failing task is reported in one line, not logged with its traceback.
                    silence_logs=logging.CRITICAL,
                )
            )
            client = stack.enter_context(distributed.Client(cluster))
            address = str(cluster.scheduler_address)
        else:
            assert spec.address is not None
            # A lost scheduler is the caller's one line, not the client's logged reconnect
            # failure after it (logged while the client closes, so restored after that).
            client_log = logging.getLogger("distributed.client")
            stack.callback(client_log.setLevel, client_log.level)
            client_log.setLevel(logging.CRITICAL)
            try:
                client = stack.enter_context(
                    distributed.Client(spec.address, timeout=CONNECT_TIMEOUT)
                )
            except (OSError, TimeoutError) as error:
                raise ValueError(
                    f"--scheduler {spec.address}: no Dask scheduler answers there within "
                    f"{CONNECT_TIMEOUT:g} s ({type(error).__name__}); start one with "
                    "'dask scheduler' and workers with 'dask worker ADDRESS --nthreads 1'"
                ) from None
            address = spec.address
        yield Cluster(client, spec, address)


def _has_bokeh() -> bool:
    try:
        import bokeh  # noqa: F401
    except ImportError:
        return False
    return True
