"""The benchmark's problems: the suite prepares, splits are disjoint, files round-trip, bad
fields are refused in one line, and the noisy quadratic's held-out noise is fresh."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from descentlab import datasets, landscapes
from descentlab.benchmark.problems import (
    EVALUATION_DRAWS,
    SUITES,
    NoiseSeeds,
    Problem,
    breast_cancer,
    load_problem_file,
    noise_seeds,
    stochastic_loss,
    suite,
)
from descentlab.splits import Splits

SMALL = SUITES["small"]
DATA_PROBLEMS = [p for p in SMALL if not p.is_stochastic]
BY_NAME = {p.name: p for p in SMALL}


def _prepared_splits(problem: Problem, seed: int | None = None) -> Splits:
    parts = problem.prepare(seed)
    assert isinstance(parts, Splits)
    return parts


def _columns(X: np.ndarray) -> Counter[tuple[float, ...]]:
    return Counter(map(tuple, X.T.tolist()))


def test_the_small_suite_has_the_issues_problems() -> None:
    assert [p.name for p in SMALL] == [
        "moons",
        "spirals",
        "digits",
        "breast-cancer",
        "noisy-quadratic",
    ]
    assert suite("small") is SMALL
    assert [p.metric for p in SMALL] == ["accuracy"] * 4 + ["loss"]
    assert [p.higher_is_better for p in SMALL] == [True] * 4 + [False]


@pytest.mark.parametrize("problem", DATA_PROBLEMS, ids=lambda p: p.name)
def test_every_data_problem_prepares_three_splits_of_its_whole_dataset(problem: Problem) -> None:
    whole = problem.load()
    parts = _prepared_splits(dataclasses.replace(problem, standardize=False))
    assert parts.validation is not None and parts.test is not None
    sizes = [part.n_examples for part in (parts.train, parts.validation, parts.test)]
    assert sum(sizes) == whole.n_examples
    # Every example lands in exactly one split (as a multiset of feature columns).
    held = _columns(parts.train.X) + _columns(parts.validation.X) + _columns(parts.test.X)
    assert held == _columns(whole.X)


@pytest.mark.parametrize(
    "name, layer_sizes",
    [
        ("moons", (2, 5, 2, 1)),
        ("spirals", (2, 16, 16, 1)),
        ("digits", (64, 32, 10)),
        ("breast-cancer", (30, 1)),
    ],
)
def test_each_problem_builds_its_network(name: str, layer_sizes: tuple[int, ...]) -> None:
    problem = BY_NAME[name]
    assert problem.network(_prepared_splits(problem).train).layer_sizes == layer_sizes


def test_moons_is_the_courses_data_unstandardised() -> None:
    parts = _prepared_splits(BY_NAME["moons"])
    course = datasets.moons()
    assert course.params == {"n_samples": 300, "noise": 0.2, "seed": 3}
    assert _columns(parts.train.X) <= _columns(course.X)
    assert BY_NAME["moons"].batch_size == 64


def test_standardised_splits_use_the_training_splits_scaling() -> None:
    problem = BY_NAME["spirals"]
    raw = _prepared_splits(dataclasses.replace(problem, standardize=False))
    scaled = _prepared_splits(problem)
    mean = raw.train.X.mean(axis=1, keepdims=True)
    std = raw.train.X.std(axis=1, keepdims=True)
    np.testing.assert_allclose(scaled.train.X, (raw.train.X - mean) / std, rtol=1e-12)
    assert scaled.test is not None and raw.test is not None
    np.testing.assert_allclose(scaled.test.X, (raw.test.X - mean) / std, rtol=1e-12)


def _indexed_problem(tmp_path: Path, n: int = 101, **fields: object) -> Problem:
    """A problem on a CSV whose feature ``index`` numbers the examples 0..n-1."""
    rows = ["index,label", *(f"{i},{'ab'[i % 3 == 0]}" for i in range(n))]
    (tmp_path / "indexed.csv").write_text("\n".join(rows) + "\n")
    return Problem(
        name="indexed",
        description="examples numbered",
        data_file=str(tmp_path / "indexed.csv"),
        epochs=1,
        batch_size=8,
        metric="accuracy",
        target=0.5,
        standardize=False,
        **fields,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_splits_never_overlap_and_cover_every_example(tmp_path: Path, seed: int) -> None:
    parts = _prepared_splits(_indexed_problem(tmp_path, test_fraction=0.25), seed)
    assert parts.validation is not None and parts.test is not None
    train, validation, test = (set(p.X[0].astype(int).tolist()) for p in parts)
    assert not train & validation and not train & test and not validation & test
    assert train | validation | test == set(range(101))
    # Stratified: 34 examples of class "b" (i % 3 == 0), 67 of "a"; fractions rounded half up.
    assert len(validation) == round(0.2 * 34) + round(0.2 * 67) == 20
    assert len(test) == 9 + 17


def test_prepare_defaults_to_the_split_seed_and_other_seeds_split_otherwise(
    tmp_path: Path,
) -> None:
    problem = _indexed_problem(tmp_path, split_seed=5)
    default, five, six = (_prepared_splits(problem, s) for s in (None, 5, 6))
    assert np.array_equal(default.train.X, five.train.X)
    assert not np.array_equal(five.train.X, six.train.X)


def test_the_test_split_is_the_same_whatever_trials_train(tmp_path: Path) -> None:
    """Tuning and the final re-runs all get prepare(): one split, test never trained on."""
    problem = _indexed_problem(tmp_path)
    first, again = _prepared_splits(problem), _prepared_splits(problem)
    assert first.test is not None and again.test is not None
    assert np.array_equal(first.test.X, again.test.X)


def test_breast_cancer_is_scikit_learns_bundled_set() -> None:
    data = breast_cancer()
    assert data.X.shape == (30, 569)
    assert data.classes == ("malignant", "benign")
    # scikit-learn's documentation: 212 malignant, 357 benign.
    assert np.bincount(data.labels).tolist() == [212, 357]


@pytest.mark.parametrize("name", ["digits", "breast-cancer"])
def test_without_scikit_learn_the_sklearn_datasets_refuse_in_one_line(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ValueError, match=r"needs scikit-learn, which is not installed") as info:
        BY_NAME[name].prepare()
    assert "\n" not in str(info.value)


# --- the noisy quadratic ----------------------------------------------------------------------


def test_noise_seeds_are_three_s_plus_role_and_never_shared() -> None:
    assert noise_seeds(0) == NoiseSeeds(0, 1, 2)
    assert noise_seeds(4) == NoiseSeeds(12, 13, 14)
    every = [seed for s in range(200) for seed in noise_seeds(s)]
    assert len(set(every)) == len(every)
    for s in range(200):
        seeds = noise_seeds(s)
        assert seeds.validation != seeds.train and seeds.test != seeds.train


def test_the_noisy_quadratic_prepares_its_noise_seeds_and_trains_on_the_training_one() -> None:
    problem = BY_NAME["noisy-quadratic"]
    assert problem.prepare(3) == NoiseSeeds(9, 10, 11)
    assert problem.prepare() == noise_seeds(problem.split_seed)
    noisy = problem.noisy_landscape(3)
    assert noisy.seed == 9 and noisy.scale == problem.noise_scale == 1.0
    # Its gradient noise is default_rng(9)'s stream.
    point = np.array([1.0, -2.0])
    expected = landscapes.get("quadratic").grad(point) + np.random.default_rng(9).standard_normal(2)
    np.testing.assert_array_equal(noisy.fresh().grad(point), expected)


def test_stochastic_loss_is_the_mean_sampled_loss_on_fresh_noise() -> None:
    quadratic = landscapes.get("quadratic")
    points = np.array([[2.0, -1.0], [0.5, 0.25]])
    scale = 0.7
    z = np.random.default_rng(10).standard_normal((EVALUATION_DRAWS, 2))
    for point, value in zip(points, stochastic_loss(quadratic, scale, points, 10), strict=True):
        f = 0.5 * (point[0] ** 2 + 25 * point[1] ** 2)
        sampled = [f + scale * (zj[0] * point[0] + zj[1] * point[1]) for zj in z]
        assert value == pytest.approx(sum(sampled) / len(sampled), rel=1e-12)
    assert stochastic_loss(quadratic, scale, np.zeros(2), 10) == 0.0
    validation, test = (stochastic_loss(quadratic, scale, points[0], s) for s in (10, 11))
    assert validation != test


# --- reaching the target ----------------------------------------------------------------------


def test_reached_is_at_least_for_accuracy_and_at_most_for_loss() -> None:
    moons, quadratic = BY_NAME["moons"], BY_NAME["noisy-quadratic"]
    assert moons.reached(0.9) and moons.reached(0.95) and not moons.reached(0.8999)
    assert quadratic.reached(0.05) and quadratic.reached(0.01) and not quadratic.reached(0.06)


# --- problem files ----------------------------------------------------------------------------

TOML = """\
name = "wide-circles"
description = "circles with a wide network"
dataset = "circles"
layers = [32, 8]
epochs = 40
batch_size = "full"
metric = "loss"
target = 0.1
validation_fraction = 0.25
test_fraction = 0.15
split_seed = 4
standardize = false
"""

JSON = {
    "name": "wide-circles",
    "description": "circles with a wide network",
    "dataset": "circles",
    "layers": [32, 8],
    "epochs": 40,
    "batch_size": "full",
    "metric": "loss",
    "target": 0.1,
    "validation_fraction": 0.25,
    "test_fraction": 0.15,
    "split_seed": 4,
    "standardize": False,
}


def test_a_toml_and_a_json_file_load_the_same_problem(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text(TOML)
    (tmp_path / "p.json").write_text(json.dumps(JSON))
    from_toml = load_problem_file(tmp_path / "p.toml")
    assert from_toml == load_problem_file(tmp_path / "p.json")
    assert from_toml == Problem(
        name="wide-circles",
        description="circles with a wide network",
        dataset="circles",
        hidden_layers=(32, 8),
        epochs=40,
        batch_size=None,
        metric="loss",
        target=0.1,
        validation_fraction=0.25,
        test_fraction=0.15,
        split_seed=4,
        standardize=False,
    )
    assert not from_toml.higher_is_better


def test_a_minimal_file_takes_the_documented_defaults(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text(
        'name = "m"\ndataset = "moons"\nlayers = []\nepochs = 3\ntarget = 0.8\n'
    )
    problem = load_problem_file(tmp_path / "p.toml")
    assert (problem.batch_size, problem.metric, problem.hidden_layers) == (64, "accuracy", ())
    assert (problem.validation_fraction, problem.test_fraction, problem.split_seed) == (
        0.2,
        0.2,
        0,
    )
    assert problem.standardize is True


@pytest.mark.parametrize("problem", DATA_PROBLEMS, ids=lambda p: p.name)
def test_every_data_problem_round_trips_through_a_json_file(
    problem: Problem, tmp_path: Path
) -> None:
    (tmp_path / "p.json").write_text(json.dumps(problem.to_dict()))
    assert load_problem_file(tmp_path / "p.json") == problem


def test_a_data_file_is_found_beside_the_problem_file_and_read_by_the_loader(
    tmp_path: Path,
) -> None:
    rows = ["a,b,kind", *(f"{i},{i % 5},{'xy'[i % 2]}" for i in range(40))]
    (tmp_path / "mine.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "p.toml").write_text(
        'name = "mine"\ndata = "mine.csv"\ntarget_column = "kind"\nlayers = [4]\n'
        "epochs = 5\ntarget = 0.9\n"
    )
    problem = load_problem_file(tmp_path / "p.toml")
    assert problem.data_file == str(tmp_path / "mine.csv")
    parts = _prepared_splits(problem)
    assert parts.train.classes == ("x", "y")
    assert problem.network(parts.train).layer_sizes == (2, 4, 1)
    (tmp_path / "again.json").write_text(json.dumps(problem.to_dict()))
    assert load_problem_file(tmp_path / "again.json") == problem


BAD_FIELDS = [
    ("name", '""', "name must be non-empty text"),
    ("dataset", '"mnist"', "dataset must be one of moons, circles"),
    ("layers", '"5, 2"', "layers must be a list of integers >= 1"),
    ("layers", "[5, 0]", "layers must be an integer >= 1, got 0"),
    ("layers", "[2.5]", "layers must be an integer >= 1, got 2.5"),
    ("epochs", "0", "epochs must be an integer >= 1, got 0"),
    ("epochs", "1.5", "epochs must be an integer >= 1, got 1.5"),
    ("epochs", "true", "epochs must be an integer >= 1, got True"),
    ("batch_size", "0", "batch_size must be an integer >= 1, got 0"),
    ("batch_size", '"half"', "batch_size must be an integer >= 1, got 'half'"),
    ("metric", '"f1"', "metric must be one of accuracy, loss, got 'f1'"),
    ("target", "1.5", "target of metric accuracy must be a number in (0, 1], got 1.5"),
    ("target", '"high"', "target must be a number, got 'high'"),
    ("validation_fraction", "1.0", "validation_fraction must be a number in (0, 1), got 1.0"),
    ("test_fraction", "-0.1", "test_fraction must be a number in (0, 1), got -0.1"),
    ("test_fraction", "0.8", "validation_fraction + test_fraction must be < 1"),
    ("split_seed", "-1", "split_seed must be an integer >= 0, got -1"),
    ("standardize", '"yes"', "standardize must be true or false, got 'yes'"),
    ("description", "3", "description must be non-empty text, got 3"),
    ("target_column", '"kind"', "target_column needs a data_file"),
    ("lr", "0.1", "unknown key 'lr'; allowed: name, description, dataset"),
    ("data", '"x.csv"', "needs exactly one of the keys 'dataset' and 'data'"),
]

BAD_DATA_FIELDS = [
    ("data", '""', "data must be non-empty text, got ''"),
    ("data", "3", "data must be non-empty text, got 3"),
    ("target_column", "[1]", "target_column must be non-empty text, got [1]"),
]

BASE = {"name": '"p"', "dataset": '"moons"', "layers": "[5]", "epochs": "10", "target": "0.9"}


def _toml(fields: dict[str, str]) -> str:
    return "".join(f"{key} = {value}\n" for key, value in fields.items())


@pytest.mark.parametrize("suffix", [".toml", ".json"])
@pytest.mark.parametrize("key, value, message", BAD_FIELDS)
def test_every_bad_field_is_refused_in_one_line_naming_file_and_key(
    suffix: str, key: str, value: str, message: str, tmp_path: Path
) -> None:
    fields = {**BASE, key: value}
    file = tmp_path / f"bad{suffix}"
    if suffix == ".toml":
        file.write_text(_toml(fields))
    else:
        file.write_text(json.dumps({k: json.loads(v) for k, v in fields.items()}))
    with pytest.raises(ValueError) as info:
        load_problem_file(file)
    text = str(info.value)
    assert text.startswith(f"{file}: ") and message in text and "\n" not in text


@pytest.mark.parametrize("key, value, message", BAD_DATA_FIELDS)
def test_a_bad_data_key_is_refused_in_one_line(
    key: str, value: str, message: str, tmp_path: Path
) -> None:
    fields = {**{k: v for k, v in BASE.items() if k != "dataset"}, "data": '"x.csv"', key: value}
    file = tmp_path / "bad.toml"
    file.write_text(_toml(fields))
    with pytest.raises(ValueError) as info:
        load_problem_file(file)
    assert str(info.value) == f"{file}: {message}"


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("p.toml", _toml({k: v for k, v in BASE.items() if k != "epochs"}), "missing key 'epochs'"),
        ("p.toml", _toml({k: v for k, v in BASE.items() if k != "dataset"}), "exactly one of"),
        ("p.toml", "name = \n", "not valid TOML"),
        ("p.json", "{", "not valid JSON"),
        ("p.json", "[1, 2]", "must hold one table of keys, got list"),
        ("p.yaml", "name: p", "a problem file must end in .toml or .json"),
    ],
)
def test_a_broken_file_is_refused_in_one_line(
    name: str, content: str, message: str, tmp_path: Path
) -> None:
    (tmp_path / name).write_text(content)
    with pytest.raises(ValueError) as info:
        load_problem_file(tmp_path / name)
    assert str(info.value).startswith(f"{tmp_path / name}: ") and message in str(info.value)
    assert "\n" not in str(info.value)


def test_a_missing_file_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"missing\.toml: cannot be read \(FileNotFoundError\)"):
        load_problem_file(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    "fields, message",
    [
        ({}, "exactly one of dataset, data_file and landscape, got none"),
        ({"dataset": "moons", "landscape": "quadratic"}, "got dataset, landscape"),
        ({"landscape": "valley"}, "landscape must be one of quadratic"),
        ({"landscape": "quadratic", "noise_scale": -1.0}, "noise_scale must be a finite"),
        ({"landscape": "quadratic", "noise_scale": float("nan")}, "got nan"),
        ({"dataset": "moons", "target": float("inf"), "metric": "loss"}, "got inf"),
    ],
)
def test_a_problem_refuses_bad_fields_on_construction(
    fields: dict[str, object], message: str
) -> None:
    base: dict[str, object] = dict(
        name="p", description="d", epochs=1, batch_size=None, metric="loss", target=0.5
    )
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        Problem(**{**base, **fields})  # type: ignore[arg-type]


def test_an_unknown_suite_names_the_suites() -> None:
    with pytest.raises(ValueError, match=r"^unknown suite 'huge'; choose one of: small$"):
        suite("huge")


def test_the_stochastic_problem_has_no_file_form_nor_dataset() -> None:
    quadratic = BY_NAME["noisy-quadratic"]
    with pytest.raises(ValueError, match="files hold data only"):
        quadratic.to_dict()
    with pytest.raises(ValueError, match="has no dataset"):
        quadratic.load()
    with pytest.raises(ValueError, match="is a data problem"):
        BY_NAME["moons"].noisy_landscape(0)
