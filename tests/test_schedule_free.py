"""Schedule-free SGD and AdamW: the update recomputed by hand in optax's form (y the parameters,
z in the state, x reported), optax's warmup with its off-by-one, x as the weighted average of
the z's, stacked runs with their own warmup and beta1 as alone, float32, and the errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from descentlab import datasets, nn, optim
from descentlab.optim.base import reported_params
from descentlab.optim.powers import scalar_power
from descentlab.train import train


def _gradients(steps: int, shape: tuple[int, ...] = (3, 4)) -> list[np.ndarray]:
    rng = np.random.default_rng(23)
    return [rng.normal(size=shape) for _ in range(steps)]


def _warmed(lr: float, warmup: int, count: int) -> float:
    """optax's warmup_constant_schedule(0, lr, warmup) at count, in float64."""
    return -lr * (1 - min(count, warmup) / warmup) + lr if warmup else lr


@pytest.mark.exact
@pytest.mark.parametrize("name", ["schedule_free_sgd", "schedule_free_adamw"])
def test_recomputed_by_hand(name: str) -> None:
    lr, warmup, b1, b2, eps, wd, power = 0.05, 4, 0.8, 0.99, 1e-6, 0.01, 1.5
    adamw = name == "schedule_free_adamw"
    extra: dict[str, Any] = {"beta2": b2, "epsilon": eps} if adamw else {}
    opt = optim.get(
        name,
        learning_rate=lr,
        warmup_steps=warmup,
        beta1=b1,
        weight_decay=wd,
        weight_lr_power=power,
        **extra,
    )
    y = np.random.default_rng(5).normal(size=(3, 4))
    state = opt.init(y)
    z, nu, weight_sum, max_lr = y.copy(), np.zeros_like(y), 0.0, 0.0
    for c, g in enumerate(_gradients(10)):
        t = c + 1
        max_lr = max(max_lr, _warmed(lr, warmup, t))  # the averaging weight reads count + 1
        weight = max_lr**power
        weight_sum = weight_sum + weight
        share = weight / weight_sum
        if adamw:
            nu = (1 - b2) * np.power(g, 2) + b2 * nu
            d = (1 / (np.sqrt(nu / (1 - scalar_power(b2, t))) + eps)) * g + wd * y
        else:
            d = g + wd * y
        new_z = z + (-_warmed(lr, warmup, c)) * d  # the step reads count
        x = (1 - share) * ((y - (1 - b1) * z) * (1 / b1)) + share * new_z
        new_y = b1 * x + (1 - b1) * new_z
        updates, state = opt.update(g, state, y)
        assert np.array_equal(updates, new_y - y)
        y, z = y + updates, new_z
        assert state.step == t and np.array_equal(state.z, z)
        assert state.weight_sum == weight_sum and state.max_lr == max_lr
        if adamw:
            assert np.array_equal(state.nu, nu)
        assert np.array_equal(reported_params(opt, state, y), (y - (1 - b1) * z) * (1 / b1))


@pytest.mark.parametrize("name", ["schedule_free_sgd", "schedule_free_adamw"])
def test_with_a_warmup_the_first_update_moves_nothing_as_optax(name: str) -> None:
    # optax's step reads the warmup schedule at count 0, where it is 0
    opt = optim.get(name, learning_rate=0.1, warmup_steps=10)
    y = np.array([1.0, -2.0])
    state = opt.init(y)
    updates, state = opt.update(np.array([3.0, 4.0]), state, y)
    assert np.array_equal(updates, [0.0, 0.0]) and np.array_equal(state.z, y)
    assert state.max_lr == _warmed(0.1, 10, 1) == pytest.approx(0.01, rel=1e-15)
    updates, state = opt.update(np.array([3.0, 4.0]), state, y)
    assert np.all(updates != 0)


def test_the_warmed_up_rate_stays_float64() -> None:
    # optax 0.2.8 computes it in float32 (float32(0.3) = 0.30000001192092896); not here
    opt = optim.schedule_free_sgd(0.3, warmup_steps=7)
    y = np.zeros(1)
    state = opt.init(y)
    rates = []
    for _ in range(9):
        z = state.z
        updates, state = opt.update(np.ones(1), state, y)
        y = y + updates
        rates.append(float(z[0] - state.z[0]))
    assert state.max_lr == 0.3
    np.testing.assert_allclose(rates, [0.3 * min(c, 7) / 7 for c in range(9)], rtol=1e-15)


def test_x_is_the_average_of_the_z_iterates_and_y_interpolates() -> None:
    opt = optim.schedule_free_sgd(0.02, beta1=0.7)
    y = np.array([2.0, -1.0, 0.5])
    state = opt.init(y)
    assert np.array_equal(opt.report(state, y), y)  # x = y = z at the start
    zs = []
    for _ in range(30):
        updates, state = opt.update(2 * y, state, y)  # f = |w|^2
        y = y + updates
        zs.append(state.z)
    x = opt.report(state, y)
    # no warmup: every weight is lr^2, so x is the plain mean of z_1 .. z_t
    np.testing.assert_allclose(x, np.mean(zs, axis=0), rtol=1e-12)
    np.testing.assert_allclose(y, 0.7 * x + 0.3 * state.z, rtol=1e-14)
    assert not np.allclose(x, y)


