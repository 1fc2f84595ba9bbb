"""The cluster core (``descentlab.cluster``): ``--scheduler``'s spec, ``run_tasks`` on a real
``LocalCluster`` (worker processes on 127.0.0.1: answers handed over, a failure reported,
a stop request honoured), the workers' record, and the one line when Dask is not installed."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from descentlab.cluster.record import cluster_record, resolve_shared_folder
from descentlab.cluster.scheduler import (
    MISSING_EXTRA,
    Cluster,
    SchedulerSpec,
    connect,
    parse_scheduler,
)
from descentlab.cluster.tasks import ClusterInterrupted, Placement, run_tasks
from descentlab.train import TrainingInterrupted

pytestmark = pytest.mark.cluster


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("local", SchedulerSpec()),
        ("local:3", SchedulerSpec(local_workers=3)),
        (" tcp://127.0.0.1:8786 ", SchedulerSpec(address="tcp://127.0.0.1:8786")),
        ("tcp://[::1]:8786", SchedulerSpec(address="tcp://[::1]:8786")),
    ],
)
def test_schedulers_accepted(text: str, spec: SchedulerSpec) -> None:
    assert parse_scheduler(text) == spec
    assert str(parse_scheduler(str(spec))) == str(spec)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("local:0", "local:N needs N, a whole number >= 1, got 'local:0'"),
        ("local:two", "local:N needs N, a whole number >= 1, got 'local:two'"),
        ("local:²", "local:N needs N"),
        ("tcp://host", "must be local, local:N, tcp://HOST:PORT (a Dask scheduler) or none"),
        ("tcp://:8786", "must be local, local:N, tcp://HOST:PORT (a Dask scheduler) or none"),
        ("tcp://host:0", "got 'tcp://host:0'"),
        ("tcp://host:65536", "got 'tcp://host:65536'"),
        ("host:8786", "got 'host:8786'"),
        ("", "got ''"),
    ],
)
def test_schedulers_refused_in_one_line(text: str, message: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_scheduler(text)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def _square(item: int, shared: int, should_stop: Callable[[], bool]) -> int:
    return item * item + shared


def _fail_on_two(item: int, shared: int, should_stop: Callable[[], bool]) -> int:
    if item == 2:
        raise ValueError(f"item {item} is refused\nsecond line")
    return item


def _until_stopped(item: int, shared: int, should_stop: Callable[[], bool]) -> int:
    """Item 0 returns at once; the others run until asked to stop."""
    if item == 0:
        return 0
    deadline = time.monotonic() + 60
    while not should_stop():
        if time.monotonic() > deadline:
            return -1
        time.sleep(0.01)
    raise TrainingInterrupted(0)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """A LocalCluster of two worker processes on 127.0.0.1, for this module."""
    with connect(SchedulerSpec(local_workers=2)) as connected:
        yield connected


def test_tasks_answer_in_item_order_with_where_they_ran(cluster: Cluster) -> None:
    done: dict[int, tuple[int, Placement]] = {}
    placements, failures = run_tasks(
        cluster,
        _square,
        [0, 1, 2, 3, 4],
        10,
        name="square",
        on_done=lambda index, value, placement: done.__setitem__(index, (value, placement)),
    )
    assert failures == []
    assert {index: value for index, (value, _) in done.items()} == {
        0: 10, 1: 11, 2: 14, 3: 19, 4: 26
    }  # fmt: skip
    workers = cluster.workers()
    assert [p.index for p in placements] == [0, 1, 2, 3, 4]
    assert {p.worker for p in placements} <= set(workers)
    assert all(p.seconds >= 0 for p in placements)
    assert all(address.startswith("tcp://127.0.0.1:") for address in workers)
    record = cluster_record(cluster, workers, False, placements, pieces="tasks")
    assert record["scheduler"] == "local:2"
    assert record["address"].startswith("tcp://127.0.0.1:")
    assert len(record["workers"]) == 2
    assert all(set(info) == {"host", "pid", "cpu"} for info in record["workers"].values())
    assert [entry["index"] for entry in record["tasks"]] == [0, 1, 2, 3, 4]


def test_a_failing_task_is_one_line_and_the_others_finish(cluster: Cluster) -> None:
    done: list[int] = []
    placements, failures = run_tasks(
        cluster,
        _fail_on_two,
        [0, 1, 2, 3],
        0,
        name="fail",
        on_done=lambda index, value, placement: done.append(value),
    )
    assert sorted(done) == [0, 1, 3]
    assert [p.index for p in placements] == [0, 1, 3]
    assert [(f.index, f.error) for f in failures] == [(2, "ValueError: item 2 is refused")]


def test_a_stop_request_stops_the_running_tasks(cluster: Cluster) -> None:
    """Once the first answer is in, the caller asks to stop: the running tasks see
    ``should_stop()`` turn True and stop, and ``ClusterInterrupted`` is raised once none
    runs; the finished task was handed over."""
    done: list[int] = []
    started = time.monotonic()
    with pytest.raises(ClusterInterrupted):
        run_tasks(
            cluster,
            _until_stopped,
            [0, 1, 2],
            0,
            name="stop",
            on_done=lambda index, value, placement: done.append(index),
            interrupted=lambda: bool(done),
        )
    assert done == [0]
    assert time.monotonic() - started < 30


def test_the_shared_folder_probe_and_the_stated_choice(cluster: Cluster, tmp_path: Path) -> None:
    assert resolve_shared_folder(cluster, tmp_path, "auto") is True
    assert resolve_shared_folder(cluster, tmp_path, "no") is False
    assert list(tmp_path.iterdir()) == []  # the probe file is gone


MISSING = """
import sys
sys.modules["distributed"] = None
from descentlab.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_the_missing_extra_is_one_line_saying_how_to_install_it(tmp_path: Path) -> None:
    """Without the dask extra (``import distributed`` fails) ``--scheduler`` is one line
    naming the extra, exit 2, and no run folder is left behind."""
    out = tmp_path / "sweep"
    result = subprocess.run(
        [sys.executable, "-c", MISSING, "sweep", "--scheduler", "local:1", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"descentlab sweep: error: {MISSING_EXTRA}"]
    assert "pip install 'descentlab[dask]'" in result.stderr
    assert not out.exists()


def test_an_unreachable_scheduler_is_one_line(tmp_path: Path) -> None:
    from conftest import free_port, run_cli

    address = f"tcp://127.0.0.1:{free_port()}"
    started = time.monotonic()
    result = run_cli("sweep", "--scheduler", address, "--epochs", "2", "--out", str(tmp_path / "s"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and address in lines[0] and "dask scheduler" in lines[0]
    assert time.monotonic() - started < 60
    assert not (tmp_path / "s").exists()
