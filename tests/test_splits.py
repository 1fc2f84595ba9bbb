from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from descentlab import datasets
from descentlab.datasets import Dataset
from descentlab.splits import Splits, Standardizer, split, split_sizes, standardize
from helpers import assert_same_random_state, global_random_state


def labelled(counts: list[int], n_features: int = 2, seed: int = 0) -> Dataset:
    """Classes 0..C-1 with the given counts, interleaved, features drawn at random."""
    labels = np.repeat(np.arange(len(counts)), counts)
    labels = np.random.default_rng(seed).permutation(labels)
    X = np.random.default_rng(seed + 1).normal(size=(n_features, labels.size))
    return Dataset.from_labels("t", X, labels, [f"c{i}" for i in range(len(counts))], {"k": 1})


def as_columns(data: Dataset) -> set[tuple[float, ...]]:
    return {tuple(column) for column in data.X.T.tolist()}


def test_no_fractions_leave_the_dataset_as_it_is() -> None:
    data = datasets.moons()
    assert split(data) == Splits(data, None, None)
    assert split(data).train is data


def test_stratified_sizes_partition_and_order() -> None:
    data = labelled([50, 30, 20])
    parts = split(data, validation_fraction=0.2, test_fraction=0.1, seed=4)
    assert parts.validation is not None and parts.test is not None
    assert np.bincount(parts.validation.labels).tolist() == [10, 6, 4]
    assert np.bincount(parts.test.labels).tolist() == [5, 3, 2]
    assert np.bincount(parts.train.labels).tolist() == [35, 21, 14]
    # together the splits are the dataset, each example exactly once
    columns = [as_columns(part) for part in parts]  # type: ignore[arg-type]
    assert set.union(*columns) == as_columns(data)
    assert sum(part.n_examples for part in parts if part) == data.n_examples
    # each split keeps the dataset's order, classes, names and params
    for part in parts:
        assert part is not None
        positions = [data.X.T.tolist().index(column) for column in part.X.T.tolist()]
        assert positions == sorted(positions)
        assert part.classes == data.classes and part.feature_names == data.feature_names
        assert part.params == data.params
        np.testing.assert_array_equal(part.Y, datasets.targets_from_labels(part.labels, 3))


def test_only_a_test_split() -> None:
    parts = split(labelled([10, 10]), test_fraction=0.3)
    assert parts.validation is None and parts.test is not None
    assert parts.test.n_examples == 6 and parts.train.n_examples == 14


def test_same_seed_same_split_other_seed_other_split() -> None:
    data = labelled([40, 40])
    first, again = split(data, 0.25, seed=7), split(data, 0.25, seed=7)
    assert first.train.X.tobytes() == again.train.X.tobytes()
    other = split(data, 0.25, seed=8)
    assert not np.array_equal(first.train.X, other.train.X)


def test_split_does_not_touch_the_global_random_state() -> None:
    before = global_random_state()
    split(labelled([20, 20]), 0.2, 0.2, seed=1)
    assert_same_random_state(before, global_random_state())


def test_small_fractions_still_give_every_class_one_example() -> None:
    parts = split(labelled([100, 3]), validation_fraction=0.01, test_fraction=0.01)
    assert parts.validation is not None and parts.test is not None
    assert np.bincount(parts.validation.labels).tolist() == [1, 1]
    assert np.bincount(parts.test.labels).tolist() == [1, 1]
    assert np.bincount(parts.train.labels).tolist() == [98, 1]


def test_split_sizes_round_half_up_with_at_least_one() -> None:
    assert split_sizes(10, 0.25, 0.0) == (3, 0)  # 2.5 rounds up
    assert split_sizes(10, 0.0, 0.01) == (0, 1)
    assert split_sizes(7, 0.5, 0.2) == (4, 1)


