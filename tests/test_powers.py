"""Powers of scalar hyperparameters equal the course's scalar ``np.power(beta, t)`` call.

The reference is computed here, on the machine running the test, because the bits of
``np.power`` depend on the CPU's kernel family (on AVX-512 the vectorised kernel and Python's
``**`` both differ from the scalar call in about 5 % of (beta, t) pairs). On such a machine the
old vectorised table failed these tests; on any machine they pin the contract.
"""

from __future__ import annotations

import numpy as np
import pytest

from descentlab import optim
from descentlab.optim import powers
from descentlab.optim.powers import BLOCK, Powers, scalar_power
from descentlab.optim.stack import stacked

pytestmark = pytest.mark.exact

COURSE_BETAS = [0.8, 0.9, 0.99, 0.999]
MAX_STEP = 10_000


def _course_power(beta: float, t: int) -> float:
    """What the course computes: one scalar numpy call on a Python float and a Python int."""
    return float(np.power(beta, t))


def _random_betas(count: int) -> list[float]:
    return np.random.default_rng(20261201).uniform(0.0, 1.0, size=count).tolist()


@pytest.mark.parametrize("beta", COURSE_BETAS + _random_betas(4))
def test_powers_equal_the_scalar_call_up_to_ten_thousand_steps(beta: float) -> None:
    table = Powers(beta)
    got = [table(t) for t in range(1, MAX_STEP + 1)]
    expected = [_course_power(beta, t) for t in range(1, MAX_STEP + 1)]
    mismatches = [t for t, (a, b) in enumerate(zip(got, expected, strict=True), 1) if a != b]
    assert not mismatches, f"beta={beta}: differs from np.power at t={mismatches[:5]}"


def test_stacked_powers_give_each_run_its_own_scalar_call() -> None:
    betas = np.array(COURSE_BETAS + _random_betas(12)).reshape(-1, 1)
    table = Powers(betas)
    for t in [1, 2, 3, 12, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 7, MAX_STEP]:
        row = table(t)
        assert row.shape == betas.shape
        expected = [_course_power(beta, t) for beta in betas.ravel()]
        assert row.ravel().tolist() == expected, f"t={t}"


def test_values_do_not_depend_on_how_the_table_was_filled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(powers, "_tables", {})
    late_first = Powers(0.9)
    jumped = [late_first(t) for t in (5000, 1, 2, BLOCK + 1, 12)]
    monkeypatch.setattr(powers, "_tables", {})
    in_order = Powers(0.9)
    walked = [in_order(t) for t in range(1, 5001)]
    assert jumped == [walked[t - 1] for t in (5000, 1, 2, BLOCK + 1, 12)]
    stacked = Powers(np.array([[0.9], [0.8]]))
    assert stacked(5000)[0, 0] == walked[4999]
    assert stacked(2)[0, 0] == walked[1]  # going back to an earlier block refills it


def test_scaled_exponents_are_the_scalar_call_on_the_python_product() -> None:
    # nadam's momentum schedule: np.power(0.96, t * momentum_decay), t * psi a Python float.
    for psi in (0.004, 0.5, 1.0):
        table = Powers(0.96, scale=psi)
        for t in (1, 2, 250, 2000):
            assert table(t) == _course_power(0.96, t * psi)
    stacked = Powers(0.96, scale=np.array([[0.004], [0.5]]))
    assert stacked(7).ravel().tolist() == [_course_power(0.96, 7 * 0.004), _course_power(0.96, 3.5)]


def test_scalar_power_is_the_memoised_call() -> None:
    assert scalar_power(0.9, 12) == _course_power(0.9, 12)
    assert scalar_power(0.8, 2) == _course_power(0.8, 2)


@pytest.mark.parametrize("name", ["adam", "adamax", "nadam", "radam"])
def test_bias_correction_in_a_stack_equals_each_run_alone(name: str) -> None:
    # Runs that differ only in their betas: each row of the stack must equal that run alone.
    betas = [(0.8, 0.99), (0.9, 0.999), (0.95, 0.9)]
    rng = np.random.default_rng(7)
    grads = [rng.normal(size=(len(betas), 6)) for _ in range(40)]
    stack = stacked(name, [{"learning_rate": 0.01, "beta1": b1, "beta2": b2} for b1, b2 in betas])
    params = np.ones((len(betas), 6))
    state = stack.init(params)
    for g in grads:
        updates, state = stack.update(g, state, params)
        params = params + updates
    for row, (b1, b2) in enumerate(betas):
        alone = optim.get(name, learning_rate=0.01, beta1=b1, beta2=b2)
        single = np.ones(6)
        single_state = alone.init(single)
        for g in grads:
            updates, single_state = alone.update(g[row], single_state, single)
            single = single + updates
        assert np.array_equal(params[row], single), f"{name} run {row}"


@pytest.mark.parametrize(
    "powers",
    [Powers(0.9), Powers(0.999), Powers(np.array([[0.9], [0.8], [0.999]])), Powers(0.96, 0.5)],
    ids=["0.9", "0.999", "stacked", "scaled"],
)
def test_a_block_holds_the_bits_of_each_call(powers: Powers) -> None:
    # The compiled engine reads blocks of steps; they must be the values each step's call gives.
    for first, count in ((1, 5), (1020, 10), (3000, 2048)):
        block = powers.block(first, count)
        calls = np.array([powers(t) for t in range(first, first + count)], dtype=float)
        assert block.shape == calls.shape
        assert np.array_equal(block, calls)
