"""The named datasets (``DATASETS``, ``load(name)``): the course's moons and other synthetic
sets, and scikit-learn's digits, each a ``Dataset`` (``descentlab.dataset``, re-exported here)
in the course's layout: examples in columns.

Every synthetic generator draws from its own ``np.random.RandomState(seed)`` and never from
numpy's global random state. RandomState's streams are frozen by numpy's compatibility policy,
so a seed gives the same data on every numpy version, and they are the streams scikit-learn
draws from when given ``random_state=np.random.RandomState(seed)``: ``moons``, ``circles``,
``blobs`` and ``gaussian_quantiles`` draw exactly what scikit-learn's ``make_moons``,
``make_circles``, ``make_blobs`` and ``make_gaussian_quantiles`` draw, bit for bit. Nothing
here imports scikit-learn at import time; only ``digits()`` does, when called.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from descentlab.dataset import (
    ClassLabel,
    Dataset,
    encode_labels,
    labels_from_targets,
    targets_from_labels,
)
from descentlab.validation import check_int, check_nonnegative_float, check_positive_float

__all__ = [
    "COURSE_MOONS_SEED",
    "DATASETS",
    "MAX_SEED",
    "XOR_CENTERS",
    "ClassLabel",
    "Dataset",
    "blobs",
    "circles",
    "digits",
    "encode_labels",
    "from_sklearn_bundle",
    "gaussian_quantiles",
    "labels_from_targets",
    "load",
    "make_moons",
    "moons",
    "spirals",
    "targets_from_labels",
    "xor",
]

COURSE_MOONS_SEED = 3
"""The course calls ``np.random.seed(3)`` before ``make_moons(n_samples=300, noise=.2)``."""

MAX_SEED = 2**32 - 1
"""The largest seed ``np.random.RandomState`` accepts."""


def _check_seed(seed: object) -> int:
    seed = check_int("seed", seed, minimum=0)
    if seed > MAX_SEED:
        raise ValueError(f"seed must be an integer in [0, 2**32 - 1], got {seed}")
    return seed


def _shuffled(
    rng: np.random.RandomState, X: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """X and y reordered by ``rng.shuffle(np.arange(m))``, as scikit-learn's ``shuffle``."""
    order = np.arange(len(y))
    rng.shuffle(order)
    return X[order], y[order]


def _from_rows(
    name: str, X: np.ndarray, y: np.ndarray, n_classes: int, params: dict[str, object]
) -> Dataset:
    """A dataset from scikit-learn's layout: X (m, n_features), class indices y (m,)."""
    return Dataset.from_labels(name, np.ascontiguousarray(X.T), y, range(n_classes), params)


def _shuffled_with_noise(
    name: str,
    rng: np.random.RandomState,
    X: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    noise: float,
    params: dict[str, object],
) -> Dataset:
    """The examples shuffled by ``rng`` (``_shuffled``), then normal noise of deviation
    ``noise`` added to every coordinate from the same stream, as a dataset (``_from_rows``)."""
    X, y = _shuffled(rng, X, y)
    X += rng.normal(scale=noise, size=X.shape)
    return _from_rows(name, X, y, n_classes, params)


GENERATION_COPIES = 12
"""Float arrays of the dataset's size a generator holds at once (points, noise, shuffled
copies, labels, the transposed X and the one-hot Y): what ``check_n_samples`` estimates."""


def check_n_samples(n_samples: int, n_features: int = 2) -> int:
    """``n_samples``, once the memory generating that many examples takes fits
    (``descentlab.budget``): ``--n-samples 10**11`` is refused before an array is allocated."""
    from descentlab import budget

    budget.check(budget.dataset_estimate(n_samples, n_features + 1, GENERATION_COPIES))
    return n_samples


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
    n_samples = check_n_samples(check_int("n_samples", n_samples, minimum=2))
    noise = check_nonnegative_float("noise", noise)
    rng = np.random.RandomState(_check_seed(seed))
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
    """The course's moons data: X (2, m), Y (1, m). The defaults are the published set.

    Draws exactly what ``make_moons`` describes; class 0 is the upper moon.
    """
    X, y = make_moons(n_samples, noise, seed)
    return Dataset(
        name="moons",
        X=np.ascontiguousarray(X.T),
        Y=y.reshape(1, -1).astype(np.float64),
        params={"n_samples": n_samples, "noise": noise, "seed": seed},
    )


