"""The optimizers that report other weights than they train, against their references, through
tests/fixtures/averaged_optimizers.json: asgd against torch.optim.ASGD (the trained weights and
torch's average ``ax``), schedule_free_adamw and schedule_free_sgd against optax.contrib (the
trained y and the reported x, ``schedule_free_eval_params``).

tools/make_averaged_fixtures.py wrote the fixture; neither torch, jax nor optax is needed here.
asgd replays the random-gradient stream of torch_optimizers.json; schedule-free runs on the two
deterministic functions below, restated from the script (a test checks they are the same
text), through ``optim.drive``. Every case must match to its optimizer's relative tolerance,
stated with its justification in the fixture, in every entry and with no absolute slack.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from descentlab import optim
from descentlab.optim import drive
from descentlab.optim.base import reported_params

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE = json.loads((FIXTURES / "averaged_optimizers.json").read_text())
CASES = {case["id"]: case for case in FIXTURE["cases"]}
SHAPE = tuple(FIXTURE["shape"])
CEILING = 1e-12
"""No tolerance in the fixture may be looser than this."""

# The deterministic functions: restated identically from tools/make_averaged_fixtures.py.
QUADRATIC_HXX = np.array([50.5, 1.0, 5.5, 250.5])
QUADRATIC_HXY = np.array([49.5, 0.0, -4.5, 249.5])
QUADRATIC_HYY = np.array([50.5, 1000.0, 5.5, 250.5])
QUADRATIC_CENTER = np.array([1.0, -2.0, 0.5, 3.0, 2.0, 1.0, -1.5, -1.0])
QUADRATIC_START = np.array([-1.0, 2.0, 3.0, 0.0, 1.0, -1.0, 0.5, 2.0])
ROSENBROCK_START = np.array([-1.2, 0.0, 1.5, 1.0, 0.5, 2.0])


def quadratic_gradient(w: np.ndarray) -> np.ndarray:
    """The gradient of sum_j 0.5 d_j^T H_j d_j, d = w - center, w = (x_0..x_3, y_0..y_3)."""
    d = (w - QUADRATIC_CENTER).reshape(2, -1)
    gx = QUADRATIC_HXX * d[0] + QUADRATIC_HXY * d[1]
    gy = QUADRATIC_HXY * d[0] + QUADRATIC_HYY * d[1]
    return np.concatenate([gx, gy])


def rosenbrock_gradient(w: np.ndarray) -> np.ndarray:
    """The gradient of sum_j (1 - x_j)^2 + 100 (y_j - x_j^2)^2, w = (x_0..x_2, y_0..y_2)."""
    x, y = w.reshape(2, -1)
    r = y - x * x
    return np.concatenate([-2.0 * (1.0 - x) - 400.0 * x * r, 200.0 * r])


FUNCTIONS = {
    "quadratic": (quadratic_gradient, QUADRATIC_START),
    "rosenbrock": (rosenbrock_gradient, ROSENBROCK_START),
}


def _final(case: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """descentlab's trained and reported weights after the fixture's steps."""
    opt = optim.get(case["optimizer"], **case["hyperparameters"])
    if case["function"] == "stream":
        params = np.random.default_rng(FIXTURE["initial_params_seed"]).standard_normal(SHAPE)
        rng = np.random.default_rng(FIXTURE["gradient_seed"])
        gradients = iter(rng.standard_normal((FIXTURE["steps"], *SHAPE)))

        def value_and_grad(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return np.zeros((*points.shape[:-1], 1)), next(gradients)
    else:
        gradient_of, start = FUNCTIONS[case["function"]]
        params = start.copy()

        def value_and_grad(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return np.zeros((*points.shape[:-1], 1)), gradient_of(points)

    state = drive.start(opt, params)
    for _ in range(FIXTURE["steps"]):
        params, state, _ = drive.step(opt, state, params, value_and_grad)
    assert state.step == FIXTURE["steps"]
    return params, reported_params(opt, state, params)


@pytest.mark.parametrize("case_id", list(CASES))
def test_trained_and_reported_weights_match_the_reference(case_id: str) -> None:
    case = CASES[case_id]
    trained, reported = _final(case)
    rtol = FIXTURE["tolerances"][case["optimizer"]]["rtol"]
    expected_trained = np.array(case["final_params"])
    expected_reported = np.array(case["reported_params"])
    assert trained.shape == expected_trained.shape == expected_reported.shape
    np.testing.assert_allclose(trained, expected_trained, rtol=rtol, atol=0)
    np.testing.assert_allclose(reported, expected_reported, rtol=rtol, atol=0)


def test_every_optimizer_reports_weights_other_than_it_trains() -> None:
    for case in CASES.values():
        if case["optimizer"] == "asgd" and case["hyperparameters"].get("t0", 1e6) >= 1e6:
            # before t0 torch's average is the last weights themselves
            assert case["final_params"] == case["reported_params"]
        else:
            difference = np.abs(np.subtract(case["final_params"], case["reported_params"]))
            assert np.max(difference) > 1e-3, case["id"]


def test_the_functions_are_the_scripts() -> None:
    script = (ROOT / "tools" / "make_averaged_fixtures.py").read_text()
    for function in (quadratic_gradient, rosenbrock_gradient):
        assert inspect.getsource(function) in script
    constants = [
        line
        for line in Path(__file__).read_text().splitlines()
        if line.startswith(("QUADRATIC_", "ROSENBROCK_"))
    ]
    assert len(constants) == 6
    for line in constants:
        assert line in script.splitlines(), line


def test_the_gradient_stream_is_the_torch_fixtures() -> None:
    torch_fixture = json.loads((FIXTURES / "torch_optimizers.json").read_text())
    for key in ("steps", "shape", "gradient_seed", "initial_params_seed"):
        assert FIXTURE[key] == torch_fixture[key], key
    assert FIXTURE["steps"] >= 300


def test_each_optimizer_has_three_settings_and_a_justified_tolerance() -> None:
    optimizers = {case["optimizer"] for case in CASES.values()}
    assert (
        optimizers
        == set(FIXTURE["tolerances"])
        == {
            "asgd",
            "schedule_free_adamw",
            "schedule_free_sgd",
        }
    )
    for name in optimizers:
        assert name in optim.names()
        assert sum(case["optimizer"] == name for case in CASES.values()) >= 3
        tolerance = FIXTURE["tolerances"][name]
        assert 0 < tolerance["rtol"] <= CEILING and "measured" in tolerance["why"]


def test_asgd_runs_on_the_stream_and_schedule_free_on_both_functions() -> None:
    functions = {
        name: {c["function"] for c in CASES.values() if c["optimizer"] == name}
        for name in ("asgd", "schedule_free_adamw", "schedule_free_sgd")
    }
    assert functions["asgd"] == {"stream"}
    assert functions["schedule_free_adamw"] == functions["schedule_free_sgd"]
    assert functions["schedule_free_sgd"] == {"quadratic", "rosenbrock"}


def test_the_references_are_the_versions_the_docs_name() -> None:
    assert FIXTURE["versions"]["optax"] == "0.2.8"
    assert FIXTURE["versions"]["torch"].startswith("2.13.0")
    for case in CASES.values():
        library = "torch" if case["optimizer"] == "asgd" else "optax"
        assert case["reference"]["library"] == library


@pytest.mark.parametrize(
    ("optimizer", "variant"),
    [
        ("asgd", "lambd"),
        ("asgd", "alpha"),
        ("asgd", "t0"),
        ("asgd", "weight_decay"),
        ("schedule_free_adamw", "warmup_steps"),
        ("schedule_free_adamw", "beta1"),
        ("schedule_free_adamw", "beta2"),
        ("schedule_free_adamw", "epsilon"),
        ("schedule_free_adamw", "weight_decay"),
        ("schedule_free_adamw", "weight_lr_power"),
        ("schedule_free_sgd", "warmup_steps"),
        ("schedule_free_sgd", "beta1"),
        ("schedule_free_sgd", "weight_decay"),
        ("schedule_free_sgd", "weight_lr_power"),
    ],
)
def test_fixture_exercises_each_variant(optimizer: str, variant: str) -> None:
    assert any(
        case["optimizer"] == optimizer and variant in case["hyperparameters"]
        for case in CASES.values()
    )


def test_averaging_starts_at_t0_within_the_asgd_cases() -> None:
    # t0 = 50 and 100 average over the last 450 and 400 steps; t0 = 0 (Polyak) over all
    t0s = sorted(
        case["hyperparameters"].get("t0", 1e6)
        for case in CASES.values()
        if case["optimizer"] == "asgd"
    )
    assert t0s == [0.0, 50.0, 100.0, 1e6]
