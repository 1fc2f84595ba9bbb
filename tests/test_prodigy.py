"""Prodigy: the update recomputed by hand, d estimated per run of a stack (a stack equals its
runs alone, bit for bit), a zero gradient skips the step, and the learning-rate-free claim: from
d0 = 1e-6 it reaches a quadratic's minimum with learning_rate = 1."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from descentlab import optim
from descentlab.optim import drive
from descentlab.optim.stack import stacked


def _gradients(steps: int, shape: tuple[int, ...]) -> list[np.ndarray]:
    rng = np.random.default_rng(11)
    return [rng.normal(size=shape) + 0.3 for _ in range(steps)]


@pytest.mark.exact
@pytest.mark.parametrize("bias_correction", [False, True])
def test_prodigy_recomputed_by_hand(bias_correction: bool) -> None:
    b1, b2, b3, eps, d0, d_coef, wd, lr = 0.8, 0.95, 0.9, 1e-6, 1e-3, 1.5, 0.1, 0.7
    params = np.linspace(-1.0, 1.0, 6)
    opt = optim.prodigy(
        lr, beta1=b1, beta2=b2, beta3=b3, epsilon=eps, d0=d0, d_coef=d_coef,
        weight_decay=wd, bias_correction=bias_correction,
    )  # fmt: skip
    state = opt.init(params)
    x0 = params.copy()
    m, v, s = np.zeros(6), np.zeros(6), np.zeros(6)
    d, r = d0, 0.0
    grown = 0
    for t, g in enumerate(_gradients(15, (6,)), start=1):
        dlr = d * lr
        if bias_correction:
            dlr = d * lr / ((1 - float(np.power(b1, t))) / math.sqrt(1 - float(np.power(b2, t))))
        r = r * b3 + ((d / d0) * dlr) * float(np.sum(g * (x0 - params)))
        m = m * b1 + (d * (1 - b1)) * g
        v = v * b2 + ((d * d * (1 - b2)) * g) * g
        s = s * b3 + ((d / d0) * dlr) * g
        d_new = max(d, d_coef * r / float(np.sum(np.abs(s))))
        grown += d_new > d
        expected = (params * (1 - wd * dlr) + ((-dlr) * m) / (np.sqrt(v) + d_new * eps)) - params
        updates, state = opt.update(g, state, params)
        assert np.array_equal(updates, expected), t
        assert state.d.shape == (1,) and state.d[0] == d_new and state.numerator[0] == r
        params = optim.apply_updates(params, updates)
        d = d_new
    assert grown >= 3  # the estimate moved, so the test checks its arithmetic


SETTINGS: list[dict[str, Any]] = [
    {"learning_rate": 1.0, "beta1": 0.9, "d_coef": 1.0, "weight_decay": 0.0},
    {"learning_rate": 0.5, "beta1": 0.8, "d_coef": 2.0, "weight_decay": 0.1},
    {"learning_rate": 1.0, "beta1": 0.95, "d_coef": 0.5, "weight_decay": 0.01},
]


@pytest.mark.exact
def test_a_stack_equals_its_runs_alone_bit_for_bit() -> None:
    n = 7
    grads = _gradients(40, (len(SETTINGS), n))
    start = np.random.default_rng(3).normal(size=(len(SETTINGS), n))
    together = stacked("prodigy", SETTINGS)
    params = start.copy()
    state = together.init(params)
    for g in grads:
        updates, state = together.update(g, state, params)
        params = params + updates
    assert state.d.shape == (len(SETTINGS), 1)
    for run, settings in enumerate(SETTINGS):
        alone = optim.get("prodigy", **settings)
        own = start[run].copy()
        own_state = alone.init(own)
        for g in grads:
            updates, own_state = alone.update(g[run], own_state, own)
            own = own + updates
        np.testing.assert_array_equal(params[run], own)
        np.testing.assert_array_equal(state.d[run], own_state.d)
    assert len({float(d) for d in state.d[:, 0]}) == len(SETTINGS)  # each run its own d


def test_a_zero_gradient_skips_the_step_of_its_run_only() -> None:
    opt = optim.prodigy(1.0, weight_decay=0.5)
    params = np.array([[1.0, 2.0], [3.0, 4.0]])
    state = opt.init(params)
    grads = np.array([[0.0, 0.0], [1.0, -1.0]])
    updates, state = opt.update(grads, state, params)
    assert np.array_equal(updates[0], [0.0, 0.0])  # no step and no decay: ||s||_1 = 0
    assert np.all(updates[1] != 0)
    assert state.d[0, 0] == 1e-6 and state.step == 1


def test_it_needs_no_learning_rate_on_a_quadratic() -> None:
    # f(x) = 0.5 ||x - c||^2 from 0: d grows from 1e-6 to the distance scale by itself.
    target = np.array([3.0, -2.0, 0.5, 1.0])
    opt = optim.prodigy(1.0)
    params = np.zeros(4)
    state = drive.start(opt, params)

    def value_and_grad(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return 0.5 * np.sum((x - target) ** 2, axis=-1, keepdims=True), x - target

    for _ in range(300):
        params, state, _ = drive.step(opt, state, params, value_and_grad)
    assert np.linalg.norm(params - target) < 1e-2 * np.linalg.norm(target)
    assert 0.1 < state.d[0] < 100


def test_float32_parameters_keep_float32_state() -> None:
    opt = optim.prodigy(1.0, weight_decay=0.1, bias_correction=True)
    params = np.ones((2, 3), dtype=np.float32)
    state = opt.init(params)
    for scale in (0.5, -1.0, 2.0):
        updates, state = opt.update(np.full((2, 3), scale, dtype=np.float32), state, params)
        params = params + updates
        assert updates.dtype == np.float32
    for field in ("mu", "nu", "s", "initial_params", "d", "numerator"):
        assert getattr(state, field).dtype == np.float32, field


def test_the_first_state_keeps_its_own_copy_of_the_start() -> None:
    opt = optim.prodigy(1.0)
    params = np.array([1.0, 2.0])
    state = opt.init(params)
    params[:] = 9.0  # a caller updating its buffer in place
    assert np.array_equal(state.initial_params, [1.0, 2.0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"beta3": 1.0}, r"beta3 must be a number in \[0, 1\), got 1.0"),
        ({"d0": 0.0}, "d0 must be a finite number > 0, got 0.0"),
        ({"d_coef": -1.0}, "d_coef must be a finite number > 0, got -1.0"),
        ({"weight_decay": -0.1}, "weight_decay must be a finite number >= 0, got -0.1"),
        ({"bias_correction": 1}, "bias_correction must be True or False, got 1"),
        ({"safeguard_warmup": "no"}, "safeguard_warmup must be True or False, got 'no'"),
    ],
)
def test_bad_hyperparameters_are_refused_in_one_line(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        optim.prodigy(1.0, **kwargs)


def test_update_without_params_is_refused_in_one_line() -> None:
    opt = optim.prodigy(1.0)
    with pytest.raises(ValueError, match=r"prodigy needs the parameters: call update\("):
        opt.update(np.ones(2), opt.init(np.zeros(2)), None)
