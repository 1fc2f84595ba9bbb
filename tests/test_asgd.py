"""ASGD: the update and torch's step sizes recomputed by hand, the average it reports (the last
weights before t0, the running mean after), the step size lagging a schedule by one update as
torch's, stacked runs with their own t0 as alone, float32, and its one-line errors."""

from __future__ import annotations

import numpy as np
import pytest

from descentlab import datasets, nn, optim
from descentlab.optim.base import reported_params
from descentlab.train import train


def _gradients(steps: int, shape: tuple[int, ...] = (3, 4)) -> list[np.ndarray]:
    rng = np.random.default_rng(17)
    return [rng.normal(size=shape) for _ in range(steps)]


@pytest.mark.exact
def test_asgd_recomputed_by_hand() -> None:
    lr, lambd, alpha, t0, wd = 0.05, 0.01, 0.6, 4.0, 0.02
    opt = optim.asgd(lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=wd)
    params = np.random.default_rng(3).normal(size=(3, 4))
    state = opt.init(params)
    eta, mu, ax = lr, 1.0, params.copy()
    for t, dW in enumerate(_gradients(12), start=1):
        g = dW + wd * params
        expected = -(eta * (g + lambd * params))
        updates, state = opt.update(dW, state, params)
        assert np.array_equal(updates, expected)
        params = optim.apply_updates(params, updates)
        ax = params if mu == 1 else ax + (params - ax) * mu
        eta = lr / ((1 + lambd * lr * t) ** alpha)  # torch's Python floats
        mu = 1 / max(1, t - t0)
        assert state.step == t and state.eta == eta and state.average_weight == mu
        assert np.array_equal(state.ax, ax)
        assert np.array_equal(reported_params(opt, state, params), ax)


def test_before_t0_it_reports_the_last_weights_and_after_it_their_mean() -> None:
    grads = _gradients(40, shape=(5,))
    late = optim.asgd(0.01)  # t0 = 1e6: never averages
    polyak = optim.asgd(0.01, lambd=0.0, t0=0.0)  # averages every iterate from the first
    params = np.zeros(5)
    assert np.array_equal(reported_params(late, late.init(params), params), params)
    late_state, polyak_state = late.init(params), polyak.init(params)
    late_params, polyak_params = params, params
    iterates = []
    for g in grads:
        updates, late_state = late.update(g, late_state, late_params)
        late_params = late_params + updates
        assert np.array_equal(late.report(late_state, late_params), late_params)
        updates, polyak_state = polyak.update(g, polyak_state, polyak_params)
        polyak_params = polyak_params + updates
        iterates.append(polyak_params)
    np.testing.assert_allclose(
        # mu = 1 / max(1, t - t0) is still 1 after the first update: the mean starts at W_2
        polyak.report(polyak_state, polyak_params),
        np.mean(iterates[1:], axis=0),
        rtol=1e-13,
    )
    assert not np.allclose(polyak.report(polyak_state, polyak_params), polyak_params)


def test_the_step_size_lags_a_schedule_by_one_update_as_torch() -> None:
    rates = [0.1, 0.2, 0.3, 0.4]
    lambd, alpha = 0.5, 0.75
    opt = optim.asgd(lambda step: rates[step], lambd=lambd, alpha=alpha)
    params = np.zeros(1)
    state = opt.init(params)
    used = []
    for _ in range(4):
        used.append(state.eta)
        updates, state = opt.update(np.ones(1), state, params)
        params = params + updates
    # torch computes eta at the end of an update from that update's rate
    assert used == [0.1] + [
        rates[t - 1] / (1 + lambd * rates[t - 1] * t) ** alpha for t in (1, 2, 3)
    ]


@pytest.mark.exact
def test_a_stack_with_its_own_t0_and_rates_equals_its_runs_alone() -> None:
    rates = np.array([[0.05], [0.02], [0.1]])
    t0 = np.array([[3.0], [1e6], [0.0]])
    alpha = np.array([[0.75], [0.5], [1.0]])
    params = np.random.default_rng(4).normal(size=(3, 5))
    stacked = optim.asgd(rates, lambd=0.01, alpha=alpha, t0=t0)
    runs = [
        optim.asgd(float(rates[k, 0]), lambd=0.01, alpha=float(alpha[k, 0]), t0=float(t0[k, 0]))
        for k in range(3)
    ]
    state = stacked.init(params)
    alone = [(params[k], run.init(params[k])) for k, run in enumerate(runs)]
    for g in _gradients(10, shape=(3, 5)):
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
        assert state.eta[k, 0] == s.eta and state.average_weight[k, 0] == s.average_weight


def test_float32_parameters_keep_float32_state_and_updates() -> None:
    params = np.ones((2, 3), dtype=np.float32)
    opt = optim.asgd(0.01, t0=2.0, weight_decay=0.1)
    state = opt.init(params)
    for g in _gradients(6, shape=(2, 3)):
        updates, state = opt.update(g.astype(np.float32), state, params)
        params = optim.apply_updates(params, updates)
    assert updates.dtype == params.dtype == state.ax.dtype == np.float32
    assert isinstance(state.eta, float) and isinstance(state.average_weight, float)


def test_update_needs_the_parameters() -> None:
    opt = optim.asgd(0.01)
    with pytest.raises(ValueError, match=r"^asgd needs the parameters to average them"):
        opt.update(np.ones(2), opt.init(np.zeros(2)), None)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"learning_rate": 0.0}, "learning_rate must be a finite number > 0, got 0.0"),
        ({"lambd": -1e-4}, "lambd must be a finite number >= 0, got -0.0001"),
        ({"alpha": float("nan")}, "alpha must be a finite number >= 0, got nan"),
        ({"t0": -1.0}, "t0 must be a finite number >= 0, got -1.0"),
        ({"weight_decay": -0.1}, "weight_decay must be a finite number >= 0, got -0.1"),
    ],
)
def test_invalid_hyperparameters_are_rejected_in_one_line(
    kwargs: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        optim.get("asgd", **{"learning_rate": 0.01, **kwargs})


def test_a_training_run_evaluates_the_average_after_t0() -> None:
    data = datasets.moons()
    opt = optim.asgd(0.1, t0=20.0)
    result = train(nn.Network((2, 5, 1)), data.X, data.Y, opt, epochs=20, batch_size=32)
    assert np.array_equal(result.weights, result.opt_state.ax)  # evaluation, --save, predict
    assert not np.allclose(result.weights, result.params)  # the loop continues from W