def circles(
    n_samples: int = 300, noise: float = 0.1, seed: int = 0, factor: float = 0.5
) -> Dataset:
    """Two concentric circles: class 0 the outer (radius 1), class 1 the inner (``factor``).

    Bit-identical to ``sklearn.datasets.make_circles(n_samples, noise=noise, factor=factor,
    random_state=np.random.RandomState(seed))``: n_samples // 2 points at evenly spaced
    angles 2 pi k / n on the outer circle, the rest likewise on the inner one; the indices
    shuffled by the RandomState, then normal noise of standard deviation ``noise`` added to
    both coordinates from the same stream.
    """
    n_samples = check_n_samples(check_int("n_samples", n_samples, minimum=2))
    noise = check_nonnegative_float("noise", noise)
    factor = check_positive_float("factor", factor)
    if factor >= 1:
        raise ValueError(f"factor must be a number in (0, 1), got {factor!r}")
    rng = np.random.RandomState(_check_seed(seed))
    n_out = n_samples // 2
    n_in = n_samples - n_out
    angles_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    angles_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X = np.vstack(
        [
            np.append(np.cos(angles_out), np.cos(angles_in) * factor),
            np.append(np.sin(angles_out), np.sin(angles_in) * factor),
        ]
    ).T
    y = np.hstack([np.zeros(n_out, dtype=np.intp), np.ones(n_in, dtype=np.intp)])
    params: dict[str, object] = {
        "n_samples": n_samples,
        "noise": noise,
        "seed": seed,
        "factor": factor,
    }
    return _shuffled_with_noise("circles", rng, X, y, 2, noise, params)


