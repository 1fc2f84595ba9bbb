"""Kill at every phase: a process killed (SIGKILL) at any write of results.json, a checkpoint,
the model, a picture or report.html, then resumed (or, killed before its folder said anything,
run again), leaves every file bit for bit as a run never killed, but for the time it was made.

The kill is no timing guess: ``DESCENTLAB_FAULT=PHASE[@N]`` (``descentlab.faults``, test-only;
``conftest.kill_at`` arms it in a forked child, the last test sets the variable for a fresh
process)
makes the process SIGKILL itself the N-th time it reaches the phase ``before:NAME`` (nothing of
that write done), ``written:NAME`` (the temporary file complete, not renamed: it is left
behind) or ``after:NAME`` (the file in place) of an atomic write of the file NAME. Each case
asserts that the process did die there, so none passes without exercising what it names.

Each run works in a folder of its own with the same relative ``--out`` and ``--save``, so the
recorded command lines are equal; a checkpoint also records the folder it started in, the one
difference the comparison allows (with the ``created`` time and the seconds measured).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import cli_command, kill_at, run_cli, run_status
from descentlab.atomic import is_temporary

pytestmark = pytest.mark.exact

TRAIN = [
    "train", "--optimizer", "nadam", "--n-samples", "60", "--epochs", "6",
    "--checkpoint-every", "2", "--weight-paths", "1", "--save", "model.npz", "--out", "run",
    "--quiet",
]  # fmt: skip
"""Checkpoints after epochs 2, 4 and 6; a snapshot of the weights after every epoch."""

COMPARE = [
    "compare", "--optimizers", "gd,adam", "--n-samples", "80", "--epochs", "6",
    "--checkpoint-every", "3", "--validation-fraction", "0.25", "--weight-paths", "2",
    "--learning-rate", "0.01", "--schedule", "cosine", "--out", "run", "--quiet",
]  # fmt: skip
"""Two runs, a validation split (its monitor is checkpointed too) and a schedule."""

SWEEP = [
    "sweep", "--optimizers", "gd,adam", "--learning-rate", "0.01,0.1", "--seeds", "2",
    "--epochs", "6", "--checkpoint-every", "2", "--max-stack", "2", "--out", "run", "--quiet",
]  # fmt: skip
"""8 runs in 4 chunks of 2 (chunk-0.npz .. chunk-3.npz), each saved after epochs 2, 4, 6."""

BENCHMARK = [
    "benchmark", "--suite", "none", "--problem-file", "tiny.toml", "--optimizers", "gd,adam",
    "--budget", "2", "--seeds", "2", "--out", "run", "--quiet",
]  # fmt: skip
"""Two tasks, each saved in tasks/ as it ends, then report.md, its pictures, results.json."""
TINY_PROBLEM = 'name = "tiny"\ndataset = "moons"\nlayers = [3]\nepochs = 3\ntarget = 0.8\n'

COMMANDS = {"train": TRAIN, "compare": COMPARE, "sweep": SWEEP, "benchmark": BENCHMARK}

CASES = [
    # Before the folder says anything: the command is run again.
    ("train", "before:results.json@1"),
    # "running", no checkpoint yet: resume starts from epoch 0.
    ("train", "after:results.json@1"),
    ("train", "written:checkpoint.npz@1"),
    ("train", "written:checkpoint.npz@2"),
    # Every epoch trained, the files being written: resume rewrites them.
    ("train", "after:checkpoint.npz@3"),
    ("train", "written:nadam-params.npy"),
    ("train", "written:cost_curves.png"),
    ("train", "written:weight_paths.png"),
    ("train", "after:report.html"),
    ("train", "before:model.npz"),
    ("train", "written:model.npz"),
    ("train", "after:model.npz"),
    ("train", "written:results.json@2"),
    # "finished": every file is there already, and resume says so.
    ("train", "after:results.json@2"),
    ("compare", "after:results.json@1"),
    ("compare", "written:checkpoint.npz@1"),
    ("compare", "after:checkpoint.npz@2"),
    ("compare", "written:confusion_matrices.png"),
    ("compare", "written:results.json@2"),
    ("sweep", "written:results.json@1"),
    ("sweep", "written:plan.json"),
    ("sweep", "after:chunk-0.npz@3"),
    ("sweep", "written:chunk-1.npz@2"),
    ("sweep", "written:sensitivity.png"),
    ("sweep", "written:results.json@2"),
    ("benchmark", "after:results.json@1"),
    ("benchmark", "written:benchmark.json"),
    ("benchmark", "after:tiny__gd__tuned.json"),
    ("benchmark", "written:tiny__adam__tuned.json"),
    ("benchmark", "written:profile.png"),
    ("benchmark", "written:report.md"),
    ("benchmark", "written:results.json@2"),
]


def _finish(args: list[str], cwd: Path) -> None:
    """What a user does after the kill: resume the run, or run it again if its folder never
    said it started; a run that says "finished" is refused by resume, with every file there."""
    status = run_status(cwd / "run")
    if status is None:
        assert not (cwd / "run" / "results.json").exists()
        result = run_cli(*args, cwd=cwd)
        assert result.returncode == 0, result.stderr
    elif status == "finished":
        result = run_cli("resume", "run", cwd=cwd)
        assert result.returncode == 2 and "already finished" in result.stderr
    else:
        assert status == "running"
        result = run_cli("resume", "run", "--quiet", cwd=cwd)
        assert result.returncode == 0, result.stderr
    assert result.stderr.count("\n") <= 1 and "Traceback" not in result.stderr


def _files(cwd: Path) -> dict[str, Path]:
    """Every file the run left under ``cwd`` but the lock file (which a killed process leaves
    behind: harmless, locked again by the next one), by relative name."""
    return {
        str(path.relative_to(cwd)): path
        for path in sorted(cwd.rglob("*"))
        if path.is_file() and path.name != ".descentlab.lock"
    }


def _results(path: Path) -> Any:
    document = json.loads(path.read_text())
    document["created"] = "-"
    for run in [*document.get("runs", []), *document.get("tasks", [])]:
        run.pop("seconds", None)
    if document.get("command") == "benchmark":  # a sweep's summary is a list of its own
        for problem in document["summary"]["problems"]:
            problem.pop("seconds", None)
    document.get("execution", {}).pop("seconds", None)
    document.get("execution", {}).pop("resumed_tasks", None)  # a benchmark's: how it ran
    return document


def _task(path: Path) -> Any:
    """A benchmark's task record, without the seconds it took."""
    record = json.loads(path.read_text())
    record.pop("seconds", None)
    return record


