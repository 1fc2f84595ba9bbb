"""`descentlab train --save` and `descentlab predict`, through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import FRUIT, run_cli


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, object]]:
    folder = tmp_path_factory.mktemp("model")
    data = folder / "fruit.csv"
    data.write_text(FRUIT)
    model = folder / "fruit-model.npz"
    result = run_cli(
        "train", "--data", str(data), "--layers", "8", "--learning-rate", "0.05",
        "--batch-size", "4", "--epochs", "300", "--quiet", "--out", str(folder / "run"),
        "--save", str(model),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (run,) = json.loads((folder / "run" / "results.json").read_text())["runs"]
    return data, model, run


def test_predict_reproduces_the_training_accuracy(
    saved: tuple[Path, Path, dict[str, object]], tmp_path: Path
) -> None:
    data, model, run = saved
    out = tmp_path / "predictions.csv"
    result = run_cli("predict", "--model", str(model), "--data", str(data), "--out", str(out))
    assert result.returncode == 0, result.stderr
    correct = run["train_correct"]
    assert f"accuracy {100 * correct / 12:.1f}% ({correct}/12)" in result.stdout
    lines = out.read_text().splitlines()
    assert lines[0] == "row,prediction,probability_apple,probability_orange,probability_plum"
    assert len(lines) == 13
    probabilities = np.array([[float(x) for x in line.split(",")[2:]] for line in lines[1:]])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert {line.split(",")[1] for line in lines[1:]} <= {"apple", "orange", "plum"}


def test_predict_without_labels_prints_no_accuracy(
    saved: tuple[Path, Path, dict[str, object]], tmp_path: Path
) -> None:
    _, model, _ = saved
    unlabeled = tmp_path / "new.csv"
    unlabeled.write_text("diameter_cm,weight_g\n7.0,150\n3.0,30\n")  # columns in any order
    out = tmp_path / "p.csv"
    result = run_cli("predict", "--model", str(model), "--data", str(unlabeled), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "accuracy" not in result.stdout
    rows = [line.split(",")[1] for line in out.read_text().splitlines()[1:]]
    assert rows[1] == "plum"


def _hostile(path: Path) -> None:
    np.savez(
        path, header=np.frombuffer(b"{}", dtype=np.uint8), W1=np.array([{"a": 1}], dtype=object)
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_hostile, "pickled objects"),
        (lambda p: p.write_text("not a model"), "is not a descentlab model file"),
        (lambda p: None, "no such file"),
    ],
)
def test_refused_model_files_exit_2(make: object, message: str, tmp_path: Path) -> None:
    model = tmp_path / "model.npz"
    make(model)  # type: ignore[operator]
    data = tmp_path / "fruit.csv"
    data.write_text(FRUIT)
    result = run_cli(
        "predict", "--model", str(model), "--data", str(data), "--out", str(tmp_path / "o.csv")
    )
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o.csv").exists()


def test_truncated_model_and_bad_data_are_refused(
    saved: tuple[Path, Path, dict[str, object]], tmp_path: Path
) -> None:
    data, model, _ = saved
    truncated = tmp_path / "cut.npz"
    truncated.write_bytes(model.read_bytes()[: len(model.read_bytes()) // 2])
    cut = run_cli(
        "predict", "--model", str(truncated), "--data", str(data), "--out", str(tmp_path / "a.csv")
    )
    assert cut.returncode == 2 and str(truncated) in cut.stderr
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("height,fruit\n1,apple\n")
    missing = run_cli(
        "predict", "--model", str(model), "--data", str(wrong), "--out", str(tmp_path / "b.csv")
    )
    assert missing.returncode == 2 and "no column 'weight_g'" in missing.stderr
    existing = tmp_path / "exists.csv"
    existing.write_text("keep me")
    refused = run_cli("predict", "--model", str(model), "--data", str(data), "--out", str(existing))
    assert refused.returncode == 2 and existing.read_text() == "keep me"
    bad_save = run_cli(
        "train", "--epochs", "1", "--save", str(tmp_path / "m.txt"), "--out", str(tmp_path / "r")
    )
    assert bad_save.returncode == 2 and "--save must name a .npz file" in bad_save.stderr
