"""The command line with real data: named datasets, the user's files, splits, early stopping."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import FRUIT, run_cli


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