def _markdown_report(path: Path) -> str:
    """report.md without the seconds (per problem: "; 1.2 s." and the protocol table's last
    column)."""
    text = re.sub(r"; [0-9.]+ s\.", "; - s.", path.read_text())
    return re.sub(r"\| [0-9.]+ \|$", "| - |", text, flags=re.MULTILINE)


def _checkpoint(path: Path) -> dict[str, Any]:
    """A checkpoint's header (without the folder it started in) and arrays: the zip's own
    timestamps are the time of writing."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    header = json.loads(arrays.pop("header").tobytes().decode())
    header["description"].pop("cwd", None)
    return {
        "header": header,
        **{name: (a.dtype.str, a.shape, a.tobytes()) for name, a in arrays.items()},
    }


def _report(path: Path) -> str:
    """report.html without its time stamp and the seconds column (the cell after each run's
    oscillation index and cost shape, which ends in ")")."""
    text = re.sub(r"created [0-9T:+-]+", "created -", path.read_text())
    return re.sub(r'(\)</td><td class="num">)[0-9.]+(</td></tr>)', r"\1-\2", text)


READERS: dict[str, Callable[[Path], Any]] = {
    "results.json": _results,
    "checkpoint.npz": _checkpoint,
    "report.html": _report,
    "report.md": _markdown_report,
}


def _contents(path: Path) -> Any:
    if path.name.startswith("chunk-"):
        return _checkpoint(path)
    if path.parent.name == "tasks" and "__" in path.name:
        return _task(path)
    return READERS.get(path.name, Path.read_bytes)(path)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Each command's files, run once without a kill."""
    files = {}
    for name, args in COMMANDS.items():
        cwd = tmp_path_factory.mktemp(name)
        if name == "benchmark":
            (cwd / "tiny.toml").write_text(TINY_PROBLEM)
        result = run_cli(*args, cwd=cwd)
        assert result.returncode == 0, result.stderr
        files[name] = {relative: _contents(path) for relative, path in _files(cwd).items()}
    return files


@pytest.mark.parametrize("command, phase", CASES)
def test_a_kill_at_any_phase_resumes_to_the_same_files(
    command: str, phase: str, uninterrupted: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    args = COMMANDS[command]
    if command == "benchmark":
        (tmp_path / "tiny.toml").write_text(TINY_PROBLEM)
    kill_at(phase, args, tmp_path)
    _finish(args, tmp_path)
    files = _files(tmp_path)
    assert not [name for name in files if is_temporary(Path(name).name)]
    expected = uninterrupted[command]
    assert files.keys() == expected.keys()
    for name, path in files.items():
        assert _contents(path) == expected[name], name


def test_a_killed_sweep_worker_is_one_line_and_the_sweep_resumes(
    uninterrupted: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    """With two processes, a worker killed while saving a chunk: the sweep stops with one
    line (not a pool's traceback), its folder still "running", and resume completes it."""
    args = [*SWEEP, "--jobs", "2"]
    process = subprocess.run(
        cli_command(*args),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        env={**os.environ, "DESCENTLAB_FAULT": "written:chunk-1.npz@2"},
    )
    assert process.returncode == 2, process.stderr
    assert process.stderr.count("\n") == 1 and "a sweep worker process died" in process.stderr
    assert run_status(tmp_path / "run") == "running"
    result = run_cli("resume", "run", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    files = _files(tmp_path)
    expected = uninterrupted["sweep"]
    assert files.keys() == expected.keys()
    for name, path in files.items():
        if name == "run/results.json":  # the execution differs: two processes
            document, whole = _results(path), expected[name]
            assert document["runs"] == whole["runs"] and document["summary"] == whole["summary"]
        else:
            assert _contents(path) == expected[name], name
