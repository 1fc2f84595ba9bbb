"""``descentlab benchmark --scheduler`` on real Dask clusters on 127.0.0.1: a ``LocalCluster``
of worker processes, and a ``dask scheduler`` with two ``dask worker`` processes started here
(the ``tcp://`` path). The results equal the one-process benchmark's (timings and placement
aside) through a killed worker, a failing task, Ctrl-C and a lost scheduler, each followed by
a resume; no scheduler or worker process outlives its test."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import distributed  # the dask extra is part of the test extra: never skipped
import pytest

from benchmark_records import TINY_PROBLEM_FILES
from conftest import (
    dask_processes,
    results_of,
    run_cli,
    run_status,
    start_cli_process,
    tasks_without_timings,
    wait_until,
)
from descentlab import cpu

# Not marked `exact`: `make test` would run them twice more (the older kernel family), for
# equalities the `exact` tests of the one-process benchmark already pin on both families.
pytestmark = pytest.mark.cluster

SLOW = {  # six tasks of about a second each: long enough to be caught running
    "slow-moons.toml": 'name = "slow-moons"\ndataset = "moons"\nlayers = [3]\nepochs = 1500\n'
    "target = 0.8\n",
}


def _write(folder: Path, files: dict[str, str]) -> list[str]:
    args = ["--suite", "none"]
    for name, text in files.items():
        (folder / name).write_text(text)
        args += ["--problem-file", str(folder / name)]
    return args


@pytest.fixture(scope="module")
def fast_args(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    problems = _write(tmp_path_factory.mktemp("fast"), TINY_PROBLEM_FILES)
    return ["benchmark", *problems, "--optimizers", "gd,adam,rmsprop", "--budget", "4",
            "--seeds", "3", "--defaults"]  # fmt: skip


@pytest.fixture(scope="module")
def slow_args(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    problems = _write(tmp_path_factory.mktemp("slow"), SLOW)
    return ["benchmark", *problems, "--optimizers", "gd,adam,rmsprop", "--budget", "3",
            "--seeds", "2", "--defaults", "--quiet"]  # fmt: skip


def _one_process(args: list[str], folder: Path) -> Path:
    out = folder / "one-process"
    finished = run_cli(*args, "--quiet", "--out", str(out))
    assert finished.returncode == 0, finished.stderr
    return out


@pytest.fixture(scope="module")
def fast_whole(fast_args: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _one_process(fast_args, tmp_path_factory.mktemp("fast-whole"))


@pytest.fixture(scope="module")
def slow_whole(slow_args: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _one_process(slow_args, tmp_path_factory.mktemp("slow-whole"))


def summary_without_timings(out: Path) -> dict[str, Any]:
    summary = results_of(out)["summary"]
    for problem in summary["problems"]:
        del problem["seconds"]
    return dict(summary)


def saved_tasks(out: Path) -> int:
    return len(list((out / "tasks").glob("*__*.json"))) if (out / "tasks").exists() else 0


def descendants(pid: int) -> set[int]:
    """Every living process under ``pid`` (children, theirs, ...)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rpartition(")")[2].split()
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), [pid]
    while frontier:
        parent = frontier.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in found:
                found.add(child)
                frontier.append(child)
    return found


def workers_under(pid: int) -> set[int]:
    """The processes under ``pid`` but multiprocessing's resource tracker, which a process
    that ever spawned one keeps until it exits."""
    found = set()
    for child in descendants(pid):
        try:
            if b"resource_tracker" not in (Path("/proc") / str(child) / "cmdline").read_bytes():
                found.add(child)
        except OSError:
            continue
    return found


def alive(pids: set[int]) -> set[int]:
    living = set()
    for pid in pids:
        try:
            if (Path("/proc") / str(pid) / "stat").read_text().rpartition(")")[2].split()[0] != "Z":
                living.add(pid)
        except OSError:
            continue
    return living


def wait_gone(pids: set[int], what: str) -> None:
    wait_until(lambda: not alive(pids), f"the end of {what} (pids {sorted(pids)})", timeout=60)


class TcpCluster(NamedTuple):
    address: str
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]]
    workers_cwd: Path