@settings(max_examples=60, deadline=None)
@given(
    counts=st.lists(st.integers(1, 40), min_size=2, max_size=5),
    validation_fraction=st.sampled_from([0.0, 0.1, 0.25, 0.5]),
    test_fraction=st.sampled_from([0.0, 0.1, 0.2, 0.4]),
    seed=st.integers(0, 2**63),
)
def test_any_split_is_stratified_or_a_clear_error(
    counts: list[int], validation_fraction: float, test_fraction: float, seed: int
) -> None:
    data = labelled(counts)
    try:
        parts = split(data, validation_fraction, test_fraction, seed)
    except ValueError as error:
        assert "too few to keep one for training" in str(error)
        return
    n_classes = len(counts)
    for part, fraction in zip(parts, (1.0, validation_fraction, test_fraction), strict=True):
        if fraction == 0:
            assert part is None
            continue
        assert part is not None
        assert np.bincount(part.labels, minlength=n_classes).min() >= 1
    sizes = sum(part.n_examples for part in parts if part is not None)
    assert sizes == data.n_examples


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"validation_fraction": 1.0},
            r"validation_fraction must be a number in \[0, 1\), got 1\.0",
        ),
        ({"test_fraction": -0.1}, r"test_fraction must be a number in \[0, 1\), got -0\.1"),
        ({"test_fraction": float("nan")}, r"test_fraction must be a number in \[0, 1\), got nan"),
        ({"test_fraction": "0.2"}, r"test_fraction must be a number in \[0, 1\), got '0\.2'"),
        ({"test_fraction": True}, r"test_fraction must be a number in \[0, 1\), got True"),
        (
            {"validation_fraction": 0.5, "test_fraction": 0.5},
            r"validation_fraction \+ test_fraction must be < 1, got 0\.5 \+ 0\.5 = 1\.0",
        ),
        ({"test_fraction": 0.1, "seed": -1}, "seed must be an integer >= 0, got -1"),
    ],
)
def test_bad_arguments_name_the_value(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        split(labelled([10, 10]), **kwargs)  # type: ignore[arg-type]


def test_a_class_too_small_for_every_split_is_named() -> None:
    with pytest.raises(ValueError) as error:
        split(labelled([20, 2]), validation_fraction=0.2, test_fraction=0.2)
    assert str(error.value) == (
        "class 'c1' has 2 example(s), too few to keep one for training and give every held-out "
        "split one (needs at least 3 at these fractions)"
    )


# --- standardizing ------------------------------------------------------------------------------


def test_standardizer_gives_zero_mean_unit_std_and_inverts() -> None:
    X = np.random.default_rng(0).normal(loc=[[5.0], [-3.0]], scale=[[2.0], [0.1]], size=(2, 50))
    scaler = Standardizer.fit(X)
    Z = scaler.transform(X)
    np.testing.assert_allclose(Z.mean(axis=1), 0.0, atol=1e-14)
    np.testing.assert_allclose(Z.std(axis=1), 1.0)
    np.testing.assert_allclose(scaler.inverse_transform(Z), X)
    assert scaler.mean.shape == (2, 1) and scaler.std.shape == (2, 1)
    np.testing.assert_array_equal(scaler.mean, X.mean(axis=1, keepdims=True))
    np.testing.assert_array_equal(scaler.std, X.std(axis=1, keepdims=True))


def test_a_constant_feature_maps_to_exactly_zero() -> None:
    X = np.array([[0.1, 0.1, 0.1], [1.0, 2.0, 3.0]])
    scaler = Standardizer.fit(X)
    assert scaler.std[0, 0] == 1.0 and scaler.mean[0, 0] == 0.1
    assert scaler.transform(X)[0].tolist() == [0.0, 0.0, 0.0]


def test_to_dict_round_trips_exactly_through_json() -> None:
    scaler = Standardizer.fit(np.random.default_rng(1).normal(size=(3, 20)) * 7.3)
    restored = Standardizer.from_dict(json.loads(json.dumps(scaler.to_dict())))
    np.testing.assert_array_equal(restored.mean, scaler.mean)
    np.testing.assert_array_equal(restored.std, scaler.std)
    assert list(scaler.to_dict()) == ["mean", "std"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"mean": [0.0]}, "a standardizer needs lists of numbers 'mean' and 'std'"),
        ({"mean": ["a"], "std": [1.0]}, "a standardizer needs lists of numbers 'mean' and 'std'"),
        ({"mean": [0.0], "std": [0.0]}, "std finite numbers > 0"),
        ({"mean": [0.0, 1.0], "std": [1.0]}, "one value per feature, got 2 and 1"),
    ],
)
def test_from_dict_refuses_bad_documents(data: dict[str, list[float]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Standardizer.from_dict(data)


def test_transform_refuses_another_number_of_features() -> None:
    scaler = Standardizer.fit(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"X must have shape \(2, m\) to be standardized"):
        scaler.transform(np.ones((3, 3)))


def test_standardize_fits_on_the_training_split_only() -> None:
    data = labelled([60, 40], n_features=3)
    parts = split(data, 0.2, 0.2, seed=3)
    scaled, scaler = standardize(parts)
    assert parts.validation is not None and parts.test is not None
    assert scaled.validation is not None and scaled.test is not None
    np.testing.assert_array_equal(scaler.mean, parts.train.X.mean(axis=1, keepdims=True))
    np.testing.assert_array_equal(scaler.std, parts.train.X.std(axis=1, keepdims=True))
    np.testing.assert_allclose(scaled.train.X.mean(axis=1), 0.0, atol=1e-14)
    for raw, done in zip(parts, scaled, strict=True):
        assert raw is not None and done is not None
        np.testing.assert_array_equal(done.X, (raw.X - scaler.mean) / scaler.std)
        np.testing.assert_array_equal(done.Y, raw.Y)
        assert done.classes == raw.classes
    # the held-out splits were not part of the fit: their mean is not exactly 0
    assert np.abs(scaled.test.X.mean(axis=1)).max() > 1e-3


def test_standardize_keeps_missing_splits_missing() -> None:
    data = labelled([10, 10])
    scaled, _ = standardize(split(data, test_fraction=0.2))
    assert scaled.validation is None and scaled.test is not None


# --- standardizing values near float64's limits -------------------------------------------------


def file_data(columns: dict[str, list[float]], labels: list[int]) -> Dataset:
    """A dataset as the loader makes one from a file named data.csv."""
    X = np.array(list(columns.values()), dtype=np.float64)
    return Dataset.from_labels(
        "data.csv", X, np.array(labels), ["no", "yes"], {"path": "data.csv", "target": "y"},
        feature_names=tuple(columns),
    )  # fmt: skip


def test_features_near_the_float64_limit_standardize_to_finite_values() -> None:
    huge = [1e308, -1e308, 5e307, -3e307, 1e308, -1e308]
    tiny = [1e-300, -2e-300, 3e-300, 0.0, 5e-301, -1e-300]
    data = file_data({"huge": huge, "tiny": tiny, "plain": [1, 2, 3, 4, 5, 6]}, [0, 1] * 3)
    scaled, scaler = standardize(Splits(data, None, None))
    assert np.isfinite(scaled.train.X).all()
    np.testing.assert_allclose(scaled.train.X.mean(axis=1), 0.0, atol=1e-14)
    np.testing.assert_allclose(scaled.train.X.std(axis=1), 1.0)
    # the same numbers numpy gives where numpy's own are finite: the values over 1e308, exactly
    exact = np.array(huge) / 1e300
    assert scaler.mean[0, 0] == pytest.approx(exact.mean() * 1e300, rel=1e-15)
    assert scaler.std[0, 0] == pytest.approx(exact.std() * 1e300, rel=1e-15)
    plain = np.array([[1, 2, 3, 4, 5, 6.0]])
    assert scaler.mean[2, 0] == plain.mean() and scaler.std[2, 0] == plain.std()


def test_a_feature_too_narrow_for_float64_is_refused_by_name_file_and_values() -> None:
    data = file_data({"ok": [1.0, 2.0, 3.0, 4.0], "crumbs": [0.0, 5e-324] * 2}, [0, 1] * 2)
    with pytest.raises(ValueError) as error:
        standardize(Splits(data, None, None))
    assert str(error.value) == (
        "cannot standardise feature 'crumbs' of data.csv: its values (from 0.0 to 5e-324) "
        "have a standard deviation of 0.0, which float64 cannot divide by (the smallest "
        "allowed is 2.225e-308); rescale it or turn standardisation off"
    )


def test_a_held_out_value_beyond_float64_once_scaled_is_refused_by_name() -> None:
    train = file_data({"a": [1.0, 2.0, 1.0, 2.0], "b": [0.0, 1.0, 2.0, 3.0]}, [0, 1, 0, 1])
    test = file_data({"a": [1.0, -1.7e308], "b": [0.0, 1.0]}, [0, 1])
    with pytest.raises(ValueError) as error:
        standardize(Splits(train, None, test))
    assert str(error.value) == (
        "cannot standardise feature 'a' of data.csv: its value -1.7e+308 in the test split, "
        "scaled by the training split's mean 1.5 and standard deviation 0.5, is beyond "
        "float64's range; rescale it or turn standardisation off"
    )


def test_a_constant_feature_near_the_limit_maps_to_zero() -> None:
    data = file_data({"c": [1e308] * 4, "b": [0.0, 1.0, 2.0, 3.0]}, [0, 1] * 2)
    scaled, scaler = standardize(Splits(data, None, None))
    assert scaled.train.X[0].tolist() == [0.0] * 4
    assert scaler.mean[0, 0] == 1e308 and scaler.std[0, 0] == 1.0


def test_features_beyond_float32_are_refused_for_a_float32_run() -> None:
    from descentlab.splits import check_fits_dtype

    data = file_data({"a": [1.0, 2.0, 3.0, 4e38], "b": [0.0, 1.0, 2.0, 3.0]}, [0, 1] * 2)
    check_fits_dtype(Splits(data, None, None), "float64")
    with pytest.raises(ValueError) as error:
        check_fits_dtype(Splits(data, None, None), "float32")
    assert str(error.value) == (
        "feature 'a' of data.csv holds 4e+38 in the train split, beyond float32's range "
        "(+-3.403e+38); train in float64 or standardise the features"
    )
