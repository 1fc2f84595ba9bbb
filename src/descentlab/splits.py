"""Held-out data: stratified, seeded splits, and feature scaling learned on the training split.

``split(dataset, validation_fraction, test_fraction, seed)`` cuts every class separately, so
each split has the classes in the dataset's proportions. ``Standardizer.fit(train.X)`` learns
each feature's mean and standard deviation from the training split only; ``standardize``
applies that one scaling to every split.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from descentlab.datasets import Dataset
from descentlab.validation import check_int


class Splits(NamedTuple):
    """A dataset cut into a training split and, when asked for, validation and test splits."""

    train: Dataset
    validation: Dataset | None
    test: Dataset | None


def _check_fraction(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    fraction = float(value)
    if not (math.isfinite(fraction) and 0 <= fraction < 1):
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    return fraction


def split_sizes(
    class_size: int, validation_fraction: float, test_fraction: float
) -> tuple[int, int]:
    """(validation, test) examples taken from a class of ``class_size``: each fraction of it
    rounded half up, but at least 1 when its fraction is > 0. The rest is for training."""

    def share(fraction: float) -> int:
        return 0 if fraction == 0 else max(1, math.floor(fraction * class_size + 0.5))

    return share(validation_fraction), share(test_fraction)


def split(
    dataset: Dataset,
    validation_fraction: float = 0.0,
    test_fraction: float = 0.0,
    seed: int = 0,
) -> Splits:
    """Stratified random split of ``dataset`` into train / validation / test.

    For each class c in order 0..C-1, its n_c example indices are permuted by
    ``np.random.default_rng(seed)`` (one generator, drawn from class after class); the first
    ``split_sizes(n_c, ...)[0]`` go to validation, the next ``[1]`` to test and the rest to
    training. Each split keeps the dataset's order of examples, its classes and feature
    names. A split whose fraction is 0 is ``None``; with both fractions 0 the training split
    is ``dataset`` itself. Raises ``ValueError`` when a fraction is outside [0, 1), when they
    sum to 1 or more, or when a class is too small to give every split at least one example
    and keep one for training. Never touches numpy's global random state.
    """
    validation_fraction = _check_fraction("validation_fraction", validation_fraction)
    test_fraction = _check_fraction("test_fraction", test_fraction)
    seed = check_int("seed", seed, minimum=0)
    if validation_fraction + test_fraction >= 1:
        raise ValueError(
            f"validation_fraction + test_fraction must be < 1, got {validation_fraction!r} + "
            f"{test_fraction!r} = {validation_fraction + test_fraction!r}"
        )
    if validation_fraction == 0 and test_fraction == 0:
        return Splits(dataset, None, None)
    rng = np.random.default_rng(seed)
    labels = dataset.labels
    parts: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
    for c in range(dataset.n_classes):
        members = np.flatnonzero(labels == c)
        if members.size == 0:
            continue
        n_validation, n_test = split_sizes(members.size, validation_fraction, test_fraction)
        if n_validation + n_test >= members.size:
            needed = 1 + (n_validation > 0) + (n_test > 0)
            raise ValueError(
                f"class {dataset.classes[c]!r} has {members.size} example(s), too few to keep "
                f"one for training and give every held-out split one (needs at least {needed} "
                f"at these fractions)"
            )
        members = rng.permutation(members)
        cuts = (n_validation, n_validation + n_test)
        for part, indices in zip(parts, np.split(members, cuts), strict=True):
            part.append(indices)
    validation_parts, test_parts, train_parts = parts

    def subset(indices: list[np.ndarray]) -> Dataset:
        return dataset.take(np.sort(np.concatenate(indices)))

    return Splits(
        train=subset(train_parts),
        validation=subset(validation_parts) if validation_fraction > 0 else None,
        test=subset(test_parts) if test_fraction > 0 else None,
    )


SMALLEST_STD = float(np.finfo(np.float64).tiny)
"""The smallest standard deviation a fitted feature gets (the smallest normal float64, what a
model file's scaling must hold too); a feature that varies by less cannot be standardised."""

_PRESCALE_OUTSIDE = (2.0**-400, 2.0**400)
"""A feature whose largest magnitude lies outside this range is summed in units of a power of
two (exact, so the statistics are the same numbers), so that its squares neither overflow nor
underflow; inside it the statistics are numpy's mean and std of the values themselves."""


def _power_of_two_units(magnitude: np.ndarray) -> np.ndarray:
    """1.0 where ``magnitude`` lies inside ``_PRESCALE_OUTSIDE`` (or is 0), else the power of
    two at or below it."""
    low, high = _PRESCALE_OUTSIDE
    with np.errstate(divide="ignore"):
        exponent = np.floor(np.log2(np.where(magnitude > 0, magnitude, 1.0)))
    return np.where(
        (magnitude > high) | ((magnitude > 0) & (magnitude < low)), np.exp2(exponent), 1.0
    )


@dataclass(frozen=True, eq=False)
class Standardizer:
    """Per-feature scaling x' = (x - mean) / std, with statistics learned from one X.

    ``mean`` and ``std`` have shape (n_features, 1), matching X of shape (n_features, m).
    ``std`` is the population standard deviation (ddof 0, as scikit-learn's StandardScaler);
    a feature that is constant in the fitted data gets std 1 and its value as mean, so it maps
    to exactly 0.
    """

    mean: np.ndarray
    std: np.ndarray

    def __post_init__(self) -> None:
        mean = np.asarray(self.mean, dtype=np.float64).reshape(-1, 1)
        std = np.asarray(self.std, dtype=np.float64).reshape(-1, 1)
        if mean.shape != std.shape or mean.size == 0:
            raise ValueError(
                f"mean and std must have one value per feature, got {mean.size} and {std.size}"
            )
        if not (np.isfinite(mean).all() and np.isfinite(std).all() and (std > 0).all()):
            raise ValueError("mean must be finite numbers and std finite numbers > 0")
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "std", std)

    @classmethod
    def fit(cls, X: np.ndarray, feature_names: Sequence[str] = ()) -> Standardizer:
        """The scaling of X (n_features, m): each row's mean and standard deviation.

        Any finite values can be fitted: a feature near float64's limits (1e308, 1e-300) is
        summed in units of a power of two, which gives numpy's numbers wherever those are
        finite. A feature whose values differ but whose standard deviation is below
        ``SMALLEST_STD`` is refused with a ``ValueError`` naming it (``feature_names[i]``,
        else "feature i+1") and its values."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] == 0:
            raise ValueError(f"X must have shape (n_features, m) with m >= 1, got {X.shape}")
        if not np.isfinite(X).all():
            raise ValueError("X must hold only finite numbers (no NaN or infinity)")
        low, high = X.min(axis=1, keepdims=True), X.max(axis=1, keepdims=True)
        units = _power_of_two_units(np.maximum(np.abs(low), np.abs(high)))
        if (units == 1.0).all():
            mean = X.mean(axis=1, keepdims=True)
            std = X.std(axis=1, keepdims=True)
        else:
            scaled = X / units
            with np.errstate(over="ignore", under="ignore"):
                mean = scaled.mean(axis=1, keepdims=True) * units
                std = scaled.std(axis=1, keepdims=True) * units
        constant = low == high
        mean = np.where(constant, X[:, :1], mean)
        std = np.where(constant, 1.0, std)
        unusable = ~(np.isfinite(std) & (std >= SMALLEST_STD))
        if unusable.any():
            index = int(np.flatnonzero(unusable)[0])
            name = feature_names[index] if feature_names else f"feature {index + 1}"
            raise ValueError(
                f"cannot standardise {name}: its values (from {float(low[index, 0])!r} to "
                f"{float(high[index, 0])!r}) have a standard deviation of "
                f"{float(std[index, 0])!r}, which float64 cannot divide by (the smallest "
                f"allowed is {SMALLEST_STD:.4g}); rescale it or turn standardisation off"
            )
        return cls(mean, std)

    @property
    def n_features(self) -> int:
        return int(self.mean.shape[0])

    def transform(self, X: np.ndarray) -> np.ndarray:
        """(X - mean) / std for X of shape (n_features, m); a new float64 array.

        A feature with a standard deviation beyond ``_PRESCALE_OUTSIDE`` is computed in units
        of a power of two (the same numbers, without overflow on the way); a value whose
        result is beyond float64's range comes out as +-inf, for the caller to refuse
        (``standardize`` and the model file's prediction do)."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] != self.n_features:
            raise ValueError(
                f"X must have shape ({self.n_features}, m) to be standardized, got {X.shape}"
            )
        units = _power_of_two_units(self.std)
        with np.errstate(over="ignore", invalid="ignore"):
            if (units == 1.0).all():
                return (X - self.mean) / self.std
            return (X / units - self.mean / units) / (self.std / units)

    def inverse_transform(self, X: np.ndarray) -> np.ndarray:
        """X * std + mean: standardized features back in the original units."""
        return np.asarray(X, dtype=np.float64) * self.std + self.mean

    def apply(self, dataset: Dataset) -> Dataset:
        """``dataset`` with its features standardized (everything else unchanged)."""
        return dataclasses.replace(dataset, X=self.transform(dataset.X))

    def to_dict(self) -> dict[str, list[float]]:
        """``{"mean": [...], "std": [...]}``, one float per feature; JSON round-trips it
        exactly."""
        return {"mean": self.mean.ravel().tolist(), "std": self.std.ravel().tolist()}

    @classmethod
    def from_dict(cls, data: dict[str, list[float]]) -> Standardizer:
        """The standardizer ``to_dict`` described."""
        try:
            mean = np.array(data["mean"], dtype=np.float64)
            std = np.array(data["std"], dtype=np.float64)
        except (KeyError, TypeError, ValueError):
            raise ValueError(
                f"a standardizer needs lists of numbers 'mean' and 'std', got {data!r:.80}"
            ) from None
        return cls(mean, std)


def standardize(splits: Splits) -> tuple[Splits, Standardizer]:
    """Every split standardized with the scaling fitted on ``splits.train`` alone.

    Raises a one-line ``ValueError`` naming the feature, where it comes from (the data file)
    and the value when a feature cannot be standardised: it varies by less than
    ``SMALLEST_STD``, or a held-out value lies so far from the training split's mean, in its
    standard deviations, that the result is beyond float64's range."""
    train = splits.train
    names = _feature_descriptions(train)
    scaler = Standardizer.fit(train.X, names)

    def scaled(split_name: str, part: Dataset) -> Dataset:
        X = scaler.transform(part.X)
        bad = ~np.isfinite(X)
        if bad.any():
            feature, example = (int(i[0]) for i in np.nonzero(bad))
            raise ValueError(
                f"cannot standardise {names[feature]}: its value "
                f"{float(part.X[feature, example])!r} in the {split_name} split, scaled by "
                f"the training split's mean {float(scaler.mean[feature, 0])!r} and standard "
                f"deviation {float(scaler.std[feature, 0])!r}, is beyond float64's range; "
                f"rescale it or turn standardisation off"
            )
        return dataclasses.replace(part, X=X)

    validation, test = (
        None if part is None else scaled(name, part)
        for name, part in (("validation", splits.validation), ("test", splits.test))
    )
    return Splits(scaled("train", train), validation, test), scaler


def _feature_descriptions(dataset: Dataset) -> tuple[str, ...]:
    """ "feature 'NAME' of FILE" for every feature of ``dataset``: its column's name in the
    data file, or the dataset's name when it was not read from a file."""
    source = dataset.params.get("path", dataset.name)
    return tuple(f"feature {name!r} of {source}" for name in dataset.feature_names)


def check_fits_dtype(splits: Splits, dtype: str) -> None:
    """Refuse, before any training, features that ``dtype`` (the run's "float32" or
    "float64") cannot hold: a one-line ``ValueError`` naming the feature, its data file, the
    split and the value."""
    largest = float(np.finfo(np.dtype(dtype)).max)
    for split_name, part in zip(("train", "validation", "test"), splits, strict=True):
        if part is None:
            continue
        beyond = np.abs(part.X) > largest
        if beyond.any():
            feature, example = (int(i[0]) for i in np.nonzero(beyond))
            name = _feature_descriptions(part)[feature]
            raise ValueError(
                f"{name} holds {float(part.X[feature, example])!r} in the {split_name} split, "
                f"beyond {dtype}'s range (+-{largest:.4g}); train in float64 or standardise "
                f"the features"
            )
