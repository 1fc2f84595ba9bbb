"""Sweeps that survive: SIGKILL or Ctrl-C at any moment, then `descentlab resume`, end with
every run's numbers equal to the sweep that was never interrupted, with one process or two."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.exact

SWEEP = [
    "sweep", "--optimizers", "gd,adam", "--learning-rate", "1e-3..1e-1:log:3", "--seeds", "2",
    "--epochs", "600", "--checkpoint-every", "50", "--max-stack", "4", "--quiet",
]  # fmt: skip


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "descentlab", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _start(out: Path, jobs: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "descentlab", *SWEEP, "--jobs", str(jobs), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_the_run_folder(out: Path) -> None:
    deadline = time.monotonic() + 60
    while _status(out) is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _status(out) == "running"


def _results(out: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((out / "results.json").read_text())
    return document


def _numbers(out: Path) -> list[dict[str, Any]]:
    """What must not depend on interruptions: every run's record, and the summary."""
    results = _results(out)
    assert results["status"] == "finished"
    return [*results["runs"], *results["summary"]]


def _status(out: Path) -> str | None:
    try:
        return str(_results(out).get("status"))
    except (OSError, ValueError):
        return None


def _workers_gone(parent: int) -> bool:
    """No process is left whose command line is this sweep's (orphaned pool workers)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != parent:
            try:
                words = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"--checkpoint-every" in words and b"sweep" in words:
                return False
    return True


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    out = tmp_path_factory.mktemp("whole") / "sweep"
    result = _cli(*SWEEP, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == [
        "chunk-0.npz", "chunk-1.npz", "chunk-2.npz", "plan.json",
    ]  # fmt: skip
    return _numbers(out)


@pytest.mark.parametrize(
    "jobs, delays",
    [(1, [0.8]), (1, [1.3]), (1, [1.0, 0.9]), (2, [0.7]), (2, [0.9, 0.8])],
)
def test_sigkill_at_any_moment_then_resume_equals_uninterrupted(
    jobs: int, delays: list[float], uninterrupted: list[dict[str, Any]], tmp_path: Path
) -> None:
    out = tmp_path / "sweep"
    process = _start(out, jobs)
    _wait_for_the_run_folder(out)  # the delays count from there, however slow the start-up
    resumed = 0
    for delay in delays:  # kill the sweep, then kill its resumption too (when there are two)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        if _status(out) == "finished":
            break
        resumed += 1
        process = subprocess.Popen(
            [sys.executable, "-m", "descentlab", "resume", str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    if _status(out) != "finished":
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
    assert resumed >= 1, "the sweep finished before the first kill: nothing was resumed"
    assert _numbers(out) == uninterrupted
    deadline = time.monotonic() + 5
    while not _workers_gone(os.getpid()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _workers_gone(os.getpid()), "a killed sweep left worker processes behind"


@pytest.mark.parametrize("jobs", [1, 2])
def test_ctrl_c_saves_exits_130_and_resumes(
    jobs: int, uninterrupted: list[dict[str, Any]], tmp_path: Path
) -> None:
    out = tmp_path / "sweep"
    process = _start(out, jobs)
    plan = out / "checkpoints" / "plan.json"
    deadline = time.monotonic() + 30
    while not plan.exists() and time.monotonic() < deadline:  # training is about to start
        time.sleep(0.01)
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "checkpoint saved; resume with: descentlab resume" in stderr
    results = _results(out)
    assert results["status"] == "interrupted"
    assert results["run"]["argv"][:1] == ["sweep"]
    assert any(out.glob("checkpoints/chunk-*.npz"))

    resumed = _cli("resume", str(out))
    assert resumed.returncode == 0, resumed.stderr
    assert _numbers(out) == uninterrupted

    again = _cli("resume", str(out))
    assert again.returncode == 2
    assert "already finished" in again.stderr
