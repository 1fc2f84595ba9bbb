"""descentlab's optimizers against torch.optim, through tests/fixtures/torch_optimizers.json.

The fixture holds torch's parameters after 500 steps on a shared sequence of random float64
gradients (tools/make_torch_fixtures.py wrote it; torch is not needed here). Every case must
match its optimizer's relative tolerance, stated with its justification in the fixture's
``tolerances``, in every entry, with no absolute slack: the smallest final entry in the fixture
is about 5e-3, far from 0. The classic optimizers' 1e-10 is there because the two sides cannot
share bits: torch computes bias corrections with Python floats (``beta ** t``) and its own
kernels, descentlab with numpy's scalar ``np.power``, and both vary in the last bit with the
CPU's kernel family (AVX-512, AVX2, ...); the measured differences are a few 1e-14.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from descentlab import optim
from helpers import final_params_on_the_gradient_stream

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "torch_optimizers.json").read_text())
CASES = {case["id"]: case for case in FIXTURE["cases"]}
SHAPE = tuple(FIXTURE["shape"])


@pytest.mark.parametrize("case_id", list(CASES))
def test_matches_torch_after_500_steps(case_id: str) -> None:
    case = CASES[case_id]
    expected = np.array(case["final_params"])
    assert expected.shape == SHAPE
    rtol = FIXTURE["tolerances"][case["optimizer"]]["rtol"]
    actual = final_params_on_the_gradient_stream(FIXTURE, case)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=0)


def test_every_optimizer_has_a_stated_and_justified_tolerance() -> None:
    covered = {case["optimizer"] for case in CASES.values()}
    assert set(FIXTURE["tolerances"]) == covered
    for tolerance in FIXTURE["tolerances"].values():
        assert 0 < tolerance["rtol"] <= 1e-10
        assert "measured" in tolerance["why"]


def test_fixture_covers_every_optimizer_torch_has() -> None:
    covered = {case["optimizer"] for case in CASES.values()}
    without_torch_counterpart = {"gd", "momentum"}  # gd is sgd(momentum=0); see test_optim.py
    # Every other reference fixture is a tests/fixtures/*_optimizers.json of the same shape.
    others = sorted(Path(__file__).parent.glob("fixtures/*_optimizers.json"))
    checked_elsewhere = {
        case["optimizer"]
        for path in others
        if path.name != "torch_optimizers.json"
        for case in json.loads(path.read_text())["cases"]
    }
    assert covered == set(optim.names()) - without_torch_counterpart - checked_elsewhere
    assert FIXTURE["torch_version"].startswith("2.13.0")


@pytest.mark.parametrize(
    ("optimizer", "variant"),
    [
        ("sgd", "momentum"),
        ("sgd", "dampening"),
        ("sgd", "nesterov"),
        ("sgd", "weight_decay"),
        ("rmsprop", "centered"),
        ("rmsprop", "momentum"),
        ("rmsprop", "weight_decay"),
        ("adagrad", "lr_decay"),
        ("adagrad", "initial_accumulator_value"),
        ("adagrad", "weight_decay"),
        ("adam", "amsgrad"),
        ("adam", "weight_decay"),
        ("adamw", "amsgrad"),
        ("nadam", "momentum_decay"),
        ("adamax", "epsilon"),
        ("radam", "weight_decay"),
        ("radam", "decoupled_weight_decay"),
        ("adadelta", "rho"),
        ("adadelta", "epsilon"),
        ("adadelta", "weight_decay"),
        ("rprop", "etaminus"),
        ("rprop", "etaplus"),
        ("rprop", "step_size_min"),
        ("rprop", "step_size_max"),
    ],
)
def test_fixture_exercises_each_variant(optimizer: str, variant: str) -> None:
    assert any(
        case["optimizer"] == optimizer and case["hyperparameters"].get(variant)
        for case in CASES.values()
    )


@pytest.mark.parametrize("optimizer", ["nadam", "adamax"])
def test_fixture_exercises_torchs_weight_decay_through_the_gradient(optimizer: str) -> None:
    assert any(
        case["optimizer"] == optimizer
        and case.get("gradient_l2")
        and case["torch"]["kwargs"]["weight_decay"] == case["gradient_l2"]
        for case in CASES.values()
    )


def _radam_rho(beta2: float, t: int) -> float:
    rho_inf = 2 / (1 - beta2) - 1
    return rho_inf - 2 * t * beta2**t / (1 - beta2**t)


def test_fixture_exercises_both_branches_of_radams_rectification() -> None:
    # rho_t > 5 switches RAdam from the momentum step to the rectified adaptive one: the
    # default cases cross the threshold within their 500 steps, one case never does.
    radam_cases = [case for case in CASES.values() if case["optimizer"] == "radam"]
    beta2s = {case["hyperparameters"].get("beta2", 0.999) for case in radam_cases}
    assert any(_radam_rho(b, 1) <= 5 < _radam_rho(b, FIXTURE["steps"]) for b in beta2s)
    assert any(_radam_rho(b, FIXTURE["steps"]) <= 5 for b in beta2s)
