"""Hostile values through the command line, the API and the playground's maps: features near
float64's limits, labels the plot font lacks, options that contradict each other, integers
in other scripts' digits. Each ends in a run that finishes with every picture and no warning,
or in one line on stderr, exit 2, naming the value, before any run folder is begun."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from conftest import Result, run_cli, run_status
from descentlab import datasets
from descentlab.experiment import prepare_data
from descentlab.experiment_config import ExperimentConfig
from descentlab.loaders import load_file
from descentlab.web.boundaries import BoundaryMaps
from descentlab.web.limits import Limits
from descentlab.web.race_config import race_request
from descentlab.web.requests import FieldError

HUGE = [1e308, -1e308, 5e307, -1.7e308, 3.0, -2.0]
"""Finite features at float64's limit, and two ordinary ones."""


def write_csv(path: Path, header: str, rows: list[tuple[object, ...]]) -> Path:
    path.write_text(header + "\n" + "".join(",".join(map(str, row)) + "\n" for row in rows))
    return path


@pytest.fixture
def huge_csv(tmp_path: Path) -> Path:
    rows = [(HUGE[i % len(HUGE)], (i * 7) % 5 / 5, "ab"[i % 2]) for i in range(40)]
    return write_csv(tmp_path / "huge.csv", "weight,size,label", rows)


def assert_refused(result: Result, *words: str) -> str:
    """One stderr line, exit 2, no traceback, naming every one of ``words``."""
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


# --- features near float64's limit -------------------------------------------------------------


