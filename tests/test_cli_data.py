"""The command line with real data: named datasets, the user's files, splits, early stopping."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from conftest import FRUIT, cli_command, run_cli, run_cli_process


def test_user_csv_with_string_labels(tmp_path: Path) -> None:
    data = tmp_path / "fruit.csv"
    data.write_text(FRUIT)
    out = tmp_path / "run"
    result = run_cli(
        "train", "--data", str(data), "--layers", "8", "--learning-rate", "0.05",
        "--batch-size", "4", "--epochs", "200", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    results = json.loads((out / "results.json").read_text())
    assert results["dataset"]["name"] == "fruit.csv"
    assert results["dataset"]["classes"] == ["apple", "orange", "plum"]
    assert results["dataset"]["feature_names"] == ["weight_g", "diameter_cm"]
    assert results["dataset"]["scaling"] is not None  # standardised by default
    assert results["config"]["layers"] == [2, 8, 3]  # softmax over three classes
    (run,) = results["runs"]
    matrix = np.array(run["confusion_matrices"]["train"])
    assert matrix.shape == (3, 3) and matrix.sum() == 12
    assert run["train_correct"] == int(np.trace(matrix))
    assert (out / "confusion_matrices.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_digits_with_the_recommended_settings_reaches_95_percent_test_accuracy(
    tmp_path: Path,
) -> None:
    out = tmp_path / "digits"
    result = run_cli(
        "train", "--dataset", "digits", "--optimizer", "adam", "--layers", "64",
        "--learning-rate", "0.01", "--batch-size", "64", "--epochs", "60",
        "--test-fraction", "0.25", "--out", str(out), "--quiet",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    results = json.loads((out / "results.json").read_text())
    (run,) = results["runs"]
    assert run["test_accuracy"] >= 0.95
    test_size = results["dataset"]["splits"]["test"]
    assert 440 <= test_size <= 460  # a quarter of each class of 1797
    assert np.array(run["confusion_matrices"]["test"]).sum() == test_size


def test_validation_curves_and_early_stopping(tmp_path: Path) -> None:
    out = tmp_path / "es"
    result = run_cli(
        "compare", "--dataset", "moons", "--n-samples", "200", "--noise", "0.35",
        "--optimizers", "gd,adam", "--learning-rate", "gd=0.5,adam=0.05", "--layers", "8",
        "--epochs", "400", "--validation-fraction", "0.3", "--test-fraction", "0.2",
        "--early-stopping", "--patience", "15", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "validation accuracy" in result.stdout and "test accuracy" in result.stdout
    results = json.loads((out / "results.json").read_text())
    assert results["dataset"]["splits"] == {"train": 100, "validation": 60, "test": 40}
    for run in results["runs"]:
        stopping = run["early_stopping"]
        assert stopping["best_epoch"] <= run["epochs"] - 1
        assert len(run["validation_costs"]) == len(run["costs"])
        assert set(run["confusion_matrices"]) == {"train", "validation", "test"}
    assert "stopped at" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset", "mnist"], "unknown dataset 'mnist'; choose from: moons, circles"),
        (["--data", "missing.csv"], "missing.csv: no such file"),
        (["--data", "x.csv", "--dataset", "moons"], "--data reads your own file"),
        (["--target", "y"], "--target goes with --data"),
        (["--validation-fraction", "1.2"], "validation fraction must be a number in [0, 1)"),
        (["--early-stopping"], "early stopping needs a validation split"),
        (["--patience", "0"], "patience must be an integer >= 1, got 0"),
        (["--dataset", "digits", "--noise", "0.1"], "dataset 'digits'"),
        (["--n-samples", "1"], "n-samples must be an integer >= 2, got 1"),
        (["--dtype", "float16"], "argument --dtype: invalid choice: 'float16'"),
    ],
)
def test_bad_data_options_exit_2_with_one_line(
    args: list[str], message: str, tmp_path: Path
) -> None:
    (tmp_path / "x.csv").write_text(FRUIT)
    out = tmp_path / "out"
    result = run_cli("train", "--epochs", "1", *args, "--out", str(out), cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not (out / "results.json").exists()


def test_bad_csv_names_row_and_column(tmp_path: Path) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_text("a,b,label\n1,2,x\n3,six,y\n")
    result = run_cli("train", "--data", str(broken), "--epochs", "1", "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert "row 3, column 'b': 'six' is not a number" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_float32_training_from_the_cli(tmp_path: Path) -> None:
    out = tmp_path / "f32"
    result = run_cli("train", "--dtype", "float32", "--epochs", "20", "--quiet", "--out", str(out))
    assert result.returncode == 0, result.stderr
    params = np.load(out / "adam-params.npy", allow_pickle=False)
    assert params.dtype == np.float32


# --- hostile data files: one line naming the file, exit 2, before training -------------------


def _npy_in_npz(path: Path) -> None:
    np.save(path.with_suffix(".tmp.npy"), np.zeros((4, 2)))
    path.with_suffix(".tmp.npy").rename(path)


def _npz_in_npy(path: Path) -> None:
    np.savez(path.with_suffix(".tmp.npz"), X=np.zeros((4, 2)), y=np.arange(4) % 2)
    path.with_suffix(".tmp.npz").rename(path)
    np.save(path.with_name(f"{path.stem}_y.npy"), np.arange(4) % 2)


def _truncated_npz(path: Path) -> None:
    np.savez(path.with_suffix(".tmp.npz"), X=np.zeros((40, 2)), y=np.arange(40) % 2)
    whole = path.with_suffix(".tmp.npz").read_bytes()
    path.write_bytes(whole[: len(whole) - 30])  # the zip directory cut short


HOSTILE_FILES = [
    ("cut.npz", _truncated_npz, "not a readable .npz archive"),
    ("array.npz", _npy_in_npz, "holds a single array, not an .npz archive"),
    ("archive.npy", _npz_in_npy, "holds an .npz archive, not one .npy array"),
    ("folder.csv", lambda path: path.mkdir(), "is a directory, not a data file"),
    ("zero.npy", lambda path: path.symlink_to("/dev/zero"), "is a character device"),
]


@pytest.mark.parametrize(("name", "make", "message"), HOSTILE_FILES)
@pytest.mark.parametrize("command", ["train", "predict"])
def test_hostile_data_files_exit_2_with_one_line_naming_the_file(
    command: str, name: str, make: Callable[[Path], None], message: str, tmp_path: Path
) -> None:
    path = tmp_path / name
    make(path)
    out = tmp_path / "out"
    if command == "train":
        args = ["train", "--epochs", "1", "--out", str(out)]
    else:
        model = tmp_path / "model.npz"
        data = tmp_path / "fruit.csv"
        data.write_text(FRUIT)
        trained = run_cli(
            "train", "--data", str(data), "--epochs", "1", "--quiet", "--out", str(tmp_path / "r"),
            "--save", str(model),
        )  # fmt: skip
        assert trained.returncode == 0, trained.stderr
        args = ["predict", "--model", str(model), "--out", str(out)]
    result = run_cli(*args, "--data", str(path))
    assert result.returncode == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"descentlab {command}: error: {path}: ") and message in lines[0]
    assert "Traceback" not in result.stderr
    assert not out.exists()  # no run folder started, no predictions written


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "symlink-to-dev-zero"])
def test_fifo_and_dev_zero_are_refused_not_read(kind: str, tmp_path: Path) -> None:
    """A FIFO with no writer would block an open() and /dev/zero never ends: both are refused
    as not regular files. A fresh process, so a regression is a timeout (a hang guard, not a
    speed requirement) rather than a stuck test run."""
    if kind == "fifo":
        data = tmp_path / "pipe.csv"
        os.mkfifo(data)
    elif kind == "dev-zero":
        data = Path("/dev/zero")
    else:
        data = tmp_path / "zero.csv"
        data.symlink_to("/dev/zero")
    out = tmp_path / "out"
    result = run_cli_process(
        "train", "--data", str(data), "--epochs", "1", "--out", str(out), timeout=120
    )
    assert result.returncode == 2, result.stderr
    expected = "a FIFO (named pipe)" if kind == "fifo" else "a character device"
    assert result.stderr.splitlines() == [
        f"descentlab train: error: {data}: is {expected}, not a data file; give a regular file"
    ]
    assert not out.exists()


def _limit_memory() -> None:  # runs in the child, before exec
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (3 * 1024**3, 3 * 1024**3))


def test_a_lying_npz_header_is_refused_under_a_memory_limit(tmp_path: Path) -> None:
    """An .npz member whose header declares 10^12 rows: refused from the header alone, in a
    process whose address space is capped at 3 GiB (so a large allocation would fail)."""
    import io
    import zipfile

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (10**12, 2)}
    )
    labels = io.BytesIO()
    np.save(labels, np.arange(4) % 2)
    data = tmp_path / "lies.npz"
    with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("X.npy", header.getvalue() + np.zeros((4, 2)).tobytes())
        archive.writestr("y.npy", labels.getvalue())
    out = tmp_path / "out"
    result = subprocess.run(
        cli_command("train", "--data", str(data), "--epochs", "1", "--out", str(out)),
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_limit_memory,
    )
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"descentlab train: error: {data}: array 'X' declares {16 * 10**12} ")
    assert "a data file may take here" in line and not out.exists()
