"""Predicting a file's rows: ``descentlab predict`` reads every file ``descentlab train``
reads (one reader, ``loaders.read_features``), and the predictions CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest

from descentlab.cli import main
from descentlab.loaders import load_file, read_features
from descentlab.prediction import Predictions

FRUIT = """weight_g,diameter_cm,fruit
150,7.1,apple
120,6.5,apple
170,7.5,apple
130,6.0,orange
180,7.8,orange
200,8.1,orange
10,2.1,plum
35,4.0,plum
40,4.3,plum
"""


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("model")
    data = folder / "fruit.csv"
    data.write_text(FRUIT)
    saved = folder / "fruit.npz"
    code = main(
        ["train", "--data", str(data), "--layers", "4", "--epochs", "20", "--quiet",
         "--out", str(folder / "run"), "--save", str(saved)]
    )  # fmt: skip
    assert code == 0
    return saved


def _predict(model: Path, data: Path, out: Path) -> list[str]:
    assert main(["predict", "--model", str(model), "--data", str(data), "--out", str(out)]) == 0
    return out.read_text().splitlines()


@pytest.mark.parametrize(
    ("name", "encode"),
    [
        ("FRUIT.CSV", lambda text: text.encode()),
        ("bom.csv", lambda text: b"\xef\xbb\xbf" + text.encode()),
        ("BOM.Csv", lambda text: "\ufeff".encode() + text.encode()),
    ],
)
def test_predict_reads_what_train_reads(
    name: str, encode: object, model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / name
    data.write_bytes(encode(FRUIT))  # type: ignore[operator]
    assert load_file(data).feature_names == ("weight_g", "diameter_cm")  # train reads it
    plain = tmp_path / "plain.csv"
    plain.write_text(FRUIT)
    expected = _predict(model, plain, tmp_path / "expected.csv")
    capsys.readouterr()
    assert _predict(model, data, tmp_path / "p.csv") == expected
    assert "accuracy" in capsys.readouterr().out  # the label column was found after the BOM


def test_train_accepts_an_upper_case_csv_with_a_bom_too(tmp_path: Path) -> None:
    data = tmp_path / "FRUIT.CSV"
    data.write_bytes(b"\xef\xbb\xbf" + FRUIT.encode())
    code = main(
        ["train", "--data", str(data), "--epochs", "2", "--quiet", "--out", str(tmp_path / "r")]
    )
    assert code == 0


def test_read_features_orders_columns_by_the_models_names(tmp_path: Path) -> None:
    data = tmp_path / "x.csv"
    data.write_text("b,label,a\n1,yes,2\n\n3,no,4\n")
    X, labels = read_features(data, ["a", "b"])
    np.testing.assert_array_equal(X, [[2.0, 1.0], [4.0, 3.0]])
    assert labels == ["yes", "no"]
    X, labels = read_features(data, ["a", "b"], target="label")
    assert labels == ["yes", "no"]


def test_read_features_numbers_rows_as_a_spreadsheet_does(tmp_path: Path) -> None:
    data = tmp_path / "x.csv"
    data.write_text("a,b\n1,2\n\n3,oops\n")
    with pytest.raises(ValueError, match=r"x\.csv: row 4, column 'b': 'oops' is not a number"):
        read_features(data, ["a", "b"])


def test_read_features_of_numpy_files(tmp_path: Path) -> None:
    npz = tmp_path / "d.NPZ"
    with npz.open("wb") as f:  # np.savez would add ".npz" to a name that ends ".NPZ"
        np.savez(f, X=np.array([[1.0, 2.0], [3.0, 4.0]]), y=np.array([1.0, 0.0]))
    X, labels = read_features(npz, ["a", "b"])
    assert X.shape == (2, 2) and labels == ["1", "0"]
    npy = tmp_path / "d.npy"
    np.save(npy, np.array([[1.0, 2.0, 3.0]]))
    with pytest.raises(ValueError, match="expected rows of 2 features, got an array of shape"):
        read_features(npy, ["a", "b"])


AWKWARD_LABELS = ["a,b", 'say "hi"', "two\nlines", "Zürich ☃", " spaced "]


def test_predictions_csv_quotes_every_awkward_label() -> None:
    """Labels holding commas, quotes, line breaks and non-ASCII text come back from
    ``csv.reader`` exactly, in the header (as class names) and in the rows."""
    classes = tuple(AWKWARD_LABELS)
    probabilities = np.eye(len(classes))
    predictions = Predictions(classes, np.array(classes), probabilities, None)
    rows = list(csv.reader(io.StringIO(predictions.to_csv(), newline="")))
    assert rows[0] == ["row", "prediction", *(f"probability_{c}" for c in classes)]
    assert [row[1] for row in rows[1:]] == AWKWARD_LABELS
    assert [row[0] for row in rows[1:]] == ["1", "2", "3", "4", "5"]
    assert all(len(row) == 2 + len(classes) for row in rows)


def test_predict_round_trips_awkward_labels_through_the_file(tmp_path: Path) -> None:
    data = tmp_path / "awkward.csv"
    with data.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["x1", "x2", "label"])
        for i in range(40):
            label = ["a,b", 'say "hi"', "two\nlines"][i % 3]
            writer.writerow([i % 3, (i % 3) * 2.0 + 0.1 * (i % 5), label])
    model = tmp_path / "m.npz"
    assert main(
        ["train", "--data", str(data), "--layers", "4", "--epochs", "300", "--learning-rate",
         "0.05", "--quiet", "--out", str(tmp_path / "run"), "--save", str(model)]
    ) == 0  # fmt: skip
    out = tmp_path / "predictions.csv"
    assert main(["predict", "--model", str(model), "--data", str(data), "--out", str(out)]) == 0
    with out.open(newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    assert rows[0][:2] == ["row", "prediction"] and len(rows) == 41
    assert all(len(row) == len(rows[0]) for row in rows)
    assert {row[1] for row in rows[1:]} <= {"a,b", 'say "hi"', "two\nlines"}
