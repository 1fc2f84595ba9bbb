"""Run folders (``descentlab.runs``): one results header and one dataset block for every
command, every file name a constant, statuses, and the lock: taken by exactly one of many
processes racing for it, free again when its process is killed, and taken before a folder is
checked again and cleared of the temporary files a killed run left.

The racing processes are real processes (several of them are the point), released together
through a pipe they all wait on; every holder keeps the lock until each process has said
whether it got it, so two holders at once cannot go unseen and nothing depends on timing.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_cli, run_status, start_cli_process, wait_until
from descentlab import datasets
from descentlab.experiment import ExperimentConfig, prepare_data, run_experiment
from descentlab.runs import FolderLock, RunFolder, read_status
from descentlab.runs.header import dataset_record
from descentlab.runs.names import LOCK_FILE, RESULTS_FILE, SENSITIVITY_FILE
from descentlab.runs.sweep import write_sweep_folder
from descentlab.runs.training import write_run_folder
from descentlab.sweep import SweepConfig, run_sweep

HEADER = ["descentlab_version", "command", "status", "created"]


@pytest.fixture(scope="module")
def sweep_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    dataset = datasets.load("blobs")
    config = SweepConfig(optimizers=("adam",), learning_rate="0.01", seeds=(0,), epochs=2)
    out = tmp_path_factory.mktemp("sweep")
    results = write_sweep_folder(out, run_sweep(config, dataset), dataset)
    assert (out / SENSITIVITY_FILE).exists()
    assert json.loads((out / RESULTS_FILE).read_text()) == results
    return results


def test_the_sweeps_dataset_block_keeps_classes_and_feature_names(
    sweep_results: dict[str, object],
) -> None:
    dataset = datasets.load("blobs")
    block = sweep_results["dataset"]
    assert isinstance(block, dict)
    assert block["classes"] == list(dataset.classes)
    assert block["feature_names"] == list(dataset.feature_names)
    assert block == dataset_record(dataset)
    layers = sweep_results["config"]["layers"]  # type: ignore[index]
    assert layers[-1] == dataset.n_classes  # softmax: one output per class


def test_compare_and_sweep_share_the_header_and_the_dataset_block(
    sweep_results: dict[str, object], tmp_path: Path
) -> None:
    dataset = datasets.load("blobs")
    config = ExperimentConfig(optimizers="adam", epochs=2)
    data = prepare_data(config, dataset)
    results = write_run_folder(
        tmp_path, "train", config, dataset, run_experiment(config, dataset, data=data), data
    )
    assert list(results)[:4] == HEADER == list(sweep_results)[:4]
    compare_block = dict(results["dataset"])  # type: ignore[call-overload]
    for key in ("splits", "scaling"):  # what only a run with prepared splits knows
        compare_block.pop(key)
    assert compare_block == sweep_results["dataset"]


def test_a_run_folder_records_its_status_and_is_locked(tmp_path: Path) -> None:
    out = tmp_path / "run"
    folder = RunFolder(out, "train", {"epochs": 1}, {"argv": ["train"]})
    with folder:
        folder.started()
        assert read_status(out) == "running"
        with pytest.raises(ValueError, match="another descentlab process"), FolderLock(out):
            pass
        folder.interrupted(epochs_done=3)
    document = json.loads((out / RESULTS_FILE).read_text())
    assert document["status"] == "interrupted" and document["epochs_done"] == 3
    assert document["resume"] == f"descentlab resume {out}"
    with pytest.raises(ValueError, match="holds an unfinished run"):
        RunFolder(out, "train", {}, {})
    assert RunFolder(out, "train", {}, {}, resuming=True).checkpoint == out / "checkpoint.npz"


def test_no_results_file_name_is_typed_twice() -> None:
    source = Path(__file__).resolve().parent.parent / "src" / "descentlab"
    names = ('"results.json"', '"checkpoint.npz"', '"sensitivity.png"', '"report.html"')
    typed = {
        str(path.relative_to(source)): name
        for path in source.rglob("*.py")
        for name in names
        if name in path.read_text() and path.name != "names.py"
    }
    assert typed == {}


# --- the lock --------------------------------------------------------------------------------

RACER = """
import os, sys
from descentlab.runs.folder import FolderLock

