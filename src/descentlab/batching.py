"""Mini-batches: shuffle the columns of X and Y with one seeded permutation, cut, keep the rest.

Batch gradient descent (one batch of all m examples), stochastic gradient descent (batches of
one) and mini-batch gradient descent are this one mechanism with different batch sizes.
"""

from __future__ import annotations

from typing import overload

import numpy as np

from descentlab.validation import check_int


def permutation(m: int, seed: int, rng: np.random.RandomState | None = None) -> np.ndarray:
    """The permutation ``np.random.seed(seed); np.random.permutation(m)`` gives, without the
    global state: a legacy ``RandomState(seed)`` stream. Passing ``rng`` (a RandomState the
    caller owns) reseeds it instead of building a new one, which is several times cheaper."""
    if rng is None:
        return np.random.RandomState(seed).permutation(m)
    rng.seed(seed)
    return rng.permutation(m)


@overload
def epoch_seed(shuffle_seed: int, epoch: int) -> int: ...


@overload
def epoch_seed(shuffle_seed: np.ndarray, epoch: np.ndarray) -> np.ndarray: ...


def epoch_seed(shuffle_seed: int | np.ndarray, epoch: int | np.ndarray) -> int | np.ndarray:
    """The course's shuffle seed for ``epoch`` (0-based): it adds 1 to the seed before each epoch,
    starting from ``shuffle_seed`` (10 in the course), so epoch 0 shuffles with 11. Arrays
    (int64) give each pair's seed, broadcast."""
    return (shuffle_seed + epoch + 1) % 2**32


def batch_bounds(m: int, batch_size: int) -> list[tuple[int, int]]:
    """Consecutive ``(start, stop)`` column ranges of ``batch_size``; the last may be smaller."""
    m = check_int("m", m, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    return [(start, min(start + batch_size, m)) for start in range(0, m, batch_size)]


def random_mini_batches(
    X: np.ndarray, Y: np.ndarray, batch_size: int = 64, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Shuffle the columns of X (n, m) and Y (k, m) synchronously and cut them into batches.

    The permutation is ``permutation(m, seed)``; every example appears exactly once, the
    first ``m // batch_size`` batches have ``batch_size`` columns and a smaller last batch
    holds the remaining ``m % batch_size`` columns when there are any.
    """
    X = np.asarray(X)
    Y = np.asarray(Y)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"X and Y must be 2-D with examples in columns and the same number of columns, "
            f"got shapes {X.shape} and {Y.shape}"
        )
    m = X.shape[1]
    order = permutation(m, seed)
    shuffled_X = X[:, order]
    shuffled_Y = Y[:, order]
    return [
        (shuffled_X[:, start:stop], shuffled_Y[:, start:stop])
        for start, stop in batch_bounds(m, batch_size)
    ]
