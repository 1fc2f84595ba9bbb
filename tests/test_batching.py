from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from descentlab import batching
from descentlab.batching import batch_bounds, epoch_seed, random_mini_batches


def _data(m: int, n: int = 3) -> tuple[np.ndarray, np.ndarray]:
    # Column j of X holds j in every row and Y holds j too, so alignment is checkable.
    X = np.tile(np.arange(m, dtype=float), (n, 1))
    Y = np.arange(m, dtype=float).reshape(1, m)
    return X, Y


@settings(max_examples=60, deadline=None)
@given(m=st.integers(1, 300), batch_size=st.integers(1, 400), seed=st.integers(0, 2**32 - 1))
def test_every_example_once_aligned_and_sized(m: int, batch_size: int, seed: int) -> None:
    X, Y = _data(m)
    batches = random_mini_batches(X, Y, batch_size, seed)
    seen = np.concatenate([bY[0] for _, bY in batches])
    assert sorted(seen.tolist()) == list(range(m))  # each example exactly once
    for bX, bY in batches:
        assert np.array_equal(bX, np.tile(bY, (3, 1)))  # X and Y stay aligned
    sizes = [bY.shape[1] for _, bY in batches]
    assert sizes[:-1] == [batch_size] * (len(sizes) - 1)
    assert sizes[-1] == (m % batch_size or min(batch_size, m))
    assert len(batches) == -(-m // batch_size)


def test_permutation_is_the_legacy_seeded_stream() -> None:
    # The course calls np.random.seed(seed); np.random.permutation(m).
    expected = np.random.RandomState(11).permutation(300)
    assert np.array_equal(batching.permutation(300, 11), expected)


def test_course_epoch_seeds_start_at_eleven() -> None:
    assert [epoch_seed(10, e) for e in range(3)] == [11, 12, 13]


def test_batch_sizes_one_full_and_larger_than_m() -> None:
    assert batch_bounds(5, 1) == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]
    assert batch_bounds(5, 5) == [(0, 5)]
    assert batch_bounds(5, 64) == [(0, 5)]
    assert batch_bounds(300, 64)[-1] == (256, 300)


def test_rejects_misaligned_or_bad_sizes() -> None:
    X, Y = _data(4)
    with pytest.raises(ValueError, match="same number of columns"):
        random_mini_batches(X, Y[:, :3])
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1, got 0"):
        random_mini_batches(X, Y, 0)
