"""Rprop: the update recomputed by hand, torch's zeroing after a sign flip, the clamps, the
learning rate as the initial step size only, and torch's numbers bit for bit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli
from descentlab import optim

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "torch_optimizers.json").read_text())


def _gradients(steps: int, shape: tuple[int, ...] = (3, 4)) -> list[np.ndarray]:
    rng = np.random.default_rng(13)
    return [rng.normal(size=shape) for _ in range(steps)]


@pytest.mark.exact
def test_rprop_recomputed_by_hand() -> None:
    lr, eta_minus, eta_plus, low, high = 0.05, 0.4, 1.3, 0.01, 0.2
    params = np.zeros((3, 4))
    opt = optim.rprop(
        lr, etaminus=eta_minus, etaplus=eta_plus, step_size_min=low, step_size_max=high
    )
    state = opt.init(params)
    prev = np.zeros_like(params)
    size = np.full_like(params, lr)
    for dW in _gradients(30):
        agreement = dW * prev
        size = np.clip(
            size * np.where(agreement > 0, eta_plus, np.where(agreement < 0, eta_minus, 1.0)),
            low,
            high,
        )
        g = np.where(agreement < 0, 0.0, dW)
        updates, state = opt.update(dW, state, params)
        assert np.array_equal(updates, -np.sign(g) * size)
        assert np.array_equal(state.step_size, size) and np.array_equal(state.prev, g)
        prev = g
        params = optim.apply_updates(params, updates)


def test_after_a_sign_flip_it_skips_one_step_then_keeps_its_size() -> None:
    opt = optim.rprop(0.1)
    state = opt.init(np.zeros(1))
    updates, state = opt.update(np.array([2.0]), state, None)  # g_prev = 0: size unchanged
    assert updates.tolist() == [-0.1]
    updates, state = opt.update(np.array([3.0]), state, None)  # same sign: 0.1 * 1.2
    assert updates.tolist() == [-0.1 * 1.2]
    updates, state = opt.update(np.array([-1.0]), state, None)  # flipped: halve, no step
    assert updates.tolist() == [0.0] and state.step_size.tolist() == [0.1 * 1.2 * 0.5]
    assert state.prev.tolist() == [0.0]
    updates, state = opt.update(np.array([-5.0]), state, None)  # g_prev = 0: size kept
    assert updates.tolist() == [0.1 * 1.2 * 0.5]


def test_the_gradients_size_is_never_used() -> None:
    grads = _gradients(20)
    small = [1e-6 * g for g in grads]
    params = np.ones((3, 4))
    opt = optim.rprop(0.01)
    state_a, state_b = opt.init(params), opt.init(params)
    for g, s in zip(grads, small, strict=True):
        updates_a, state_a = opt.update(g, state_a, params)
        updates_b, state_b = opt.update(s, state_b, params)
        assert np.array_equal(updates_a, updates_b)


def test_step_sizes_stay_within_their_bounds() -> None:
    opt = optim.rprop(1.0, step_size_min=0.01, step_size_max=0.3)
    state = opt.init(np.zeros(3))
    updates, state = opt.update(np.array([1.0, -1.0, 0.0]), state, None)
    assert state.step_size.tolist() == [0.3, 0.3, 0.3]  # the initial 1.0, clamped at once
    assert updates.tolist() == [-0.3, 0.3, 0.0]  # a zero gradient: no step
    for _ in range(40):  # flipping every step: the sizes fall to the minimum and stay
        updates, state = opt.update(-np.sign(state.prev + 0.5), state, None)
    assert np.all(state.step_size >= 0.01) and 0.01 in state.step_size


def test_the_learning_rate_is_the_initial_step_size_so_a_schedule_is_refused() -> None:
    # torch reads lr once, when it creates the step sizes, and ignores a scheduler after that
    params = np.ones((3, 4))
    assert np.array_equal(optim.rprop(0.1).init(params).step_size, np.full((3, 4), 0.1))
    with pytest.raises(ValueError, match=r"^rprop reads its learning rate once, as its initial"):
        optim.rprop(lambda step: 0.1)


def test_the_command_line_refuses_rprop_with_a_schedule_before_any_folder(
    tmp_path: Path,
) -> None:
    out = tmp_path / "run"
    result = run_cli("train", "--optimizer", "rprop", "--schedule", "cosine", "--epochs", "3",
                     "--out", str(out))  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        "descentlab train: error: rprop reads its learning rate once, as its initial step size, "
        "so a learning-rate schedule would change nothing after the first step; use a constant "
        "rate"
    ]
    assert not out.exists()


@pytest.mark.exact
@pytest.mark.parametrize(
    "case",
    [case for case in FIXTURE["cases"] if case["optimizer"] == "rprop"],
    ids=lambda c: c["id"],
)
def test_torchs_numbers_bit_for_bit(case: dict[str, object]) -> None:
    # Products by the etas, clamps and signs round alike everywhere: no tolerance needed.
    shape = tuple(FIXTURE["shape"])
    params = np.random.default_rng(FIXTURE["initial_params_seed"]).standard_normal(shape)
    grads = np.random.default_rng(FIXTURE["gradient_seed"]).standard_normal(
        (FIXTURE["steps"], *shape)
    )
    opt = optim.get("rprop", **case["hyperparameters"])  # type: ignore[arg-type]
    state = opt.init(params)
    for g in grads:
        updates, state = opt.update(g, state, params)
        params = optim.apply_updates(params, updates)
    assert np.array_equal(params, np.array(case["final_params"]))
