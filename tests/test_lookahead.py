"""Lookahead (``descentlab.optim.lookahead``): its rule recomputed by hand, the slow weights it
reports, its keywords passed through to the inner optimizer, stacked runs and float32, and its
one-line refusals. tests/test_optim_wrappers_reference.py checks it against optax and
pytorch-optimizer."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from descentlab import optim
from descentlab.optim import drive
from descentlab.optim.base import Optimizer, reported_params
from descentlab.optim.layout import Layout
from descentlab.optim.stack import stacked

CURVATURES = np.array([1.0, 4.0, 20.0])


def _bowl(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    curvatures = CURVATURES.astype(points.dtype)
    return 0.5 * np.sum(curvatures * points**2, axis=-1, keepdims=True), curvatures * points


def test_the_rule_by_hand_around_gd() -> None:
    """k = 3, alpha = 0.25 around gd: two plain steps, then the slow step and the pull back."""
    lr, alpha = 0.1, 0.25
    opt = optim.get("lookahead:gd", learning_rate=lr, sync_period=3, slow_step_size=alpha)
    theta = np.array([1.0, -2.0, 0.5])
    state = drive.start(opt, theta)
    phi = theta.copy()
    expected = theta.copy()
    for t in range(1, 7):
        theta, state, _ = drive.step(opt, state, theta, _bowl)
        u = -lr * CURVATURES * expected
        if t % 3:
            expected = expected + u
        else:
            difference = (expected + u) - phi
            phi = phi + alpha * difference
            expected = expected + (u - (1 - alpha) * difference)
        np.testing.assert_array_equal(theta, expected)
        np.testing.assert_array_equal(state.slow, phi)
        assert state.step == t
        assert reported_params(opt, state, theta) is state.slow
    # after a synchronisation the fast weights are the slow ones, up to the last bit
    np.testing.assert_allclose(theta, phi, rtol=1e-15)


def test_slow_step_size_one_is_the_inner_optimizer_alone() -> None:
    opt = optim.get("lookahead:adam", learning_rate=0.05, sync_period=2, slow_step_size=1.0)
    alone = optim.get("adam", learning_rate=0.05)
    a = b = np.array([1.0, -1.0, 2.0])
    state_a, state_b = drive.start(opt, a), drive.start(alone, b)
    for _ in range(9):
        a, state_a, _ = drive.step(opt, state_a, a, _bowl)
        b, state_b, _ = drive.step(alone, state_b, b, _bowl)
    np.testing.assert_allclose(a, b, rtol=1e-15)
    assert state_a.inner.step == 9 and isinstance(state_a.inner, optim.AdamState)


def test_slow_weights_reach_the_minimum_of_an_ill_conditioned_bowl() -> None:
    opt = optim.get("lookahead:sgd", learning_rate=0.04, momentum=0.9)
    params = np.array([3.0, -2.0, 1.0])
    state = drive.start(opt, params)
    for _ in range(300):
        params, state, _ = drive.step(opt, state, params, _bowl)
    assert np.max(np.abs(reported_params(opt, state, params))) < 1e-6


def _recording_inner(calls: list[tuple[str, dict[str, Any]]]) -> Optimizer:
    """gd that records the keywords it is given and says it needs a layout and the value."""

    def init(params: np.ndarray, **given: Any) -> optim.GDState:
        calls.append(("init", given))
        return optim.GDState(step=0)

    def update(grads: np.ndarray, state: Any, params: np.ndarray, **given: Any) -> Any:
        calls.append(("update", given))
        return -0.1 * grads, optim.GDState(step=state.step + 1)

    return Optimizer(
        "inner", {"learning_rate": 0.1}, init, update, needs=frozenset({"layout", "value"})
    )


def test_the_inner_optimizers_needs_are_its_own_and_passed_on() -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    opt = optim.lookahead(_recording_inner(calls), sync_period=2)
    assert opt.needs == {"layout", "value"}
    layout = Layout.of_network([1, 1])
    params = np.array([1.0, 2.0])
    state = drive.start(opt, params, layout)
    params, state, value = drive.step(opt, state, params, _bowl_2, layout)
    assert [call[0] for call in calls] == ["init", "update"]
    assert calls[0][1] == {"layout": layout}
    assert calls[1][1]["layout"] == layout and calls[1][1]["value"] == value
    assert set(calls[1][1]) == {"layout", "value"}


def _bowl_2(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return 0.5 * np.sum(points**2, axis=-1, keepdims=True), points.copy()


def test_stacked_runs_with_different_periods_equal_each_run_alone() -> None:
    runs = [
        {"learning_rate": 0.05, "sync_period": 2, "slow_step_size": 0.5},
        {"learning_rate": 0.02, "sync_period": 5, "slow_step_size": 0.8},
        {"learning_rate": 0.05, "sync_period": 3, "slow_step_size": 0.5},
    ]
    opt = stacked("lookahead:adam", runs)
    starts = np.array([[1.0, -1.0, 0.5], [2.0, 0.1, -0.3], [-1.0, 1.0, 1.0]])
    params, state = starts.copy(), drive.start(opt, starts)
    for _ in range(23):
        params, state, _ = drive.step(opt, state, params, _bowl)
    for index, run in enumerate(runs):
        alone = optim.get("lookahead:adam", **run)
        p = starts[index].copy()
        s = drive.start(alone, p)
        for _ in range(23):
            p, s, _ = drive.step(alone, s, p, _bowl)
        np.testing.assert_array_equal(params[index], p)
        np.testing.assert_array_equal(state.slow[index], s.slow)


def test_float32_weights_keep_a_float32_state() -> None:
    opt = optim.get("lookahead:adam", learning_rate=0.05, sync_period=2)
    params = np.array([1.0, -1.0, 0.5], dtype=np.float32)
    state = drive.start(opt, params)
    for _ in range(4):
        params, state, _ = drive.step(opt, state, params, _bowl)
    assert params.dtype == state.slow.dtype == state.inner.mu.dtype == np.float32


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"sync_period": 0}, "^sync_period must be an integer >= 1, got 0$"),
        ({"sync_period": 2.5}, "^sync_period must be an integer >= 1, got 2.5$"),
        ({"sync_period": True}, "^sync_period must be an integer >= 1, got True$"),
        (
            {"sync_period": np.array([[2.0], [0.5]])},
            "^sync_period must be an integer >= 1, got 0.5$",
        ),
        ({"slow_step_size": 1.5}, r"^slow_step_size must be a number in \[0, 1\], got 1.5$"),
        ({"slow_step_size": -0.1}, r"^slow_step_size must be a number in \[0, 1\], got -0.1$"),
    ],
)
def test_bad_settings_are_refused_in_one_line(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        optim.get("lookahead:sgd", learning_rate=0.1, **settings)


def test_stacked_float32_runs_with_per_run_settings_stay_float32() -> None:
    runs = [
        {"learning_rate": 0.05, "slow_step_size": 0.3},
        {"learning_rate": 0.05, "slow_step_size": 0.5},
    ]
    opt = stacked("lookahead:sgd", runs)
    params = np.ones((2, 3), dtype=np.float32)
    state = drive.start(opt, params)
    for _ in range(6):
        params, state, _ = drive.step(opt, state, params, _bowl)
    assert params.dtype == state.slow.dtype == np.float32
