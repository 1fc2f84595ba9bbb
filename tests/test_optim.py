from __future__ import annotations

import numpy as np
import pytest

from descentlab import optim

OPTIMIZERS_UNDER_TEST = [
    ("gd", {"learning_rate": 0.1}),
    ("momentum", {"learning_rate": 0.1, "beta": 0.9}),
    ("adam", {"learning_rate": 0.1}),
    ("adam", {"learning_rate": 0.1, "eps_inside_sqrt": True}),
]


def _gradients(steps: int, shape: tuple[int, ...] = (3, 4)) -> list[np.ndarray]:
    rng = np.random.default_rng(42)
    return [rng.normal(size=shape) for _ in range(steps)]


def _run(opt: optim.Optimizer, params: np.ndarray, grads: list[np.ndarray]) -> np.ndarray:
    state = opt.init(params)
    for g in grads:
        updates, state = opt.update(g, state, params)
        params = optim.apply_updates(params, updates)
    return params


def test_gd_recomputed_by_hand() -> None:
    params = np.ones((3, 4))
    grads = _gradients(3)
    expected = params.copy()
    for g in grads:
        expected = expected - 0.05 * g
    assert np.array_equal(_run(optim.gd(0.05), params, grads), expected)


def test_momentum_recomputed_by_hand() -> None:
    params = np.ones((3, 4))
    grads = _gradients(4)
    v = np.zeros_like(params)
    expected = params.copy()
    for g in grads:
        v = 0.8 * v + (1 - 0.8) * g
        expected = expected - 0.05 * v
    assert np.array_equal(_run(optim.momentum(0.05, beta=0.8), params, grads), expected)


@pytest.mark.parametrize("inside", [False, True])
def test_adam_recomputed_by_hand(inside: bool) -> None:
    params = np.ones((3, 4))
    grads = _gradients(5)
    v = np.zeros_like(params)
    s = np.zeros_like(params)
    expected = params.copy()
    b1, b2, eps, lr = 0.8, 0.99, 1e-3, 0.01
    for t, g in enumerate(grads, start=1):
        v = b1 * v + (1 - b1) * g
        s = b2 * s + (1 - b2) * g**2
        v_hat = v / (1 - b1**t)
        s_hat = s / (1 - b2**t)
        denominator = np.sqrt(s_hat + eps) if inside else np.sqrt(s_hat) + eps
        expected = expected - lr * v_hat / denominator
    opt = optim.adam(lr, beta1=b1, beta2=b2, epsilon=eps, eps_inside_sqrt=inside)
    assert np.array_equal(_run(opt, params, grads), expected)


def test_adam_step_count_increments_once_per_update() -> None:
    opt = optim.adam(0.1)
    state = opt.init(np.zeros(2))
    assert state.step == 0
    for expected in (1, 2, 3):
        _, state = opt.update(np.ones(2), state, None)
        assert state.step == expected


def test_adam_first_step_is_learning_rate_times_sign() -> None:
    # With bias correction the first step is lr * g / (|g| + eps): about lr per coordinate.
    updates, _ = optim.adam(0.01).update(
        np.array([3.0, -0.5]), optim.adam(0.01).init(np.zeros(2)), None
    )
    np.testing.assert_allclose(updates, [-0.01, 0.01], rtol=1e-7)


@pytest.mark.parametrize(("name", "kwargs"), OPTIMIZERS_UNDER_TEST)
def test_goes_downhill_on_a_quadratic(name: str, kwargs: dict[str, float]) -> None:
    opt = optim.get(name, **kwargs)
    params = np.array([3.0, -2.0])
    state = opt.init(params)
    for _ in range(200):
        updates, state = opt.update(2 * params, state, params)  # f = |x|^2
        params = optim.apply_updates(params, updates)
    assert float(params @ params) < 0.1 * 13.0


@pytest.mark.parametrize(("name", "kwargs"), OPTIMIZERS_UNDER_TEST)
def test_pure_deterministic_and_shape_preserving(name: str, kwargs: dict[str, float]) -> None:
    opt = optim.get(name, **kwargs)
    params = np.ones((2, 3))
    grad = np.full((2, 3), 0.5)
    state = opt.init(params)
    frozen = [np.copy(x) if isinstance(x, np.ndarray) else x for x in state]
    first = opt.update(grad, state, params)
    second = opt.update(grad, state, params)
    assert np.array_equal(first[0], second[0])  # same inputs, same outputs
    for before, after in zip(frozen, state, strict=True):  # the old state is not mutated
        assert np.array_equal(before, after)
    for leaf in first[1][1:]:
        assert leaf.shape == params.shape


def test_stacked_runs_broadcast_per_run_learning_rates() -> None:
    grads = _gradients(3, shape=(2, 5))
    params = np.zeros((2, 5))
    alone = [_run(optim.adam(0.1), params[k], [g[k] for g in grads]) for k in range(2)]
    stacked = _run(optim.adam(0.1), params, grads)
    for k in range(2):
        assert np.array_equal(stacked[k], alone[k])


def test_registry_names_and_get() -> None:
    assert optim.names() == ["gd", "momentum", "adam"]
    assert optim.get("momentum", learning_rate=0.1, beta=0.5).hyperparameters == {
        "learning_rate": 0.1,
        "beta": 0.5,
    }


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("nesterov", {"learning_rate": 0.1}, "unknown optimizer 'nesterov'; choose one of: gd"),
        ("gd", {"learning_rate": 0.1, "beta": 0.9}, "unknown hyperparameter 'beta' for optimizer"),
        ("gd", {}, "optimizer 'gd' needs a learning_rate"),
        ("gd", {"learning_rate": 0.0}, "learning_rate must be a finite number > 0, got 0.0"),
        ("gd", {"learning_rate": float("inf")}, "learning_rate must be a finite number > 0"),
        ("momentum", {"learning_rate": 0.1, "beta": 1.0}, r"beta must be a number in \[0, 1\)"),
        ("adam", {"learning_rate": 0.1, "beta1": -0.1}, r"beta1 must be a number in \[0, 1\)"),
        ("adam", {"learning_rate": 0.1, "beta2": 1}, r"beta2 must be a number in \[0, 1\), got 1"),
        ("adam", {"learning_rate": 0.1, "epsilon": -1e-8}, "epsilon must be a finite number >= 0"),
    ],
)
def test_invalid_hyperparameters_are_rejected_up_front(
    name: str, kwargs: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        optim.get(name, **kwargs)
