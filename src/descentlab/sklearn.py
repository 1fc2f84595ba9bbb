"""A scikit-learn classifier over descentlab's one engine.

``DescentClassifier`` takes data as scikit-learn does, rows of shape (n_samples, n_features),
and hands it to ``descentlab.train.train`` with examples in columns. It adds no math: the
network is ``descentlab.nn.Network``, the optimizers come from ``descentlab.optim.get`` and
``fit``, ``partial_fit`` and warm starts all run the same training loop, continuing a run
from its parameters, optimizer state and epoch so that training in pieces equals training at
once, bit for bit.

This module imports scikit-learn at import time; nothing else in descentlab does.
"""

from __future__ import annotations

import numbers
import secrets
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Self

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin  # type: ignore[import-untyped]
from sklearn.utils.multiclass import (  # type: ignore[import-untyped]
    check_classification_targets,
)
from sklearn.utils.validation import (  # type: ignore[import-untyped]
    check_is_fitted,
    validate_data,
)

from descentlab import nn, optim
from descentlab.optim import Optimizer, OptState
from descentlab.seeds import RunSeeds, run_seeds
from descentlab.train import train
from descentlab.validation import check_bool, check_int

DEFAULT_EPOCHS = 200
"""``DescentClassifier``'s default number of passes over the data, as MLPClassifier's
``max_iter``. It keeps a fit on a few hundred rows to a fraction of a second (scikit-learn's
estimator checks fit dozens of times). At the course's learning rate of 0.0007 that is far
less training than the course's 10000 epochs: for real data raise ``epochs`` or
``learning_rate`` (on digits, ``(64,)`` hidden units, adam at 0.01 and 30 epochs suffice)."""


class DescentClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """A fully connected ReLU network trained by one of descentlab's optimizers.

    Two classes get one sigmoid output unit and binary cross-entropy; C > 2 classes get C
    softmax units and categorical cross-entropy. Weights start from He initialisation, and
    each epoch shuffles the rows and cuts them into mini-batches of ``batch_size``.

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default=(5, 2)
        The width of each hidden layer (an int is one layer); the network is
        ``(n_features, *hidden_layer_sizes, n_outputs)``. ``()`` gives logistic (softmax)
        regression. The default is the course's network, whose 2-unit layer is a narrow
        bottleneck: give real data wider layers, such as ``(64,)``.
    optimizer : str, default="adam"
        One of ``descentlab.optim.names()``: "gd", "momentum", "sgd", "rmsprop", "adagrad",
        "adam", "adamw", "nadam", "adamax".
    learning_rate : float or callable, default=0.0007
        The step size, > 0 (the course's), or a schedule: a function of the optimizer's update
        count (see ``descentlab.schedules``).
    batch_size : int or None, default=64
        Rows per mini-batch, >= 1; clipped to the number of rows. ``None`` trains on all rows
        at once (batch gradient descent); 1 is stochastic gradient descent.
    epochs : int, default=200
        Passes over the data per ``fit``, >= 1. ``partial_fit`` always makes one.
    random_state : int, RandomState instance or None, default=None
        Picks the initial weights and the order of the mini-batches. An int >= 0 is
        descentlab's ``seed`` (``descentlab.seeds.run_seeds``): 0 is the course's protocol
        (initialisation from ``RandomState(3)``, epoch e shuffled with ``RandomState(11 + e)``),
        any other int derives both streams from ``SeedSequence(random_state)``. A RandomState
        instance gives one draw to pick the seed. None draws fresh entropy from the operating
        system on every ``fit``; numpy's global random state is never used or changed.
    optimizer_params : dict or None, default=None
        Further keyword arguments of the optimizer, for example ``{"beta1": 0.8}`` for adam
        (``descentlab.optim.hyperparameter_names(optimizer)`` lists them). The learning rate
        is set by ``learning_rate`` only.
    warm_start : bool, default=False
        When True, ``fit`` on a fitted estimator trains ``epochs`` more epochs from where the
        last ``fit`` or ``partial_fit`` stopped (parameters, optimizer state and epoch count)
        instead of starting afresh; the data must have the same features and classes.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted (``np.unique`` of y, or of ``classes`` in ``partial_fit``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen during fit; set only when X has string column names.
    network_ : descentlab.nn.Network
        The architecture ``(n_features_in_, *hidden_layer_sizes, n_outputs)``, with one
        output for two classes and n_classes outputs otherwise.
    params_ : ndarray of shape (network_.n_params,)
        The trained parameters in one flat float64 buffer laid out W1, b1, W2, b2, ...
        (``network_.layers(params_)`` gives the ``(W, b)`` of each layer, W of shape
        (n_out, n_in)).
    n_iter_ : int
        Epochs trained since the weights were initialised.
    loss_curve_ : list of float
        The mean cross-entropy of each of those epochs, measured during the epoch (every
        mini-batch before its update), as ``descentlab.history.History.epoch_costs``.

    See Also
    --------
    descentlab.train.train : The training loop this estimator runs.
    sklearn.neural_network.MLPClassifier : scikit-learn's own network classifier.

    Notes
    -----
    The update rules are the docstrings of ``descentlab.optim``. Unlike MLPClassifier there is
    no L2 penalty unless the optimizer has one (``weight_decay``), no early stopping and no
    tolerance: ``fit`` always trains ``epochs`` epochs. A run whose cost becomes NaN, infinite
    or 100 times its starting value warns with a RuntimeWarning; lower the learning rate.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from descentlab.sklearn import DescentClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = DescentClassifier(hidden_layer_sizes=(16,), learning_rate=0.01, random_state=1)
    >>> clf.fit(X, y).score(X, y) > 0.95
    True
    """

    def __init__(
        self,
        hidden_layer_sizes: int | Sequence[int] = (5, 2),
        optimizer: str = "adam",
        learning_rate: float | Callable[[int], float] = 0.0007,
        batch_size: int | None = 64,
        epochs: int = DEFAULT_EPOCHS,
        random_state: int | np.random.RandomState | None = None,
        optimizer_params: Mapping[str, Any] | None = None,
        warm_start: bool = False,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.epochs = epochs
        self.random_state = random_state
        self.optimizer_params = optimizer_params
        self.warm_start = warm_start

    def fit(self, X: Any, y: Any) -> Self:
        """Train for ``epochs`` epochs: from fresh weights, or, with ``warm_start`` on a
        fitted estimator, from where training stopped.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels (numbers, strings or booleans); at least two distinct ones.

        Returns
        -------
        self : DescentClassifier
            The fitted estimator.
        """
        hidden, optimizer, epochs = self._checked_params()
        continuing = self.warm_start and hasattr(self, "classes_")
        X, y = validate_data(self, X, y, dtype=np.float64, reset=not continuing)
        check_classification_targets(y)
        classes = np.unique(y)
        if continuing:
            self._check_can_continue(hidden, classes)
        else:
            self._initialise(hidden, classes)
        self._train(X, _class_indices(y, self.classes_), optimizer, epochs)
        return self

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> Self:
        """Train one epoch on (X, y), continuing from the current state.

        Calling it E times on the same data equals ``fit`` with ``epochs=E`` (same
        ``random_state``), bit for bit; it also continues after ``fit``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels, each one of ``classes``.
        classes : array-like of shape (n_classes,), default=None
            Every class that will ever appear in y. Required on the first call (when the
            estimator is not fitted yet); later it may be omitted or must equal ``classes_``.

        Returns
        -------
        self : DescentClassifier
            The fitted estimator.
        """
        hidden, optimizer, _ = self._checked_params()
        first_call = not hasattr(self, "classes_")
        if first_call and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit")
        X, y = validate_data(self, X, y, dtype=np.float64, reset=first_call)
        check_classification_targets(y)
        if classes is not None:
            classes = np.unique(classes)
            if not first_call and not np.array_equal(classes, self.classes_):
                raise ValueError(
                    f"classes={classes.tolist()!r} is not the same as on the first call to "
                    f"partial_fit, {self.classes_.tolist()!r}"
                )
        else:
            classes = self.classes_
        index = _class_indices(y, classes)
        if first_call:
            self._initialise(hidden, classes)
        else:
            self._check_can_continue(hidden, classes)
        self._train(X, index, optimizer, 1)
        return self

    def __sklearn_is_fitted__(self) -> bool:
        """Fitted once weights exist (``n_features_in_`` alone may be left by a failed fit)."""
        return hasattr(self, "params_")

    def predict_proba(self, X: Any) -> np.ndarray:
        """The probability of each class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to classify.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Column j is the probability of ``classes_[j]``; each row sums to 1. For two
            classes the network's sigmoid output p is column 1 and 1 - p column 0.
        """
        X_columns = self._columns(X)
        probabilities = nn.predict_proba(self.network_, self.params_, X_columns)
        if self.network_.output == "sigmoid":
            p = probabilities[0]
            return np.stack([1 - p, p], axis=1)
        return np.ascontiguousarray(probabilities.T)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to classify.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Labels from ``classes_``: for two classes the second where its probability is
            above 0.5, as the course predicts; otherwise the argmax of ``predict_proba``.
        """
        X_columns = self._columns(X)
        return self.classes_[nn.predict_classes(self.network_, self.params_, X_columns)]

    def _columns(self, X: Any) -> np.ndarray:
        """X validated against the fit and laid out as the engine wants: examples in columns."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return np.ascontiguousarray(X.T)

    def _checked_params(self) -> tuple[tuple[int, ...], Optimizer, int]:
        """Every constructor argument validated (each error names the value): the hidden
        sizes, the optimizer built from them, and the epochs."""
        sizes: object = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral):
            sizes = (sizes,)  # one hidden layer, as MLPClassifier reads an int
        elif isinstance(sizes, np.ndarray) and sizes.ndim == 1:
            sizes = sizes.tolist()
        if isinstance(sizes, str) or not isinstance(sizes, Sequence):
            raise ValueError(
                f"hidden_layer_sizes must be an integer or a sequence of integers >= 1, "
                f"got {sizes!r}"
            )
        hidden = tuple(check_int("hidden layer size", size, minimum=1) for size in sizes)
        if not isinstance(self.optimizer, str) or self.optimizer not in optim.names():
            raise ValueError(
                f"optimizer must be one of {', '.join(optim.names())}; got {self.optimizer!r}"
            )
        extra = {} if self.optimizer_params is None else self.optimizer_params
        if not isinstance(extra, Mapping):
            raise ValueError(f"optimizer_params must be a dict or None, got {extra!r}")
        if "learning_rate" in extra:
            raise ValueError(
                "optimizer_params must not set learning_rate; use the learning_rate parameter"
            )
        optimizer = optim.get(self.optimizer, learning_rate=self.learning_rate, **extra)
        if self.batch_size is not None:
            check_int("batch_size", self.batch_size, minimum=1)
        epochs = check_int("epochs", self.epochs, minimum=1)
        check_bool("warm_start", self.warm_start)
        _check_random_state(self.random_state)
        return hidden, optimizer, epochs

    def _initialise(self, hidden: tuple[int, ...], classes: np.ndarray) -> None:
        """Fresh weights and an empty history for ``classes`` (at least two)."""
        if len(classes) < 2:
            raise ValueError(
                f"a classifier needs at least 2 classes, got one class: {classes.tolist()[0]!r}"
                if len(classes) == 1
                else "a classifier needs at least 2 classes, got none"
            )
        self.classes_ = classes
        n_outputs = 1 if len(classes) == 2 else len(classes)
        self.network_ = nn.Network((self.n_features_in_, *hidden, n_outputs))
        self._run_seeds = _draw_run_seeds(self.random_state)
        self.params_ = nn.he_initialization(self.network_, self._run_seeds.init_seed)
        self._opt_state: OptState = None
        self._optimizer_name = self.optimizer
        self.n_iter_ = 0
        self.loss_curve_: list[float] = []

    def _check_can_continue(self, hidden: tuple[int, ...], classes: np.ndarray) -> None:
        """Refuse to continue a run whose architecture, classes or optimizer changed."""
        if hidden != self.network_.layer_sizes[1:-1]:
            raise ValueError(
                f"hidden_layer_sizes {hidden} differ from the fitted network's "
                f"{self.network_.layer_sizes[1:-1]}; fit afresh (warm_start=False)"
            )
        if not np.array_equal(classes, self.classes_):
            raise ValueError(
                f"y has classes {classes.tolist()!r}, the fitted estimator "
                f"{self.classes_.tolist()!r}; fit afresh (warm_start=False)"
            )
        if self.optimizer != self._optimizer_name:
            raise ValueError(
                f"optimizer {self.optimizer!r} differs from the one whose state would be "
                f"continued, {self._optimizer_name!r}; fit afresh (warm_start=False)"
            )

    def _train(self, X: np.ndarray, index: np.ndarray, optimizer: Optimizer, epochs: int) -> None:
        """``epochs`` more epochs of the engine on rows X whose classes are ``classes_[index]``.

        Y is what the network's output wants: the 0/1 row ``index`` for a sigmoid output, one
        one-hot column per example for softmax."""
        n_samples = X.shape[0]
        if self.network_.output == "sigmoid":
            Y = index[np.newaxis].astype(np.float64)
        else:
            Y = np.zeros((len(self.classes_), n_samples))
            Y[index, np.arange(n_samples)] = 1.0
        batch_size = None if self.batch_size is None else min(self.batch_size, n_samples)
        result = train(
            self.network_,
            np.ascontiguousarray(X.T),
            Y,
            optimizer,
            epochs=epochs,
            batch_size=batch_size,
            init_seed=self._run_seeds.init_seed,
            shuffle_seed=self._run_seeds.shuffle_seed,
            params=self.params_,
            opt_state=self._opt_state,
            start_epoch=self.n_iter_,
        )
        self.params_ = result.params
        self._opt_state = result.opt_state
        self.n_iter_ += epochs
        self.loss_curve_ = [*self.loss_curve_, *result.history.epoch_costs.tolist()]
        if result.diverged_epoch is not None:
            warnings.warn(
                f"training diverged at epoch {result.diverged_epoch}: the cost became NaN, "
                f"infinite or over 100 times its starting value; lower learning_rate "
                f"(now {self.learning_rate!r})",
                RuntimeWarning,
                stacklevel=3,
            )


