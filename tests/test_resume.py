"""Runs that survive: SIGKILL or Ctrl-C at any moment, then `descentlab resume`, end exactly
as the run that was never interrupted, and the resume trains only the epochs that were left.

The run is a real process (the signals are the point); each waits for the state it means to
interrupt (a run folder, a checkpoint of at least N epochs) before the signal, so no case can
pass without exercising resume. ``descentlab resume`` itself runs in-process.

How many epochs a resume trained is read from results.json: with ``--weight-paths 1`` every
run records its parameters at its start and after every epoch of the last session (a resumed
run records only its own), so ``weight_path_projection.snapshots`` is 1 + the epochs trained
after resuming. A resume that silently started again from epoch 0 would show 1 + 1500.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import (
    checkpoint_epochs_done,
    run_cli,
    run_status,
    start_cli_process,
    wait_until,
)
from descentlab.runs import FolderLock

pytestmark = pytest.mark.exact

EPOCHS = 1500
ARGS = [
    "compare", "--epochs", str(EPOCHS), "--checkpoint-every", "100", "--weight-paths", "1",
    "--quiet",
]  # fmt: skip


def _arrays(out: Path) -> dict[str, np.ndarray]:
    results = json.loads((out / "results.json").read_text())
    assert results["status"] == "finished"
    arrays = {}
    for run in results["runs"]:
        for key in ("epoch_costs_file", "minibatch_costs_file", "params_file"):
            arrays[run[key]] = np.load(out / run[key], allow_pickle=False)
    return arrays


def _epochs_of_the_last_session(out: Path) -> int:
    """How many epochs the session that finished the run trained (see the module's note)."""
    results = json.loads((out / "results.json").read_text())
    return int(results["weight_path_projection"]["snapshots"]) - 1


def _epochs_saved(out: Path) -> int:
    """The epochs in the run folder's checkpoint (0 when there is none)."""
    return checkpoint_epochs_done(out / "checkpoint.npz") or 0


def _kill_once_it_saved(process: subprocess.Popen[str], out: Path, epochs: int) -> int:
    """SIGKILL ``process`` once ``out`` holds a checkpoint of at least ``epochs`` epochs (with
    ``epochs`` 0: once its run folder says "running"); the epochs saved when it died."""
    wait_until(lambda: run_status(out) == "running", "run folder", process)
    wait_until(lambda: _epochs_saved(out) >= epochs, f"checkpoint of {epochs} epochs", process)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert run_status(out) == "running"  # died in the middle: nothing marked it finished
    saved = _epochs_saved(out)
    assert epochs <= saved < EPOCHS
    return saved


def _resume_and_compare(out: Path, saved: int, uninterrupted: dict[str, np.ndarray]) -> None:
    result = run_cli("resume", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    resumed = _arrays(out)
    assert resumed.keys() == uninterrupted.keys()
    for name, array in uninterrupted.items():
        assert np.array_equal(resumed[name], array), name
    # It went on from the checkpoint rather than from epoch 0.
    assert _epochs_of_the_last_session(out) == EPOCHS - saved
    assert not (out / ".descentlab.lock").exists()


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    out = tmp_path_factory.mktemp("whole") / "run"
    result = run_cli(*ARGS, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert _epochs_of_the_last_session(out) == EPOCHS
    return _arrays(out)


@pytest.mark.parametrize("epochs", [100, 800])
def test_sigkill_after_a_checkpoint_then_resume_is_bit_identical(
    epochs: int, uninterrupted: dict[str, np.ndarray], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    saved = _kill_once_it_saved(start_cli_process(*ARGS, "--out", str(out)), out, epochs)
    _resume_and_compare(out, saved, uninterrupted)


def test_sigkill_before_the_first_checkpoint_starts_again_from_epoch_0(
    uninterrupted: dict[str, np.ndarray], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    # Without periodic checkpoints the run holds none until it ends: it dies with none.
    no_checkpoints = [*ARGS, "--checkpoint-every", "0"]  # argparse keeps the last one
    saved = _kill_once_it_saved(start_cli_process(*no_checkpoints, "--out", str(out)), out, 0)
    assert saved == 0 and not (out / "checkpoint.npz").exists()
    _resume_and_compare(out, 0, uninterrupted)  # from results.json's record of the command


def test_sigkill_the_resumed_run_too_then_resume_again(
    uninterrupted: dict[str, np.ndarray], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    first = _kill_once_it_saved(start_cli_process(*ARGS, "--out", str(out)), out, 300)
    resuming = start_cli_process("resume", str(out), "--quiet")
    second = _kill_once_it_saved(resuming, out, first + 300)
    _resume_and_compare(out, second, uninterrupted)


def test_ctrl_c_saves_a_checkpoint_exits_130_and_resumes(
    uninterrupted: dict[str, np.ndarray], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    process = start_cli_process(*ARGS, "--out", str(out))
    # Training is under way (its Ctrl-C handler installed) once the first checkpoint exists.
    wait_until(lambda: _epochs_saved(out) >= 100, "first checkpoint", process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "checkpoint saved; resume with: descentlab resume" in stderr
    assert "Traceback" not in stderr
    status = json.loads((out / "results.json").read_text())
    assert status["status"] == "interrupted" and status["epochs_done"] >= 1
    # The checkpoint was saved at the epoch it stopped, which the status reports.
    assert 100 <= status["epochs_done"] == _epochs_saved(out) < EPOCHS
    # A new run into the same folder is refused and pointed at resume.
    refused = run_cli(*ARGS, "--out", str(out))
    assert refused.returncode == 2 and f"descentlab resume {out}" in refused.stderr
    _resume_and_compare(out, status["epochs_done"], uninterrupted)


def test_two_processes_on_one_folder_refuse(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "results.json").write_text(json.dumps({"status": "running", "run": {"argv": ARGS}}))
    with FolderLock(out):  # a live owner: this test
        result = run_cli("resume", str(out))
    assert result.returncode == 2
    assert f"another descentlab process (pid {os.getpid()}) is writing" in result.stderr


def test_resume_errors(tmp_path: Path) -> None:
    nothing = run_cli("resume", str(tmp_path / "nowhere"))
    assert nothing.returncode == 2 and "not a descentlab run folder" in nothing.stderr
    (tmp_path / "empty").mkdir()  # e.g. a run killed before it wrote anything
    empty = run_cli("resume", str(tmp_path / "empty"))
    assert empty.returncode == 2 and "not a descentlab run folder" in empty.stderr
    done = tmp_path / "done"
    assert run_cli("train", "--epochs", "3", "--quiet", "--out", str(done)).returncode == 0
    finished = run_cli("resume", str(done))
    assert finished.returncode == 2 and "already finished; nothing to resume" in finished.stderr
    for result in (nothing, empty, finished):
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
