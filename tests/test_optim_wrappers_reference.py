"""The wrappers lookahead and sam against optax and pytorch-optimizer, through
tests/fixtures/wrappers_optimizers.json.

tools/make_wrappers_fixtures.py wrote the fixture (none of the reference libraries is needed
here): each case takes 300 steps of a wrapper around sgd or adam on a fixed function (an
ill-conditioned quadratic, Rosenbrock's valley) from a fixed start, driven by
``descentlab.optim.drive`` as the landscapes drive it, and must match the reference's final
weights to the relative tolerance the fixture states (with its reason) for that wrapper and
library, with no absolute slack.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from descentlab import optim
from descentlab.optim import drive

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "wrappers_optimizers.json").read_text())
CASES = {case["id"]: case for case in FIXTURE["cases"]}
FUNCTIONS = FIXTURE["functions"]


def _gradient(function: str, w: np.ndarray) -> np.ndarray:
    """The script's ``gradient``, with the same operations in the same order."""
    if function == "quadratic":
        h = np.asarray(FUNCTIONS["quadratic"]["curvatures"], dtype=np.float64)
        c = np.asarray(FUNCTIONS["quadratic"]["center"], dtype=np.float64)
        return h * (w - c)
    x, y = w[..., 0], w[..., 1]
    inner = y - x * x
    return np.stack([-2.0 * (1.0 - x) - 400.0 * x * inner, 200.0 * inner], axis=-1)


def _value(function: str, w: np.ndarray) -> np.ndarray:
    if function == "quadratic":
        h = np.asarray(FUNCTIONS["quadratic"]["curvatures"])
        c = np.asarray(FUNCTIONS["quadratic"]["center"])
        return 0.5 * np.sum(h * (w - c) ** 2, axis=-1, keepdims=True)
    x, y = w[..., :1], w[..., 1:]
    return (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2


def _final_params(case: dict[str, Any]) -> tuple[np.ndarray, int]:
    function = case["function"]
    opt = optim.get(case["name"], **case["hyperparameters"])
    evaluations = 0

    def value_and_grad(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        nonlocal evaluations
        evaluations += 1
        return _value(function, points), _gradient(function, points)

    params = np.array(FUNCTIONS[function]["start"], dtype=np.float64)
    state = drive.start(opt, params)
    for _ in range(FIXTURE["steps"]):
        params, state, _ = drive.step(opt, state, params, value_and_grad)
    assert state.step == FIXTURE["steps"]
    return params, evaluations


@pytest.mark.parametrize("case_id", list(CASES))
def test_matches_the_reference_after_300_steps(case_id: str) -> None:
    case = CASES[case_id]
    expected = np.array(case["final_params"])
    rtol = FIXTURE["tolerances"][case["tolerance"]]["rtol"]
    final, evaluations = _final_params(case)
    np.testing.assert_allclose(final, expected, rtol=rtol, atol=0)
    # SAM evaluates the gradient twice per step (at w, then at w + e); lookahead once.
    per_step = 2 if case["optimizer"] == "sam" else 1
    assert evaluations == per_step * FIXTURE["steps"]


def test_every_case_has_a_stated_and_justified_tolerance() -> None:
    assert {case["tolerance"] for case in CASES.values()} == set(FIXTURE["tolerances"])
    for tolerance in FIXTURE["tolerances"].values():
        assert 0 < tolerance["rtol"] <= 1e-6
        assert "measured" in tolerance["why"]


@pytest.mark.parametrize("wrapper", ["lookahead", "sam"])
def test_each_wrapper_has_three_settings_around_sgd_and_adam_on_both_functions(
    wrapper: str,
) -> None:
    cases = [case for case in CASES.values() if case["optimizer"] == wrapper]
    assert all(case["name"].startswith(f"{wrapper}:") for case in cases)
    settings = {(case["name"], json.dumps(case["hyperparameters"])) for case in cases}
    assert len(settings) >= 3
    assert {case["name"] for case in cases} == {f"{wrapper}:sgd", f"{wrapper}:adam"}
    assert {case["function"] for case in cases} == {"quadratic", "rosenbrock"}
    assert FIXTURE["steps"] >= 300


def test_the_fixtures_functions_are_the_ones_stated() -> None:
    """The functions' constants and the gradient formula: Rosenbrock's minimum at (1, 1), the
    quadratic's at its center, and the gradient matching the value by central differences."""
    np.testing.assert_array_equal(_gradient("rosenbrock", np.array([1.0, 1.0])), [0.0, 0.0])
    center = np.array(FUNCTIONS["quadratic"]["center"])
    np.testing.assert_array_equal(_gradient("quadratic", center), np.zeros(4))
    for function in ("quadratic", "rosenbrock"):
        point = np.array(FUNCTIONS[function]["start"], dtype=float)
        step = 1e-6
        numeric = [
            (_value(function, point + step * e) - _value(function, point - step * e))[0]
            / (2 * step)
            for e in np.eye(point.size)
        ]
        np.testing.assert_allclose(_gradient(function, point), numeric, rtol=1e-7)