@pytest.fixture
def start_tcp_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Start a ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1
    (``conftest.dask_processes``), the workers in an empty folder of their own; every one of
    them is ended after the test."""
    with contextlib.ExitStack() as stack:

        def start() -> TcpCluster:
            workers_cwd = tmp_path_factory.mktemp("workers")
            address, scheduler, workers = stack.enter_context(dask_processes(2, workers_cwd))
            return TcpCluster(address, scheduler, workers, workers_cwd)

        yield start


def test_a_local_cluster_gives_the_one_process_results(
    fast_args: list[str], fast_whole: Path, tmp_path: Path
) -> None:
    out = tmp_path / "benchmark"
    children = workers_under(os.getpid())
    ran = run_cli(*fast_args, "--scheduler", "local:2", "--json", "--out", str(out))
    assert ran.returncode == 0, ran.stderr
    wait_gone(workers_under(os.getpid()) - children, "the local cluster's workers")
    assert tasks_without_timings(out) == tasks_without_timings(fast_whole)
    assert summary_without_timings(out) == summary_without_timings(fast_whole)
    document = results_of(out)
    assert document["verdict"] == results_of(fast_whole)["verdict"]
    assert json.loads(ran.stdout) == document
    where = document["cluster"]
    assert where["scheduler"] == "local:2" and where["address"].startswith("tcp://127.0.0.1:")
    assert where["shared_folder"] is False
    assert len(where["workers"]) == 2 == document["execution"]["processes"]
    for worker in where["workers"].values():
        assert worker["cpu"] == cpu.describe() and worker["pid"] != os.getpid()
    assert sorted(task["index"] for task in where["tasks"]) == list(range(12))
    assert {task["worker"] for task in where["tasks"]} <= set(where["workers"])
    # bokeh comes with the dask extra, so the local cluster serves its dashboard
    assert where["dashboard"].startswith("http://127.0.0.1:")
    assert ran.stderr == f"descentlab benchmark: Dask dashboard at {where['dashboard']}\n"


def test_a_worker_killed_mid_benchmark_changes_no_result(
    start_tcp_cluster: Any, slow_args: list[str], slow_whole: Path, tmp_path: Path
) -> None:
    cluster = start_tcp_cluster()
    out = tmp_path / "benchmark"
    process = start_cli_process(*slow_args, "--scheduler", cluster.address, "--out", str(out))
    with distributed.Client(cluster.address, timeout=30) as client:

        def tasks_by_worker() -> dict[str, list[str]]:  # benchmark tasks, not the shared data
            return {
                address: [key for key in map(str, keys) if key.rsplit("-", 1)[1].isdigit()]
                for address, keys in client.processing().items()
            }

        wait_until(lambda: any(tasks_by_worker().values()), "a running task", process)
        victim = next(address for address, keys in tasks_by_worker().items() if keys)
        pid = client.run(os.getpid, workers=[victim])[victim]
        os.kill(pid, signal.SIGKILL)
        _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert saved_tasks(out) == 6 and results_of(out)["execution"]["resumed_tasks"] == 0
    assert tasks_without_timings(out) == tasks_without_timings(slow_whole)


def test_a_failing_task_is_reported_the_others_finish_and_resume_runs_it(
    start_tcp_cluster: Any, tmp_path: Path
) -> None:
    """A real error on the workers: the problem's data file, named by a path relative to
    the folder the command runs in, is not in the workers' folder (as on a machine that
    does not have it). Once the file is there too, resume runs exactly the failed tasks."""
    cluster = start_tcp_cluster()
    data = tmp_path / "elsewhere"
    data.mkdir()
    rows = [f"{x / 10:.1f},{(x * 7 % 11) / 10:.1f},{'ab'[x % 2]}" for x in range(40)]
    (data / "points.csv").write_text("x1,x2,label\n" + "\n".join(rows) + "\n")
    (data / "points.toml").write_text(
        'name = "points"\ndata = "points.csv"\ntarget_column = "label"\nlayers = []\n'
        "epochs = 30\ntarget = 0.6\n"
    )
    (data / "tiny-cancer.json").write_text(TINY_PROBLEM_FILES["tiny-cancer.json"])
    args = ["benchmark", "--suite", "none", "--problem-file", "elsewhere/points.toml",
            "--problem-file", "elsewhere/tiny-cancer.json", "--optimizers", "gd,adam",
            "--budget", "3", "--seeds", "2", "--quiet"]  # fmt: skip
    failed = run_cli(*args, "--scheduler", cluster.address, "--out", "run", cwd=tmp_path)
    assert failed.returncode == 1
    lines = failed.stderr.splitlines()
    assert len(lines) == 3, failed.stderr
    for line, key in zip(lines[:2], ["points__gd__tuned", "points__adam__tuned"], strict=True):
        assert line == (
            f"descentlab benchmark: task {key} failed: ValueError: elsewhere/points.csv: no "
            "such file"
        )
    assert lines[2] == (
        "descentlab benchmark: 2 tasks failed; 2 of 4 tasks finished and saved; run the "
        "others with: descentlab resume run"
    )
    document = results_of(tmp_path / "run")
    assert document["status"] == "interrupted" and document["tasks_done"] == 2
    assert sorted(document["failed"]) == ["points__adam__tuned", "points__gd__tuned"]
    assert saved_tasks(tmp_path / "run") == 2

    shutil.copytree(data, cluster.workers_cwd / "elsewhere")
    resumed = run_cli("resume", str(tmp_path / "run"))
    assert resumed.returncode == 0, resumed.stderr
    assert results_of(tmp_path / "run")["execution"]["resumed_tasks"] == 2
    one_process = run_cli(*args, "--out", "one-process", cwd=tmp_path)
    assert one_process.returncode == 0, one_process.stderr
    assert tasks_without_timings(tmp_path / "run") == tasks_without_timings(
        tmp_path / "one-process"
    )


def test_ctrl_c_stops_the_cluster_and_resume_continues_on_it(
    slow_args: list[str], slow_whole: Path, tmp_path: Path
) -> None:
    out = tmp_path / "benchmark"
    process = start_cli_process(*slow_args, "--scheduler", "local:2", "--out", str(out))
    wait_until(lambda: saved_tasks(out) >= 1, "a finished task", process)
    workers = descendants(process.pid)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "tasks finished and saved; resume with: descentlab resume" in stderr
    wait_gone(workers, "the local cluster's workers")
    document = results_of(out)
    assert document["status"] == "interrupted"
    assert 1 <= document["tasks_done"] == saved_tasks(out) < 6
    resumed = run_cli("resume", str(out))  # with the --scheduler local:2 it started with
    assert resumed.returncode == 0, resumed.stderr
    assert results_of(out)["execution"]["resumed_tasks"] == document["tasks_done"]
    assert results_of(out)["cluster"]["scheduler"] == "local:2"
    assert tasks_without_timings(out) == tasks_without_timings(slow_whole)


def test_a_lost_scheduler_ends_interrupted_and_a_local_resume_completes(
    start_tcp_cluster: Any, slow_args: list[str], slow_whole: Path, tmp_path: Path
) -> None:
    cluster = start_tcp_cluster()
    out = tmp_path / "benchmark"
    process = start_cli_process(*slow_args, "--scheduler", cluster.address, "--out", str(out))
    wait_until(lambda: saved_tasks(out) >= 1, "a finished task", process)
    cluster.scheduler.send_signal(signal.SIGKILL)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1, stderr
    [line] = stderr.splitlines()
    assert line.startswith("descentlab benchmark: the Dask scheduler was lost (")
    assert line.endswith(f"tasks finished and saved; run the others with: descentlab resume {out}")
    document = results_of(out)
    assert run_status(out) == "interrupted" and document["lost"] in line
    saved = saved_tasks(out)
    assert 1 <= document["tasks_done"] == saved < 6
    for worker in cluster.workers:  # without a scheduler, workers end by themselves
        worker.wait(timeout=60)

    # Locally: the saved tasks are read back, the others run, the records are the
    # one-process ones.
    resumed = run_cli("resume", str(out), "--scheduler", "none")
    assert resumed.returncode == 0, resumed.stderr
    assert results_of(out)["execution"]["resumed_tasks"] == saved
    assert tasks_without_timings(out) == tasks_without_timings(slow_whole)


def test_scheduler_with_jobs_is_one_line_and_exit_2(fast_args: list[str]) -> None:
    refused = run_cli(*fast_args, "--scheduler", "local:2", "--jobs", "2")
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr == (
        "descentlab benchmark: error: argument --jobs: not allowed with argument --scheduler "
        "(see descentlab benchmark --help)\n"
    )


def test_without_the_dask_extra_the_benchmark_says_how_to_install_it(
    fast_args: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # "import distributed" now fails
    refused = run_cli(*fast_args, "--scheduler", "local", "--out", str(tmp_path / "run"))
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1
    assert "pip install 'descentlab[dask]'" in refused.stderr
    assert not (tmp_path / "run").exists()