@pytest.mark.exact
@pytest.mark.parametrize("name", ["schedule_free_sgd", "schedule_free_adamw"])
def test_a_stack_with_its_own_settings_equals_its_runs_alone(name: str) -> None:
    rates = np.array([[0.05], [0.02], [0.1]])
    warmup = np.array([[0.0], [3.0], [5.0]])
    beta1 = np.array([[0.9], [0.5], [1.0]])
    power = np.array([[2.0], [0.0], [1.5]])
    params = np.random.default_rng(6).normal(size=(3, 5))
    stacked = optim.get(
        name, learning_rate=rates, warmup_steps=warmup, beta1=beta1, weight_lr_power=power
    )
    runs = [
        optim.get(
            name,
            learning_rate=float(rates[k, 0]),
            warmup_steps=int(warmup[k, 0]),
            beta1=float(beta1[k, 0]),
            weight_lr_power=float(power[k, 0]),
        )
        for k in range(3)
    ]
    state = stacked.init(params)
    alone = [(params[k], run.init(params[k])) for k, run in enumerate(runs)]
    for g in _gradients(8, shape=(3, 5)):
        updates, state = stacked.update(g, state, params)
        params = optim.apply_updates(params, updates)
        for k, run in enumerate(runs):
            p, s = alone[k]
            u, s = run.update(g[k], s, p)
            alone[k] = (optim.apply_updates(p, u), s)
    for k, run in enumerate(runs):
        p, s = alone[k]
        assert np.array_equal(params[k], p)
        assert np.array_equal(stacked.report(state, params)[k], run.report(s, p))
        assert state.weight_sum[k, 0] == s.weight_sum and state.max_lr[k, 0] == s.max_lr


@pytest.mark.parametrize("name", ["schedule_free_sgd", "schedule_free_adamw"])
def test_float32_parameters_keep_float32_state_and_updates(name: str) -> None:
    params = np.ones((2, 3), dtype=np.float32)
    opt = optim.get(name, learning_rate=0.01, warmup_steps=2, weight_decay=0.1)
    state = opt.init(params)
    for g in _gradients(5, shape=(2, 3)):
        updates, state = opt.update(g.astype(np.float32), state, params)
        params = optim.apply_updates(params, updates)
    assert updates.dtype == params.dtype == state.z.dtype == np.float32
    assert opt.report(state, params).dtype == np.float32
    assert isinstance(state.weight_sum, float) and isinstance(state.max_lr, float)


@pytest.mark.parametrize("name", ["schedule_free_sgd", "schedule_free_adamw"])
def test_update_needs_the_parameters(name: str) -> None:
    opt = optim.get(name, learning_rate=0.01)
    with pytest.raises(ValueError, match=f"^{name} needs the parameters \\(its y\\)"):
        opt.update(np.ones(2), opt.init(np.zeros(2)), None)


@pytest.mark.parametrize("name", ["schedule_free_sgd", "schedule_free_adamw"])
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"beta1": 0.0}, r"beta1 must be a number in \(0, 1\] \(x divides by it\), got 0.0"),
        ({"beta1": 1.5}, r"beta1 must be a number in \[0, 1\], got 1.5"),
        ({"warmup_steps": 2.5}, "warmup_steps must be an integer >= 0, got 2.5"),
        ({"warmup_steps": -1}, "warmup_steps must be an integer >= 0, got -1"),
        (
            {"warmup_steps": np.array([[3.0], [0.5]])},
            "warmup_steps must be an integer >= 0, got 0.5",
        ),
        ({"weight_decay": -0.1}, "weight_decay must be a finite number >= 0, got -0.1"),
        ({"weight_lr_power": -2.0}, "weight_lr_power must be a finite number >= 0, got -2.0"),
    ],
)
def test_invalid_hyperparameters_are_rejected_in_one_line(
    name: str, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        optim.get(name, **{"learning_rate": 0.01, **kwargs})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"beta2": 1.0}, r"beta2 must be a number in \[0, 1\), got 1.0"),
        ({"epsilon": -1e-8}, "epsilon must be a finite number >= 0, got -1e-08"),
    ],
)
def test_invalid_adamw_hyperparameters_are_rejected_in_one_line(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        optim.schedule_free_adamw(0.01, **kwargs)


@pytest.mark.parametrize("name", ["schedule_free_sgd", "schedule_free_adamw"])
def test_a_training_run_evaluates_x_and_continues_from_y(name: str) -> None:
    data = datasets.moons()
    opt = optim.get(name, learning_rate=0.05)
    result = train(nn.Network((2, 5, 1)), data.X, data.Y, opt, epochs=20, batch_size=32)
    x = opt.report(result.opt_state, result.params)
    assert np.array_equal(result.weights, x)  # what evaluation, --save and predict use
    assert not np.allclose(result.weights, result.params)  # the loop's own weights are y
    np.testing.assert_allclose(
        result.params, 0.9 * x + 0.1 * result.opt_state.z, rtol=1e-12, atol=1e-15
    )
