from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_moons as sklearn_make_moons

from descentlab import datasets
from helpers import assert_same_random_state, global_random_state

pytestmark = pytest.mark.exact


def test_course_moons_are_bit_identical_to_seeded_sklearn() -> None:
    # np.random.seed(3) then make_moons(300, noise=.2) draws from the global RandomState(3);
    # passing a fresh RandomState(3) is the same stream without touching global state.
    X_ref, y_ref = sklearn_make_moons(
        n_samples=300, noise=0.2, random_state=np.random.RandomState(3)
    )
    data = datasets.moons()
    assert data.X.shape == (2, 300) and data.Y.shape == (1, 300)
    assert np.array_equal(data.X, X_ref.T)
    assert np.array_equal(data.Y, y_ref.reshape(1, -1).astype(float))
    assert set(np.unique(data.Y)) == {0.0, 1.0}


@settings(max_examples=25, deadline=None)
@given(
    n_samples=st.integers(2, 400),
    noise=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_make_moons_matches_sklearn_for_any_size_noise_and_seed(
    n_samples: int, noise: float, seed: int
) -> None:
    X_ref, y_ref = sklearn_make_moons(
        n_samples=n_samples, noise=noise, random_state=np.random.RandomState(seed)
    )
    X, y = datasets.make_moons(n_samples, noise, seed)
    assert np.array_equal(X, X_ref)
    assert np.array_equal(y, y_ref)


def test_moons_do_not_touch_global_random_state() -> None:
    before = global_random_state()
    datasets.moons()
    assert_same_random_state(before, global_random_state())


def test_same_seed_same_data_other_seed_other_data() -> None:
    assert np.array_equal(datasets.moons(seed=5).X, datasets.moons(seed=5).X)
    assert not np.array_equal(datasets.moons(seed=5).X, datasets.moons(seed=6).X)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_samples": 1}, "n_samples must be an integer >= 2, got 1"),
        ({"n_samples": 2.5}, "n_samples must be an integer >= 2, got 2.5"),
        ({"noise": -0.1}, "noise must be a finite number >= 0, got -0.1"),
        ({"noise": float("nan")}, "noise must be a finite number >= 0, got nan"),
    ],
)
def test_bad_arguments_name_the_value(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        datasets.moons(**kwargs)  # type: ignore[arg-type]


def test_load_by_name_and_unknown_name() -> None:
    assert datasets.load("moons").name == "moons"
    with pytest.raises(ValueError, match="unknown dataset 'mooons'; choose one of: moons"):
        datasets.load("mooons")


# --- every named dataset -------------------------------------------------------------------

SYNTHETIC = ["moons", "circles", "blobs", "spirals", "xor", "gaussian-quantiles"]
"""Named datasets that are drawn from a seed (digits is a fixed set)."""

EXPECTED = {
    # name: (n_features, n_examples, n_classes) with default arguments
    "moons": (2, 300, 2),
    "circles": (2, 300, 2),
    "blobs": (2, 300, 3),
    "spirals": (2, 300, 2),
    "xor": (2, 300, 2),
    "gaussian-quantiles": (2, 300, 2),
    "digits": (64, 1797, 10),
}


def test_the_registry_lists_every_dataset_with_the_course_default_first() -> None:
    assert list(datasets.DATASETS) == list(EXPECTED)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_shape_dtype_and_labels(name: str) -> None:
    data = datasets.load(name)
    n_features, m, n_classes = EXPECTED[name]
    assert data.name == name
    assert (data.n_features, data.n_examples, data.n_classes) == (n_features, m, n_classes)
    assert data.X.shape == (n_features, m) and data.X.dtype == np.float64
    assert data.X.flags.c_contiguous and np.isfinite(data.X).all()
    assert data.labels.shape == (m,) and data.labels.dtype == np.int64
    assert set(data.labels.tolist()) == set(range(n_classes))
    assert data.classes == tuple(range(n_classes))
    assert len(data.feature_names) == n_features
    if n_classes == 2:
        assert data.Y.shape == (1, m)
        np.testing.assert_array_equal(data.Y[0], data.labels)
    else:
        assert data.Y.shape == (n_classes, m)
        np.testing.assert_array_equal(data.Y, np.eye(n_classes)[:, data.labels])
    assert data.Y.dtype == np.float64


@pytest.mark.parametrize("name", SYNTHETIC)
def test_every_synthetic_set_is_deterministic_per_seed(name: str) -> None:
    first, again = datasets.load(name, seed=11), datasets.load(name, seed=11)
    assert first.X.tobytes() == again.X.tobytes() and first.Y.tobytes() == again.Y.tobytes()
    assert not np.array_equal(first.X, datasets.load(name, seed=12).X)


@pytest.mark.parametrize("name", [*SYNTHETIC, "digits"])
def test_no_dataset_touches_the_global_random_state(name: str) -> None:
    before = global_random_state()
    datasets.load(name)
    assert_same_random_state(before, global_random_state())


@pytest.mark.parametrize("name", SYNTHETIC)
@pytest.mark.parametrize("n_samples", [4, 7, 50])
def test_n_samples_is_the_number_of_examples_and_every_class_appears(
    name: str, n_samples: int
) -> None:
    data = datasets.load(name, n_samples=n_samples)
    assert data.n_examples == n_samples
    assert np.bincount(data.labels).min() >= 1
    assert np.bincount(data.labels).max() - np.bincount(data.labels).min() <= 1


@pytest.mark.parametrize("name", SYNTHETIC)
def test_noise_is_added_around_the_noiseless_shape(name: str) -> None:
    clean = datasets.load(name, noise=0.0)
    noisy = datasets.load(name, noise=0.3)
    np.testing.assert_array_equal(clean.labels, noisy.labels)
    difference = noisy.X - clean.X
    assert 0.25 < difference.std() < 0.35


def test_moons_params_are_those_of_the_published_run() -> None:
    assert datasets.moons().params == {"n_samples": 300, "noise": 0.2, "seed": 3}


# --- bit-identical to scikit-learn where scikit-learn has the same generator ----------------


@settings(max_examples=15, deadline=None)
@given(
    n_samples=st.integers(2, 300),
    noise=st.floats(0.0, 1.0),
    factor=st.floats(0.05, 0.95),
    seed=st.integers(0, 2**32 - 1),
)
def test_circles_match_sklearn(n_samples: int, noise: float, factor: float, seed: int) -> None:
    from sklearn.datasets import make_circles

    X, y = make_circles(
        n_samples, noise=noise, factor=factor, random_state=np.random.RandomState(seed)
    )
    data = datasets.circles(n_samples, noise, seed, factor=factor)
    assert np.array_equal(data.X, X.T) and np.array_equal(data.labels, y)


@settings(max_examples=15, deadline=None)
@given(
    n_samples=st.integers(5, 300),
    noise=st.floats(0.0, 3.0),
    n_classes=st.integers(2, 5),
    seed=st.integers(0, 2**32 - 1),
)
def test_blobs_match_sklearn(n_samples: int, noise: float, n_classes: int, seed: int) -> None:
    from sklearn.datasets import make_blobs

    X, y = make_blobs(
        n_samples, centers=n_classes, cluster_std=noise, random_state=np.random.RandomState(seed)
    )
    data = datasets.blobs(n_samples, noise, seed, n_classes=n_classes)
    assert np.array_equal(data.X, X.T) and np.array_equal(data.labels, y)


def test_blobs_around_given_centers_in_any_dimension() -> None:
    from sklearn.datasets import make_blobs

    centers = [[0.0, 0.0, 0.0], [5.0, 5.0, 5.0], [0.0, 5.0, -5.0], [9.0, 0.0, 1.0]]
    X, y = make_blobs(
        40, centers=np.array(centers), cluster_std=0.5, random_state=np.random.RandomState(2)
    )
    data = datasets.blobs(40, 0.5, 2, centers=centers)
    assert data.X.shape == (3, 40) and data.n_classes == 4
    assert np.array_equal(data.X, X.T) and np.array_equal(data.labels, y)
    assert data.params["centers"] == centers


@settings(max_examples=15, deadline=None)
@given(
    n_samples=st.integers(6, 300),
    n_classes=st.integers(2, 6),
    n_features=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_gaussian_quantiles_match_sklearn(
    n_samples: int, n_classes: int, n_features: int, seed: int
) -> None:
    from sklearn.datasets import make_gaussian_quantiles

    X, y = make_gaussian_quantiles(
        n_samples=n_samples,
        n_features=n_features,
        n_classes=n_classes,
        random_state=np.random.RandomState(seed),
    )
    data = datasets.gaussian_quantiles(n_samples, 0.0, seed, n_classes, n_features)
    assert np.array_equal(data.X, X.T) and np.array_equal(data.labels, y)


def test_digits_are_sklearns_images_as_float_columns() -> None:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    data = datasets.digits()
    assert data.X.shape == (64, 1797) and data.n_classes == 10
    assert np.array_equal(data.X, bunch.data.T) and np.array_equal(data.labels, bunch.target)
    assert data.classes == tuple(range(10))
    assert data.feature_names[:2] == ("pixel_0_0", "pixel_0_1")
    assert data.X.min() == 0.0 and data.X.max() == 16.0


# --- what each generator draws, checked against its docstring -----------------------------


def test_circles_lie_on_radius_one_and_factor_without_noise() -> None:
    data = datasets.circles(100, noise=0.0, factor=0.3)
    radius = np.hypot(*data.X)
    np.testing.assert_allclose(radius[data.labels == 0], 1.0)
    np.testing.assert_allclose(radius[data.labels == 1], 0.3)


def test_spirals_without_noise_are_half_a_turn_apart() -> None:
    data = datasets.spirals(200, noise=0.0, turns=2.0)
    radius = np.hypot(*data.X)
    for k in (0, 1):
        t = radius[data.labels == k]
        np.testing.assert_allclose(np.sort(t), np.arange(1, 101) / 100)
        angle = np.arctan2(data.X[1, data.labels == k], data.X[0, data.labels == k])
        expected = 2 * np.pi * 2.0 * t + k * np.pi
        np.testing.assert_allclose(np.cos(angle - expected), 1.0, atol=1e-12)


def test_xor_labels_are_the_xor_of_the_cluster_signs() -> None:
    clean = datasets.xor(10, noise=0.0)
    signs = clean.X > 0
    np.testing.assert_array_equal(clean.labels, signs[0] ^ signs[1])
    assert np.bincount(clean.labels).tolist() == [5, 5]
    assert sorted(map(tuple, np.unique(clean.X.T, axis=0).tolist())) == [
        (-1.0, -1.0),
        (-1.0, 1.0),
        (1.0, -1.0),
        (1.0, 1.0),
    ]


def test_gaussian_quantiles_classes_are_nested_shells() -> None:
    data = datasets.gaussian_quantiles(90, noise=0.0, n_classes=3)
    radius = np.hypot(*data.X)
    shells = [radius[data.labels == c] for c in range(3)]
    assert [len(s) for s in shells] == [30, 30, 30]
    assert shells[0].max() < shells[1].min() and shells[1].max() < shells[2].min()


# --- arguments --------------------------------------------------------------------------------


DIGITS_FIXED = "must be left unset (digits is scikit-learn's fixed set of 1797 images)"


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("circles", {"factor": 1.0}, "factor must be a number in (0, 1), got 1.0"),
        ("circles", {"noise": -1}, "noise must be a finite number >= 0, got -1"),
        ("spirals", {"turns": 0}, "turns must be a finite number > 0, got 0"),
        ("xor", {"n_samples": 3}, "n_samples must be an integer >= 4, got 3"),
        ("blobs", {"n_classes": 1}, "n_classes must be an integer >= 2, got 1"),
        ("blobs", {"n_samples": 2, "n_classes": 3}, "n_samples must be >= n_classes (3), got 2"),
        (
            "blobs",
            {"centers": [[0, 0], [1, 1]], "n_classes": 3},
            "n_classes must equal the number of centers (2), got 3",
        ),
        (
            "blobs",
            {"centers": [[0, 0]]},
            "centers must be a list of at least 2 points (one per class), got shape (1, 2)",
        ),
        (
            "gaussian-quantiles",
            {"n_classes": 5, "n_samples": 4},
            "n_samples must be >= n_classes (5), got 4",
        ),
        ("moons", {"seed": -1}, "seed must be an integer >= 0, got -1"),
        ("moons", {"seed": 2**32}, "seed must be an integer in [0, 2**32 - 1], got 4294967296"),
        ("digits", {"n_samples": 500}, f"n_samples {DIGITS_FIXED}, got 500"),
        ("digits", {"noise": 0.1}, f"noise {DIGITS_FIXED}, got 0.1"),
        ("digits", {"seed": 1}, f"seed {DIGITS_FIXED}, got 1"),
    ],
)
def test_load_errors_name_the_dataset_and_argument(
    name: str, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError) as error:
        datasets.load(name, **kwargs)
    assert str(error.value) == f"dataset {name!r}: {message}"


