"""Sweeps that survive: SIGKILL or Ctrl-C at any moment, then `descentlab resume`, end with
every run's numbers equal to the sweep that was never interrupted, with one process or two,
and a resume trains only what was left.

The sweep is a real process (the signals are the point); each case waits for the state it
means to interrupt (read from the chunk files) before the signal, so none can pass without
exercising resume. The last ``descentlab resume`` of each case runs in-process.

What a resume trained: a finished chunk's file is read back, not written again (a resume that
started over would rewrite it), and, through the library, ``run_sweep``'s ``progress`` counts
the run-epochs a resumed sweep trains: exactly those its chunk files did not hold.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import (
    checkpoint_epochs_done,
    results_of,
    run_cli,
    run_status,
    start_cli_process,
    sweep_numbers,
    wait_until,
)
from descentlab import datasets
from descentlab.sweep import SweepConfig, run_sweep
from descentlab.sweep.checkpoints import SweepCheckpoints
from descentlab.train import TrainingInterrupted

pytestmark = pytest.mark.exact

EPOCHS = 600
SWEEP = [
    "sweep", "--optimizers", "gd,adam", "--learning-rate", "1e-3..1e-1:log:3", "--seeds", "2",
    "--epochs", str(EPOCHS), "--checkpoint-every", "50", "--max-stack", "4", "--quiet",
]  # fmt: skip
"""12 runs in three chunks of four."""


def _chunks_saved(folder: Path) -> dict[str, int]:
    """The epochs each chunk file in a sweep's checkpoint folder holds, by file name."""
    saved = {}
    for path in sorted(folder.glob("chunk-*.npz")):
        epochs = checkpoint_epochs_done(path)
        if epochs is not None:
            saved[path.name] = epochs
    return saved


def _one_finished_one_partial(out: Path) -> bool:
    """A chunk of the sweep in ``out`` has finished and another one saved part of its way."""
    saved = _chunks_saved(out / "checkpoints").values()
    return any(e == EPOCHS for e in saved) and any(0 < e < EPOCHS for e in saved)


def _run_epochs_saved(out: Path) -> int:
    """Run-epochs the chunk files hold (every chunk of this sweep has four runs)."""
    return 4 * sum(_chunks_saved(out / "checkpoints").values())


def _file_versions(out: Path) -> dict[str, tuple[int, int, int]]:
    """Each finished chunk file's identity (inode, modification time, size): a file written
    again (atomically: a new file renamed over it) has another."""
    versions = {}
    for name, epochs in _chunks_saved(out / "checkpoints").items():
        if epochs == EPOCHS:
            stat = (out / "checkpoints" / name).stat()
            versions[name] = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    return versions


def _resume_in_process(out: Path, uninterrupted: list[dict[str, Any]]) -> None:
    """``descentlab resume`` to the end: equal numbers, and no finished chunk trained again."""
    finished = _file_versions(out)
    result = run_cli("resume", str(out))
    assert result.returncode == 0, result.stderr
    assert sweep_numbers(out) == uninterrupted
    assert {name: _file_versions(out)[name] for name in finished} == finished


def _wait_for_the_workers_to_go(out: Path) -> None:
    """Orphaned pool workers of a killed sweep (or of a killed resume) save their chunk and end;
    until they have, they hold the folder's lock, as they should."""
    deadline = time.monotonic() + 60
    while not _workers_gone(out) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _workers_gone(out), "a killed sweep left worker processes behind"


