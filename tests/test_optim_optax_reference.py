"""descentlab's optimizers against optax and pytorch-optimizer, through
tests/fixtures/optax_optimizers.json.

The fixture holds the reference's parameters after 500 updates on the gradient stream of
tests/fixtures/torch_optimizers.json (tools/make_optax_fixtures.py wrote it; neither jax, optax
nor torch is needed here). Every case must match to its optimizer's relative tolerance, stored
with its justification in the fixture, in every entry and with no absolute slack.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from descentlab import optim
from helpers import final_params_on_the_gradient_stream

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE = json.loads((FIXTURES / "optax_optimizers.json").read_text())
CASES = {case["id"]: case for case in FIXTURE["cases"]}
SHAPE = tuple(FIXTURE["shape"])
CEILING = 1e-12
"""No tolerance in the fixture may be looser than this."""


@pytest.mark.parametrize("case_id", list(CASES))
def test_matches_the_reference_after_500_steps(case_id: str) -> None:
    case = CASES[case_id]
    expected = np.array(case["final_params"])
    assert expected.shape == SHAPE
    rtol = FIXTURE["tolerances"][case["optimizer"]]["rtol"]
    actual = final_params_on_the_gradient_stream(FIXTURE, case)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=0)


def test_the_gradient_stream_is_the_torch_fixtures() -> None:
    torch_fixture = json.loads((FIXTURES / "torch_optimizers.json").read_text())
    for key in ("steps", "shape", "gradient_seed", "initial_params_seed"):
        assert FIXTURE[key] == torch_fixture[key], key
    assert FIXTURE["steps"] >= 300


def test_each_optimizer_has_three_settings_and_a_justified_tolerance() -> None:
    optimizers = {case["optimizer"] for case in CASES.values()}
    assert optimizers == set(FIXTURE["tolerances"])
    for name in optimizers:
        assert name in optim.names()
        assert sum(case["optimizer"] == name for case in CASES.values()) >= 3
        tolerance = FIXTURE["tolerances"][name]
        assert 0 < tolerance["rtol"] <= CEILING and tolerance["why"].strip()


def test_the_references_are_the_versions_the_docs_name() -> None:
    assert FIXTURE["versions"]["optax"] == "0.2.8"
    assert FIXTURE["versions"]["pytorch_optimizer"] == "4.1.0"
    libraries = {case["reference"]["library"] for case in CASES.values()}
    assert libraries <= {"optax", "pytorch_optimizer"}


@pytest.mark.parametrize(
    ("optimizer", "variant"),
    [
        ("lion", "weight_decay"),
        ("lion", "beta1"),
        ("lion", "beta2"),
        ("adabelief", "epsilon_root"),
        ("adabelief", "nesterov"),
        ("yogi", "initial_accumulator_value"),
        ("yogi", "epsilon"),
        ("adan", "beta3"),
        ("adan", "weight_decay"),
        ("adan", "weight_decouple"),
    ],
)
def test_fixture_exercises_each_variant(optimizer: str, variant: str) -> None:
    assert any(
        case["optimizer"] == optimizer and variant in case["hyperparameters"]
        for case in CASES.values()
    )
