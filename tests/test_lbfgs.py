"""L-BFGS: its first two updates recomputed by hand, torch's evaluation counts and early stops,
stacked runs equal to runs alone bit for bit (stopping at different inner iterations), a state
that round-trips through an archive, and one-line errors."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import run_cli
from descentlab import datasets, nn, optim
from descentlab.optim import drive
from descentlab.optim.stack import stacked as stacked_optimizer
from descentlab.train import train

CURVATURES = np.array([1.0, 4.0, 25.0])


def bowl(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """0.5 sum c_i (x_i - 1)^2 over the last axis, and its gradient."""
    gap = x - 1.0
    return 0.5 * (CURVATURES * gap**2).sum(axis=-1, keepdims=True), CURVATURES * gap


def rosenbrock(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    head, tail = x[..., :-1], x[..., 1:]
    gap = tail - head**2
    value = (100.0 * gap**2 + (1.0 - head) ** 2).sum(axis=-1, keepdims=True)
    grad = np.zeros_like(x)
    grad[..., :-1] = -400.0 * head * gap - 2.0 * (1.0 - head)
    grad[..., 1:] += 200.0 * gap
    return value, grad


def counting(
    function: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
) -> tuple[Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]], list[np.ndarray]]:
    """``function`` recording every point it is asked about."""
    calls: list[np.ndarray] = []

    def evaluate(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        calls.append(points.copy())
        return function(points)

    return evaluate, calls


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=-1, keepdims=True)


@pytest.mark.exact
def test_the_first_two_updates_recomputed_by_hand() -> None:
    lr = 0.3
    opt = optim.lbfgs(lr, max_iter=1)
    x0 = np.array([-2.0, 3.0, 0.5])
    state = drive.start(opt, x0)
    x1, state, _ = drive.step(opt, state, x0, bowl)
    g0 = bowl(x0)[1]
    t0 = min(1.0, 1.0 / np.abs(g0).sum()) * lr  # the first step's length
    assert np.array_equal(x1, x0 + ((x0 + t0 * -g0) - x0))
    x2, state, _ = drive.step(opt, state, x1, bowl)
    g1 = bowl(x1)[1]
    y, s = g1 - g0, -g0 * t0
    ys = _dot(y, s)
    rho, h_diag = 1.0 / ys, ys / _dot(y, y)
    q = -g1
    alpha = _dot(s, q) * rho
    q = q - alpha * y
    r = q * h_diag
    beta = _dot(y, r) * rho
    r = r + (alpha - beta) * s
    assert np.array_equal(x2, x1 + ((x1 + lr * r) - x1))
    assert (int(state.n_iter[0]), int(state.func_evals[0]), int(state.held[0])) == (2, 2, 1)
    assert np.array_equal(state.old_dirs[0], y) and np.array_equal(state.old_stps[0], s)
    assert np.array_equal(state.H_diag, h_diag) and np.array_equal(state.d, r)


def test_no_evaluation_after_the_last_inner_iteration() -> None:
    opt = optim.lbfgs(0.01, max_iter=3, max_eval=10)  # torch's default 3 * 5 // 4 = 3 stops first
    evaluate, calls = counting(rosenbrock)
    params = np.array([-1.2, 1.0, -1.2, 1.0])
    state = drive.start(opt, params)
    for steps in range(1, 6):
        params, state, _ = drive.step(opt, state, params, evaluate)
        # drive.step's own evaluation, then one after each inner iteration but the last
        assert len(calls) == 3 * steps
        assert (int(state.n_iter[0]), int(state.func_evals[0])) == (3 * steps, 3 * steps)
    # the last inner iteration's point is left for the next update's first evaluation
    assert not any(np.array_equal(call, params) for call in calls)
    drive.step(opt, state, params, evaluate)
    assert np.array_equal(calls[15], params)


def test_max_eval_stops_the_inner_iterations_and_zero_means_torchs_default() -> None:
    params = np.array([-1.2, 1.0, -1.2, 1.0])
    evaluate, calls = counting(rosenbrock)
    opt = optim.lbfgs(0.01, max_iter=5, max_eval=2)
    _, state, _ = drive.step(opt, drive.start(opt, params), params, evaluate)
    assert len(calls) == 2 and int(state.n_iter[0]) == 1
    # max_eval=0 is torch's max_eval=None: max_iter * 5 // 4 (10 for 8)
    default, explicit = optim.lbfgs(0.01, max_iter=8), optim.lbfgs(0.01, max_iter=8, max_eval=10)
    results = []
    for opt in (default, explicit):
        point, state = params, drive.start(opt, params)
        for _ in range(20):
            point, state, _ = drive.step(opt, state, point, rosenbrock)
        results.append((point, state.func_evals))
    assert np.array_equal(results[0][0], results[1][0])
    assert np.array_equal(results[0][1], results[1][1])


def test_a_gradient_below_tolerance_grad_stops_at_once() -> None:
    opt = optim.lbfgs(1.0, tolerance_grad=0.02)
    params = np.array([1.0005, 1.0, 0.9995])  # gradient (5e-4, 0, -0.0125)
    evaluate, calls = counting(bowl)
    state = drive.start(opt, params)
    new_params, new_state, _ = drive.step(opt, state, params, evaluate)
    assert np.array_equal(new_params, params) and len(calls) == 1
    assert new_state.step == 1 and new_state.func_evals.tolist() == [1]
    for name in set(state._fields) - {"step", "func_evals"}:  # nothing else moved
        assert np.array_equal(getattr(state, name), getattr(new_state, name)), name


def test_near_the_minimum_a_shallow_direction_stops_it_as_torch_does() -> None:
    # The defaults reach (1, 1, 1) to within 4e-6 in one update (10 inner iterations); then
    # each update computes a direction with g . d > -tolerance_change and stops unmoved, the
    # weights torch.optim.LBFGS stops at too (its bits, measured with torch 2.13.0).
    opt = optim.lbfgs(1.0)
    params = np.array([-2.0, 3.0, 0.5])
    state = drive.start(opt, params)
    stops = []
    for _ in range(4):
        params, state, _ = drive.step(opt, state, params, bowl)
        stops.append(params)
    np.testing.assert_allclose(
        params - 1.0, [3.60859767e-06, 1.57622702e-06, 8.67128894e-07], rtol=1e-8, atol=0
    )
    assert all(np.array_equal(stop, params) for stop in stops)
    assert state.n_iter.tolist() == [13]  # 10, then one inner iteration per update


def _run(opt: optim.Optimizer, params: np.ndarray, steps: int) -> tuple[np.ndarray, Any]:
    state = drive.start(opt, params)
    for _ in range(steps):
        params, state, _ = drive.step(opt, state, params, rosenbrock)
    return params, state


@pytest.mark.exact
def test_a_stack_equals_its_runs_alone_bit_for_bit() -> None:
    settings: list[dict[str, Any]] = [
        {"learning_rate": 0.1, "max_iter": 5, "history_size": 3, "tolerance_grad": 1e-7},
        {"learning_rate": 0.5, "max_iter": 20, "history_size": 7, "tolerance_grad": 1e-4},
        {"learning_rate": 1.0, "max_iter": 4, "history_size": 3, "tolerance_grad": 1e-7},
        {"learning_rate": 0.2, "max_iter": 9, "history_size": 2, "tolerance_grad": 1e-3},
    ]
    starts = np.array(
        [[-1.2, 1.0, -1.2, 1.0], [0.5, 0.5, 0.5, 0.5], [1.1, 1.2, 1.3, 1.7], [-1.0, 0.0, 1.0, 2.0]]
    )
    stacked = stacked_optimizer("lbfgs", settings)
    stack_params, stack_state = _run(stacked, starts, 40)
    n_iters = []
    for k, run in enumerate(settings):
        alone_params, alone_state = _run(optim.lbfgs(**run), starts[k], 40)
        assert np.array_equal(stack_params[k], alone_params), k
        capacity = run["history_size"]
        for name, alone in zip(alone_state._fields, alone_state, strict=True):
            stacked_value = getattr(stack_state, name)
            if name == "step":
                assert stacked_value == alone
            elif name in ("old_dirs", "old_stps", "ro"):
                assert np.array_equal(stacked_value[k, :capacity], alone), (k, name)
            else:
                assert np.array_equal(stacked_value[k], alone), (k, name)
        n_iters.append(int(alone_state.n_iter[0]))
    assert len(set(n_iters)) == len(settings)  # each run stopped at its own iterations
    # the last run's gradient fell below its tolerance_grad: its updates stop at once now
    assert np.abs(rosenbrock(stack_params[3])[1]).max() <= settings[3]["tolerance_grad"]


def _archived(state: optim.LBFGSState) -> optim.LBFGSState:
    """``state`` written to an npz archive and read back, as a checkpoint keeps it."""
    buffer = io.BytesIO()
    np.savez(buffer, **{name: np.asarray(value) for name, value in state._asdict().items()})
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as archive:
        values = {name: archive[name] for name in state._fields}
    return optim.LBFGSState(**{**values, "step": int(values["step"])})


@pytest.mark.exact
def test_resume_from_an_archived_state_equals_uninterrupted() -> None:
    opt = optim.lbfgs(0.1, max_iter=5, history_size=3)
    start = np.array([[-1.2, 1.0, -1.2, 1.0], [0.3, -0.2, 0.1, 0.9]])
    uninterrupted, full_state = _run(opt, start, 30)
    halfway, state = _run(opt, start, 12)
    state = _archived(state)
    for _ in range(18):
        halfway, state, _ = drive.step(opt, state, halfway, rosenbrock)
    assert np.array_equal(halfway, uninterrupted)
    for resumed, direct in zip(state, full_state, strict=True):
        assert np.array_equal(resumed, direct)


def test_float32_params_keep_float32_state() -> None:
    opt = optim.lbfgs(0.1, max_iter=4, history_size=2)
    params = np.array([[-1.2, 1.0, -1.2, 1.0]], dtype=np.float32)

    def function(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        value, grad = rosenbrock(x.astype(np.float64))
        return value.astype(np.float32), grad.astype(np.float32)

    state = drive.start(opt, params)
    for _ in range(5):
        params, state, _ = drive.step(opt, state, params, function)
    assert params.dtype == np.float32
    for name in ("d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad"):
        assert getattr(state, name).dtype == np.float32, name
    assert float(rosenbrock(params.astype(np.float64))[0][0, 0]) < 532.4  # f at the start


def test_the_registry_declares_what_it_needs() -> None:
    opt = optim.get("lbfgs", learning_rate=1.0)
    assert opt.needs == optim.spec("lbfgs").needs == {"value", "value_and_grad", "full_batch"}
    assert optim.spec("lbfgs").family == "quasi_newton"
    assert opt.report is None


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ({"max_iter": 0}, "max_iter must be an integer >= 1, got 0"),
        ({"max_iter": 2.5}, "max_iter must be an integer >= 1, got 2.5"),
        ({"max_eval": -1}, "max_eval must be an integer >= 0, got -1"),
        ({"history_size": True}, "history_size must be an integer >= 1, got True"),
        ({"history_size": np.array([[3.0], [0.0]])}, "history_size must be an integer >= 1, got 0"),
        ({"max_iter": np.array([[3.0], [1.5]])}, "max_iter must be an integer >= 1, got 1.5"),
        ({"tolerance_grad": -1.0}, "tolerance_grad must be a finite number >= 0, got -1.0"),
        ({"tolerance_change": float("nan")}, "tolerance_change must be a finite number >= 0"),
        ({"strong_wolfe": 1}, "strong_wolfe must be True or False, got 1"),
        ({"learning_rate": 0.0}, "learning_rate must be a finite number > 0, got 0.0"),
    ],
)
def test_bad_settings_fail_in_one_line(keywords: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as error:
        optim.lbfgs(**{"learning_rate": 1.0, **keywords})
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_strong_wolfe_runs_one_run_at_a_time() -> None:
    opt = optim.lbfgs(1.0, strong_wolfe=True)
    message = (
        "lbfgs with strong_wolfe=True trains one run at a time (its line search is per run), "
        "got a stack of 2 runs; use strong_wolfe=False to stack runs, or stacks of one (sweep "
        "--max-stack 1)"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        opt.init(np.zeros((2, 4)))
    alone = np.array([-1.2, 1.0, -1.2, 1.0])
    with pytest.raises(ValueError, match=re.escape(message)):  # a state from elsewhere
        opt.update(
            alone,
            opt.init(alone),
            np.zeros((2, 4)),
            value=np.zeros((2, 1)),
            value_and_grad=rosenbrock,
        )
    # a stack of one run is that run, bit for bit
    one, state_one = _run(opt, alone[np.newaxis], 20)
    plain, state_plain = _run(opt, alone, 20)
    assert np.array_equal(one[0], plain)
    assert np.array_equal(state_one.func_evals[0], state_plain.func_evals)
    np.testing.assert_allclose(plain, 1.0, rtol=0, atol=1e-5)  # the line search finds (1, 1, 1, 1)


def test_the_strong_wolfe_search_counts_its_evaluations_as_torch() -> None:
    # max_eval = 3 caps each update's evaluations, the line searches' included; the counts and
    # step lengths are torch.optim.LBFGS(max_iter=2, max_eval=3, line_search_fn="strong_wolfe")'s
    opt = optim.lbfgs(1.0, strong_wolfe=True, max_iter=2, max_eval=3)
    evaluate, calls = counting(rosenbrock)
    params = np.array([-1.2, 1.0, -1.2, 1.0])
    state = drive.start(opt, params)
    seen = []
    for _ in range(3):
        params, state, _ = drive.step(opt, state, params, evaluate)
        seen.append((len(calls), int(state.func_evals[0]), int(state.n_iter[0])))
    assert seen == [(3, 3, 2), (6, 6, 4), (9, 9, 5)]
    assert round(float(state.t[0]), 4) == 0.4704  # the third update's line search shortened t


def test_the_training_loop_refuses_mini_batches_and_trains_on_the_full_batch() -> None:
    network, data = nn.Network((2, 5, 2, 1)), datasets.moons()
    with pytest.raises(ValueError) as error:
        train(network, data.X, data.Y, optim.lbfgs(0.5), epochs=2, batch_size=64)
    assert str(error.value) == (
        "lbfgs is full-batch: it needs the whole training set in every batch (batch size "
        "'full'), got batch size 64"
    )
    result = train(network, data.X, data.Y, optim.lbfgs(0.5), epochs=5, batch_size=None)
    costs = result.history.epoch_costs
    assert costs[-1] < 0.5 * costs[0]  # each epoch is one update of up to 20 iterations


def test_the_command_line_names_the_batch_size_to_use(tmp_path: Path) -> None:
    result = run_cli("compare", "--optimizers", "lbfgs,adam", "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr == (
        "descentlab compare: error: lbfgs is full-batch: it needs the whole training set in "
        "every batch; use --batch-size full (batch_size=None), got batch size 64\n"
    )
    assert not (tmp_path / "out").exists()


def test_a_sweep_with_the_line_search_trains_stacks_of_one(tmp_path: Path) -> None:
    args = ["sweep", "--optimizers", "lbfgs", "--batch-size", "full", "--epochs", "3"]
    args += ["-H", "lbfgs.strong_wolfe=true", "--learning-rate", "0.5,1", "--seeds", "2"]
    refused = run_cli(*args, "--out", str(tmp_path / "stacked"))
    assert refused.returncode == 2
    assert refused.stderr == (
        "descentlab sweep: error: lbfgs with strong_wolfe=True trains one run at a time (its "
        "line search is per run), got a stack of 4 runs; use strong_wolfe=False to stack runs, "
        "or stacks of one (sweep --max-stack 1)\n"
    )
    alone = run_cli(*args, "--max-stack", "1", "--out", str(tmp_path / "alone"))
    assert alone.returncode == 0 and alone.stderr == ""
    assert "4 runs in 4 stacks" in alone.stdout
