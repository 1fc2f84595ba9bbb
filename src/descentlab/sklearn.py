"""A scikit-learn classifier over descentlab's one engine.

``DescentClassifier`` takes data as scikit-learn does, rows of shape (n_samples, n_features),
and hands it to ``descentlab.train.train`` with examples in columns. It adds no math: the
network is ``descentlab.nn.Network``, the optimizers come from ``descentlab.optim.get`` and
``fit``, ``partial_fit`` and warm starts all run the same training loop, continuing a run
from its parameters, optimizer state and epoch so that training in pieces equals training at
once, bit for bit.

It trains with the library's default engine (``descentlab.engines``): ``DESCENTLAB_ENGINE``
when set, else numpy, bit-exact with the course; it has no ``engine`` parameter (wrap ``fit``
in ``descentlab.engines.using("compiled")`` to ask for the compiled one).

This module imports scikit-learn at import time; nothing else in descentlab does. It runs past
400 lines because the estimator's parameter reference (about 130 lines of numpydoc, which
scikit-learn's tooling and IDEs read) lives in the class docstring.
"""

from __future__ import annotations

import numbers
import secrets
import warnings
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple, Self

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin  # type: ignore[import-untyped]
from sklearn.exceptions import ConvergenceWarning  # type: ignore[import-untyped]
from sklearn.utils.multiclass import (  # type: ignore[import-untyped]
    check_classification_targets,
)
from sklearn.utils.validation import (  # type: ignore[import-untyped]
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from descentlab import budget, nn, optim
from descentlab.optim import Optimizer, OptState
from descentlab.seeds import RunSeeds, run_seeds
from descentlab.train import train
from descentlab.validation import check_bool, check_epochs, check_int, check_nonnegative_float

DEFAULT_EPOCHS = 200
"""``DescentClassifier``'s most passes over the data per ``fit``, as MLPClassifier's
``max_iter``; training usually stops earlier (see ``n_iter_no_change``)."""

DEFAULT_N_ITER_NO_CHANGE = 10
"""MLPClassifier's ``n_iter_no_change``; also the window of the ConvergenceWarning when
stopping is turned off (``n_iter_no_change=None``)."""

AUTO_BATCH_ROWS = 200
"""``batch_size="auto"`` is min(200, n_samples) rows, as MLPClassifier's."""

INITIALIZATIONS: Mapping[str, Callable[[nn.Network, int], np.ndarray]] = MappingProxyType(
    {"glorot": nn.glorot_uniform_initialization, "he": nn.he_initialization}
)
"""``initialization`` names: MLPClassifier's Glorot uniform draw, or the course's He normal."""

COURSE_PARAMS: Mapping[str, Any] = MappingProxyType(
    {
        "hidden_layer_sizes": (5, 2),
        "learning_rate": 0.0007,
        "batch_size": 64,
        "epochs": 10000,
        "n_iter_no_change": None,
        "initialization": "he",
        "random_state": 0,
    }
)
"""The course's setup (``DescentClassifier.course``): its (5, 2) network, learning rate
0.0007, mini-batches of 64, 10000 epochs without early stopping, He initialisation and its
seeds."""


class DescentClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """A fully connected ReLU network trained by one of descentlab's optimizers.

    Two classes get one sigmoid output unit and binary cross-entropy; C > 2 classes get C
    softmax units and categorical cross-entropy. Each epoch shuffles the rows and cuts them
    into mini-batches of ``batch_size``. The defaults follow
    ``sklearn.neural_network.MLPClassifier()``: one hidden layer of 100 units, MLPClassifier's
    initial weights, adam at 0.001, mini-batches of min(200, n_samples), at most 200 epochs,
    stopping once the training loss stops improving by ``tol``. The course's setup is
    ``DescentClassifier.course()``.

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default=(100,)
        The width of each hidden layer (an int is one layer); the network is
        ``(n_features, *hidden_layer_sizes, n_outputs)``. ``()`` gives logistic (softmax)
        regression.
    optimizer : str, default="adam"
        A registered optimizer: one of ``descentlab.optim.names("estimator")``, each described
        in one line by ``descentlab.optim.summaries("estimator")`` and in full by its factory's
        docstring in ``descentlab.optim``.
    learning_rate : float or callable, default=0.001
        The step size, > 0, or a schedule: a function of the optimizer's update count (see
        ``descentlab.schedules``).
    batch_size : "auto", int or None, default="auto"
        Rows per mini-batch: "auto" is min(200, n_samples), as MLPClassifier's; an int >= 1
        is clipped to the number of rows; ``None`` trains on all rows at once (batch gradient
        descent); 1 is stochastic gradient descent. A full-batch optimizer (``lbfgs``) takes
        "auto" as ``None`` and refuses an int.
    epochs : int, default=200
        The most passes over the data per ``fit``, >= 1 (MLPClassifier's ``max_iter``).
        ``partial_fit`` always makes one.
    tol : float, default=1e-4
        The improvement of the training loss that counts, >= 0 (see ``n_iter_no_change``).
    n_iter_no_change : int or None, default=10
        MLPClassifier's stopping rule on the training loss. After each epoch with loss L
        (``loss_curve_[-1]``): if L > ``best_loss_`` - tol (or L is NaN) a counter goes up by
        one, else it is reset to 0; then ``best_loss_`` becomes min(best_loss_, L). ``fit``
        stops after the epoch at which the counter exceeds ``n_iter_no_change``, that is after
        n_iter_no_change + 1 epochs in a row without an improvement of more than ``tol`` on
        the best loss before them. The counter and ``best_loss_`` carry over to a
        ``warm_start`` fit and through ``partial_fit``, which never stops (it makes one
        epoch). ``None`` turns stopping off: ``fit`` trains exactly ``epochs`` epochs.
    initialization : {"glorot", "he"}, default="glorot"
        How the weights start (see ``random_state`` for the seed). "glorot":
        ``descentlab.nn.glorot_uniform_initialization``, MLPClassifier's draw (weights and
        biases uniform in +-sqrt(6 / (n_in + n_out))), equal to MLPClassifier's initial
        weights for the same RandomState seed. "he": ``descentlab.nn.he_initialization``, the
        course's (weights normal with standard deviation sqrt(2 / n_in), biases 0).
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
        When True, ``fit`` on a fitted estimator trains up to ``epochs`` more epochs from
        where the last ``fit`` or ``partial_fit`` stopped (parameters, optimizer state, epoch
        count and stopping counter) instead of starting afresh; the data must have the same
        features and classes.

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
        The trained weights in one flat float64 buffer laid out W1, b1, W2, b2, ...: the
        parameters, or the weights the optimizer reports instead (``asgd``'s average,
        schedule-free's x; see docs/optimizers.md)
        (``network_.layers(params_)`` gives the ``(W, b)`` of each layer, W of shape
        (n_out, n_in)).
    n_iter_ : int
        Epochs trained since the weights were initialised.
    loss_curve_ : list of float
        The training loss of each of those epochs, measured during the epoch (every
        mini-batch before its update), as ``descentlab.history.History.epoch_costs``: the
        mean cross-entropy, or with ``sample_weight`` the weighted mean
        sum_i w_i L_i / sum_i w_i over the epoch's rows.
    best_loss_ : float
        The lowest of ``loss_curve_`` (inf before the first epoch), the yardstick of
        ``n_iter_no_change``.

    See Also
    --------
    descentlab.train.train : The training loop this estimator runs.
    sklearn.neural_network.MLPClassifier : scikit-learn's own network classifier.

    Notes
    -----
    The update rules are the docstrings of ``descentlab.optim``. Unlike MLPClassifier there is
    no L2 penalty (MLPClassifier's ``alpha=1e-4``) unless the optimizer has one
    (``weight_decay``) and no validation-based ``early_stopping``. A run whose cost becomes
    NaN, infinite or 100 times its starting value warns with a RuntimeWarning; lower the
    learning rate.

    ``fit`` warns with ``sklearn.exceptions.ConvergenceWarning`` when it has trained all its
    ``epochs`` without the stopping rule of ``n_iter_no_change`` firing: MLPClassifier's
    rule, "maximum iterations reached". With ``n_iter_no_change=None`` it warns when the
    rule's counter (with a window of 10) is at most 10 at the end: the loss beat its best by
    more than ``tol`` in one of the last 11 epochs. ``partial_fit`` never warns.

    The course's "Optimization Methods" setup is one call away: ``DescentClassifier.course()``
    is ``DescentClassifier(hidden_layer_sizes=(5, 2), learning_rate=0.0007, batch_size=64,
    epochs=10000, n_iter_no_change=None, initialization="he", random_state=0)``; fitted on
    the course's moons it reproduces the course's published numbers bit for bit.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from descentlab.sklearn import DescentClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> model = make_pipeline(StandardScaler(), DescentClassifier(random_state=1))
    >>> model.fit(X, y).score(X, y) > 0.95
    True
    """

    def __init__(
        self,
        hidden_layer_sizes: int | Sequence[int] = (100,),
        optimizer: str = "adam",
        learning_rate: float | Callable[[int], float] = 0.001,
        batch_size: int | str | None = "auto",
        epochs: int = DEFAULT_EPOCHS,
        tol: float = 1e-4,
        n_iter_no_change: int | None = DEFAULT_N_ITER_NO_CHANGE,
        initialization: str = "glorot",
        random_state: int | np.random.RandomState | None = None,
        optimizer_params: Mapping[str, Any] | None = None,
        warm_start: bool = False,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.epochs = epochs
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.initialization = initialization
        self.random_state = random_state
        self.optimizer_params = optimizer_params
        self.warm_start = warm_start

    @classmethod
    def course(cls, optimizer: str = "adam", **params: Any) -> Self:
        """The course's setup: ``cls(optimizer=optimizer, **COURSE_PARAMS, **params)``.

        That is ``DescentClassifier(hidden_layer_sizes=(5, 2), optimizer=optimizer,
        learning_rate=0.0007, batch_size=64, epochs=10000, n_iter_no_change=None,
        initialization="he", random_state=0)``: the course's network, rate and mini-batches,
        10000 epochs without early stopping, He initialisation from ``RandomState(3)`` and
        epoch e shuffled with ``RandomState(11 + e)``. With "gd", "momentum" or "adam", fitted
        on the course's moons (``descentlab.datasets.moons()``, rows ``X.T``), it trains
        exactly the parameters of ``descentlab.course.model``. ``params`` override any of
        these."""
        return cls(**{**COURSE_PARAMS, "optimizer": optimizer, **params})

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Self:
        """Train up to ``epochs`` epochs (fewer when ``n_iter_no_change`` stops it): from fresh
        weights, or, with ``warm_start`` on a fitted estimator, from where training stopped.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels (numbers, strings or booleans); at least two distinct ones.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows: finite, >= 0, not all 0. Each mini-batch then minimises the
            weighted mean loss sum_i w_i L_i / sum_i w_i over its rows, as MLPClassifier
            (scikit-learn >= 1.7) does (a mini-batch whose weights sum to 0 gives a zero
            gradient). None weighs every row equally and runs the unweighted arithmetic.

        Returns
        -------
        self : DescentClassifier
            The fitted estimator.
        """
        settings = self._checked_params()
        continuing = self.warm_start and hasattr(self, "classes_")
        X, y = validate_data(self, X, y, dtype=np.float64, reset=not continuing)
        check_classification_targets(y)
        weights = _checked_sample_weight(sample_weight, X)
        classes = np.unique(y)
        self._check_memory(X, classes, settings, settings.epochs)
        if continuing:
            self._check_can_continue(settings.hidden, classes)
        else:
            self._initialise(settings.hidden, classes)
        ran = self._train(X, _class_indices(y, self.classes_), settings, weights, fit=True)
        if ran == settings.epochs and self._no_improvement_count <= settings.window:
            warnings.warn(
                f"DescentClassifier trained all {ran} epochs (epochs={settings.epochs}) and "
                f"the training loss was still improving by more than tol={settings.tol!r}: "
                f"it has not converged; raise epochs",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def partial_fit(self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None) -> Self:
        """Train one epoch on (X, y), continuing from the current state.

        Calling it E times on the same data equals ``fit`` with ``epochs=E`` (same
        ``random_state``, ``n_iter_no_change=None`` or a fit that did not stop early), bit
        for bit; it also continues after ``fit``. It updates the stopping counter and
        ``best_loss_`` but never stops or warns.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels, each one of ``classes``.
        classes : array-like of shape (n_classes,), default=None
            Every class that will ever appear in y. Required on the first call (when the
            estimator is not fitted yet); later it may be omitted or must equal ``classes_``.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows, as in ``fit``.

        Returns
        -------
        self : DescentClassifier
            The fitted estimator.
        """
        settings = self._checked_params()
        first_call = not hasattr(self, "classes_")
        if first_call and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit")
        X, y = validate_data(self, X, y, dtype=np.float64, reset=first_call)
        check_classification_targets(y)
        weights = _checked_sample_weight(sample_weight, X)
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
        self._check_memory(X, classes, settings, 1)
        if first_call:
            self._initialise(settings.hidden, classes)
        else:
            self._check_can_continue(settings.hidden, classes)
        self._train(X, index, settings, weights, fit=False)
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

    def _checked_params(self) -> _Settings:
        """Every constructor argument validated (each error names the value)."""
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
        choices = optim.names("estimator")
        if not isinstance(self.optimizer, str) or self.optimizer.split(":")[0] not in choices:
            raise ValueError(
                f"optimizer must be one of {', '.join(choices)} (a wrapper as WRAPPER:INNER, "
                f"e.g. lookahead:adam); got {self.optimizer!r}"
            )
        optim.check_name(self.optimizer, "estimator")  # a wrapper's parts
        extra = {} if self.optimizer_params is None else self.optimizer_params
        if not isinstance(extra, Mapping):
            raise ValueError(f"optimizer_params must be a dict or None, got {extra!r}")
        if "learning_rate" in extra:
            raise ValueError(
                "optimizer_params must not set learning_rate; use the learning_rate parameter"
            )
        optimizer = optim.get(self.optimizer, learning_rate=self.learning_rate, **extra)
        if isinstance(self.batch_size, str):
            if self.batch_size != "auto":
                raise ValueError(
                    f"batch_size must be 'auto', None or an integer >= 1, got {self.batch_size!r}"
                )
        elif self.batch_size is not None:
            check_int("batch_size", self.batch_size, minimum=1)
            optim.check_full_batch([self.optimizer], self.batch_size)
        epochs = check_epochs(self.epochs)
        tol = check_nonnegative_float("tol", self.tol)
        stop_after = self.n_iter_no_change
        if stop_after is not None:
            stop_after = check_int("n_iter_no_change", stop_after, minimum=1)
        if not isinstance(self.initialization, str) or self.initialization not in INITIALIZATIONS:
            raise ValueError(
                f"initialization must be one of {', '.join(INITIALIZATIONS)}; "
                f"got {self.initialization!r}"
            )
        check_bool("warm_start", self.warm_start)
        _check_random_state(self.random_state)
        return _Settings(hidden, optimizer, epochs, tol, stop_after)

    def _check_memory(
        self, X: np.ndarray, classes: np.ndarray, settings: _Settings, epochs: int
    ) -> None:
        """Refuse, before any weight is allocated, a fit whose memory estimate exceeds what
        this process may allocate (``descentlab.budget``, as ``train`` does)."""
        n_outputs = 1 if len(classes) <= 2 else len(classes)
        batch = AUTO_BATCH_ROWS if isinstance(self.batch_size, str) else self.batch_size
        budget.check(
            budget.training_estimate(
                (X.shape[1], *settings.hidden, n_outputs),
                X.shape[0],
                batch,
                epochs,
                [budget.state_arrays(settings.optimizer)],
            )
        )

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
        initialise = INITIALIZATIONS[self.initialization]
        self.params_ = initialise(self.network_, self._run_seeds.init_seed)
        # What training continues from: params_ unless the optimizer reports other weights
        # (ASGD's average, schedule-free's x), which params_ then holds.
        self._training_params = self.params_
        self._opt_state: OptState = None
        self._optimizer_name = self.optimizer
        self.n_iter_ = 0
        self.loss_curve_: list[float] = []
        self.best_loss_ = np.inf
        self._no_improvement_count = 0

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

    def _train(
        self,
        X: np.ndarray,
        index: np.ndarray,
        settings: _Settings,
        sample_weight: np.ndarray | None,
        *,
        fit: bool,
    ) -> int:
        """More epochs of the engine on rows X whose classes are ``classes_[index]``: up to
        ``settings.epochs`` for ``fit`` (stopping by ``n_iter_no_change``), one otherwise.
        Returns the number of epochs run.

        Y is what the network's output wants: the 0/1 row ``index`` for a sigmoid output, one
        one-hot column per example for softmax."""
        n_samples = X.shape[0]
        if self.network_.output == "sigmoid":
            Y = index[np.newaxis].astype(np.float64)
        else:
            Y = np.zeros((len(self.classes_), n_samples))
            Y[index, np.arange(n_samples)] = 1.0
        if isinstance(self.batch_size, str) and "full_batch" in settings.optimizer.needs:
            batch_size: int | None = None  # "auto" for L-BFGS, as MLPClassifier's lbfgs
        elif isinstance(self.batch_size, str):  # "auto"
            batch_size = min(AUTO_BATCH_ROWS, n_samples)
        else:
            batch_size = None if self.batch_size is None else min(self.batch_size, n_samples)
        tol, stop_after = settings.tol, settings.n_iter_no_change

        def count_no_improvement(epoch: int, loss: float) -> None:
            """MLPClassifier's ``_update_no_improvement_count`` on the training loss."""
            if loss <= self.best_loss_ - tol:
                self._no_improvement_count = 0
            else:  # no improvement of more than tol, or NaN
                self._no_improvement_count += 1
            if loss < self.best_loss_:
                self.best_loss_ = loss

        def no_improvement_for_long(epoch: int, params: np.ndarray) -> bool:
            return stop_after is not None and self._no_improvement_count > stop_after

        result = train(
            self.network_,
            np.ascontiguousarray(X.T),
            Y,
            settings.optimizer,
            epochs=settings.epochs if fit else 1,
            batch_size=batch_size,
            init_seed=self._run_seeds.init_seed,
            shuffle_seed=self._run_seeds.shuffle_seed,
            params=self._training_params,
            opt_state=self._opt_state,
            start_epoch=self.n_iter_,
            on_epoch_end=count_no_improvement,
            should_stop=no_improvement_for_long if fit else None,
            sample_weight=sample_weight,
        )
        ran = len(result.history.epoch_costs)
        self._training_params = result.params
        self.params_ = result.weights
        self._opt_state = result.opt_state
        self.n_iter_ += ran
        self.loss_curve_ = [*self.loss_curve_, *result.history.epoch_costs.tolist()]
        if result.diverged_epoch is not None:
            warnings.warn(
                f"training diverged at epoch {result.diverged_epoch}: the cost became NaN, "
                f"infinite or over 100 times its starting value; lower learning_rate "
                f"(now {self.learning_rate!r})",
                RuntimeWarning,
                stacklevel=3,
            )
        return ran


class _Settings(NamedTuple):
    """The constructor arguments of a fit, validated."""

    hidden: tuple[int, ...]
    optimizer: Optimizer
    epochs: int
    tol: float
    n_iter_no_change: int | None

    @property
    def window(self) -> int:
        """The stopping rule's window, also that of the ConvergenceWarning."""
        return DEFAULT_N_ITER_NO_CHANGE if self.n_iter_no_change is None else self.n_iter_no_change


def _checked_sample_weight(sample_weight: Any, X: np.ndarray) -> np.ndarray | None:
    """None, or the weights as float64 of shape (n_samples,): scikit-learn's own check
    (shape, finite, >= 0, not all 0), with its one-line messages."""
    if sample_weight is None:
        return None
    weights: np.ndarray = _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True
    )
    return weights


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
