"""``Dataset``: a labelled dataset in the course's layout (examples in columns), and the two
ways of writing its labels: class indices and the network's targets.

``X`` has shape (n_features, m), float64. ``Y`` is what the network is trained against: one row
of 0.0/1.0, shape (1, m), when there are two classes (one sigmoid output), one-hot of shape
(C, m) when there are C > 2 (C softmax outputs). ``labels`` are the class indices 0..C-1,
shape (m,), and ``classes`` the original label values: class i is ``classes[i]``.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

ClassLabel = str | int
"""An original label value, as the user's data spelled it."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """A labelled dataset with examples in columns, as the course stores them.

    Build one from ``Y`` (``Dataset(name, X, Y, params)``; the labels are read off ``Y``) or
    from class indices (``Dataset.from_labels``). Every field is checked on construction.
    """

    name: str
    X: np.ndarray
    """Features, shape (n_features, m), float64, finite."""
    Y: np.ndarray
    """Targets, float64: shape (1, m) of 0.0/1.0 for two classes, one-hot (C, m) for C > 2."""
    params: dict[str, object]
    """How the data was made (shown in results.json so a run can be repeated)."""
    classes: tuple[ClassLabel, ...] = ()
    """The original label of each class, class i being ``classes[i]`` (str or int, so it can
    be written to JSON). Left empty, it becomes (0, 1, ..., C-1)."""
    feature_names: tuple[str, ...] = ()
    """One name per feature. Left empty, it becomes ("x1", "x2", ...)."""

    def __post_init__(self) -> None:
        X = np.asarray(self.X, dtype=np.float64)
        Y = np.asarray(self.Y, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] == 0:
            raise ValueError(f"X must have shape (n_features, m) with m >= 1, got {X.shape}")
        m = X.shape[1]
        if Y.ndim != 2 or Y.shape[1] != m or Y.shape[0] == 0:
            raise ValueError(f"Y must have shape (1, {m}) or (C, {m}) with C > 2, got {Y.shape}")
        if Y.shape[0] == 2:
            raise ValueError("Y of two classes must be one row of 0/1, shape (1, m), not (2, m)")
        if not ((Y == 0) | (Y == 1)).all():
            raise ValueError("Y must hold only 0.0 and 1.0")
        if Y.shape[0] > 2 and not (Y.sum(axis=0) == 1).all():
            raise ValueError("Y with C > 2 rows must be one-hot: a single 1 in every column")
        if not np.isfinite(X).all():
            raise ValueError("X must hold only finite numbers (no NaN or infinity)")
        n_classes = 2 if Y.shape[0] == 1 else Y.shape[0]
        classes = _class_labels(self.classes) if self.classes else tuple(range(n_classes))
        if len(classes) != n_classes:
            raise ValueError(f"classes must name {n_classes} classes, got {len(classes)}")
        if len(set(classes)) != len(classes):
            raise ValueError(f"classes must be distinct, got {classes!r}")
        names = tuple(self.feature_names) or tuple(f"x{i + 1}" for i in range(X.shape[0]))
        if len(names) != X.shape[0] or not all(isinstance(n, str) for n in names):
            raise ValueError(f"feature_names must be {X.shape[0]} strings, got {names!r}")
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "Y", Y)
        object.__setattr__(self, "classes", classes)
        object.__setattr__(self, "feature_names", names)

    @classmethod
    def from_labels(
        cls,
        name: str,
        X: np.ndarray,
        labels: np.ndarray,
        classes: Sequence[ClassLabel],
        params: dict[str, object],
        feature_names: Sequence[str] | None = None,
    ) -> Dataset:
        """A dataset from class indices ``labels`` (m,) in 0..C-1, C = len(classes) >= 2."""
        if len(classes) < 2:
            raise ValueError(f"a dataset needs at least 2 classes, got {tuple(classes)!r}")
        Y = targets_from_labels(labels, len(classes))
        if Y.shape[1] != np.shape(X)[-1]:
            raise ValueError(f"X has {np.shape(X)[-1]} examples but labels has {Y.shape[1]}")
        return cls(name, X, Y, params, tuple(classes), tuple(feature_names or ()))

    @property
    def n_features(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_examples(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def labels(self) -> np.ndarray:
        """Class indices 0..C-1 of every example, shape (m,), int64."""
        return labels_from_targets(self.Y)

    def take(self, indices: np.ndarray) -> Dataset:
        """The examples at ``indices`` (in that order), with the same classes and names."""
        return dataclasses.replace(
            self,
            X=np.take(self.X, indices, axis=1),
            Y=np.take(self.Y, indices, axis=1),
            params=dict(self.params),
        )


def _class_labels(classes: Sequence[object]) -> tuple[ClassLabel, ...]:
    """Class labels as plain Python str/int (numpy scalars converted, so JSON can hold them)."""
    result: list[ClassLabel] = []
    for label in classes:
        if isinstance(label, str | np.str_):
            result.append(str(label))
        elif isinstance(label, numbers.Integral):
            result.append(int(label))
        else:
            raise ValueError(f"class labels must be strings or integers, got {label!r}")
    return tuple(result)


def encode_labels(values: Sequence[ClassLabel]) -> tuple[np.ndarray, tuple[ClassLabel, ...]]:
    """``(labels, classes)`` of original label values: the distinct values, sorted (numbers
    numerically, strings by code point), are the classes, and ``labels`` (m,), int64, holds
    each value's class index. The values must be all integers or all strings."""
    classes = _class_labels(sorted(set(values), key=lambda v: (isinstance(v, str), v)))
    if classes and isinstance(classes[0], int) and isinstance(classes[-1], str):
        raise ValueError("labels must be all integers or all strings, not a mix")
    index = {value: i for i, value in enumerate(classes)}
    return np.array([index[value] for value in values], dtype=np.int64), classes


def targets_from_labels(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """The network's targets for class indices ``labels`` (m,): a (1, m) row of 0.0/1.0 when
    ``n_classes`` is 2, else one-hot (n_classes, m), float64."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise ValueError(
            f"labels must be integers of shape (m,), got {labels.dtype} {labels.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(
            f"labels must lie in 0..{n_classes - 1}, got {labels.min()}..{labels.max()}"
        )
    if n_classes == 2:
        return labels.reshape(1, -1).astype(np.float64)
    Y = np.zeros((n_classes, labels.size))
    Y[labels, np.arange(labels.size)] = 1.0
    return Y


def labels_from_targets(Y: np.ndarray) -> np.ndarray:
    """Class indices (m,), int64, of targets ``Y``: the row itself when Y has one row, the row
    of the 1 in each column when it is one-hot."""
    if Y.shape[0] == 1:
        return Y[0].astype(np.int64)
    return np.argmax(Y, axis=0).astype(np.int64)
