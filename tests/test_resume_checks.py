"""What `descentlab resume` checks before it continues a run: the data file is the one the run
started on, the checkpoint is whole and agrees with the command it records, the folder the run
started in still exists, a sweep's plan and chunk files are its own. Each refusal is one line
naming the file and what is wrong, exit code 2, before any training, and the folder is left as
it was (still "running", resumable once the cause is undone).

Runs are killed at a checkpoint with the test-only fault hook (``conftest.kill_at``), so each
case starts from a real interrupted run.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import kill_at, run_cli, run_status

DATA_ROWS = [(x / 10, (x * 7 % 11) / 10, "a" if x % 3 else "b") for x in range(40)]


def _write_csv(path: Path, rows: list[tuple[Any, ...]], columns: tuple[str, ...]) -> None:
    path.write_text(
        ",".join(columns) + "\n" + "".join(",".join(map(str, row)) + "\n" for row in rows)
    )


TRAIN = [
    "train", "--data", "data.csv", "--epochs", "6", "--checkpoint-every", "2",
    "--out", "run", "--quiet",
]  # fmt: skip


@pytest.fixture
def killed(tmp_path: Path) -> Path:
    """A train on data.csv (40 rows, 2 features), killed right after its first checkpoint;
    the folder it started in."""
    _write_csv(tmp_path / "data.csv", DATA_ROWS, ("x1", "x2", "label"))
    kill_at("after:checkpoint.npz@1", TRAIN, tmp_path)
    assert run_status(tmp_path / "run") == "running"
    return tmp_path


def _refused(cwd: Path, *words: str) -> str:
    """``descentlab resume run`` in ``cwd``: refused in one line, exit 2, the folder untouched
    (still "running", its checkpoint as it was); the line."""
    checkpoint = (cwd / "run" / "checkpoint.npz").read_bytes()
    result = run_cli("resume", "run", cwd=cwd)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr
    assert run_status(cwd / "run") == "running"
    assert (cwd / "run" / "checkpoint.npz").read_bytes() == checkpoint
    return result.stderr


def _resumes(cwd: Path) -> None:
    result = run_cli("resume", "run", "--quiet", cwd=cwd)
    assert result.returncode == 0, result.stderr
    assert run_status(cwd / "run") == "finished"


@pytest.mark.parametrize(
    "rows, columns, message",
    [
        (DATA_ROWS[:30], ("x1", "x2", "label"), "(40 examples, 2 features, 2 classes then, 30 "),
        (
            [(x1, x2, x1 + x2, label) for x1, x2, label in DATA_ROWS],
            ("x1", "x2", "x3", "label"),
            "2 features, 2 classes then, 40 examples, 3 features",
        ),
        ([(x2, x1, label) for x1, x2, label in DATA_ROWS], ("x1", "x2", "label"), "same size"),
    ],
    ids=["shrunk", "widened", "other values"],
)
def test_a_changed_data_file_is_refused_and_the_original_resumes(
    killed: Path, rows: list[tuple[Any, ...]], columns: tuple[str, ...], message: str
) -> None:
    original = (killed / "data.csv").read_bytes()
    _write_csv(killed / "data.csv", rows, columns)
    line = _refused(killed, "checkpoint.npz: --data data.csv changed since the run started")
    assert message in line
    (killed / "data.csv").write_bytes(original)
    _resumes(killed)


def test_a_changed_data_file_is_refused_before_the_first_checkpoint_too(tmp_path: Path) -> None:
    """Killed before any checkpoint, the run would start over: on its own data only."""
    _write_csv(tmp_path / "data.csv", DATA_ROWS, ("x1", "x2", "label"))
    kill_at("after:results.json@1", TRAIN, tmp_path)
    _write_csv(tmp_path / "data.csv", DATA_ROWS[:20], ("x1", "x2", "label"))
    result = run_cli("resume", "run", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "results.json: --data data.csv changed since the run started" in result.stderr
    assert run_status(tmp_path / "run") == "running"


def test_a_moved_starting_folder_is_one_line(killed: Path, tmp_path_factory: Any) -> None:
    """The run's relative paths (data.csv) meant something in the folder it started in; once
    that folder is gone, resume says so rather than failing in os.chdir."""
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    run = elsewhere / "run"
    shutil.move(killed / "run", run)
    shutil.rmtree(killed)
    result = run_cli("resume", str(run))
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert f"the run was started in {str(killed)!r}, which cannot be entered now" in result.stderr
    assert run_status(run) == "running"


def _rewrite(path: Path, change: Callable[[dict[str, Any], dict[str, np.ndarray]], None]) -> None:
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    header = json.loads(arrays.pop("header").tobytes().decode())
    change(header, arrays)
    buffer = io.BytesIO()
    np.savez(buffer, header=np.frombuffer(json.dumps(header).encode(), np.uint8), **arrays)
    path.write_bytes(buffer.getvalue())


def _argv_epochs(header: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    argv = header["description"]["argv"]
    argv[argv.index("--epochs") + 1] = "8"


def _argv_garbled(header: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    argv = header["description"]["argv"]
    argv[argv.index("--epochs") + 1] = "six"


def _no_argv(header: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    del header["description"]["argv"]


def _no_cwd(header: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    del header["description"]["cwd"]


def _epochs_done(header: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    header["epochs_done"] = 600


def _no_key(header: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    del header["diverged_epochs"]


def _version_1(header: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    header["format_version"] = 1


@pytest.mark.parametrize(
    "change, message",
    [
        (
            _argv_epochs,
            "the checkpoint's config has epochs = 6, but the command it records gives epochs = 8",
        ),
        (_argv_garbled, "the command line it records is not one descentlab accepts: "),
        (_no_argv, "no record of how the run started (argv: a list of words)"),
        (_no_cwd, "no record of the folder the run started in (cwd)"),
        (_epochs_done, "epochs_done is 600, outside 1..6"),
        (_no_key, "the checkpoint has no 'diverged_epochs'"),
        (_version_1, "a checkpoint of format 1 (older descentlab)"),
    ],
    ids=["argv against its config", "argv garbled", "no argv", "no cwd",
         "epochs_done past the end", "no key", "format 1"],
)  # fmt: skip
def test_a_checkpoint_that_contradicts_itself_is_refused(
    killed: Path, change: Callable[[dict[str, Any], dict[str, np.ndarray]], None], message: str
) -> None:
    _rewrite(killed / "run" / "checkpoint.npz", change)
    _refused(killed, "checkpoint.npz: ", message)


SWEEP = [
    "sweep", "--optimizers", "gd,adam", "--learning-rate", "0.01,0.1", "--seeds", "2",
    "--epochs", "6", "--checkpoint-every", "2", "--max-stack", "2", "--out", "run", "--quiet",
]  # fmt: skip


@pytest.fixture
def killed_sweep(tmp_path: Path) -> Path:
    """A sweep killed once its second chunk saved its first checkpoint."""
    kill_at("after:chunk-1.npz@1", SWEEP, tmp_path)
    return tmp_path


def test_a_sweep_plan_of_other_runs_is_refused(killed_sweep: Path) -> None:
    plan = killed_sweep / "run" / "checkpoints" / "plan.json"
    for text, message in [
        ('{"chunks": [[0, 1], [2, 3]]}', "does not cover this sweep's 8 runs"),
        ('{"chunks": [[0, 1], "2,3"]}', "a sweep plan's chunks must be lists of run indices"),
        ('{"chunks": 4}', "a sweep plan's chunks must be lists of run indices"),
        ('{"plan": []}', "not a readable sweep plan"),
    ]:
        plan.write_text(text)
        result = run_cli("resume", "run", cwd=killed_sweep)
        assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
        assert "plan.json: " in result.stderr and message in result.stderr


def test_a_chunk_file_not_of_its_chunk_is_refused(killed_sweep: Path) -> None:
    chunks = killed_sweep / "run" / "checkpoints"
    shutil.copy(chunks / "chunk-0.npz", chunks / "chunk-1.npz")
    result = run_cli("resume", "run", cwd=killed_sweep)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "chunk-1.npz: this checkpoint holds other runs than its chunk" in result.stderr


def test_a_chunk_file_of_another_configuration_is_refused(killed_sweep: Path) -> None:
    def other_epochs(header: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        header["description"]["config"]["epochs"] = 60

    _rewrite(killed_sweep / "run" / "checkpoints" / "chunk-0.npz", other_epochs)
    result = run_cli("resume", "run", cwd=killed_sweep)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "chunk-0.npz: the checkpoint's config has epochs = 60" in result.stderr


def test_an_untouched_killed_sweep_resumes(killed_sweep: Path) -> None:
    result = run_cli("resume", "run", "--quiet", cwd=killed_sweep)
    assert result.returncode == 0, result.stderr
    assert run_status(killed_sweep / "run") == "finished"


def test_a_compare_of_wrapper_chains_killed_after_a_checkpoint_resumes_bit_for_bit(
    tmp_path: Path,
) -> None:
    """lookahead's slow weights and SAM's inner state sit nested in the checkpoint; the resumed
    run's files equal those of a run never killed, the chains' file names file-safe."""
    args = [
        "compare", "--optimizers", "lookahead:adam,sam:sgd,lookahead:sam:adam", "--epochs", "6",
        "--checkpoint-every", "2", "-H", "sync_period=3", "--learning-rate", "0.05",
        "--out", "run", "--quiet",
    ]  # fmt: skip
    (tmp_path / "whole").mkdir()
    assert run_cli(*args, cwd=tmp_path / "whole").returncode == 0
    kill_at("after:checkpoint.npz@1", args, tmp_path / "killed")
    assert run_status(tmp_path / "killed" / "run") == "running"
    resumed = run_cli("resume", "run", "--quiet", cwd=tmp_path / "killed")
    assert resumed.returncode == 0, resumed.stderr
    for name in ("lookahead+adam", "sam+sgd", "lookahead+sam+adam"):
        for kind in ("params", "epoch-costs", "minibatch-costs"):
            file = f"{name}-{kind}.npy"
            whole = np.load(tmp_path / "whole" / "run" / file)
            assert np.array_equal(np.load(tmp_path / "killed" / "run" / file), whole), file
