"""Adadelta: the update recomputed by hand, the size of its first steps, and its edge rho = 1."""

from __future__ import annotations

import numpy as np
import pytest

from descentlab import optim


def _gradients(steps: int, shape: tuple[int, ...] = (3, 4)) -> list[np.ndarray]:
    rng = np.random.default_rng(9)
    return [rng.normal(size=shape) for _ in range(steps)]


@pytest.mark.exact
def test_adadelta_recomputed_by_hand() -> None:
    rho, eps, lr, wd = 0.8, 1e-4, 2.0, 0.05
    params = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
    opt = optim.adadelta(lr, rho=rho, epsilon=eps, weight_decay=wd)
    state = opt.init(params)
    square_avg = np.zeros_like(params)
    acc_delta = np.zeros_like(params)
    for dW in _gradients(10):
        g = dW + wd * params
        square_avg = rho * square_avg + (1 - rho) * g**2
        delta = np.sqrt(acc_delta + eps) / np.sqrt(square_avg + eps) * g
        acc_delta = rho * acc_delta + (1 - rho) * delta**2
        updates, state = opt.update(dW, state, params)
        assert np.array_equal(updates, -(lr * delta))
        assert np.array_equal(state.acc_delta, acc_delta)
        params = optim.apply_updates(params, updates)
    assert state.step == 10


@pytest.mark.parametrize("scale", [1.0, 1e3])
def test_the_first_step_is_about_sqrt_epsilon_over_one_minus_rho_whatever_the_scale(
    scale: float,
) -> None:
    # dx = sqrt(eps) / sqrt((1 - rho) g^2 + eps) * g: about sqrt(eps / (1 - rho)) sign(g)
    # once (1 - rho) g^2 is well above eps.
    opt = optim.adadelta(1.0)
    grad = scale * np.array([1.0, -1.0])
    updates, _ = opt.update(grad, opt.init(np.zeros(2)), None)
    expected = np.sqrt(1e-6 / 0.1) * np.array([-1.0, 1.0])
    np.testing.assert_allclose(updates, expected, rtol=1e-5)


def test_a_gradient_far_below_sqrt_epsilon_is_stepped_as_gd_would() -> None:
    # (1 - rho) g^2 << eps: dx = sqrt(eps) / sqrt(eps) * g = g, about.
    opt = optim.adadelta(1.0)
    grad = np.array([1e-6, -2e-6])
    updates, _ = opt.update(grad, opt.init(np.zeros(2)), None)
    np.testing.assert_allclose(updates, -grad, rtol=1e-6)


def test_rho_one_freezes_the_averages_and_steps_like_gd() -> None:
    grads = _gradients(5)
    params = np.ones((3, 4))
    opt = optim.adadelta(0.1, rho=1.0)
    state = opt.init(params)
    for g in grads:
        updates, state = opt.update(g, state, params)
        np.testing.assert_allclose(updates, -0.1 * g, rtol=1e-15)
    assert not state.square_avg.any() and not state.acc_delta.any()
