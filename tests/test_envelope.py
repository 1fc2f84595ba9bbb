"""bin_extremes: each bin's lowest and highest finite value, in order, without a Python loop,
checked against a loop over the bins written out plainly."""

from __future__ import annotations

import numpy as np
import pytest

from descentlab.report.envelope import bin_extremes


def loop_reference(x: np.ndarray, y: np.ndarray, bins: np.ndarray) -> tuple[list, list]:
    """The rule spelled out bin by bin (what minibatch_trace did before it was vectorised)."""
    xs: list[float] = []
    ys: list[float] = []
    for value in dict.fromkeys(bins.tolist()):
        where = np.flatnonzero(bins == value)
        chunk = y[where]
        finite = np.isfinite(chunk)
        if not finite.any():
            xs.append(float(x[where[0]]))
            ys.append(float("nan"))
            continue
        low = where[int(np.argmin(np.where(finite, chunk, np.inf)))]
        high = where[int(np.argmax(np.where(finite, chunk, -np.inf)))]
        for k in sorted({low, high}):
            xs.append(float(x[k]))
            ys.append(float(y[k]))
    return xs, ys


def hostile_series(size: int, seed: int) -> np.ndarray:
    """Noise with ties, NaN, +-inf and a run of bins holding no finite value."""
    rng = np.random.default_rng(seed)
    y = rng.standard_normal(size)
    y[rng.random(size) < 0.3] = 0.5
    y[rng.random(size) < 0.05] = np.nan
    y[rng.random(size) < 0.02] = np.inf
    y[rng.random(size) < 0.02] = -np.inf
    y[size // 3 : size // 3 + 40] = np.nan
    return y


@pytest.mark.parametrize(
    "size, n_bins, seed",
    [(1, 1, 0), (7, 7, 1), (50, 3, 2), (1000, 17, 3), (50000, 2000, 4), (999, 1, 5)],
)
def test_bin_extremes_equals_the_loop_over_bins(size: int, n_bins: int, seed: int) -> None:
    y = hostile_series(size, seed)
    x = np.arange(size) / 5
    bins = np.sort(np.random.default_rng(seed).integers(0, n_bins, size))
    got_x, got_y = bin_extremes(x, y, bins)
    want_x, want_y = loop_reference(x, y, bins)
    np.testing.assert_array_equal(got_x, want_x)
    np.testing.assert_array_equal(got_y, want_y)  # NaN where NaN (assert_array_equal's rule)


def test_bin_extremes_keeps_each_bins_extremes_in_order() -> None:
    rng = np.random.default_rng(7)
    y = rng.standard_normal(10000)
    bins = np.arange(10000) // 25
    x = np.arange(10000.0)
    got_x, got_y = bin_extremes(x, y, bins)
    assert np.all(np.diff(got_x) > 0)  # in the order the points came, none twice
    assert got_x.size == 2 * 400  # a lowest and a highest per bin (no ties in noise)
    kept = got_x.astype(int)
    np.testing.assert_array_equal(got_y, y[kept])  # real points at their own x
    np.testing.assert_array_equal(np.minimum.reduceat(y, np.arange(0, 10000, 25)),
                                  np.minimum.reduceat(got_y, np.arange(0, 800, 2)))  # fmt: skip
    np.testing.assert_array_equal(np.maximum.reduceat(y, np.arange(0, 10000, 25)),
                                  np.maximum.reduceat(got_y, np.arange(0, 800, 2)))  # fmt: skip


def test_bin_extremes_gives_one_point_for_a_flat_bin_and_the_first_of_ties() -> None:
    y = np.array([2.0, 2.0, 2.0, 1.0, 3.0, 1.0, 3.0])
    x, kept = bin_extremes(np.arange(7.0), y, np.array([0, 0, 0, 1, 1, 1, 1]))
    np.testing.assert_array_equal(x, [0.0, 3.0, 4.0])
    np.testing.assert_array_equal(kept, [2.0, 1.0, 3.0])


def test_bin_extremes_leaves_a_gap_for_a_bin_without_a_finite_value() -> None:
    y = np.array([1.0, np.inf, np.nan, -np.inf, 4.0, 5.0])
    x, kept = bin_extremes(np.arange(6.0) + 10, y, np.array([0, 0, 1, 1, 2, 2]))
    np.testing.assert_array_equal(x, [10.0, 12.0, 14.0, 15.0])
    np.testing.assert_array_equal(kept, [1.0, np.nan, 4.0, 5.0])


def test_bin_extremes_of_nothing_is_nothing() -> None:
    x, y = bin_extremes(np.empty(0), np.empty(0), np.empty(0, dtype=int))
    assert x.shape == y.shape == (0,)
    assert x.dtype == y.dtype == np.float64


@pytest.mark.parametrize(
    "x, y, bins, message",
    [
        (np.arange(3.0), np.arange(4.0), np.zeros(4, int), r"shapes \(3,\), \(4,\) and \(4,\)"),
        (np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((2, 2), int), "must be 1-D"),
        (np.arange(3.0), np.arange(3.0), np.array([0, 1, 0]), "bins must be non-decreasing"),
    ],
)
def test_bin_extremes_refuses_what_it_cannot_bin(
    x: np.ndarray, y: np.ndarray, bins: np.ndarray, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        bin_extremes(x, y, bins)