@pytest.mark.parametrize("command", ["train", "compare"])
@pytest.mark.parametrize("scaling", ["--no-standardize", "--standardize"])
def test_features_at_the_float64_limit_train_and_draw_every_picture(
    command: str, scaling: str, huge_csv: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    result = run_cli(command, "--data", str(huge_csv), "--target", "label", scaling,
                     "--epochs", "3", "--validation-fraction", "0.25", "--quiet",
                     "--out", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no RuntimeWarning (an error in run_cli), no matplotlib warning
    assert run_status(out) == "finished"
    for picture in ("decision_boundaries.png", "cost_curves.png", "confusion_matrices.png"):
        assert (out / picture).stat().st_size > 1000
    results = json.loads((out / "results.json").read_text())
    if scaling == "--standardize":
        scaling_record = results["dataset"]["scaling"]
        assert all(math.isfinite(v) for v in scaling_record["mean"] + scaling_record["std"])


def test_a_model_trained_on_features_at_the_limit_predicts_them(
    huge_csv: Path, tmp_path: Path
) -> None:
    for scaling in ("--no-standardize", "--standardize"):
        model = tmp_path / f"model{scaling}.npz"
        trained = run_cli("train", "--data", str(huge_csv), "--target", "label", scaling,
                          "--epochs", "3", "--quiet", "--out", str(tmp_path / f"run{scaling}"),
                          "--save", str(model))  # fmt: skip
        assert trained.returncode == 0, trained.stderr
        out = tmp_path / f"predictions{scaling}.csv"
        predicted = run_cli("predict", "--model", str(model), "--data", str(huge_csv),
                            "--target", "label", "--out", str(out))  # fmt: skip
        assert predicted.returncode == 0 and predicted.stderr == "", predicted.stderr
        assert len(out.read_text().splitlines()) == 41


def test_features_beyond_float32_are_refused_for_a_float32_run(
    huge_csv: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    result = run_cli("train", "--data", str(huge_csv), "--target", "label", "--no-standardize",
                     "--dtype", "float32", "--epochs", "2", "--out", str(out))  # fmt: skip
    line = assert_refused(result, "feature 'weight'", str(huge_csv), "1e+308", "float32")
    assert line.endswith("train in float64 or standardise the features")
    assert not out.exists()
    # standardised, the same data fits float32
    scaled = run_cli("train", "--data", str(huge_csv), "--target", "label", "--dtype", "float32",
                     "--epochs", "2", "--quiet", "--out", str(out))  # fmt: skip
    assert scaled.returncode == 0, scaled.stderr


def test_a_feature_too_narrow_to_standardise_is_refused_by_file_column_and_values(
    tmp_path: Path,
) -> None:
    data = write_csv(tmp_path / "narrow.csv", "grain,size,label",
                     [(("0.0", "5e-324")[i % 2], i, "ab"[i % 2]) for i in range(20)])  # fmt: skip
    out = tmp_path / "run"
    result = run_cli("train", "--data", str(data), "--target", "label", "--epochs", "2",
                     "--out", str(out))  # fmt: skip
    assert_refused(result, f"cannot standardise feature 'grain' of {data}", "5e-324")
    assert not out.exists()
    # without standardisation it trains
    raw = run_cli("train", "--data", str(data), "--target", "label", "--no-standardize",
                  "--epochs", "2", "--quiet", "--out", str(out))  # fmt: skip
    assert raw.returncode == 0, raw.stderr


def test_the_playground_maps_of_features_at_the_limit_are_finite(huge_csv: Path) -> None:
    dataset = load_file(huge_csv, target="label")
    for standardize in (False, True):
        config = ExperimentConfig(epochs=1, standardize=standardize)
        data = prepare_data(config, dataset)
        network = config.network(2)
        maps = BoundaryMaps(network, dataset, data, cells=8)
        params = np.random.default_rng(0).normal(size=(2, network.n_params))
        message = maps.message(1, ["a", "b"], params)
        assert message["grid"] is not None
        assert all(math.isfinite(v) for v in message["grid"]["x"] + message["grid"]["y"])
        for values in message["grid"]["confidence"].values():
            assert np.isfinite(values).all()
        json.dumps(maps.points(dataset))  # finite, so valid JSON


# --- labels the plot font lacks ----------------------------------------------------------------


def test_cjk_and_emoji_names_train_without_a_glyph_warning(tmp_path: Path) -> None:
    rows = [(i % 3 + (i % 2) * 2.5, (i * 3) % 7, ["苹果", "🍊", "$x$"][i % 3]) for i in range(36)]
    data = write_csv(tmp_path / "果物.csv", "重さ,大きさ🍎,果物", rows)
    out = tmp_path / "run"
    result = run_cli("compare", "--data", str(data), "--target", "果物", "--epochs", "2",
                     "--validation-fraction", "0.25", "--quiet", "--out", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Glyph" not in result.stderr and result.stderr == ""
    for picture in ("confusion_matrices.png", "cost_curves.png", "report.html"):
        assert (out / picture).stat().st_size > 1000
    assert "苹果" in (out / "report.html").read_text()  # the page keeps the exact text
    assert json.loads((out / "results.json").read_text())["dataset"]["classes"] == [
        "$x$", "苹果", "🍊"
    ]  # fmt: skip


# --- options that contradict each other: the message names the values given -------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--schedule", "cosine", "--min-learning-rate", "10", "--learning-rate", "0.001"],
            "minimum learning rate must be <= the learning rate (0.001), got 10.0",
        ),
        (
            ["--min-learning-rate", "10", "--learning-rate", "0.001"],
            "--min-learning-rate 10.0 does nothing for the constant schedule: it is a setting "
            "of the cosine schedule",
        ),
        (
            ["--decay-rate", "0.5"],
            "--decay-rate 0.5 does nothing for the constant schedule: it is a setting of the "
            "inverse-time, exponential and step schedules",
        ),
        (
            ["--schedule", "cosine", "--warmup", "5"],
            "warmup must be shorter than the run (2 epochs), got 5",
        ),
        (
            ["--schedule", "cosine", "--warmup", "50", "--schedule-unit", "step"],
            "warmup must be shorter than the run (10 steps: 2 epochs of 5 batches), got 50",
        ),
        (
            ["--validation-fraction", "0.5", "--test-fraction", "0.6"],
            "validation_fraction + test_fraction must be < 1, got 0.5 + 0.6 = 1.1",
        ),
        (
            ["--early-stopping"],
            "early stopping needs a validation split (--validation-fraction > 0), got "
            "validation fraction 0.0",
        ),
        (
            ["--n-samples", "3", "--validation-fraction", "0.5"],
            "class 0 has 1 example(s), too few to keep one for training and give every "
            "held-out split one (needs at least 2 at these fractions)",
        ),
    ],
)
def test_contradicting_options_name_the_values_given(
    args: list[str], message: str, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    result = run_cli("train", "--epochs", "2", *args, "--out", str(out))
    assert assert_refused(result) == f"descentlab train: error: {message}"
    assert not out.exists()


def test_a_warmup_in_steps_that_fits_the_data_is_accepted(tmp_path: Path) -> None:
    # 300 moons in batches of 64: 5 steps an epoch, so 2 epochs are 10 steps, more than 5
    out = tmp_path / "run"
    result = run_cli("train", "--epochs", "2", "--schedule", "cosine", "--warmup", "5",
                     "--schedule-unit", "step", "--quiet", "--out", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--schedule", "cosine", "--min-learning-rate", "0.5", "--learning-rate", "0.001,0.1"],
            "minimum learning rate must be <= the learning rate (0.001), got 0.5",
        ),
        (
            ["--schedule", "cosine", "--warmup", "50", "--schedule-unit", "step"],
            "warmup must be shorter than the run (10 steps: 2 epochs of 5 batches), got 50",
        ),
        (
            ["--learning-rate", "0.001..0.1:log:²"],
            "N (the number of values) must be an integer >= 2, got '²'",
        ),
    ],
)
def test_a_sweep_refuses_contradicting_options_before_its_folder(
    args: list[str], message: str, tmp_path: Path
) -> None:
    out = tmp_path / "sweep"
    result = run_cli("sweep", "--epochs", "2", "--quiet", *args, "--out", str(out))
    assert message in assert_refused(result)
    assert not out.exists()


