"""descentlab's L-BFGS against torch.optim.LBFGS, through tests/fixtures/lbfgs_optimizers.json.

The fixture holds torch's weights, loss and counters after 300 ``step(closure)`` calls on two
fixed functions (tools/make_lbfgs_fixtures.py wrote it; torch is not needed here). The functions
are restated below exactly as the script defines them, and checked against the values and
gradients it recorded at each start. Every case must match to the fixture's relative tolerance
in every weight, and run the very same inner iterations and evaluations as torch.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from descentlab import optim
from descentlab.optim import drive

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "lbfgs_optimizers.json").read_text())
CASES = {case["id"]: case for case in FIXTURE["cases"]}
CEILING = 1e-10
"""No tolerance in the fixture may be looser than this."""


def quadratic_matrix(n: int = 6) -> np.ndarray:
    diagonal = 10.0 ** (3.0 * np.arange(n) / (n - 1))
    off = 0.5 * np.sqrt(diagonal[:-1] * diagonal[1:])
    return np.diag(diagonal) + np.diag(off, 1) + np.diag(off, -1)


def quadratic(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """0.5 x.A x - b.x and its gradient A x - b, over the last axis of x."""
    a = quadratic_matrix(x.shape[-1])
    ax = x @ a
    value = 0.5 * (x * ax).sum(axis=-1, keepdims=True) - x.sum(axis=-1, keepdims=True)
    return value, ax - 1.0


def rosenbrock(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """sum 100 (x_(i+1) - x_i^2)^2 + (1 - x_i)^2 and its gradient, over the last axis of x."""
    head, tail = x[..., :-1], x[..., 1:]
    gap = tail - head**2
    value = (100.0 * gap**2 + (1.0 - head) ** 2).sum(axis=-1, keepdims=True)
    grad = np.zeros_like(x)
    grad[..., :-1] = -400.0 * head * gap - 2.0 * (1.0 - head)
    grad[..., 1:] += 200.0 * gap
    return value, grad


FUNCTIONS: dict[str, Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]] = {
    "quadratic": quadratic,
    "rosenbrock": rosenbrock,
}


def _run(case: dict[str, Any]) -> tuple[np.ndarray, optim.LBFGSState]:
    function = FUNCTIONS[case["function"]]
    opt = optim.get(case["optimizer"], **case["hyperparameters"])
    params = np.array(FIXTURE["functions"][case["function"]]["start"])
    state = drive.start(opt, params)
    for _ in range(FIXTURE["steps"]):
        params, state, _ = drive.step(opt, state, params, function)
    return params, state


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_the_functions_are_the_scripts(name: str) -> None:
    recorded = FIXTURE["functions"][name]
    value, grad = FUNCTIONS[name](np.array(recorded["start"]))
    np.testing.assert_allclose(value, [recorded["value"]], rtol=1e-15, atol=0)
    np.testing.assert_allclose(grad, recorded["grad"], rtol=1e-15, atol=0)


@pytest.mark.parametrize("case_id", list(CASES))
def test_matches_torch_after_300_steps(case_id: str) -> None:
    case = CASES[case_id]
    params, state = _run(case)
    rtol = FIXTURE["tolerances"][case["optimizer"]]["rtol"]
    np.testing.assert_allclose(params, case["final_params"], rtol=rtol, atol=0)
    value, _ = FUNCTIONS[case["function"]](params)
    np.testing.assert_allclose(value, [case["final_loss"]], rtol=rtol, atol=1e-12)
    assert (int(state.n_iter[0]), int(state.func_evals[0])) == (
        case["n_iter"],
        case["func_evals"],
    )
    assert state.step == FIXTURE["steps"]


def test_every_tolerance_is_stated_justified_and_above_torchs_own_noise() -> None:
    assert set(FIXTURE["tolerances"]) == {case["optimizer"] for case in CASES.values()}
    for tolerance in FIXTURE["tolerances"].values():
        assert 0 < tolerance["rtol"] <= CEILING
        assert "measured" in tolerance["why"]
    for case in CASES.values():
        # torch moves this much from a start one unit in the last place away: no other order
        # of the same arithmetic can be held much closer than that
        assert case["torch_sensitivity"] < FIXTURE["tolerances"]["lbfgs"]["rtol"]


def test_the_cases_cover_the_settings_and_the_early_stops() -> None:
    settings = {key for case in CASES.values() for key in case["hyperparameters"]}
    assert {"max_iter", "max_eval", "tolerance_grad", "tolerance_change", "history_size"} <= (
        settings
    )
    assert FIXTURE["steps"] >= 300
    for function in FUNCTIONS:
        assert sum(case["function"] == function for case in CASES.values()) >= 3
    # torch stops at once on tolerance_grad: far fewer inner iterations than steps
    stopped = CASES["quadratic-tolerance-grad"]
    assert stopped["n_iter"] < FIXTURE["steps"] / 10
