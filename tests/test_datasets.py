from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_moons as sklearn_make_moons

from descentlab import datasets
from helpers import assert_same_random_state, global_random_state


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