# --- integers in ASCII digits only, through the API and the playground --------------------------


@pytest.mark.parametrize("size", ["²", "٣", "5", 2.5, True])
def test_a_hidden_layer_size_that_is_not_an_integer_is_refused_by_value(size: object) -> None:
    with pytest.raises(ValueError) as error:
        ExperimentConfig(hidden_layers=(5, size))  # type: ignore[arg-type]
    assert str(error.value) == f"hidden layer size must be an integer >= 1, got {size!r}"
    with pytest.raises(FieldError) as refused:
        race_request({"hidden_layers": [5, size]}, Limits())
    assert refused.value.field == "config.hidden_layers[1]"
    assert f"got {size!r}" in refused.value.message


def test_cli_layers_in_other_digits_are_refused_by_value(tmp_path: Path) -> None:
    for layers in ("5,²", "5,٣", "5,1_0"):
        result = run_cli("train", "--layers", layers, "--out", str(tmp_path / "run"))
        assert_refused(result, repr(layers), "ASCII digits")
    assert not (tmp_path / "run").exists()


def test_the_moons_view_is_the_courses_whatever_the_data() -> None:
    from descentlab.report.plots import COURSE_MOONS_VIEW, boundary_view

    assert boundary_view(datasets.moons()) == COURSE_MOONS_VIEW


@pytest.mark.parametrize("text", ["٣", "²", "1_000", "3"])
def test_the_playground_takes_integers_as_json_numbers_only(text: str) -> None:
    """The page's JSON numbers are ASCII by the JSON grammar (``json.loads("[٣]")`` fails); a
    number sent as text is refused by field, naming it, never read as a number."""
    from descentlab.web.requests import landscape_request

    with pytest.raises(FieldError) as refused:
        landscape_request({"optimizers": [{"name": "gd"}], "steps": text}, Limits())
    assert refused.value.field == "steps" and repr(text) in refused.value.message
    with pytest.raises(FieldError) as refused:
        race_request({"epochs": text}, Limits())
    assert refused.value.field == "config.epochs" and repr(text) in refused.value.message


@pytest.mark.parametrize("number", ["٣", "²", "1_000", "\uff11"])
def test_json_numbers_are_ascii_digits_only(number: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        json.loads(f'{{"steps": {number}}}')