go, release, folder = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
print(os.getpid(), flush=True)
while os.read(go, 1):  # one byte per round; end of file: no more rounds
    lock = FolderLock(folder)
    try:
        lock.__enter__()
    except ValueError as refusal:
        print("refused", refusal, flush=True)
        held = False
    else:
        print("held", flush=True)
        held = True
    os.read(release, 1)  # hold it until every racer has reported
    if held:
        lock.__exit__(None, None, None)
    print("released", flush=True)
"""
"""A racing process: takes the lock on FOLDER when a byte arrives on GO, reports, and lets
go of it when a byte arrives on RELEASE."""

RACERS, ROUNDS = 8, 300


def test_of_processes_racing_for_a_folder_exactly_one_holds_it(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    go_read, go_write = os.pipe()
    release_read, release_write = os.pipe()
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(go_read), str(release_read), str(folder)],
            stdout=subprocess.PIPE,
            text=True,
            pass_fds=(go_read, release_read),
        )
        for _ in range(RACERS)
    ]
    os.close(go_read)
    os.close(release_read)
    try:
        pids = [int(racer.stdout.readline()) for racer in racers]  # type: ignore[union-attr]
        for round_ in range(ROUNDS):
            os.write(go_write, b"x" * RACERS)  # one write: every racer wakes at once
            said = [racer.stdout.readline().rstrip("\n") for racer in racers]  # type: ignore[union-attr]
            holders = [pid for pid, line in zip(pids, said, strict=True) if line == "held"]
            assert len(holders) == 1, f"round {round_}: {said}"
            assert (folder / LOCK_FILE).read_text() == f"{holders[0]}\n"
            for line in said:
                if line != "held":  # the holder's pid, unless it had not written it yet
                    assert line in {
                        f"refused {folder}: another descentlab process{pid} is writing to this "
                        "folder; wait for it to end or stop it"
                        for pid in ("", f" (pid {holders[0]})")
                    }, line
            os.write(release_write, b"x" * RACERS)
            done = [racer.stdout.readline() for racer in racers]  # type: ignore[union-attr]
            assert done == ["released\n"] * RACERS
            assert os.listdir(folder) == []  # the holder removed the lock file
    finally:
        os.close(go_write)
        os.close(release_write)
        for racer in racers:
            racer.wait(timeout=60)
    assert [racer.returncode for racer in racers] == [0] * RACERS


CHURNER = """
import os, sys
from descentlab.runs.folder import FolderLock

