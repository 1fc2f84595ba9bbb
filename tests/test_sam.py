"""SAM (``descentlab.optim.sam``): its perturbation recomputed by hand (plain and adaptive),
per-run norms, the inner optimizer's keywords, what it reports, and its one-line refusals.
tests/test_optim_wrappers_reference.py checks it against optax and pytorch-optimizer."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from descentlab import optim
from descentlab.optim import drive
from descentlab.optim.base import Optimizer, reported_params
from descentlab.optim.sam import NORM_EPSILON
from descentlab.optim.stack import stacked

CURVATURES = np.array([1.0, 4.0, 20.0])


def _bowl(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    curvatures = CURVATURES.astype(points.dtype)
    return 0.5 * np.sum(curvatures * points**2, axis=-1, keepdims=True), curvatures * points


def _counting(function: Any, seen: list[np.ndarray]) -> Any:
    def value_and_grad(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        seen.append(points.copy())
        return function(points)

    return value_and_grad


@pytest.mark.parametrize("adaptive", [False, True])
def test_the_step_by_hand_around_gd(adaptive: bool) -> None:
    lr, radius = 0.05, 0.3
    opt = optim.get("sam:gd", learning_rate=lr, radius=radius, adaptive=adaptive)
    assert opt.needs == {"value_and_grad"}
    w = np.array([1.0, -2.0, 0.5])
    state = drive.start(opt, w)
    seen: list[np.ndarray] = []
    for t in range(1, 4):
        g = CURVATURES * w
        if adaptive:
            e = w * w * g * (radius / (np.sqrt(np.sum((g * np.abs(w)) ** 2)) + NORM_EPSILON))
        else:
            e = g * (radius / (np.sqrt(np.sum(g * g)) + NORM_EPSILON))
        expected = w + -lr * (CURVATURES * (w + e))
        w_before = w
        w, state, _ = drive.step(opt, state, w, _counting(_bowl, seen))
        np.testing.assert_allclose(seen[-1], w_before + e, rtol=1e-15)
        np.testing.assert_allclose(w, expected, rtol=1e-15)
        assert state.step == t and state.inner.step == t
    assert len(seen) == 6  # twice per step: at w, then at w + e
    assert reported_params(opt, state, w) is w  # gd reports its weights; so does sam:gd


def test_the_perturbation_has_length_radius() -> None:
    opt = optim.get("sam:sgd", learning_rate=0.1, radius=0.25)
    w = np.array([0.3, -0.2, 0.7])
    seen: list[np.ndarray] = []
    drive.step(opt, drive.start(opt, w), w, _counting(_bowl, seen))
    at_w, perturbed = seen
    np.testing.assert_array_equal(at_w, w)
    np.testing.assert_allclose(np.linalg.norm(perturbed - w), 0.25, rtol=1e-12)
    g = CURVATURES * w  # along the gradient: uphill
    np.testing.assert_allclose(
        (perturbed - w) / np.linalg.norm(perturbed - w), g / np.linalg.norm(g)
    )


def test_a_zero_gradient_perturbs_nothing() -> None:
    opt = optim.get("sam:adam", learning_rate=0.1)
    w = np.zeros(3)
    seen: list[np.ndarray] = []
    new, _, _ = drive.step(opt, drive.start(opt, w), w, _counting(_bowl, seen))
    np.testing.assert_array_equal(seen[1], w)
    np.testing.assert_array_equal(new, w)


def test_radius_zero_is_the_inner_optimizer_at_twice_the_cost() -> None:
    opt = optim.get("sam:adam", learning_rate=0.05, radius=0.0)
    alone = optim.get("adam", learning_rate=0.05)
    a = b = np.array([1.0, -1.0, 2.0])
    state_a, state_b = drive.start(opt, a), drive.start(alone, b)
    for _ in range(10):
        a, state_a, _ = drive.step(opt, state_a, a, _bowl)
        b, state_b, _ = drive.step(alone, state_b, b, _bowl)
    np.testing.assert_array_equal(a, b)


def test_the_norm_is_per_run_so_stacked_runs_equal_each_run_alone() -> None:
    runs = [
        {"learning_rate": 0.05, "radius": 0.1, "adaptive": False},
        {"learning_rate": 0.02, "radius": 0.5, "adaptive": False},
    ]
    opt = stacked("sam:adam", runs)
    starts = np.array([[1.0, -1.0, 0.5], [20.0, 0.1, -3.0]])  # very different norms
    params, state = starts.copy(), drive.start(opt, starts)
    for _ in range(17):
        params, state, _ = drive.step(opt, state, params, _bowl)
    for index, run in enumerate(runs):
        alone = optim.get("sam:adam", **run)
        p = starts[index].copy()
        s = drive.start(alone, p)
        for _ in range(17):
            p, s, _ = drive.step(alone, s, p, _bowl)
        np.testing.assert_array_equal(params[index], p)


def test_float32_weights_stay_float32_and_are_perturbed_in_float32() -> None:
    opt = stacked(
        "sam:sgd", [{"learning_rate": 0.05, "radius": 0.1}, {"learning_rate": 0.05, "radius": 0.2}]
    )
    params = np.array([[1.0, -1.0, 0.5], [1.0, 2.0, 3.0]], dtype=np.float32)
    seen: list[np.ndarray] = []
    state = drive.start(opt, params)
    params, state, _ = drive.step(opt, state, params, _counting(_bowl, seen))
    assert seen[1].dtype == np.float32


def _recording_inner(calls: list[dict[str, Any]]) -> Optimizer:
    """gd that records the gradient and keywords it is given, needing the value too."""

    def update(grads: np.ndarray, state: Any, params: np.ndarray, **given: Any) -> Any:
        calls.append({"grads": grads, **given})
        return -0.1 * grads, optim.GDState(step=state.step + 1)

    return Optimizer(
        "inner", {"learning_rate": 0.1}, lambda params: optim.GDState(step=0), update,
        needs=frozenset({"value"}),
    )  # fmt: skip


def test_the_inner_optimizer_sees_the_gradient_and_loss_at_the_perturbed_point() -> None:
    calls: list[dict[str, Any]] = []
    opt = optim.sam(_recording_inner(calls), radius=0.5)
    assert opt.needs == {"value", "value_and_grad"}  # SAM's own need, and its inner's
    w = np.array([1.0, 1.0, 1.0])
    seen: list[np.ndarray] = []
    function = _counting(_bowl, seen)
    drive.step(opt, drive.start(opt, w), w, function)
    (call,) = calls
    value, grads = _bowl(seen[1])
    np.testing.assert_array_equal(call["grads"], grads)
    np.testing.assert_array_equal(call["value"], value)
    assert "value_and_grad" not in call  # the inner asked for the value only


def test_it_reports_what_its_inner_optimizer_reports() -> None:
    opt = optim.get("sam:lookahead:sgd", learning_rate=0.05, sync_period=3)
    w = np.array([1.0, -1.0, 0.5])
    state = drive.start(opt, w)
    for _ in range(4):
        w, state, _ = drive.step(opt, state, w, _bowl)
    assert reported_params(opt, state, w) is state.inner.slow
    assert not np.array_equal(state.inner.slow, w)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"radius": -0.1}, "^radius must be a finite number >= 0, got -0.1$"),
        ({"radius": float("nan")}, "^radius must be a finite number >= 0, got nan$"),
        ({"adaptive": 1}, "^adaptive must be True or False, got 1$"),
    ],
)
def test_bad_settings_are_refused_in_one_line(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        optim.get("sam:sgd", learning_rate=0.1, **settings)


def test_sam_refuses_an_inner_optimizer_that_evaluates_elsewhere_in_one_line() -> None:
    for chain, inner in (("sam:lbfgs", "lbfgs"), ("sam:lookahead:lbfgs", "lookahead:lbfgs")):
        with pytest.raises(ValueError) as refused:
            optim.get(chain, learning_rate=0.1)
        assert str(refused.value) == (
            f"sam cannot wrap {inner}: it evaluates the loss at points of its own, which SAM "
            "would not perturb; wrap an optimizer that steps from one gradient"
        )
    assert optim.get("lookahead:sam:adam", learning_rate=0.1).name == "lookahead:sam:adam"
