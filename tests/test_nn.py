from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import course_reference as ref
from descentlab import losses, nn
from descentlab.nn import Network


def _mean_cost(network: Network, params: np.ndarray, X: np.ndarray, Y: np.ndarray) -> float:
    cache = nn.forward(network, params, X)
    return float(losses.cross_entropy_sum(cache, Y)) / X.shape[1]


def _labels(rng: np.random.Generator, classes: int, m: int) -> np.ndarray:
    """0/1 labels (1, m) for one output unit, one-hot (C, m) for C > 1."""
    if classes == 1:
        return (rng.random((1, m)) > 0.5).astype(float)
    return np.eye(classes)[:, rng.integers(0, classes, size=m)]


@pytest.mark.parametrize("sizes", [(2, 5, 2, 1), (3, 1), (4, 6, 6, 3, 1), (3, 4, 3), (2, 5, 4)])
def test_gradient_matches_central_finite_differences(sizes: tuple[int, ...]) -> None:
    rng = np.random.default_rng(0)
    network = Network(sizes)
    params = rng.normal(size=network.n_params)
    X = rng.normal(size=(sizes[0], 7))
    Y = _labels(rng, sizes[-1], 7)
    grads = nn.backward(network, params, nn.forward(network, params, X), Y)
    h = 1e-6
    numeric = np.empty_like(params)
    for i in range(params.size):
        step = np.zeros_like(params)
        step[i] = h
        plus = _mean_cost(network, params + step, X, Y)
        minus = _mean_cost(network, params - step, X, Y)
        numeric[i] = (plus - minus) / (2 * h)
    np.testing.assert_allclose(grads, numeric, rtol=1e-5, atol=1e-8)


def test_layout_round_trips_and_views_share_memory() -> None:
    network = Network((2, 5, 2, 1))
    assert network.n_params == 2 * 5 + 5 + 5 * 2 + 2 + 2 * 1 + 1
    params = np.arange(network.n_params, dtype=float)
    layers = network.layers(params)
    assert [(W.shape, b.shape) for W, b in layers] == [
        ((5, 2), (5, 1)),
        ((2, 5), (2, 1)),
        ((1, 2), (1, 1)),
    ]
    assert np.array_equal(network.from_layers(layers), params)
    layers[0][0][0, 0] = -1.0
    assert params[0] == -1.0


def test_stacked_buffer_gives_per_run_views() -> None:
    network = Network((2, 3, 1))
    stacked = np.arange(2 * network.n_params, dtype=float).reshape(2, network.n_params)
    for run in range(2):
        for (W, b), (W_run, b_run) in zip(
            network.layers(stacked), network.layers(stacked[run]), strict=True
        ):
            assert np.array_equal(W[run], W_run) and np.array_equal(b[run], b_run)


@pytest.mark.exact
def test_he_initialisation_is_the_courses() -> None:
    network = Network((2, 5, 2, 1))
    expected = ref.init_params([2, 5, 2, 1])
    for index, (W, b) in enumerate(network.layers(nn.he_initialization(network)), start=1):
        assert np.array_equal(W, expected[f"W{index}"])
        assert np.array_equal(b, np.zeros_like(b))


@pytest.mark.exact
def test_forward_backward_and_cost_are_bit_identical_to_the_course_formulas() -> None:
    rng = np.random.default_rng(1)
    network = Network((2, 5, 2, 1))
    params = nn.he_initialization(network)
    X = rng.normal(size=(2, 64))
    Y = (rng.random((1, 64)) > 0.5).astype(float)
    ref_params = ref.init_params([2, 5, 2, 1])
    ref_output, ref_activations = ref.forward(X, ref_params)
    cache = nn.forward(network, params, X)
    assert np.array_equal(cache.output, ref_output)
    assert float(losses.cross_entropy_sum(cache, Y)) == ref.cost_total(ref_output, Y)
    ref_grads = ref.backward(Y, ref_params, ref_activations)
    grads = nn.backward(network, params, cache, Y)
    for index, (dW, db) in enumerate(network.layers(grads), start=1):
        assert np.array_equal(dW, ref_grads[f"dW{index}"])
        assert np.array_equal(db, ref_grads[f"db{index}"])


@settings(max_examples=30, deadline=None)
@given(scale=st.floats(1e3, 1e300), label=st.sampled_from([0.0, 1.0]))
def test_cost_stays_finite_when_the_output_saturates(scale: float, label: float) -> None:
    network = Network((1, 1))
    params = np.array([scale, 0.0])  # W = scale, b = 0
    X = np.array([[1.0, -1.0]])
    Y = np.array([[label, label]])
    with np.errstate(over="ignore"):
        cache = nn.forward(network, params, X)
        total = float(losses.cross_entropy_sum(cache, Y))
    assert np.isfinite(total)
    # One example is right with certainty (loss 0), the other wrong by logit `scale`.
    assert total == pytest.approx(scale, rel=1e-12)


def test_predict_thresholds_at_one_half() -> None:
    network = Network((1, 1))
    params = np.array([1.0, 0.0])
    X = np.array([[-1.0, 0.0, 1e-9, 2.0]])
    assert nn.predict(network, params, X).tolist() == [[0, 0, 1, 1]]


def test_network_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError, match="layer size must be an integer >= 1, got 0"):
        Network((2, 0, 1))
    with pytest.raises(ValueError, match="at least an input and an output size"):
        Network((2,))


def test_softmax_output_is_a_distribution_and_predicts_the_argmax() -> None:
    rng = np.random.default_rng(3)
    network = Network((2, 4, 3))
    assert network.output == "softmax" and Network((2, 1)).output == "sigmoid"
    params = rng.normal(size=network.n_params)
    X = rng.normal(size=(2, 9))
    probabilities = nn.predict_proba(network, params, X)
    assert probabilities.shape == (3, 9)
    np.testing.assert_allclose(probabilities.sum(axis=0), 1.0, rtol=1e-15)
    assert nn.predict_classes(network, params, X).tolist() == np.argmax(probabilities, 0).tolist()


def test_softmax_cost_is_categorical_cross_entropy_and_stays_finite() -> None:
    network = Network((1, 3))
    params = np.array([1.0, -1.0, 0.0, 0.0, 0.0, 0.0])  # W = [1, -1, 0]^T, b = 0
    X = np.array([[2.0, 1e6]])
    Y = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    with np.errstate(over="ignore", under="ignore"):
        cache = nn.forward(network, params, X)
        total = float(losses.cross_entropy_sum(cache, Y))
    z = np.array([2.0, -2.0, 0.0])
    first = np.log(np.exp(z).sum()) - z[1]
    assert total == pytest.approx(first + 2e6, rel=1e-12)  # second: logit gap 1e6 + 1e6