def blobs(
    n_samples: int = 300,
    noise: float = 1.0,
    seed: int = 0,
    n_classes: int | None = None,
    centers: Sequence[Sequence[float]] | np.ndarray | None = None,
) -> Dataset:
    """Isotropic Gaussian blobs, one per class: 3 in 2-D unless ``n_classes`` or ``centers``.

    Bit-identical to ``sklearn.datasets.make_blobs(n_samples, centers=..., cluster_std=noise,
    random_state=np.random.RandomState(seed))``: without ``centers``, the n_classes centers
    are drawn uniformly from the box [-10, 10]^2; blob i gets n_samples // C points (the first
    n_samples % C blobs one more), drawn normal around its center with standard deviation
    ``noise`` in every coordinate; then the indices are shuffled. With ``centers`` (one row of
    coordinates per class, any dimension) nothing is drawn for the centers, and ``n_classes``,
    if given, must equal their number.
    """
    n_samples = check_n_samples(check_int("n_samples", n_samples, minimum=1))
    noise = check_nonnegative_float("noise", noise)
    rng = np.random.RandomState(_check_seed(seed))
    if centers is None:
        n_classes = 3 if n_classes is None else check_int("n_classes", n_classes, minimum=2)
        center_array = rng.uniform(-10.0, 10.0, size=(n_classes, 2))
    else:
        center_array = np.array(centers, dtype=np.float64)
        if center_array.ndim != 2 or len(center_array) < 2 or center_array.shape[1] < 1:
            raise ValueError(
                f"centers must be a list of at least 2 points (one per class), got shape "
                f"{center_array.shape}"
            )
        if not np.isfinite(center_array).all():
            raise ValueError("centers must be finite numbers")
        if n_classes is not None and n_classes != len(center_array):
            raise ValueError(
                f"n_classes must equal the number of centers ({len(center_array)}), "
                f"got {n_classes!r}"
            )
        n_classes = len(center_array)
    if n_samples < n_classes:
        raise ValueError(f"n_samples must be >= n_classes ({n_classes}), got {n_samples}")
    counts = [n_samples // n_classes + (i < n_samples % n_classes) for i in range(n_classes)]
    X = np.empty((n_samples, center_array.shape[1]))
    y = np.repeat(np.arange(n_classes), counts)
    start = 0
    for center, count in zip(center_array, counts, strict=True):
        X[start : start + count] = rng.normal(loc=center, scale=noise, size=(count, len(center)))
        start += count
    X, y = _shuffled(rng, X, y)
    params: dict[str, object] = {
        "n_samples": n_samples,
        "noise": noise,
        "seed": seed,
        "n_classes": n_classes,
        "centers": None if centers is None else center_array.tolist(),
    }
    return _from_rows("blobs", X, y, n_classes, params)


def spirals(
    n_samples: int = 300, noise: float = 0.05, seed: int = 0, turns: float = 1.5
) -> Dataset:
    """Two interleaved spirals, each winding ``turns`` times around the origin.

    Spiral k (k = 0 gets n_samples // 2 points, k = 1 the rest, n_k each) has its points at
    t = 1/n_k, 2/n_k, ..., 1: radius t, angle 2 pi turns t + k pi (spiral 1 is spiral 0
    turned by half a turn, so neighbouring arms are 1 / (2 turns) apart). The indices are
    shuffled by ``RandomState(seed)``, then normal noise of standard deviation ``noise`` is
    added to both coordinates from the same stream.
    """
    n_samples = check_n_samples(check_int("n_samples", n_samples, minimum=2))
    noise = check_nonnegative_float("noise", noise)
    turns = check_positive_float("turns", turns)
    rng = np.random.RandomState(_check_seed(seed))
    n_first = n_samples // 2
    points, y = [], []
    for k, count in enumerate((n_first, n_samples - n_first)):
        t = np.arange(1, count + 1) / count
        angle = 2 * np.pi * turns * t + k * np.pi
        points.append(np.column_stack([t * np.cos(angle), t * np.sin(angle)]))
        y.append(np.full(count, k, dtype=np.intp))
    params: dict[str, object] = {
        "n_samples": n_samples,
        "noise": noise,
        "seed": seed,
        "turns": turns,
    }
    return _shuffled_with_noise(
        "spirals", rng, np.vstack(points), np.concatenate(y), 2, noise, params
    )


XOR_CENTERS = np.array([[1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]])
"""The four cluster centers of ``xor``, one per quadrant, in quadrant order I..IV."""


def xor(n_samples: int = 300, noise: float = 0.4, seed: int = 0) -> Dataset:
    """Four Gaussian clusters, one per quadrant; the label is the xor of the center's signs.

    The clusters are centered at (1, 1), (-1, 1), (-1, -1), (1, -1) with labels 0, 1, 0, 1
    (1 where exactly one coordinate of the center is negative); cluster i gets
    n_samples // 4 points (the first n_samples % 4 clusters one more). The indices are
    shuffled by ``RandomState(seed)``, then normal noise of standard deviation ``noise`` is
    added to both coordinates from the same stream; a point keeps its cluster's label even
    if the noise carries it into another quadrant.
    """
    n_samples = check_n_samples(check_int("n_samples", n_samples, minimum=4))
    noise = check_nonnegative_float("noise", noise)
    rng = np.random.RandomState(_check_seed(seed))
    counts = [n_samples // 4 + (i < n_samples % 4) for i in range(4)]
    X = np.repeat(XOR_CENTERS, counts, axis=0)
    y = np.repeat(np.array([0, 1, 0, 1]), counts)
    params: dict[str, object] = {"n_samples": n_samples, "noise": noise, "seed": seed}
    return _shuffled_with_noise("xor", rng, X, y, 2, noise, params)


def gaussian_quantiles(
    n_samples: int = 300,
    noise: float = 0.0,
    seed: int = 0,
    n_classes: int = 2,
    n_features: int = 2,
) -> Dataset:
    """A standard normal cloud cut into ``n_classes`` nested shells of equal size.

    Bit-identical (for noise 0) to ``sklearn.datasets.make_gaussian_quantiles(
    n_samples=n_samples, n_features=n_features, n_classes=n_classes,
    random_state=np.random.RandomState(seed))``: the points are drawn by
    ``multivariate_normal(0, I)``, sorted by distance from the origin and labelled by
    quantile (the n_samples // C nearest are class 0, the next class 1, ...; the last class
    also takes the remainder), then the indices are shuffled. Finally normal noise of
    standard deviation ``noise`` is added to every coordinate from the same stream; the labels
    stay those of the clean points, so noise blurs the shells' boundaries.
    """
    n_samples = check_int("n_samples", n_samples, minimum=2)
    noise = check_nonnegative_float("noise", noise)
    n_classes = check_int("n_classes", n_classes, minimum=2)
    n_features = check_int("n_features", n_features, minimum=1)
    check_n_samples(n_samples, n_features)
    if n_samples < n_classes:
        raise ValueError(f"n_samples must be >= n_classes ({n_classes}), got {n_samples}")
    rng = np.random.RandomState(_check_seed(seed))
    X = rng.multivariate_normal(np.zeros(n_features), np.identity(n_features), (n_samples,))
    X = X[np.argsort(np.sum(X**2, axis=1))]
    step = n_samples // n_classes
    y = np.hstack(
        [
            np.repeat(np.arange(n_classes), step),
            np.repeat(n_classes - 1, n_samples - step * n_classes),
        ]
    )
    params: dict[str, object] = {
        "n_samples": n_samples,
        "noise": noise,
        "seed": seed,
        "n_classes": n_classes,
        "n_features": n_features,
    }
    return _shuffled_with_noise("gaussian-quantiles", rng, X, y, n_classes, noise, params)


def digits(
    n_samples: int | None = None, noise: float | None = None, seed: int | None = None
) -> Dataset:
    """scikit-learn's bundled 8x8 handwritten digits: X (64, 1797), 10 classes 0..9.

    ``sklearn.datasets.load_digits()`` (shipped with scikit-learn, never downloaded), pixel
    intensities 0..16 as float64, features named pixel_<row>_<column>. Nothing is drawn; the
    set has a fixed size, so ``n_samples``, ``noise`` and ``seed`` must be left unset.
    """
    for argument, value in (("n_samples", n_samples), ("noise", noise), ("seed", seed)):
        if value is not None:
            raise ValueError(
                f"{argument} must be left unset (digits is scikit-learn's fixed set of 1797 "
                f"images), got {value!r}"
            )
    return from_sklearn_bundle("digits", "load_digits", int)


def from_sklearn_bundle(name: str, loader: str, label: Callable[[Any], ClassLabel]) -> Dataset:
    """The set scikit-learn ships with itself (``sklearn.datasets.<loader>()``, never
    downloaded) as the dataset ``name``: features as float64 under scikit-learn's names, class
    names ``label(target_name)``. Without scikit-learn a one-line ``ValueError`` saying so."""
    try:
        import sklearn.datasets  # type: ignore[import-untyped]
    except ImportError:
        raise ValueError(
            f"{name} needs scikit-learn, which is not installed (pip install scikit-learn)"
        ) from None
    bunch = getattr(sklearn.datasets, loader)()
    return Dataset.from_labels(
        name,
        np.ascontiguousarray(bunch.data.T, dtype=np.float64),
        np.asarray(bunch.target, dtype=np.int64),
        [label(target) for target in bunch.target_names],
        {"source": f"sklearn.datasets.{loader}"},
        feature_names=[str(feature) for feature in bunch.feature_names],
    )


DATASETS: dict[str, Callable[..., Dataset]] = {
    "moons": moons,
    "circles": circles,
    "blobs": blobs,
    "spirals": spirals,
    "xor": xor,
    "gaussian-quantiles": gaussian_quantiles,
    "digits": digits,
}
"""Every named dataset, the course's default first."""


def load(name: str, **kwargs: object) -> Dataset:
    """Build a dataset by name (``DATASETS`` lists the names) with the keyword arguments its
    function takes; every error names the dataset and what is allowed."""
    try:
        factory = DATASETS[name]
    except KeyError:
        allowed = ", ".join(DATASETS)
        raise ValueError(f"unknown dataset {name!r}; choose one of: {allowed}") from None
    accepted = list(inspect.signature(factory).parameters)
    for key in kwargs:
        if key not in accepted:
            raise ValueError(
                f"dataset {name!r} takes no argument {key!r}; it takes: {', '.join(accepted)}"
            )
    try:
        return factory(**kwargs)
    except ValueError as error:
        raise ValueError(f"dataset {name!r}: {error}") from None
