"""A long series thinned for drawing: each bin's lowest and highest value, in their order.

A line through every bin's extremes, in order, covers the band a line through every point
covers once a bin is narrower than a pixel (``plots.minibatch_trace`` draws each optimizer's
50,000 mini-batch costs through 4,000 points). Pure numpy, one pass, no Python loop over bins.
"""

from __future__ import annotations

import numpy as np


def bin_extremes(x: np.ndarray, y: np.ndarray, bins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) at each bin's lowest and highest finite ``y``, in index order.

    ``bins[i]`` is point ``i``'s bin; equal bins are consecutive (``bins`` non-decreasing).
    Per bin: the index of the lowest finite ``y`` and of the highest (the first of equal
    values), once when they coincide; a bin without a finite ``y`` gives its first ``x`` with
    NaN (a gap in the line, as a non-finite cost leaves). Empty input gives empty float64
    arrays. Raises ``ValueError`` for arrays of different shapes or ``bins`` that decrease.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    bins = np.asarray(bins)
    if not (x.shape == y.shape == bins.shape and y.ndim == 1):
        raise ValueError(
            f"x, y and bins must be 1-D of one length, got shapes {x.shape}, {y.shape} and "
            f"{bins.shape}"
        )
    if y.size == 0:
        return np.empty(0), np.empty(0)
    if np.any(np.diff(bins) < 0):
        raise ValueError("bins must be non-decreasing (each bin's points consecutive)")
    starts = np.flatnonzero(np.concatenate(([True], bins[1:] != bins[:-1])))
    bin_of = np.repeat(np.arange(starts.size), np.diff(np.append(starts, y.size)))
    finite = np.isfinite(y)
    lows = np.where(finite, y, np.inf)
    highs = np.where(finite, y, -np.inf)
    low = _first_where(lows == np.minimum.reduceat(lows, starts)[bin_of], bin_of)
    high = _first_where(highs == np.maximum.reduceat(highs, starts)[bin_of], bin_of)
    has_finite = np.logical_or.reduceat(finite, starts)
    kept = np.unique(np.concatenate((low[has_finite], high[has_finite], starts[~has_finite])))
    return x[kept], np.where(finite[kept], y[kept], np.nan)


def _first_where(mask: np.ndarray, bin_of: np.ndarray) -> np.ndarray:
    """Per bin, the first index where ``mask`` holds (every bin has one)."""
    positions = np.flatnonzero(mask)
    _, first = np.unique(bin_of[positions], return_index=True)
    return positions[first]
