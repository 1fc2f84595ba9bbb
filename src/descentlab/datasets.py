"""Datasets in the course's layout: X of shape (n_features, m), Y of shape (1, m).

Everything here is plain numpy: no dataset import pulls in scikit-learn, and no function
touches numpy's global random state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from descentlab.validation import check_int, check_nonnegative_float

COURSE_MOONS_SEED = 3
"""The course calls ``np.random.seed(3)`` before ``make_moons(n_samples=300, noise=.2)``."""


@dataclass(frozen=True)
class Dataset:
    """A labelled dataset with examples in columns, as the course stores them."""

    name: str
    X: np.ndarray
    """Features, shape (n_features, m), float64."""
    Y: np.ndarray
    """Labels, shape (1, m), float64 with values 0.0 and 1.0."""
    params: dict[str, object]
    """How the data was made (shown in results.json so a run can be repeated)."""

    @property
    def n_features(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_examples(self) -> int:
        return int(self.X.shape[1])


def make_moons(
    n_samples: int = 300, noise: float = 0.2, seed: int = COURSE_MOONS_SEED
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles, bit-identical to scikit-learn's ``make_moons``.

    Reproduces ``sklearn.datasets.make_moons(n_samples, noise=noise,
    random_state=np.random.RandomState(seed))``: 150 evenly spaced angles per half moon
    (for 300 samples), the indices shuffled by the RandomState, then normal noise of
    standard deviation ``noise`` drawn from the same stream. Returns ``(X, y)`` with
    X of shape (n_samples, 2) and integer labels y of shape (n_samples,), as scikit-learn does.
    """
    n_samples = check_int("n_samples", n_samples, minimum=2)
    noise = check_nonnegative_float("noise", noise)
    rng = np.random.RandomState(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    outer_x = np.cos(np.linspace(0, np.pi, n_out))
    outer_y = np.sin(np.linspace(0, np.pi, n_out))
    inner_x = 1 - np.cos(np.linspace(0, np.pi, n_in))
    inner_y = 1 - np.sin(np.linspace(0, np.pi, n_in)) - 0.5
    X = np.vstack([np.append(outer_x, inner_x), np.append(outer_y, inner_y)]).T
    y = np.hstack([np.zeros(n_out, dtype=np.intp), np.ones(n_in, dtype=np.intp)])
    order = np.arange(n_samples)
    rng.shuffle(order)
    X, y = X[order], y[order]
    X += rng.normal(scale=noise, size=X.shape)
    return X, y


def moons(n_samples: int = 300, noise: float = 0.2, seed: int = COURSE_MOONS_SEED) -> Dataset:
    """The course's moons data: X (2, m), Y (1, m). The defaults are the published set."""
    X, y = make_moons(n_samples, noise, seed)
    return Dataset(
        name="moons",
        X=np.ascontiguousarray(X.T),
        Y=y.reshape(1, -1).astype(np.float64),
        params={"n_samples": n_samples, "noise": noise, "seed": seed},
    )


DATASETS = {"moons": moons}


def load(name: str, **kwargs: object) -> Dataset:
    """Build a dataset by name (``descentlab.datasets.DATASETS`` lists the names)."""
    try:
        factory = DATASETS[name]
    except KeyError:
        allowed = ", ".join(sorted(DATASETS))
        raise ValueError(f"unknown dataset {name!r}; choose one of: {allowed}") from None
    return factory(**kwargs)  # type: ignore[arg-type]