def _workers_gone(out: Path) -> bool:
    """No other process is left whose command line names this run folder: the pool workers
    are forked, so they carry their parent's, ``sweep ... --out OUT`` or ``resume OUT``."""
    folder = str(out).encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                words = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if folder in words:
                return False
    return True


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    out = tmp_path_factory.mktemp("whole") / "sweep"
    result = run_cli(*SWEEP, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == [
        "chunk-0.npz", "chunk-1.npz", "chunk-2.npz", "plan.json",
    ]  # fmt: skip
    return sweep_numbers(out)


@pytest.mark.parametrize("jobs, kills", [(1, 1), (1, 2), (2, 1), (2, 2)])
def test_sigkill_at_any_moment_then_resume_equals_uninterrupted(
    jobs: int, kills: int, uninterrupted: list[dict[str, Any]], tmp_path: Path
) -> None:
    out = tmp_path / "sweep"
    process = start_cli_process(*SWEEP, "--jobs", str(jobs), "--out", str(out))
    wait_until(lambda: run_status(out) == "running", "run folder", process)
    saved = resumed = 0
    for kill in range(kills):  # kill the sweep, then kill its resumption too (when there are two)
        if kill == 0:
            wait_until(
                lambda: _one_finished_one_partial(out), "a finished and a partial chunk", process
            )
        else:  # resume, and kill the resumption once it has trained 100 epochs more
            process = start_cli_process("resume", str(out))
            wait_until(
                lambda before=saved: _run_epochs_saved(out) >= before + 4 * 100,
                "100 epochs more",
                process,
            )
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        _wait_for_the_workers_to_go(out)
        assert run_status(out) == "running"
        saved = _run_epochs_saved(out)
        assert 0 < saved < 12 * EPOCHS
        resumed += 1
    assert resumed >= 1, "the sweep finished before the first kill: nothing was resumed"
    _resume_in_process(out, uninterrupted)
    _wait_for_the_workers_to_go(out)


def test_sigkill_before_any_chunk_was_saved_then_resume_starts_over(
    uninterrupted: list[dict[str, Any]], tmp_path: Path
) -> None:
    out = tmp_path / "sweep"
    # Without periodic checkpoints a chunk's file is written when the chunk ends.
    args = [*SWEEP, "--checkpoint-every", "0", "--out", str(out)]  # argparse keeps the last
    process = start_cli_process(*args)
    plan = out / "checkpoints" / "plan.json"
    wait_until(plan.exists, "the chunk plan", process)  # training is about to start
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    _wait_for_the_workers_to_go(out)
    assert run_status(out) == "running" and _chunks_saved(out / "checkpoints") == {}
    _resume_in_process(out, uninterrupted)  # the stored plan, every chunk from scratch


@pytest.mark.parametrize("jobs", [1, 2])
def test_ctrl_c_saves_exits_130_and_resumes(
    jobs: int, uninterrupted: list[dict[str, Any]], tmp_path: Path
) -> None:
    out = tmp_path / "sweep"
    process = start_cli_process(*SWEEP, "--jobs", str(jobs), "--out", str(out))
    # Training is well under way (its Ctrl-C handler installed), with a chunk to read back.
    wait_until(lambda: _one_finished_one_partial(out), "a finished and a partial chunk", process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "checkpoint saved; resume with: descentlab resume" in stderr
    results = results_of(out)
    assert results["status"] == "interrupted"
    assert results["run"]["argv"][:1] == ["sweep"]
    assert any(out.glob("checkpoints/chunk-*.npz"))
    assert 0 < _run_epochs_saved(out) < 12 * EPOCHS

    _resume_in_process(out, uninterrupted)

    again = run_cli("resume", str(out))
    assert again.returncode == 2
    assert "already finished" in again.stderr


# --- what a resumed sweep trains, counted through the library ------------------------------------

SMALL = SweepConfig(
    optimizers=("gd", "adam"), learning_rate="1e-3..1e-1:log:3", seeds=(0, 1), epochs=60
)
"""The command's sweep, shorter: 12 runs in three chunks of four (``max_stack=4``)."""


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_resumed_sweep_trains_only_the_run_epochs_left(jobs: int, tmp_path: Path) -> None:
    dataset = datasets.moons()
    whole = run_sweep(SMALL, dataset, max_stack=4)
    folder = tmp_path / "checkpoints"
    calls: list[int] = []

    def interrupted() -> bool:  # at the end of chunk 1's 25th epoch (chunk 0 has finished)
        calls.append(1)
        return len(calls) == SMALL.epochs + 25

    with pytest.raises(TrainingInterrupted):
        run_sweep(
            SMALL, dataset, max_stack=4,
            checkpoints=SweepCheckpoints(folder, every=10, interrupted=interrupted),
        )  # fmt: skip
    assert _chunks_saved(folder) == {"chunk-0.npz": 60, "chunk-1.npz": 25}
    trained: list[int] = []
    resumed = run_sweep(
        SMALL, dataset, max_stack=4, jobs=jobs, progress=trained.append,
        checkpoints=SweepCheckpoints(folder, every=10, resume=True),
    )  # fmt: skip
    # Chunk 0 read back, chunk 1's last 35 epochs, all of chunk 2: four runs each.
    assert sum(trained) == 4 * (60 - 25) + 4 * 60
    assert len(resumed.runs) == len(whole.runs) == 12
    for one, two in zip(resumed.runs, whole.runs, strict=True):
        assert one.spec == two.spec
        assert np.array_equal(one.params, two.params)
        assert np.array_equal(one.costs, two.costs) and one.final_cost == two.final_cost
