"""Runs that survive: SIGKILL or Ctrl-C at any moment, then `descentlab resume`, end exactly
as the run that was never interrupted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from test_cli import run_cli

pytestmark = pytest.mark.exact

ARGS = ["compare", "--epochs", "1500", "--checkpoint-every", "100", "--quiet"]


def _start(out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "descentlab", *ARGS, "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _arrays(out: Path) -> dict[str, np.ndarray]:
    results = json.loads((out / "results.json").read_text())
    assert results["status"] == "finished"
    arrays = {}
    for run in results["runs"]:
        for key in ("epoch_costs_file", "minibatch_costs_file", "params_file"):
            arrays[run[key]] = np.load(out / run[key], allow_pickle=False)
    return arrays


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    out = tmp_path_factory.mktemp("whole") / "run"
    result = run_cli(*ARGS, "--out", str(out))
    assert result.returncode == 0, result.stderr
    return _arrays(out)


@pytest.mark.parametrize("delay", [0.05, 0.6, 1.1, 1.6])
def test_sigkill_at_any_moment_then_resume_is_bit_identical(
    delay: float, uninterrupted: dict[str, np.ndarray], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    process = _start(out)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    if (out / "results.json").exists() and json.loads((out / "results.json").read_text()).get(
        "status"
    ) == "finished":
        pytest.skip("the run finished before the kill")
    result = run_cli("resume", str(out), "--quiet")
    if result.returncode == 2 and "not a descentlab run folder" in result.stderr:
        # Killed before it wrote anything: nothing was started, nothing to resume.
        assert not (out / "checkpoint.npz").exists()
        return
    assert result.returncode == 0, result.stderr
    resumed = _arrays(out)
    assert resumed.keys() == uninterrupted.keys()
    for name, array in uninterrupted.items():
        assert np.array_equal(resumed[name], array), name
    assert not (out / ".descentlab.lock").exists()


def test_ctrl_c_saves_a_checkpoint_exits_130_and_resumes(
    uninterrupted: dict[str, np.ndarray], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    process = _start(out)
    deadline = time.monotonic() + 30
    while not (out / "results.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "checkpoint saved; resume with: descentlab resume" in stderr
    assert "Traceback" not in stderr
    status = json.loads((out / "results.json").read_text())
    assert status["status"] == "interrupted" and status["epochs_done"] >= 1
    # A new run into the same folder is refused and pointed at resume.
    refused = run_cli(*ARGS, "--out", str(out))
    assert refused.returncode == 2 and f"descentlab resume {out}" in refused.stderr
    result = run_cli("resume", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    for name, array in _arrays(out).items():
        assert np.array_equal(array, uninterrupted[name]), name


def test_two_processes_on_one_folder_refuse(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / ".descentlab.lock").write_text(str(os.getpid()))  # a live owner: this test
    (out / "results.json").write_text(json.dumps({"status": "running", "run": {"argv": ARGS}}))
    result = run_cli("resume", str(out))
    assert result.returncode == 2
    assert f"another descentlab process (pid {os.getpid()}) is writing" in result.stderr


def test_resume_errors(tmp_path: Path) -> None:
    nothing = run_cli("resume", str(tmp_path / "nowhere"))
    assert nothing.returncode == 2 and "not a descentlab run folder" in nothing.stderr
    done = tmp_path / "done"
    assert run_cli("train", "--epochs", "3", "--quiet", "--out", str(done)).returncode == 0
    finished = run_cli("resume", str(done))
    assert finished.returncode == 2 and "already finished; nothing to resume" in finished.stderr
    for result in (nothing, finished):
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
