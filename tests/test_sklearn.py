from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.datasets import load_digits, load_iris, make_blobs, make_moons
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    cross_val_score,
    train_test_split,
)
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from descentlab import course, datasets, losses, nn, optim
from descentlab.sklearn import DescentClassifier
from descentlab.train import RunGroup, train, train_stack
from helpers import assert_same_random_state, full_batch, global_random_state

# ConvergenceWarning is the subject of its own tests below (pytest.warns and
# simplefilter("error") override this); elsewhere short fits would only add noise.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@parametrize_with_checks(
    [
        DescentClassifier(),
        DescentClassifier(hidden_layer_sizes=(16,), initialization="he", n_iter_no_change=None),
    ]
)
def test_scikit_learn_estimator_checks(
    estimator: DescentClassifier, check: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every check passes with the defaults: no expected failures are declared."""
    # check_array_api_input (NumPy namespace: "enabling array API dispatch changes nothing")
    # skips itself unless SCIPY_ARRAY_API is set. It reads the variable when it runs; scipy
    # reads it at import, which only matters for non-NumPy arrays, which this check never uses.
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    check(estimator)


def _blobs(n_classes: int, n_samples: int = 120) -> tuple[np.ndarray, np.ndarray]:
    X, y = make_blobs(n_samples=n_samples, centers=n_classes, cluster_std=1.0, random_state=1)
    return StandardScaler().fit_transform(X), y


SETTINGS_THAT_LEARN: dict[str, dict[str, Any]] = {
    "gd": {"learning_rate": 0.1},
    "sgd": {"learning_rate": 0.1},
    # Rprop's steps grow to step_size_max (50 by default) whatever the mini-batch: capped here
    "rprop": {"learning_rate": 0.01, "optimizer_params": {"step_size_max": 0.1}},
    # a quasi-Newton step: learning rates near 1 (0.01 moves its 20 inner iterations little)
    "lbfgs": {"learning_rate": 0.5},
}
OPTIMIZERS_UNDER_TEST = [
    (name, SETTINGS_THAT_LEARN.get(name, {"learning_rate": 0.01}))
    for name in optim.runnable_names("estimator")
]


@pytest.mark.filterwarnings("error::RuntimeWarning")  # a diverged run would prove little
@pytest.mark.parametrize(("name", "kwargs"), OPTIMIZERS_UNDER_TEST)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_partial_fit_and_warm_start_equal_fit(
    name: str, kwargs: dict[str, Any], n_classes: int
) -> None:
    X, y = _blobs(n_classes)
    batch_size = None if full_batch(name) else 32  # lbfgs: the whole set in every batch
    settings = dict(
        optimizer=name, hidden_layer_sizes=(8, 4), batch_size=batch_size, random_state=5
    )
    whole = DescentClassifier(epochs=6, **settings, **kwargs).fit(X, y)

    pieces = DescentClassifier(epochs=99, **settings, **kwargs)
    pieces.partial_fit(X, y, classes=np.unique(y))
    for _ in range(5):
        pieces.partial_fit(X, y)

    warm = DescentClassifier(epochs=2, warm_start=True, **settings, **kwargs).fit(X, y)
    warm.set_params(epochs=3).fit(X, y)  # continues: 5 epochs so far
    warm.partial_fit(X, y)  # and one more

    for other in (pieces, warm):
        assert np.array_equal(other.params_, whole.params_)
        assert other.loss_curve_ == whole.loss_curve_
        assert other.n_iter_ == whole.n_iter_ == 6


@pytest.mark.parametrize("n_classes", [2, 3])
def test_same_engine_as_train(n_classes: int) -> None:
    """random_state=0 is the course's protocol, and the estimator is the engine on rows."""
    if n_classes == 2:
        data = datasets.moons()
        X, y = data.X.T, data.Y[0].astype(np.int64)
    else:
        X, y = _blobs(3)
    classifier = DescentClassifier.course(epochs=25).fit(X, y)
    network = nn.Network((2, 5, 2, 1 if n_classes == 2 else 3))
    Y = y[np.newaxis].astype(float) if n_classes == 2 else np.eye(3)[y].T
    expected = train(
        network, X.T, Y, optim.get("adam", learning_rate=0.0007), epochs=25, batch_size=64
    )
    assert classifier.network_ == network
    assert np.array_equal(classifier.params_, expected.params)
    assert classifier.loss_curve_ == expected.history.epoch_costs.tolist()
    assert np.array_equal(
        classifier.predict(X),
        classifier.classes_[nn.predict_classes(network, expected.params, X.T)],
    )


def test_batch_size_larger_than_the_data_is_one_full_batch() -> None:
    X, y = _blobs(2, n_samples=50)
    settings = dict(hidden_layer_sizes=(4,), epochs=5, random_state=3)
    clipped = DescentClassifier(batch_size=1000, **settings).fit(X, y)
    full = DescentClassifier(batch_size=None, **settings).fit(X, y)
    assert np.array_equal(clipped.params_, full.params_)


@pytest.mark.parametrize(
    ("hidden_layer_sizes", "layer_sizes"),
    [(16, (2, 16, 3)), (np.array([6, 4]), (2, 6, 4, 3)), ((), (2, 3)), ([], (2, 3))],
)
def test_hidden_layer_sizes_forms(hidden_layer_sizes: Any, layer_sizes: tuple[int, ...]) -> None:
    X, y = _blobs(3)
    classifier = DescentClassifier(hidden_layer_sizes, epochs=2, random_state=1).fit(X, y)
    assert classifier.network_.layer_sizes == layer_sizes
    assert classifier.hidden_layer_sizes is hidden_layer_sizes


def test_pipeline_and_grid_search_over_learning_rate() -> None:
    X, y = make_moons(n_samples=200, noise=0.2, random_state=0)
    pipeline = make_pipeline(
        StandardScaler(), DescentClassifier(hidden_layer_sizes=(16,), epochs=40, random_state=1)
    )
    grid = {"descentclassifier__learning_rate": [0.0007, 0.03]}
    search = GridSearchCV(pipeline, grid, cv=3).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert search.best_params_ == {"descentclassifier__learning_rate": 0.03}
    assert scores[1] > scores[0] and search.best_score_ > 0.85
    assert search.best_estimator_[-1].learning_rate == 0.03
    assert search.score(X, y) > 0.85
    assert pipeline[-1].learning_rate == 0.001 and not hasattr(pipeline[-1], "params_")


@pytest.mark.parametrize(
    "labels",
    [
        ["cat", "dog"],
        ["cat", "dog", "emu"],
        np.array(["no", "yes"], dtype=object),
        [False, True],
        [-7, 3, 40],
        [1.0, 3.0],
    ],
    ids=["str-2", "str-3", "object", "bool", "int", "float"],
)
def test_labels_of_any_type_round_trip(labels: Any) -> None:
    labels = np.asarray(labels)
    X, index = _blobs(len(labels))
    y = labels[index]
    classifier = DescentClassifier(hidden_layer_sizes=(16,), learning_rate=0.01, random_state=2)
    predicted = classifier.fit(X, y).predict(X)
    assert np.array_equal(classifier.classes_, np.unique(labels))
    assert predicted.dtype == classifier.classes_.dtype
    assert set(predicted.tolist()) <= set(labels.tolist())
    assert classifier.score(X, y) > 0.9
    assert classifier.network_.output == ("sigmoid" if len(labels) == 2 else "softmax")


@pytest.mark.parametrize("n_classes", [2, 3, 5])
def test_predict_proba_rows_sum_to_one_and_agree_with_predict(n_classes: int) -> None:
    X, y = _blobs(n_classes)
    classifier = DescentClassifier(hidden_layer_sizes=(8,), epochs=20, random_state=4).fit(X, y)
    probabilities = classifier.predict_proba(X)
    assert probabilities.shape == (len(X), n_classes)
    assert np.all(probabilities >= 0) and np.all(probabilities <= 1)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    predicted = classifier.predict(X)
    assert np.array_equal(classifier.classes_[probabilities.argmax(axis=1)], predicted)


def test_int_random_state_is_deterministic_and_none_is_not() -> None:
    X, y = _blobs(3)
    first = DescentClassifier(epochs=5, random_state=11).fit(X, y)
    again = clone(first).fit(X, y)
    refit = first.fit(X, y).params_.copy()
    other = DescentClassifier(epochs=5, random_state=12).fit(X, y)
    assert np.array_equal(again.params_, first.params_) and np.array_equal(refit, again.params_)
    assert not np.array_equal(other.params_, first.params_)
    fresh = DescentClassifier(epochs=5)
    assert not np.array_equal(fresh.fit(X, y).params_.copy(), fresh.fit(X, y).params_)


def test_numpy_global_random_state_is_never_touched() -> None:
    X, y = _blobs(3)
    np.random.seed(1234)  # noqa: NPY002 (a known global state to compare against)
    before = global_random_state()
    for random_state in (None, 0, 8, np.random.RandomState(3)):
        classifier = DescentClassifier(epochs=3, random_state=random_state).fit(X, y)
        classifier.partial_fit(X, y)
        classifier.predict(X)
        classifier.predict_proba(X)
        classifier.score(X, y)
        DescentClassifier(epochs=3, random_state=random_state).partial_fit(X, y, classes=[0, 1, 2])
    assert_same_random_state(before, global_random_state())


def test_digits_held_out_accuracy_with_the_defaults() -> None:
    """The README's example: DescentClassifier() in a pipeline on digits, 98% held out."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, random_state=0, stratify=y, test_size=0.25
    )
    for random_state in range(2):
        model = make_pipeline(StandardScaler(), DescentClassifier(random_state=random_state))
        assert model.fit(X_train, y_train).score(X_test, y_test) >= 0.96


def test_feature_names_in_from_a_dataframe() -> None:
    pd = pytest.importorskip("pandas")
    X, y = _blobs(2)
    frame = pd.DataFrame(X, columns=["width", "height"])
    classifier = DescentClassifier(epochs=2, random_state=1).fit(frame, y)
    assert classifier.feature_names_in_.tolist() == ["width", "height"]
    with pytest.warns(UserWarning, match="feature names"):
        classifier.predict(X)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"hidden_layer_sizes": (5, 0)}, "hidden layer size must be an integer >= 1, got 0"),
        ({"hidden_layer_sizes": "5"}, "hidden_layer_sizes must be an integer or a .* got '5'"),
        ({"hidden_layer_sizes": 0}, "hidden layer size must be an integer >= 1, got 0"),
        ({"optimizer": "nesterov"}, "optimizer must be one of gd, .*; got 'nesterov'"),
        ({"learning_rate": -1.0}, "learning_rate must be a finite number > 0, got -1.0"),
        ({"batch_size": 0}, "batch_size must be an integer >= 1, got 0"),
        ({"batch_size": "all"}, "batch_size must be 'auto', None or an integer >= 1, got 'all'"),
        ({"tol": -1e-4}, "tol must be a finite number >= 0, got -0.0001"),
        ({"n_iter_no_change": 0}, "n_iter_no_change must be an integer >= 1, got 0"),
        ({"initialization": "xavier"}, "initialization must be one of glorot, he; got 'xavier'"),
        ({"epochs": 0}, "epochs must be an integer >= 1, got 0"),
        ({"epochs": 2.5}, "epochs must be an integer >= 1, got 2.5"),
        ({"random_state": -1}, "random_state must be an integer >= 0, got -1"),
        ({"random_state": "x"}, "random_state must be None, an integer >= 0 .* got 'x'"),
        ({"optimizer_params": {"learning_rate": 1}}, "must not set learning_rate"),
        ({"optimizer_params": {"bogus": 1}}, "unknown hyperparameter 'bogus'"),
        ({"optimizer_params": {"beta1": 1.5}}, "beta1 must be a number in \\[0, 1\\), got 1.5"),
        ({"warm_start": 1}, "warm_start must be True or False, got 1"),
        ({"optimizer": "lookahead"}, "lookahead wraps another optimizer: name it lookahead:INNER"),
        ({"optimizer": "sam:nope"}, "unknown optimizer 'nope'; choose one of: gd, "),
        ({"optimizer": "adam:sgd"}, "optimizer 'adam' wraps no other optimizer"),
        (
            {"optimizer": "lookahead:adam", "optimizer_params": {"radius": 0.1}},
            "unknown hyperparameter 'radius' for optimizer 'lookahead:adam'",
        ),
    ],
)
def test_bad_parameters_are_refused_in_fit_naming_the_value(
    params: dict[str, Any], message: str
) -> None:
    X, y = _blobs(2, n_samples=20)
    classifier = DescentClassifier(**params)  # stored as given; checked when fitting
    assert classifier.get_params()[next(iter(params))] is next(iter(params.values()))
    with pytest.raises(ValueError, match=message):
        classifier.fit(X, y)
    with pytest.raises(ValueError, match=message):
        clone(classifier).partial_fit(X, y, classes=[0, 1])


def test_bad_data_and_incompatible_continuations_are_refused() -> None:
    X, y = _blobs(3, n_samples=30)
    with pytest.raises(ValueError, match="at least 2 classes, got one class: 'a'"):
        DescentClassifier().fit(X, ["a"] * 30)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        DescentClassifier().partial_fit(X, y)
    unfitted = DescentClassifier()
    with pytest.raises(
        ValueError, match="y contains 2, which is not one of the classes \\[0, 1\\]"
    ):
        unfitted.partial_fit(X, y, classes=[0, 1])
    with pytest.raises(NotFittedError):
        unfitted.predict(X)
    classifier = DescentClassifier(epochs=1, random_state=1).partial_fit(X, y, classes=[0, 1, 2, 3])
    with pytest.raises(ValueError, match="y contains 7, which is not one of the classes"):
        classifier.partial_fit(X, np.full(30, 7))
    with pytest.raises(ValueError, match="not the same as on the first call"):
        classifier.partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="X has 3 features, but DescentClassifier is expecting 2"):
        classifier.partial_fit(np.hstack([X, X[:, :1]]), y)
    warm = DescentClassifier(epochs=1, warm_start=True, random_state=1).fit(X, y)
    with pytest.raises(ValueError, match="y has classes \\[0, 1\\], the fitted estimator"):
        warm.fit(X[y < 2], y[y < 2])
    with pytest.raises(ValueError, match="hidden_layer_sizes \\(3,\\) differ"):
        warm.set_params(hidden_layer_sizes=(3,)).fit(X, y)
    with pytest.raises(ValueError, match="optimizer 'gd' differs"):
        warm.set_params(hidden_layer_sizes=(100,), optimizer="gd").fit(X, y)
    # Without warm_start every fit starts afresh, whatever changed.
    assert warm.set_params(warm_start=False).fit(X[y < 2], y[y < 2]).n_iter_ == 1


def test_a_diverging_run_warns() -> None:
    X, y = _blobs(2)
    classifier = DescentClassifier((8,), optimizer="gd", learning_rate=100.0, random_state=1)
    with pytest.warns(
        RuntimeWarning, match=r"training diverged at epoch \d+: .* lower learning_rate"
    ):
        classifier.fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        DescentClassifier(epochs=3, random_state=1).fit(X, y)


# --- the defaults: MLPClassifier's; the course one call away ------------------------------


def test_defaults_are_mlpclassifiers() -> None:
    ours = DescentClassifier().get_params()
    theirs = MLPClassifier().get_params()
    assert ours["hidden_layer_sizes"] == theirs["hidden_layer_sizes"] == (100,)
    assert ours["optimizer"] == theirs["solver"] == "adam"
    assert ours["learning_rate"] == theirs["learning_rate_init"] == 0.001
    assert ours["batch_size"] == theirs["batch_size"] == "auto"
    assert ours["epochs"] == theirs["max_iter"] == 200
    assert ours["tol"] == theirs["tol"] == 1e-4
    assert ours["n_iter_no_change"] == theirs["n_iter_no_change"] == 10
    assert ours["initialization"] == "glorot"


@pytest.mark.parametrize("layer_sizes", [(4, 7, 1), (3, 6, 5, 4)])
def test_glorot_initialization_is_mlpclassifiers_draw(layer_sizes: tuple[int, ...]) -> None:
    """The same RandomState seed gives MLPClassifier's initial weights, bit for bit
    (``MLPClassifier._init_coef``, called layer by layer as its ``_initialize`` does)."""
    network = nn.Network(layer_sizes)
    params = nn.glorot_uniform_initialization(network, seed=7)
    mlp = MLPClassifier()  # activation "relu": bound sqrt(6 / (fan_in + fan_out))
    mlp._random_state = np.random.RandomState(7)
    for (W, b), fan_in, fan_out in zip(
        network.layers(params), layer_sizes[:-1], layer_sizes[1:], strict=True
    ):
        coef, intercept = mlp._init_coef(fan_in, fan_out, np.float64)
        assert np.array_equal(W, coef.T) and np.array_equal(b[:, 0], intercept)


def test_batch_size_auto_is_min_200_rows() -> None:
    X, y = _blobs(3, n_samples=450)
    settings = dict(hidden_layer_sizes=(4,), epochs=2, random_state=3)
    auto = DescentClassifier(**settings).fit(X, y)
    assert np.array_equal(
        auto.params_, DescentClassifier(batch_size=200, **settings).fit(X, y).params_
    )
    X, y = X[:150], y[:150]
    auto = DescentClassifier(**settings).fit(X, y)
    assert np.array_equal(
        auto.params_, DescentClassifier(batch_size=None, **settings).fit(X, y).params_
    )


def test_course_setup_is_one_call_and_trains_the_courses_model() -> None:
    assert (
        DescentClassifier.course("momentum").get_params()
        == DescentClassifier(
            hidden_layer_sizes=(5, 2),
            optimizer="momentum",
            learning_rate=0.0007,
            batch_size=64,
            epochs=10000,
            n_iter_no_change=None,
            initialization="he",
            random_state=0,
        ).get_params()
    )
    data = datasets.moons()
    X, y = data.X.T, data.Y[0].astype(np.int64)
    for name in ("gd", "momentum", "adam"):
        classifier = DescentClassifier.course(name, epochs=30).fit(X, y)
        parameters = course.model(
            data.X, data.Y, [2, 5, 2, 1], name, num_epochs=30, print_cost=False
        )
        for index, (W, b) in enumerate(classifier.network_.layers(classifier.params_), start=1):
            assert np.array_equal(W, parameters[f"W{index}"])
            assert np.array_equal(b, parameters[f"b{index}"])


@pytest.mark.slow
def test_course_setup_reproduces_the_published_accuracies() -> None:
    published = json.loads(
        (Path(__file__).parent / "fixtures" / "published_comparison.json").read_text()
    )["train_accuracy"]
    data = datasets.moons()
    X, y = data.X.T, data.Y[0].astype(np.int64)
    for name in ("gd", "momentum", "adam"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the course's 10000 epochs: no ConvergenceWarning
            classifier = DescentClassifier.course(name).fit(X, y)
        assert int(np.sum(classifier.predict(X) == y)) == published[name]["correct"]
        assert classifier.n_iter_ == 10000


def test_default_cross_validated_accuracy_on_iris_and_digits() -> None:
    """DescentClassifier() as a user fits it: iris >= 0.9 and digits >= 0.95 under 5-fold CV
    (docs/sklearn.md: 0.947 and 0.972, MLPClassifier() 0.947 and 0.977)."""
    for loader, bar in ((load_iris, 0.9), (load_digits, 0.95)):
        X, y = loader(return_X_y=True)
        folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
        model = make_pipeline(StandardScaler(), DescentClassifier(random_state=0))
        assert cross_val_score(model, X, y, cv=folds).mean() >= bar


# --- stopping and ConvergenceWarning: MLPClassifier's rule -----------------------------------


def _stop_epoch(losses: list[float], tol: float, n_iter_no_change: int) -> int | None:
    """MLPClassifier's ``_update_no_improvement_count`` recomputed: the first epoch after
    which the count of epochs without an improvement of more than tol exceeds n."""
    best, count = np.inf, 0
    for epoch, loss in enumerate(losses):
        count = count + 1 if loss > best - tol else 0
        best = min(best, loss)
        if count > n_iter_no_change:
            return epoch
    return None


def test_fit_stops_by_mlpclassifiers_rule_and_then_does_not_warn() -> None:
    X, y = _blobs(3)
    whole = DescentClassifier(learning_rate=0.01, n_iter_no_change=None, random_state=0)
    whole.fit(X, y)
    stop = _stop_epoch(whole.loss_curve_, 1e-4, 10)
    assert stop is not None and stop < 199
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stopped = DescentClassifier(learning_rate=0.01, random_state=0).fit(X, y)
    assert stopped.n_iter_ == stop + 1 == len(stopped.loss_curve_)
    assert stopped.loss_curve_ == whole.loss_curve_[: stop + 1]
    assert stopped.best_loss_ == min(stopped.loss_curve_)
    # A looser tol stops sooner, a longer patience later.
    assert DescentClassifier(learning_rate=0.01, tol=1e-2, random_state=0).fit(X, y).n_iter_ < (
        stop + 1
    )
    patient = DescentClassifier(learning_rate=0.01, n_iter_no_change=30, random_state=0)
    assert patient.fit(X, y).n_iter_ == _stop_epoch(whole.loss_curve_, 1e-4, 30) + 1


def test_a_fit_that_runs_out_of_epochs_warns() -> None:
    X, y = _blobs(3)
    with pytest.warns(
        ConvergenceWarning, match=r"trained all 5 epochs \(epochs=5\) .* raise epochs"
    ):
        DescentClassifier(epochs=5, random_state=0).fit(X, y)
    # Without stopping it warns while the loss still beats its best by tol within 11 epochs.
    with pytest.warns(ConvergenceWarning, match="trained all 20 epochs"):
        DescentClassifier(epochs=20, n_iter_no_change=None, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DescentClassifier(epochs=5, random_state=0).partial_fit(X, y, classes=[0, 1, 2])
        converged = DescentClassifier(
            learning_rate=0.01, epochs=400, n_iter_no_change=None, random_state=0
        )
        converged.fit(X, y)  # long after the stopping rule would have fired
    assert converged.n_iter_ == 400


def test_the_stopping_count_carries_over_warm_starts_and_partial_fit() -> None:
    X, y = _blobs(3)
    settings = dict(learning_rate=0.01, random_state=0)
    once = DescentClassifier(**settings).fit(X, y)
    warm = DescentClassifier(epochs=40, warm_start=True, **settings).fit(X, y)
    for _ in range(10):
        warm.partial_fit(X, y)
    warm.set_params(epochs=200).fit(X, y)
    assert warm.n_iter_ == once.n_iter_ and np.array_equal(warm.params_, once.params_)


# --- sample_weight: the weighted mean loss, as MLPClassifier -----------------------------------


@pytest.mark.parametrize("n_outputs", [1, 3])
def test_weighted_loss_gradient_matches_finite_differences(n_outputs: int) -> None:
    rng = np.random.RandomState(4)
    network = nn.Network((3, 5, 4, n_outputs))
    params = rng.randn(network.n_params)
    X = rng.randn(3, 9)
    labels = rng.randint(0, max(n_outputs, 2), size=9)
    Y = labels[np.newaxis].astype(float) if n_outputs == 1 else np.eye(n_outputs)[labels].T
    weights = np.array([0.0, 2.0, 0.5, 1.0, 3.0, 0.0, 1.5, 0.25, 1.0])

    def loss(p: np.ndarray) -> float:
        return float(losses.weighted_cross_entropy_mean(nn.forward(network, p, X), Y, weights))

    gradient = nn.backward(
        network, params, nn.forward(network, params, X), Y, sample_weight=weights
    )
    step = 1e-6
    numeric = np.array(
        [
            (loss(params + step * e) - loss(params - step * e)) / (2 * step)
            for e in np.eye(network.n_params)
        ]
    )
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-9)
    unweighted = nn.backward(network, params, nn.forward(network, params, X), Y).copy()
    ones = nn.backward(network, params, nn.forward(network, params, X), Y, sample_weight=np.ones(9))
    np.testing.assert_allclose(ones, unweighted, rtol=1e-14, atol=1e-16)


def test_engine_records_the_weighted_mean_cost() -> None:
    X, y = _blobs(3, n_samples=40)
    Y = np.eye(3)[y].T
    network = nn.Network((2, 6, 3))
    weights = np.random.RandomState(1).uniform(0, 2, size=40)
    result = train(
        network,
        X.T,
        Y,
        optim.get("adam", learning_rate=0.01),
        epochs=1,
        batch_size=None,
        init_seed=5,
        sample_weight=weights,
    )
    initial = nn.he_initialization(network, 5)
    expected = losses.weighted_cross_entropy_mean(nn.forward(network, initial, X.T), Y, weights)
    np.testing.assert_allclose(result.history.minibatch_costs[0], expected, rtol=1e-14)
    assert result.history.epoch_costs[0] == result.history.minibatch_costs[0]


def test_weights_of_one_give_the_unweighted_numbers() -> None:
    """Every operation of the weighted path then repeats the unweighted one's rounding
    (w_i / sum w = 1/m exactly, L_i * 1 = L_i), so the results agree bit for bit, although
    the unweighted path never multiplies by weights."""
    X, y = _blobs(3)
    settings = dict(hidden_layer_sizes=(8,), batch_size=32, epochs=20, random_state=2)
    plain = DescentClassifier(**settings).fit(X, y)
    ones = DescentClassifier(**settings).fit(X, y, sample_weight=np.ones(len(y)))
    assert np.array_equal(ones.params_, plain.params_) and ones.loss_curve_ == plain.loss_curve_


# Full-batch training sees the same mean loss and gradient whether a row has weight k or appears
# k times, and whether a row of weight 0 is there or not; only the order of the sums differs
# (other columns, another shuffle, BLAS blocking over another number of columns), so the results
# agree to a few units in the last place: measured at most 4.4e-16 after 100 epochs.
FULL_BATCH = dict(
    hidden_layer_sizes=(8,),
    batch_size=None,
    epochs=100,
    n_iter_no_change=None,
    random_state=3,
    learning_rate=0.01,
)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_integer_weights_equal_repeated_rows(n_classes: int) -> None:
    X, y = _blobs(n_classes, n_samples=60)
    weights = np.random.RandomState(0).randint(0, 4, size=len(y))
    weighted = DescentClassifier(**FULL_BATCH).fit(X, y, sample_weight=weights)
    repeated = DescentClassifier(**FULL_BATCH).fit(
        np.repeat(X, weights, axis=0), np.repeat(y, weights)
    )
    np.testing.assert_allclose(weighted.params_, repeated.params_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-12)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_zero_weight_equals_dropping_the_row(n_classes: int) -> None:
    X, y = _blobs(n_classes, n_samples=60)
    weights = np.random.RandomState(1).uniform(0.5, 2.0, size=len(y))
    weights[::4] = 0.0
    kept = weights > 0
    weighted = DescentClassifier(**FULL_BATCH).fit(X, y, sample_weight=weights)
    dropped = DescentClassifier(**FULL_BATCH).fit(X[kept], y[kept], sample_weight=weights[kept])
    np.testing.assert_allclose(weighted.params_, dropped.params_, rtol=0, atol=1e-12)


def test_zero_weight_batches_step_with_a_zero_gradient_and_do_not_count_as_divergence() -> None:
    X, y = _blobs(2, n_samples=20)
    weights = np.zeros(20)
    weights[3] = 1.0
    network = nn.Network((2, 4, 1))
    result = train(
        network,
        X.T,
        y[np.newaxis].astype(float),
        optim.get("gd", learning_rate=0.1),
        epochs=3,
        batch_size=4,
        init_seed=2,
        sample_weight=weights,
    )
    costs = result.history.minibatch_costs.reshape(3, 5)
    assert np.all((costs == 0).sum(axis=1) == 4) and np.all(costs.max(axis=1) > 0)
    assert result.diverged_epoch is None
    assert np.array_equal(result.history.epoch_costs, costs.max(axis=1))


def test_weighted_stack_equals_each_run_alone() -> None:
    X, y = _blobs(3, n_samples=50)
    Y = np.eye(3)[y].T
    network = nn.Network((2, 6, 3))
    weights = np.random.RandomState(2).uniform(0, 3, size=50)
    groups = [RunGroup(optim.get("adam", learning_rate=np.array([[0.01], [0.02]])), 2)]
    stack = train_stack(
        network,
        X.T,
        Y,
        groups,
        init_seeds=[1, 2],
        shuffle_seeds=[10, 20],
        epochs=4,
        batch_size=16,
        sample_weight=weights,
    )
    for run, (init_seed, shuffle_seed, rate) in enumerate([(1, 10, 0.01), (2, 20, 0.02)]):
        alone = train(
            network,
            X.T,
            Y,
            optim.get("adam", learning_rate=rate),
            epochs=4,
            batch_size=16,
            init_seed=init_seed,
            shuffle_seed=shuffle_seed,
            sample_weight=weights,
        )
        assert np.array_equal(stack.params[run], alone.params)
        assert np.array_equal(stack.histories[run].minibatch_costs, alone.history.minibatch_costs)


@pytest.mark.parametrize(
    ("sample_weight", "message"),
    [
        (np.ones(7), r"sample_weight.shape == \(7,\), expected \(30,\)!"),
        (-np.ones(30), "Negative values in data passed to `sample_weight`"),
        (np.r_[np.nan, np.ones(29)], "Input sample_weight contains NaN"),
        (np.zeros(30), "Sample weights must contain at least one non-zero number"),
    ],
)
def test_bad_sample_weights_are_refused_in_one_line(
    sample_weight: np.ndarray, message: str
) -> None:
    X, y = _blobs(3, n_samples=30)
    for fit in (
        lambda: DescentClassifier().fit(X, y, sample_weight=sample_weight),
        lambda: DescentClassifier().partial_fit(
            X, y, classes=[0, 1, 2], sample_weight=sample_weight
        ),
    ):
        with pytest.raises(ValueError, match=message) as error:
            fit()
        assert "\n" not in str(error.value)
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(30,\), got \(7,\)"):
        train(
            nn.Network((2, 3)),
            X.T,
            np.eye(3)[y].T,
            optim.get("gd", learning_rate=0.1),
            epochs=1,
            sample_weight=np.ones(7),
        )


def test_sample_weight_is_routed_through_cross_val_score() -> None:
    """With metadata routing on, each method that accepts sample_weight must say whether it
    wants it (scikit-learn's rule; MLPClassifier needs the same two calls): fit requests it,
    score here does (weighted accuracy) or does not (plain accuracy)."""
    X, y = _blobs(3, n_samples=90)
    weights = np.random.RandomState(3).uniform(0, 2, size=len(y))
    settings = dict(hidden_layer_sizes=(8,), epochs=20, random_state=1)
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    scores = {}
    with sklearn.config_context(enable_metadata_routing=True):
        for weighted_score in (False, True):
            requesting = (
                DescentClassifier(**settings)
                .set_fit_request(sample_weight=True)
                .set_score_request(sample_weight=weighted_score)
            )
            scores[weighted_score] = cross_val_score(
                requesting, X, y, cv=folds, params={"sample_weight": weights}
            ).tolist()
    fitted = [
        (
            DescentClassifier(**settings).fit(X[rows], y[rows], sample_weight=weights[rows]),
            DescentClassifier(**settings).fit(X[rows], y[rows]),
            test,
        )
        for rows, test in folds.split(X, y)
    ]
    assert scores[False] == [weighted.score(X[test], y[test]) for weighted, _, test in fitted]
    assert scores[True] == [
        weighted.score(X[test], y[test], sample_weight=weights[test])
        for weighted, _, test in fitted
    ]
    # The weights changed the fits, so they did arrive.
    assert not any(
        np.array_equal(weighted.params_, unweighted.params_) for weighted, unweighted, _ in fitted
    )


def test_the_estimator_takes_a_wrapper_chain_and_predicts_with_its_reported_weights() -> None:
    X, y = make_moons(n_samples=80, noise=0.2, random_state=0)
    classifier = DescentClassifier(
        optimizer="lookahead:adam", learning_rate=0.01, epochs=7, random_state=0,
        optimizer_params={"sync_period": 3, "beta1": 0.8},
    ).fit(X, y)  # fmt: skip
    assert classifier.optimizer == "lookahead:adam"
    again = clone(classifier).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), classifier.predict_proba(X))
    sam = DescentClassifier(optimizer="sam:sgd", learning_rate=0.1, epochs=3, random_state=0)
    assert sam.fit(X, y).score(X, y) > 0.5
