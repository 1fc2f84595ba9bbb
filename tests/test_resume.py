"""Runs that survive: SIGKILL or Ctrl-C at any moment, then `descentlab resume`, end exactly
as the run that was never interrupted, and the resume trains only the epochs that were left.

The run is a real process (the signals are the point); each waits for the state it means to
interrupt (a run folder, a checkpoint of at least N epochs) before the signal, so no case can
pass without exercising resume. ``descentlab resume`` itself runs in-process.

How many epochs a resume trained is counted in-process: ``descentlab.resume.train_stack`` is
wrapped to record the epochs each call trains (a resume that silently started again from
epoch 0 would train 1500). ``--weight-paths 1`` records the parameters after every epoch, and
a checkpoint keeps them, so the resumed run's weight paths (results.json's
``weight_path_projection`` and weight_paths.png) equal the uninterrupted run's too.
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
from descentlab import resume as resume_module
from descentlab.runs import FolderLock

pytestmark = pytest.mark.exact

EPOCHS = 1500
ARGS = [
    "compare", "--epochs", str(EPOCHS), "--checkpoint-every", "100", "--weight-paths", "1",
    "--quiet",
]  # fmt: skip


def _arrays(out: Path) -> dict[str, object]:
    """Every array of the finished run in ``out``, its weight-path projection and picture."""
    results = json.loads((out / "results.json").read_text())
    assert results["status"] == "finished"
    arrays: dict[str, object] = {}
    for run in results["runs"]:
        for key in ("epoch_costs_file", "minibatch_costs_file", "params_file"):
            arrays[run[key]] = np.load(out / run[key], allow_pickle=False)
    projection = results["weight_path_projection"]
    assert projection["snapshots"] == EPOCHS + 1  # the start and every epoch, all sessions'
    arrays["weight_path_projection"] = projection
    arrays["weight_paths.png"] = (out / "weight_paths.png").read_bytes()
    return arrays


@pytest.fixture
def epochs_trained(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The epochs each ``train_stack`` call of an in-process resume trains."""
    calls: list[int] = []
    train_stack = resume_module.train_stack

    def counted(*args: object, epochs: int, **kwargs: object) -> object:
        calls.append(epochs)
        return train_stack(*args, epochs=epochs, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(resume_module, "train_stack", counted)
    return calls


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


def _resume_and_compare(
    out: Path, saved: int, uninterrupted: dict[str, object], epochs_trained: list[int]
) -> None:
    result = run_cli("resume", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    resumed = _arrays(out)
    assert resumed.keys() == uninterrupted.keys()
    for name, array in uninterrupted.items():
        if isinstance(array, np.ndarray):
            assert np.array_equal(resumed[name], array), name  # type: ignore[arg-type]
        else:
            assert resumed[name] == array, name
    # It went on from the checkpoint rather than from epoch 0.
    assert epochs_trained == [EPOCHS - saved]
    assert not (out / ".descentlab.lock").exists()


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("whole") / "run"
    result = run_cli(*ARGS, "--out", str(out))
    assert result.returncode == 0, result.stderr
    return _arrays(out)


@pytest.mark.parametrize("epochs", [100, 800])
def test_sigkill_after_a_checkpoint_then_resume_is_bit_identical(
    epochs: int, uninterrupted: dict[str, object], epochs_trained: list[int], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    saved = _kill_once_it_saved(start_cli_process(*ARGS, "--out", str(out)), out, epochs)
    _resume_and_compare(out, saved, uninterrupted, epochs_trained)


def test_sigkill_before_the_first_checkpoint_starts_again_from_epoch_0(
    uninterrupted: dict[str, object], epochs_trained: list[int], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    # Without periodic checkpoints the run holds none until it ends: it dies with none.
    no_checkpoints = [*ARGS, "--checkpoint-every", "0"]  # argparse keeps the last one
    saved = _kill_once_it_saved(start_cli_process(*no_checkpoints, "--out", str(out)), out, 0)
    assert saved == 0 and not (out / "checkpoint.npz").exists()
    _resume_and_compare(
        out, 0, uninterrupted, epochs_trained
    )  # from results.json's record of the command


def test_sigkill_the_resumed_run_too_then_resume_again(
    uninterrupted: dict[str, object], epochs_trained: list[int], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    first = _kill_once_it_saved(start_cli_process(*ARGS, "--out", str(out)), out, 300)
    resuming = start_cli_process("resume", str(out), "--quiet")
    second = _kill_once_it_saved(resuming, out, first + 300)
    _resume_and_compare(out, second, uninterrupted, epochs_trained)


def test_ctrl_c_saves_a_checkpoint_exits_130_and_resumes(
    uninterrupted: dict[str, object], epochs_trained: list[int], tmp_path: Path
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
    _resume_and_compare(out, status["epochs_done"], uninterrupted, epochs_trained)


def test_two_processes_on_one_folder_refuse(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "results.json").write_text(
        json.dumps({"status": "running", "run": {"argv": ARGS, "cwd": str(tmp_path)}})
    )
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