go, folder, attempts = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
inside = os.path.join(folder, "inside")
print("ready", flush=True)
os.read(go, 1)
held = overlaps = 0
for _ in range(attempts):
    lock = FolderLock(folder)
    try:
        lock.__enter__()
    except ValueError:
        continue
    held += 1
    try:  # a file only the holder may create: it exists if another holds the lock too
        os.close(os.open(inside, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        overlaps += 1
    else:
        os.unlink(inside)
    lock.__exit__(None, None, None)
print(held, overlaps, flush=True)
"""
"""A churning process: takes and lets go of the lock ATTEMPTS times as fast as it can, while
the others do the same; reports how often it held it and how often another held it too."""


def test_processes_taking_and_releasing_the_lock_never_hold_it_together(
    tmp_path: Path,
) -> None:
    # Here a lock is released while others open and lock its file: the released file is
    # removed, and a process that locked it just before must see that and start again.
    go_read, go_write = os.pipe()
    churners = [
        subprocess.Popen(
            [sys.executable, "-c", CHURNER, str(go_read), str(tmp_path), "500"],
            stdout=subprocess.PIPE,
            text=True,
            pass_fds=(go_read,),
        )
        for _ in range(RACERS)
    ]
    os.close(go_read)
    try:
        ready = [churner.stdout.readline() for churner in churners]  # type: ignore[union-attr]
        assert ready == ["ready\n"] * RACERS
        os.write(go_write, b"x" * RACERS)
    finally:
        os.close(go_write)
    reports = [churner.communicate(timeout=300)[0].split() for churner in churners]
    assert [churner.returncode for churner in churners] == [0] * RACERS
    held = sum(int(report[0]) for report in reports)
    overlaps = sum(int(report[1]) for report in reports)
    assert held > 0 and overlaps == 0
    assert os.listdir(tmp_path) == []


HOLDER = """
import sys
from descentlab.runs.folder import FolderLock

with FolderLock(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.read()  # until killed
"""


def test_a_lock_whose_process_was_killed_is_free(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "held\n"  # type: ignore[union-attr]
        refusal = f"{tmp_path}: another descentlab process (pid {holder.pid}) is writing"
        with pytest.raises(ValueError, match=f"^{re.escape(refusal)}"), FolderLock(tmp_path):
            pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.communicate(timeout=60)
    assert holder.returncode == -signal.SIGKILL
    # The killed process could not remove its lock file; the kernel freed its lock.
    assert (tmp_path / LOCK_FILE).read_text() == f"{holder.pid}\n"
    with FolderLock(tmp_path):
        assert (tmp_path / LOCK_FILE).read_text() == f"{os.getpid()}\n"
        again = FolderLock(tmp_path)  # another open file, even in the same process
        with pytest.raises(ValueError, match=rf"\(pid {os.getpid()}\) is writing"), again:
            pass
    assert os.listdir(tmp_path) == []


def test_a_process_forked_while_the_lock_is_held_does_not_hold_it(tmp_path: Path) -> None:
    # A holder forks a helper, then is killed (its lock file stays): the helper, still
    # running, must not keep the folder locked.
    read, write = os.pipe()
    holder = os.fork()
    if holder == 0:
        try:
            held = FolderLock(tmp_path).__enter__()  # noqa: F841 (kept: the lock is held)
            helper = os.fork()
            if helper == 0:
                signal.pause()
            os.write(write, f"{helper}\n".encode())
            signal.pause()
        finally:
            os._exit(3)
    helper = int(os.read(read, 32))
    os.close(read)
    os.close(write)
    try:
        os.kill(holder, signal.SIGKILL)
        os.waitpid(holder, 0)
        assert (tmp_path / LOCK_FILE).read_text() == f"{holder}\n"  # left by the kill
        with FolderLock(tmp_path):  # taken although the helper still runs
            assert (tmp_path / LOCK_FILE).read_text() == f"{os.getpid()}\n"
    finally:
        os.kill(helper, signal.SIGKILL)


def test_a_lock_file_that_is_not_a_regular_file_is_refused_and_left_alone(
    tmp_path: Path,
) -> None:
    target = tmp_path / "someone-elses-file"
    target.write_text("keep me")
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / LOCK_FILE).symlink_to(target)
    with (
        pytest.raises(ValueError, match=f"^{linked}: cannot open {LOCK_FILE}: "),
        FolderLock(linked),
    ):
        pass
    assert target.read_text() == "keep me"
    folder = tmp_path / "folder"
    (folder / LOCK_FILE).mkdir(parents=True)
    with (
        pytest.raises(ValueError, match=f"^{folder}: cannot open {LOCK_FILE}: "),
        FolderLock(folder),
    ):
        pass
    fifo = tmp_path / "fifo"
    fifo.mkdir()
    os.mkfifo(fifo / LOCK_FILE)
    with (
        pytest.raises(ValueError, match=f"^{fifo}: {LOCK_FILE} is not a regular file$"),
        FolderLock(fifo),
    ):
        pass


def test_a_folder_is_checked_again_once_it_is_locked(tmp_path: Path) -> None:
    out = tmp_path / "run"
    # Both checked while the folder was empty; then another process ran and finished there.
    late = RunFolder(out, "train", {}, {"argv": ["train"]})
    late_resume = RunFolder(out, "train", {}, {}, resuming=True)
    with RunFolder(out, "train", {}, {"argv": ["train"]}) as first:
        first.started()
    (out / RESULTS_FILE).write_text(json.dumps({"status": "finished"}))
    with pytest.raises(ValueError, match="already holds a run"), late:
        pytest.fail("took a folder that holds a finished run")
    finished = "this run already finished; nothing to resume"
    with pytest.raises(ValueError, match=finished), late_resume:
        pytest.fail("resumed a finished run")
    assert os.listdir(out) == [RESULTS_FILE]


def test_a_second_train_into_a_running_folder_is_refused_and_the_first_goes_on(
    tmp_path: Path,
) -> None:
    out = tmp_path / "run"
    # More epochs than the test can take: the first run is killed, never finishes.
    first = start_cli_process(
        "train", "--epochs", "1000000", "--checkpoint-every", "0", "--quiet", "--out", str(out)
    )
    try:
        wait_until(lambda: run_status(out) == "running", "run folder", first)
        before = (out / RESULTS_FILE).read_bytes()
        live = out / ".cost_curves.png.0a1b2c3d.tmp"  # as if the first were writing it
        live.write_bytes(b"half")
        in_use = (
            f"{out}: another descentlab process (pid {first.pid}) is writing to this folder; "
            "wait for it to end or stop it"
        )
        for command in (["train", "--epochs", "3", "--out", str(out)], ["resume", str(out)]):
            second = run_cli(*command, "--quiet")
            assert second.returncode == 2
            assert second.stderr == f"descentlab {command[0]}: error: {in_use}\n"
        assert first.poll() is None
        assert (out / RESULTS_FILE).read_bytes() == before
        assert (out / LOCK_FILE).read_text() == f"{first.pid}\n"
        assert live.read_bytes() == b"half"  # a refused process removes nothing
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=60)
    # Killed, it holds nothing: a new run is refused for what the folder holds, not its lock.
    third = run_cli("train", "--epochs", "3", "--quiet", "--out", str(out))
    assert third.returncode == 2
    assert third.stderr.endswith(f"continue it with: descentlab resume {out}\n")
    assert third.stderr.count("\n") == 1
    assert live.read_bytes() == b"half"  # refused before it cleared anything


TEMPORARIES = [".checkpoint.npz.0a1b2c3d.tmp", ".cost_curves.png.9f8e7d6c.tmp", ".x.k2_x9qzm.tmp"]
"""Temporary files of the atomic writers, as a process killed mid-write leaves them."""
OTHERS = {"notes.txt": b"the user's", ".cost_curves.png.tmp": b"not a writer's name"}


def _plant(out: Path) -> None:
    for name in TEMPORARIES:
        (out / name).write_bytes(b"half a file")
    for name, content in OTHERS.items():
        (out / name).write_bytes(content)


def _only_the_temporaries_went(out: Path) -> None:
    assert not [name for name in TEMPORARIES if (out / name).exists()]
    assert {name: (out / name).read_bytes() for name in OTHERS} == OTHERS
    assert not (out / LOCK_FILE).exists()


def test_resuming_a_killed_run_removes_its_temporary_files(tmp_path: Path) -> None:
    out = tmp_path / "run"
    argv = ["train", "--epochs", "3", "--quiet", "--out", str(out)]
    # What a train killed before its first checkpoint leaves: results.json "running".
    with RunFolder(out, "train", {}, {"command": "train", "argv": argv, "cwd": str(tmp_path)}) as f:
        f.started()
    _plant(out)
    result = run_cli("resume", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    assert read_status(out) == "finished"
    _only_the_temporaries_went(out)


def test_reusing_a_folder_without_results_removes_its_temporary_files(tmp_path: Path) -> None:
    out = tmp_path / "run"  # e.g. a landscape killed before its results.json
    out.mkdir()
    _plant(out)
    result = run_cli("train", "--epochs", "3", "--quiet", "--out", str(out))
    assert result.returncode == 0, result.stderr
    _only_the_temporaries_went(out)