@pytest.mark.parametrize(
    ("name", "takes"),
    [
        ("moons", "n_samples, noise, seed"),
        ("circles", "n_samples, noise, seed, factor"),
        ("blobs", "n_samples, noise, seed, n_classes, centers"),
        ("spirals", "n_samples, noise, seed, turns"),
        ("xor", "n_samples, noise, seed"),
        ("gaussian-quantiles", "n_samples, noise, seed, n_classes, n_features"),
        ("digits", "n_samples, noise, seed"),
    ],
)
def test_unknown_arguments_list_what_the_dataset_takes(name: str, takes: str) -> None:
    with pytest.raises(ValueError) as error:
        datasets.load(name, nosie=0.1)
    assert str(error.value) == f"dataset {name!r} takes no argument 'nosie'; it takes: {takes}"


def test_unknown_dataset_lists_every_name() -> None:
    with pytest.raises(ValueError) as error:
        datasets.load("two-moons")
    assert str(error.value) == (
        "unknown dataset 'two-moons'; choose one of: moons, circles, blobs, spirals, xor, "
        "gaussian-quantiles, digits"
    )


def test_digits_without_scikit_learn_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ValueError, match=r"^digits needs scikit-learn, which is not installed"):
        datasets.digits()


def test_importing_datasets_does_not_import_sklearn() -> None:
    import subprocess
    import sys

    code = (
        "import sys, descentlab.datasets, descentlab.loaders, descentlab.splits; "
        "print('sklearn' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


# --- the Dataset itself -----------------------------------------------------------------------


def test_dataset_built_from_Y_derives_labels_classes_and_names() -> None:
    X = np.arange(8.0).reshape(2, 4)
    data = datasets.Dataset(name="tiny", X=X, Y=np.array([[0.0, 1.0, 1.0, 0.0]]), params={})
    assert data.labels.tolist() == [0, 1, 1, 0]
    assert data.classes == (0, 1) and data.n_classes == 2
    assert data.feature_names == ("x1", "x2")
    one_hot = np.eye(3)[:, [2, 0, 1, 2]]
    multi = datasets.Dataset("three", X, one_hot, {})
    assert multi.labels.tolist() == [2, 0, 1, 2] and multi.classes == (0, 1, 2)


def test_from_labels_round_trips_through_Y() -> None:
    X = np.ones((3, 5))
    binary = datasets.Dataset.from_labels(
        "b", X, np.array([1, 0, 0, 1, 1]), ["no", "yes"], {}, feature_names=["a", "b", "c"]
    )
    assert binary.Y.tolist() == [[1.0, 0.0, 0.0, 1.0, 1.0]]
    assert binary.classes == ("no", "yes") and binary.feature_names == ("a", "b", "c")
    labels = np.array([3, 0, 2, 1, 3])
    multi = datasets.Dataset.from_labels("m", X, labels, [10, 20, 30, 40], {})
    assert multi.Y.shape == (4, 5) and multi.Y.sum(axis=0).tolist() == [1.0] * 5
    np.testing.assert_array_equal(multi.labels, labels)
    np.testing.assert_array_equal(datasets.labels_from_targets(multi.Y), labels)


def test_classes_are_plain_python_values() -> None:
    numpy_scalars: list[object] = [np.int64(4), np.str_("x")]
    data = datasets.Dataset.from_labels(
        "n",
        np.ones((1, 2)),
        np.array([0, 1]),
        numpy_scalars,  # type: ignore[arg-type]
        {},
    )
    assert [type(c) for c in data.classes] == [int, str]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"Y": np.array([[0.0, 1.0, 2.0]])}, "Y must hold only 0.0 and 1.0"),
        ({"Y": np.array([[0.0, 1.0]])}, r"Y must have shape \(1, 3\) or \(C, 3\) with C > 2"),
        ({"Y": np.eye(2)[:, [0, 1, 1]]}, r"Y of two classes must be one row of 0/1"),
        ({"Y": np.ones((3, 3))}, "Y with C > 2 rows must be one-hot"),
        ({"X": np.ones(3)}, r"X must have shape \(n_features, m\) with m >= 1, got \(3,\)"),
        ({"X": np.array([[0.0, np.nan, 1.0]])}, "X must hold only finite numbers"),
        ({"classes": ("a", "b", "c")}, "classes must name 2 classes, got 3"),
        ({"classes": ("a", "a")}, "classes must be distinct"),
        ({"classes": (1.5, 2.5)}, "class labels must be strings or integers, got 1.5"),
        ({"feature_names": ("a", "b")}, "feature_names must be 1 strings"),
    ],
)
def test_inconsistent_datasets_are_refused(kwargs: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {
        "name": "d",
        "X": np.ones((1, 3)),
        "Y": np.array([[0.0, 1.0, 1.0]]),
        "params": {},
    }
    with pytest.raises(ValueError, match=message):
        datasets.Dataset(**{**fields, **kwargs})  # type: ignore[arg-type]


def test_from_labels_refuses_a_single_class_and_labels_out_of_range() -> None:
    with pytest.raises(ValueError, match=r"a dataset needs at least 2 classes, got \('a',\)"):
        datasets.Dataset.from_labels("d", np.ones((1, 2)), np.array([0, 0]), ["a"], {})
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.1, got 0\.\.2"):
        datasets.Dataset.from_labels("d", np.ones((1, 2)), np.array([0, 2]), ["a", "b"], {})
    with pytest.raises(ValueError, match="X has 2 examples but labels has 3"):
        datasets.Dataset.from_labels("d", np.ones((1, 2)), np.array([0, 1, 1]), ["a", "b"], {})


def test_encode_labels_sorts_the_distinct_values() -> None:
    labels, classes = datasets.encode_labels(["b", "a", "c", "a"])
    assert classes == ("a", "b", "c") and labels.tolist() == [1, 0, 2, 0]
    labels, classes = datasets.encode_labels([10, 2, 10, -1])
    assert classes == (-1, 2, 10) and labels.tolist() == [2, 1, 2, 0]
    with pytest.raises(ValueError, match="all integers or all strings"):
        datasets.encode_labels([1, "a"])


def test_take_keeps_classes_names_and_params() -> None:
    data = datasets.load("blobs", n_samples=30)
    part = data.take(np.array([4, 0, 7]))
    np.testing.assert_array_equal(part.X, data.X[:, [4, 0, 7]])
    np.testing.assert_array_equal(part.labels, data.labels[[4, 0, 7]])
    assert part.classes == data.classes and part.feature_names == data.feature_names
    assert part.params == data.params and part.params is not data.params
