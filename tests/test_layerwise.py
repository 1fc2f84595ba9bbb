"""The layer-wise optimizers lamb, lars and adafactor (and their shared trust ratio,
``optim.trust_ratio``): per-slot math recomputed by hand, stacks equal to runs alone bit for
bit, adafactor's factored state, float32, and their one-line errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from descentlab import optim
from descentlab.optim import drive
from descentlab.optim.layout import Layout
from descentlab.optim.stack import stacked
from descentlab.optim.trust_ratio import scale_by_trust_ratio, slot_norms

LAYOUT = Layout.of_network((3, 4, 2))  # W1 (4, 3), b1 (4,), W2 (2, 4), b2 (2,): 26 numbers
LAYERWISE = ("lamb", "lars", "adafactor")


def _start() -> np.ndarray:
    params = np.random.default_rng(5).standard_normal(LAYOUT.n_params)
    params[LAYOUT.slots[1].start : LAYOUT.slots[1].stop] = 0.0  # b1 at zero, as a network's
    return params


def _stream(gradients: np.ndarray) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    rows: Iterator[np.ndarray] = iter(gradients)
    return lambda points: (np.zeros((*points.shape[:-1], 1)), next(rows))


def _run(opt: optim.Optimizer, params: np.ndarray, gradients: np.ndarray) -> np.ndarray:
    value_and_grad = _stream(gradients)
    state = drive.start(opt, params, LAYOUT)
    for _ in range(len(gradients)):
        params, state, _ = drive.step(opt, state, params, value_and_grad, LAYOUT)
    return params


def _slot(flat: np.ndarray, index: int) -> np.ndarray:
    slot = LAYOUT.slots[index]
    return flat[..., slot.start : slot.stop]


# --- the trust ratio ---------------------------------------------------------------------------


def test_slot_norms_are_each_arrays_own_per_run() -> None:
    flat = np.arange(2 * 26, dtype=float).reshape(2, 26)
    norms = slot_norms(flat, LAYOUT)
    assert [n.shape for n in norms] == [(2, 1)] * 4
    for index, norm in enumerate(norms):
        for run in range(2):
            assert norm[run, 0] == np.sqrt(np.sum(_slot(flat[run], index) ** 2))


def test_trust_ratio_scales_each_slot_to_its_weights_norm_and_leaves_zero_norms_alone() -> None:
    params = _start()
    updates = np.random.default_rng(6).standard_normal(26)
    updates[_slot_range(3)] = 0.0  # b2's update is zero: ratio 1, nothing moves
    scaled = scale_by_trust_ratio(updates, params, LAYOUT)
    for index in (0, 2):  # the weights: ||scaled|| = ||W||
        np.testing.assert_allclose(
            np.linalg.norm(_slot(scaled, index)), np.linalg.norm(_slot(params, index)), rtol=1e-15
        )
    assert np.array_equal(_slot(scaled, 1), _slot(updates, 1))  # b1 is zero: ratio 1
    assert np.array_equal(_slot(scaled, 3), np.zeros(2))


def _slot_range(index: int) -> slice:
    return slice(LAYOUT.slots[index].start, LAYOUT.slots[index].stop)


# --- lamb and lars by hand -----------------------------------------------------------------------


def test_lamb_first_two_steps_recomputed_by_hand() -> None:
    b1, b2, eps, wd, lr = 0.8, 0.99, 1e-6, 0.01, 0.01
    opt = optim.lamb(lr, beta1=b1, beta2=b2, epsilon=eps, weight_decay=wd)
    params = _start()
    grads = np.random.default_rng(8).standard_normal((2, 26))
    state = drive.start(opt, params, LAYOUT)
    m = np.zeros(26)
    s = np.zeros(26)
    expected = params.copy()
    for t, g in enumerate(grads, start=1):
        m = (1 - b1) * g + b1 * m
        s = (1 - b2) * (g * g) + b2 * s
        u = (m / (1 - b1**t)) / (np.sqrt(s / (1 - b2**t)) + eps) + wd * expected
        for index in range(4):
            w_norm = np.linalg.norm(_slot(expected, index))
            u_norm = np.linalg.norm(_slot(u, index))
            ratio = 1.0 if w_norm == 0 else w_norm / u_norm
            expected[_slot_range(index)] -= lr * ratio * _slot(u, index)
        params, state, _ = drive.step(opt, state, params, _stream(g[None]), LAYOUT)
    np.testing.assert_allclose(params, expected, rtol=1e-14, atol=1e-16)
    assert state.step == 2


@pytest.mark.parametrize("nesterov", [False, True])
def test_lars_first_three_steps_recomputed_by_hand(nesterov: bool) -> None:
    lr, wd, tc, momentum = 0.5, 1e-3, 0.01, 0.9
    opt = optim.lars(
        lr, weight_decay=wd, trust_coefficient=tc, momentum=momentum, nesterov=nesterov
    )
    params = _start()
    grads = np.random.default_rng(9).standard_normal((3, 26))
    state = drive.start(opt, params, LAYOUT)
    expected = params.copy()
    trace = np.zeros(26)
    for g in grads:
        step = np.empty(26)
        for index in range(4):
            w = _slot(expected, index)
            u = _slot(g, index) + wd * w
            ratio = 1.0 if not np.any(w) else tc * np.linalg.norm(w) / np.linalg.norm(u)
            step[_slot_range(index)] = -lr * ratio * u
        trace = step + momentum * trace
        expected = expected + (step + momentum * trace if nesterov else trace)
        params, state, _ = drive.step(opt, state, params, _stream(g[None]), LAYOUT)
    np.testing.assert_allclose(params, expected, rtol=1e-14, atol=1e-16)


def test_lars_moves_a_zero_bias_by_the_plain_gradient_step() -> None:
    opt = optim.lars(0.5, momentum=0.0)
    params = _start()
    grads = np.random.default_rng(10).standard_normal(26)
    moved = _run(opt, params, grads[None])
    np.testing.assert_array_equal(_slot(moved, 1), -0.5 * _slot(grads, 1) * 1.0)


# --- adafactor -----------------------------------------------------------------------------------


def test_adafactor_keeps_row_and_column_factors_not_a_full_second_moment() -> None:
    opt = optim.adafactor(0.01)
    state = drive.start(opt, np.zeros((3, 26)), LAYOUT)  # three stacked runs
    assert state.row.shape == (3, 4 + 2)  # W1's 4 rows, W2's 2
    assert state.col.shape == (3, 3 + 4)  # W1's 3 columns, W2's 4
    assert state.variance.shape == (3, 4 + 2)  # b1 and b2 in full
    point = drive.start(opt, np.zeros(2))  # a landscape's point: one vector, unfactored
    assert (point.row.shape, point.col.shape, point.variance.shape) == ((0,), (0,), (2,))


def test_adafactor_first_two_steps_recomputed_by_hand() -> None:
    lr, decay, eps1, eps2, d, wd = 0.3, -0.5, 1e-6, 0.01, 1.2, 0.01
    opt = optim.adafactor(lr, beta2_decay=decay, epsilon1=eps1, epsilon2=eps2, d=d, weight_decay=wd)
    params = _start()
    grads = np.random.default_rng(11).standard_normal((2, 26))
    state = drive.start(opt, params, LAYOUT)
    expected = params.copy()
    factors: dict[int, Any] = {0: (np.zeros(4), np.zeros(3)), 2: (np.zeros(2), np.zeros(4))}
    variances = {1: np.zeros(4), 3: np.zeros(2)}
    for t, g in enumerate(grads, start=1):
        w = t**decay  # 1 at t = 1: the first estimate is the first gradient's alone
        rho = min(lr, 1 / np.sqrt(t))
        new = expected * (1 - lr * wd)
        for index, slot in enumerate(LAYOUT.slots):
            weights, grad = _slot(expected, index), _slot(g, index)
            alpha = max(eps2, np.sqrt(np.mean(weights**2))) * rho
            if slot.is_matrix:
                g2 = grad.reshape(slot.shape) ** 2
                row, col = factors[index]
                row = row + w * (g2.mean(axis=1) - row)
                col = col + w * (g2.mean(axis=0) - col)
                factors[index] = (row, col)
                v = (np.outer(row, col) / max(row.mean(), eps1)).reshape(-1)
            else:
                variances[index] = variances[index] + w * (grad**2 - variances[index])
                v = variances[index]
            u = grad / np.sqrt(np.maximum(v, eps1**2))
            new[_slot_range(index)] -= alpha / max(1.0, np.sqrt(np.mean(u**2)) / d) * u
        expected = new
        params, state, _ = drive.step(opt, state, params, _stream(g[None]), LAYOUT)
    np.testing.assert_allclose(params, expected, rtol=1e-13, atol=1e-16)


def test_adafactor_epsilon1_zero_is_the_machine_epsilon_of_the_dtype() -> None:
    # One vector slot whose gradient is 1e-9: V = 1e-18 at t = 1. float64's floor
    # (2.2e-16)^2 is below it, so u = g / |g| = 1; float32's (1.19e-7)^2 is above it, so
    # u = 1e-9 / 1.19e-7. The step is alpha u, alpha = max(1e-3, RMS(W)) rho.
    for dtype, u in ((np.float64, 1.0), (np.float32, 1e-9 / np.finfo(np.float32).eps)):
        opt = optim.adafactor(0.01)
        params = np.ones(2, dtype=dtype)
        state = drive.start(opt, params)
        updates, state = opt.update(
            np.full(2, 1e-9, dtype=dtype), state, params, layout=Layout.vector(2)
        )
        assert updates.dtype == dtype and state.variance.dtype == dtype
        np.testing.assert_allclose(updates, -0.01 * u, rtol=1e-6)


def test_adafactor_clips_the_update_to_rms_d() -> None:
    # At t = 1, V = g^2, so u = sign(g): RMS 1. With d = 1 nothing is clipped; a tiny d
    # is refused (d >= 1), so clipping shows at t = 2 after a gradient 100 times larger.
    opt = optim.adafactor(0.01, beta2_decay=-0.8)
    params = np.ones(2)
    state = drive.start(opt, params)
    _, state = opt.update(np.array([0.01, 0.01]), state, params, layout=Layout.vector(2))
    updates, _ = opt.update(np.array([1.0, 1.0]), state, params, layout=Layout.vector(2))
    # V = 1 - (1 - 0.01^2)(1 - 2^-0.8) = 0.574: u = 1 / sqrt(V) = 1.32 in both entries, RMS
    # 1.32 > d = 1, so u is divided by 1.32 (unclipped the step would be 0.0132); alpha is
    # max(1e-3, RMS(W) = 1) min(0.01, 1 / sqrt(2)) = 0.01
    assert 1.3 < 1 / np.sqrt(1 - (1 - 1e-4) * (1 - 2**-0.8)) < 1.33
    np.testing.assert_allclose(updates, [-0.01, -0.01], rtol=1e-15)


# --- every layer-wise optimizer -------------------------------------------------------------------

STACKS: dict[str, list[dict[str, Any]]] = {
    "lamb": [
        {"learning_rate": 0.01, "beta1": 0.9, "weight_decay": 0.01},
        {"learning_rate": 0.003, "beta1": 0.8, "weight_decay": 0.1},
        {"learning_rate": 0.02, "beta1": 0.7, "weight_decay": 0.001},
    ],
    "lars": [
        {"learning_rate": 1.0, "trust_coefficient": 0.001, "momentum": 0.9},
        {"learning_rate": 0.5, "trust_coefficient": 0.01, "momentum": 0.5},
        {"learning_rate": 2.0, "trust_coefficient": 0.002, "momentum": 0.0},
    ],
    "adafactor": [
        {"learning_rate": 0.01, "beta2_decay": -0.8, "epsilon1": 0.0, "d": 1.0},
        {"learning_rate": 0.3, "beta2_decay": -0.5, "epsilon1": 1e-6, "d": 1.2},
        {"learning_rate": 0.05, "beta2_decay": 0.0, "epsilon1": 1e-3, "d": 2.0},
    ],
}


@pytest.mark.exact
@pytest.mark.parametrize("name", LAYERWISE)
def test_a_stack_with_per_run_hyperparameters_equals_each_run_alone(name: str) -> None:
    settings = STACKS[name]
    starts = np.stack([_start() * (1 + k) for k in range(3)])
    grads = np.random.default_rng(12).standard_normal((20, 3, 26))
    together = _run(stacked(name, settings), starts, grads)
    for k, run in enumerate(settings):
        alone = _run(optim.get(name, **run), starts[k], grads[:, k])
        assert np.array_equal(together[k], alone), k


@pytest.mark.parametrize("name", LAYERWISE)
def test_float32_parameters_keep_float32_updates_and_state(name: str) -> None:
    opt = optim.get(name, learning_rate=0.01)
    params = _start().astype(np.float32)
    state = drive.start(opt, params, LAYOUT)
    for scale in (0.5, -1.0, 2.0):
        updates, state = opt.update(
            np.full(26, scale, dtype=np.float32), state, params, layout=LAYOUT
        )
        params = optim.apply_updates(params, updates)
        assert updates.dtype == np.float32 and params.dtype == np.float32
    for field, value in zip(state._fields, state, strict=True):
        if field != "step":
            assert value.dtype == np.float32, field


@pytest.mark.parametrize("name", LAYERWISE)
def test_needs_the_layout_and_the_parameters(name: str) -> None:
    opt = optim.get(name, learning_rate=0.01)
    assert opt.needs == optim.spec(name).needs == frozenset({"layout"})
    with pytest.raises(ValueError, match=r"^the layout covers 26 parameters, the buffer has 5$"):
        opt.init(np.zeros(5), layout=LAYOUT)
    state = opt.init(np.zeros(26), layout=LAYOUT)
    with pytest.raises(ValueError, match=rf"^{name} needs the parameters: call update"):
        opt.update(np.zeros(26), state, None, layout=LAYOUT)


LR = {"learning_rate": 0.1}


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("lamb", {**LR, "beta1": 1.0}, r"beta1 must be a number in \[0, 1\), got 1.0"),
        ("lamb", {**LR, "beta2": -0.1}, r"beta2 must be a number in \[0, 1\), got -0.1"),
        ("lamb", {**LR, "epsilon": -1e-6}, "epsilon must be a finite number >= 0, got -1e-06"),
        ("lamb", {**LR, "epsilon_root": float("nan")}, "epsilon_root must be a finite number"),
        ("lamb", {**LR, "weight_decay": -0.1}, "weight_decay must be a finite number >= 0"),
        ("lars", {**LR, "weight_decay": -1.0}, "weight_decay must be a finite number >= 0"),
        ("lars", {**LR, "trust_coefficient": 0}, "trust_coefficient must be a finite number > 0"),
        ("lars", {**LR, "epsilon": -1.0}, "epsilon must be a finite number >= 0, got -1.0"),
        ("lars", {**LR, "momentum": 1.0}, r"momentum must be a number in \[0, 1\), got 1.0"),
        ("lars", {**LR, "nesterov": 1}, "nesterov must be True or False, got 1"),
        ("adafactor", {**LR, "beta2_decay": 0.5}, "beta2_decay must be a finite number <= 0"),
        ("adafactor", {**LR, "epsilon1": -1e-30}, "epsilon1 must be a finite number >= 0"),
        ("adafactor", {**LR, "epsilon2": -1e-3}, "epsilon2 must be a finite number >= 0"),
        ("adafactor", {**LR, "d": 0.5}, "d must be a finite number >= 1, got 0.5"),
        ("adafactor", {**LR, "weight_decay": -0.1}, "weight_decay must be a finite number >= 0"),
        ("adafactor", {"learning_rate": 0.0}, "learning_rate must be a finite number > 0"),
    ],
)
def test_invalid_hyperparameters_are_rejected_in_one_line(
    name: str, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message) as raised:
        optim.get(name, **kwargs)
    assert "\n" not in str(raised.value)


@pytest.mark.exact
@pytest.mark.parametrize("name", LAYERWISE)
def test_a_run_without_decay_steps_as_alone_in_a_stack_whose_other_run_decays(name: str) -> None:
    runs = [
        {"learning_rate": 0.05, "weight_decay": 0.0},
        {"learning_rate": 0.05, "weight_decay": 0.1},
    ]
    starts = np.stack([_start(), _start() * 2])
    grads = np.random.default_rng(13).standard_normal((30, 2, 26))
    together = _run(stacked(name, runs), starts, grads)
    assert np.array_equal(together[0], _run(optim.get(name, **runs[0]), starts[0], grads[:, 0]))