def _class_indices(y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """The position of each label of y in the sorted ``classes``; a label outside them is a
    ValueError naming it."""
    try:
        index = np.searchsorted(classes, y)
        index[index == len(classes)] = 0
        unknown = classes[index] != y
    except TypeError:  # labels that do not even compare with the classes
        unknown = np.ones(len(y), dtype=bool)
    if np.any(unknown):
        raise ValueError(
            f"y contains {y[unknown].tolist()[0]!r}, which is not one of the classes "
            f"{classes.tolist()!r}"
        )
    return index


def _check_random_state(random_state: object) -> None:
    """None, an int >= 0 or a numpy RandomState; anything else is a ValueError."""
    if random_state is None or isinstance(random_state, np.random.RandomState):
        return
    if isinstance(random_state, bool) or not isinstance(random_state, int | np.integer):
        raise ValueError(
            f"random_state must be None, an integer >= 0 or a numpy RandomState, "
            f"got {random_state!r}"
        )
    check_int("random_state", random_state, minimum=0)


def _draw_run_seeds(random_state: int | np.random.RandomState | None) -> RunSeeds:
    """The run's initialisation and shuffle seeds (see ``DescentClassifier``'s random_state).

    None takes 128 fresh bits from the operating system (what ``SeedSequence()`` does), so
    numpy's global random state is neither read nor advanced
    (``sklearn.utils.check_random_state(None)`` would hand out that global state)."""
    _check_random_state(random_state)
    if random_state is None:
        return run_seeds(secrets.randbits(128))
    if isinstance(random_state, np.random.RandomState):
        return run_seeds(int(random_state.randint(2**31 - 1)))
    return run_seeds(int(random_state))
