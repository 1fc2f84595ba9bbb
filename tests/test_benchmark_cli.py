"""``descentlab benchmark`` as a user runs it: its help, its one-line refusals, a whole run's
folder, the same seed giving the same results, the scores recomputed from the per-trial
record, and SIGKILL or Ctrl-C at any moment followed by ``descentlab resume``."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from conftest import (
    results_of,
    run_cli,
    run_status,
    start_cli_process,
    tasks_without_timings,
    wait_until,
)
from descentlab.benchmark.config import BenchmarkConfig
from descentlab.benchmark.summary import summarize
from descentlab.benchmark.tasks import TaskRecord

pytestmark = pytest.mark.exact


def benchmark_args(problem_args: list[str], *extra: str) -> list[str]:
    return [
        "benchmark", *problem_args, "--optimizers", "gd,adam,rmsprop", "--budget", "4",
        "--seeds", "3", "--defaults", "--quiet", *extra,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def whole(problem_args: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("whole") / "benchmark"
    finished = run_cli(*benchmark_args(problem_args, "--out", str(out)))
    assert finished.returncode == 0, finished.stderr
    return out


def test_help_teaches_the_protocol() -> None:
    shown = run_cli("benchmark", "--help")
    assert shown.returncode == 0
    text = " ".join(shown.stdout.split())
    for words in ("--budget N", "--seeds S", "--defaults", "validation split only",
                  "descentlab resume", "--problem-file FILE", "--jobs N|auto"):  # fmt: skip
        assert words in text


@pytest.mark.parametrize(
    "args, message",
    [
        (["--budget", "0"], "budget must be an integer >= 1, got 0"),
        (["--seeds", "1"], "seeds must be an integer >= 2, got 1"),
        (["--optimizers", "nope"], "unknown optimizer 'nope'"),
        (["--optimizers", "lbfgs"], "lbfgs needs the whole training set at every step"),
        (["--suite", "none"], "--suite none needs at least one --problem-file"),
        (["--problems", "mnist"], "unknown problem 'mnist'; suite 'small' has: moons"),
        (["--problem-file", "no-such-file.toml"], "no-such-file.toml"),
        (["--jobs", "0"], "jobs"),
    ],
)
def test_a_bad_command_line_is_one_line_and_exit_2(
    args: list[str], message: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    refused = run_cli("benchmark", *args, "--out", str(out))
    assert refused.returncode == 2, refused.stderr
    lines = refused.stderr.strip().splitlines()
    assert message in lines[-1] and "Traceback" not in refused.stderr
    assert not out.exists()  # refused before the folder was claimed


def test_a_whole_run_writes_every_trial_the_scores_and_the_report(whole: Path) -> None:
    document = results_of(whole)
    assert document["status"] == "finished" and document["command"] == "benchmark"
    assert len(document["tasks"]) == 2 * 3 * 2
    assert document["config"]["budget"] == 4 and document["config"]["seeds"] == 3
    assert document["verdict"]
    for name in ("report.md", "profile.png", "intervals.png", "sensitivity.png"):
        assert (whole / name).stat().st_size > 0
    assert (whole / "profile.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (whole / "report.md").read_text()
    assert "profile.png" in report and "tiny-moons" in report


def test_the_scores_equal_a_recomputation_from_the_per_trial_record(whole: Path) -> None:
    document = results_of(whole)
    config = BenchmarkConfig.from_options(
        suite_name=None,
        problem_files=document["config"]["problem_files"],
        optimizers=document["config"]["optimizers"],
        budget=document["config"]["budget"],
        seeds=document["config"]["seeds"],
        seed=document["config"]["seed"],
        defaults=document["config"]["defaults"],
    )
    records = [TaskRecord.from_dict(task) for task in document["tasks"]]
    recomputed = json.loads(json.dumps(summarize(config, records).to_dict()))
    assert recomputed == document["summary"]


def test_the_same_seed_gives_the_same_results(
    whole: Path, problem_args: list[str], tmp_path: Path
) -> None:
    again = tmp_path / "again"
    finished = run_cli(*benchmark_args(problem_args, "--jobs", "2", "--out", str(again)))
    assert finished.returncode == 0, finished.stderr
    assert tasks_without_timings(again) == tasks_without_timings(whole)
    assert results_of(again)["verdict"] == results_of(whole)["verdict"]
    other = tmp_path / "other"
    finished = run_cli(*benchmark_args(problem_args, "--seed", "7", "--out", str(other)))
    assert finished.returncode == 0, finished.stderr
    assert tasks_without_timings(other) != tasks_without_timings(whole)


def _saved_tasks(out: Path) -> int:
    return len(list((out / "tasks").glob("*__*.json"))) if (out / "tasks").exists() else 0


def _workers_gone(out: Path) -> bool:
    """No other process names this run folder on its command line (forked workers carry
    their parent's)."""
    folder = str(out).encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if folder in (entry / "cmdline").read_bytes().split(b"\0"):
                    return False
            except OSError:
                continue
    return True


def _wait_for_the_workers_to_go(out: Path) -> None:
    deadline = time.monotonic() + 60
    while not _workers_gone(out) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _workers_gone(out), "a killed benchmark left worker processes behind"


@pytest.mark.parametrize("jobs", [1, 2])
def test_sigkill_mid_run_then_resume_gives_the_same_results(
    jobs: int, whole: Path, problem_args: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "benchmark"
    process = start_cli_process(
        *benchmark_args(problem_args, "--jobs", str(jobs), "--out", str(out))
    )
    wait_until(lambda: _saved_tasks(out) >= 2, "two finished tasks", process)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    _wait_for_the_workers_to_go(out)
    assert run_status(out) == "running"
    saved = _saved_tasks(out)
    assert 2 <= saved < 12, "the benchmark finished before the kill: nothing was resumed"
    resumed = run_cli("resume", str(out))
    assert resumed.returncode == 0, resumed.stderr
    assert results_of(out)["execution"]["resumed_tasks"] == saved
    assert tasks_without_timings(out) == tasks_without_timings(whole)


def test_ctrl_c_keeps_finished_tasks_exits_130_and_resumes(
    whole: Path, problem_args: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "benchmark"
    process = start_cli_process(*benchmark_args(problem_args, "--out", str(out)))
    wait_until(lambda: _saved_tasks(out) >= 1, "a finished task", process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "tasks finished and saved; resume with: descentlab resume" in stderr
    document = results_of(out)
    assert document["status"] == "interrupted" and document["run"]["argv"][0] == "benchmark"
    assert 1 <= document["tasks_done"] < 12
    resumed = run_cli("resume", str(out))
    assert resumed.returncode == 0, resumed.stderr
    assert tasks_without_timings(out) == tasks_without_timings(whole)
    again = run_cli("resume", str(out))
    assert again.returncode == 2 and "already finished" in again.stderr
