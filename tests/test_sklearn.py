from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits, make_blobs, make_moons
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from descentlab import datasets, nn, optim
from descentlab.sklearn import DescentClassifier
from descentlab.train import train
from helpers import assert_same_random_state, global_random_state

# Measured: under random_state=0 (the course's He initialisation, RandomState(3)) one of the
# two units of the default network's second hidden layer is inactive on every row of the
# check's blobs, and the binary problem stays at chance (0.50 < 0.83) at learning rates from
# 0.0007 to 0.03 and any number of epochs. Over random_state 0..29 only 12 (200 epochs) or 23
# (1000 epochs) of 30 reach 0.83 on both of its problems; a (16,) network reaches it for all 30.
COURSE_BOTTLENECK = (
    "accuracy > 0.83: the course's (n_features, 5, 2, n_outputs) network has a 2-unit ReLU "
    "layer, half dead at random_state=0 on the check's blobs; the same check passes with "
    "hidden_layer_sizes=(16,)"
)


def expected_failed_checks(estimator: DescentClassifier) -> dict[str, str]:
    """The one justified exception: the accuracy bar of check_classifiers_train for the
    course's 2-unit bottleneck (the reason above); nothing for any other architecture."""
    if tuple(estimator.hidden_layer_sizes) == (5, 2):
        return {"check_classifiers_train": COURSE_BOTTLENECK}
    return {}


@parametrize_with_checks(
    [DescentClassifier(), DescentClassifier(hidden_layer_sizes=(16,))],
    expected_failed_checks=expected_failed_checks,
    xfail_strict=True,
)
def test_scikit_learn_estimator_checks(
    estimator: DescentClassifier, check: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # check_array_api_input (NumPy namespace: "enabling array API dispatch changes nothing")
    # skips itself unless SCIPY_ARRAY_API is set. It reads the variable when it runs; scipy
    # reads it at import, which only matters for non-NumPy arrays, which this check never uses.
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    check(estimator)


def _blobs(n_classes: int, n_samples: int = 120) -> tuple[np.ndarray, np.ndarray]:
    X, y = make_blobs(n_samples=n_samples, centers=n_classes, cluster_std=1.0, random_state=1)
    return StandardScaler().fit_transform(X), y


OPTIMIZERS_UNDER_TEST = [
    (name, {"learning_rate": 0.01}) for name in optim.names() if name not in {"gd", "sgd"}
] + [("gd", {"learning_rate": 0.1}), ("sgd", {"learning_rate": 0.1})]


@pytest.mark.parametrize(("name", "kwargs"), OPTIMIZERS_UNDER_TEST)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_partial_fit_and_warm_start_equal_fit(
    name: str, kwargs: dict[str, float], n_classes: int
) -> None:
    X, y = _blobs(n_classes)
    settings = dict(optimizer=name, hidden_layer_sizes=(8, 4), batch_size=32, random_state=5)
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
    classifier = DescentClassifier(random_state=0, epochs=25).fit(X, y)
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
    assert pipeline[-1].learning_rate == 0.0007 and not hasattr(pipeline[-1], "params_")


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


def test_digits_held_out_accuracy_with_the_recommended_settings() -> None:
    """The README's settings: 64 hidden units, adam at 0.01, batches of 64, 30 epochs."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, random_state=0, stratify=y, test_size=0.25
    )
    for random_state in range(3):
        model = make_pipeline(
            StandardScaler(),
            DescentClassifier(
                hidden_layer_sizes=(64,),
                optimizer="adam",
                learning_rate=0.01,
                batch_size=64,
                epochs=30,
                random_state=random_state,
            ),
        ).fit(X_train, y_train)
        assert model.score(X_test, y_test) >= 0.95


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
        ({"epochs": 0}, "epochs must be an integer >= 1, got 0"),
        ({"epochs": 2.5}, "epochs must be an integer >= 1, got 2.5"),
        ({"random_state": -1}, "random_state must be an integer >= 0, got -1"),
        ({"random_state": "x"}, "random_state must be None, an integer >= 0 .* got 'x'"),
        ({"optimizer_params": {"learning_rate": 1}}, "must not set learning_rate"),
        ({"optimizer_params": {"bogus": 1}}, "unknown hyperparameter 'bogus'"),
        ({"optimizer_params": {"beta1": 1.5}}, "beta1 must be a number in \\[0, 1\\), got 1.5"),
        ({"warm_start": 1}, "warm_start must be True or False, got 1"),
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
        warm.set_params(hidden_layer_sizes=(5, 2), optimizer="gd").fit(X, y)
    # Without warm_start every fit starts afresh, whatever changed.
    assert warm.set_params(warm_start=False).fit(X[y < 2], y[y < 2]).n_iter_ == 1


def test_a_diverging_run_warns() -> None:
    X, y = _blobs(2)
    classifier = DescentClassifier((8,), optimizer="gd", learning_rate=100.0, random_state=1)
    with pytest.warns(RuntimeWarning, match="training diverged at epoch 0: .* lower learning_rate"):
        classifier.fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DescentClassifier(epochs=3, random_state=1).fit(X, y)
