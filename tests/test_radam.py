"""RAdam: the update recomputed by hand on both sides of the rectification threshold, and a
stack whose runs sit on both sides equal to the runs alone."""

from __future__ import annotations

import math

import numpy as np
import pytest

from descentlab import optim


def _gradients(steps: int, shape: tuple[int, ...] = (3, 4)) -> list[np.ndarray]:
    rng = np.random.default_rng(5)
    return [rng.normal(size=shape) for _ in range(steps)]


def _rho(beta2: float, t: int) -> float:
    rho_inf = 2 / (1 - beta2) - 1
    return rho_inf - 2 * t * float(np.power(beta2, t)) / (1 - float(np.power(beta2, t)))


@pytest.mark.exact
@pytest.mark.parametrize("decoupled", [False, True])
def test_radam_recomputed_by_hand(decoupled: bool) -> None:
    b1, b2, eps, lr, wd = 0.8, 0.95, 1e-3, 0.01, 0.1
    params = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
    opt = optim.radam(
        lr, beta1=b1, beta2=b2, epsilon=eps, weight_decay=wd, decoupled_weight_decay=decoupled
    )
    state = opt.init(params)
    m = np.zeros_like(params)
    s = np.zeros_like(params)
    rho_inf = 2 / (1 - b2) - 1
    rectified_steps = 0
    for t, dW in enumerate(_gradients(12), start=1):
        g = dW if decoupled else dW + wd * params
        m = b1 * m + (1 - b1) * g
        s = b2 * s + (1 - b2) * np.power(g, 2)
        m_hat = m / (1 - float(np.power(b1, t)))
        bias_correction2 = 1 - float(np.power(b2, t))
        rho_t = _rho(b2, t)
        if rho_t > 5:
            rectified_steps += 1
            r_t = math.sqrt(
                (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            )
            step = m_hat * lr * (math.sqrt(bias_correction2) / (np.sqrt(s) + eps)) * r_t
        else:
            step = m_hat * lr
        expected_updates = -step - lr * wd * params if decoupled else -step
        updates, state = opt.update(dW, state, params)
        assert np.array_equal(updates, expected_updates), t
        params = optim.apply_updates(params, updates)
    assert rectified_steps == 7  # t = 6 .. 12; t = 1 .. 5 were the momentum step


def test_the_first_steps_are_the_momentum_step_whatever_the_gradients_scale() -> None:
    # Until rho_t > 5 the step is lr * m_hat: the first is lr * g itself, not lr * sign(g).
    opt = optim.radam(0.1)
    grad = np.array([300.0, -0.002])
    updates, state = opt.update(grad, opt.init(np.zeros(2)), None)
    np.testing.assert_allclose(updates, -0.1 * grad, rtol=1e-15)
    for _ in range(4):
        updates, state = opt.update(grad, state, None)
        np.testing.assert_allclose(updates, -0.1 * grad, rtol=1e-14)  # m_hat of a constant g
    updates, state = opt.update(grad, state, None)  # t = 6: rectified, about lr * r_6 * sign
    assert state.step == 6
    rho_6 = _rho(0.999, 6)
    assert rho_6 > 5 > _rho(0.999, 5)
    r_6 = math.sqrt((rho_6 - 4) * (rho_6 - 2) * 1999 / (1995 * 1997 * rho_6))
    np.testing.assert_allclose(updates, -0.1 * r_6 * np.sign(grad), rtol=1e-4)


def test_with_beta2_at_most_two_thirds_it_never_rectifies() -> None:
    # rho_inf = 2 / (1 - beta2) - 1 <= 5: RAdam is bias-corrected momentum for ever.
    grads = _gradients(50)
    params = np.ones((3, 4))
    opt = optim.radam(0.01, beta1=0.7, beta2=0.6)
    state = opt.init(params)
    m = np.zeros_like(params)
    for t, g in enumerate(grads, start=1):
        m = 0.7 * m + (1 - 0.7) * g
        updates, state = opt.update(g, state, params)
        assert np.array_equal(updates, -(m / (1 - float(np.power(0.7, t))) * 0.01))


@pytest.mark.exact
def test_a_stack_across_the_threshold_equals_its_runs_alone() -> None:
    beta2 = np.array([[0.999], [0.6], [0.9]])  # rectified from t = 6, never, from t = 6
    rates = np.array([[0.01], [0.02], [0.005]])
    grads = _gradients(10, shape=(3, 5))
    params = np.random.default_rng(1).normal(size=(3, 5))
    stacked = optim.radam(rates, beta2=beta2, weight_decay=0.01)
    state = stacked.init(params)
    runs = [
        optim.radam(float(rates[k, 0]), beta2=float(beta2[k, 0]), weight_decay=0.01)
        for k in range(3)
    ]
    alone = [(params[k], run.init(params[k])) for k, run in enumerate(runs)]
    for g in grads:
        updates, state = stacked.update(g, state, params)
        params = optim.apply_updates(params, updates)
        for k, run in enumerate(runs):
            p, s = alone[k]
            u, s = run.update(g[k], s, p)
            alone[k] = (optim.apply_updates(p, u), s)
    for k in range(3):
        assert np.array_equal(params[k], alone[k][0])
