"""The layer-wise optimizers (lamb, lars, adafactor) against optax and torch.optim, through
tests/fixtures/layerwise_optimizers.json.

The fixture holds the reference's parameters after 500 updates of a small network's parameter
set, ``Layout.of_network((3, 4, 2))``: W1 (4, 3), b1 (4,), W2 (2, 4), b2 (2,), each a separate
array for the reference, one flat buffer with its layout here (tools/make_layerwise_fixtures.py
wrote it; neither jax, optax nor torch is needed here). The parameters and the random gradient
stream are regenerated from the fixture's seeds, as the script makes them, and descentlab runs
through ``optim.drive`` with that layout. Every case must match to its optimizer's relative
tolerance, stored with its justification in the fixture, in every entry and with no absolute
slack.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from descentlab import optim
from descentlab.optim import drive
from descentlab.optim.layout import Layout

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "layerwise_optimizers.json").read_text())
CASES = {case["id"]: case for case in FIXTURE["cases"]}
LAYOUT = Layout.of_network(FIXTURE["layer_sizes"])
CEILING = 1e-12
"""No tolerance in the fixture may be looser than this."""


def _initial_params() -> np.ndarray:
    params = np.random.default_rng(FIXTURE["initial_params_seed"]).standard_normal(
        FIXTURE["n_params"]
    )
    for slot in LAYOUT.slots:
        if slot.name in FIXTURE["zero_at_start"]:
            params[slot.start : slot.stop] = 0.0
    return params


def _gradients() -> np.ndarray:
    rng = np.random.default_rng(FIXTURE["gradient_seed"])
    return rng.standard_normal((FIXTURE["steps"], FIXTURE["n_params"]))


def _descentlab_final_params(case: dict[str, Any]) -> np.ndarray:
    opt = optim.get(case["optimizer"], **case["hyperparameters"])
    stream: Iterator[np.ndarray] = iter(_gradients())

    def value_and_grad(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros((*points.shape[:-1], 1)), next(stream)  # the gradient stream, in order

    params = _initial_params()
    state = drive.start(opt, params, LAYOUT)
    for _ in range(FIXTURE["steps"]):
        params, state, _ = drive.step(opt, state, params, value_and_grad, LAYOUT)
    assert state.step == FIXTURE["steps"]
    assert next(stream, None) is None
    return params


@pytest.mark.parametrize("case_id", list(CASES))
def test_matches_the_reference_after_500_steps(case_id: str) -> None:
    case = CASES[case_id]
    expected = np.array(case["final_params"])
    assert expected.shape == (LAYOUT.n_params,)
    rtol = FIXTURE["tolerances"][case["optimizer"]]["rtol"]
    np.testing.assert_allclose(_descentlab_final_params(case), expected, rtol=rtol, atol=0)


def test_the_parameter_set_is_a_small_networks() -> None:
    assert FIXTURE["layer_sizes"] == [3, 4, 2]
    assert [(slot.name, slot.shape) for slot in LAYOUT.slots] == [
        ("W1", (4, 3)),
        ("b1", (4,)),
        ("W2", (2, 4)),
        ("b2", (2,)),
    ]
    assert LAYOUT.n_params == FIXTURE["n_params"] == 26
    assert FIXTURE["zero_at_start"] == ["b1"]  # a zero norm at the first step
    assert FIXTURE["steps"] >= 300


def test_each_optimizer_has_three_settings_and_a_measured_tolerance() -> None:
    optimizers = {case["optimizer"] for case in CASES.values()}
    assert optimizers == set(FIXTURE["tolerances"])
    for name in optimizers:
        assert name in optim.names()
        assert optim.spec(name).needs == frozenset({"layout"})
        assert sum(case["optimizer"] == name for case in CASES.values()) >= 3
        tolerance = FIXTURE["tolerances"][name]
        assert 0 < tolerance["rtol"] <= CEILING and "measured" in tolerance["why"]


def test_the_references_are_the_versions_the_docs_name() -> None:
    assert FIXTURE["versions"]["optax"] == "0.2.8"
    assert FIXTURE["versions"]["torch"].startswith("2.13.0")
    expected = {"lamb": "optax", "lars": "optax", "adafactor": "torch"}
    for case in CASES.values():
        assert case["reference"]["library"] == expected[case["optimizer"]]


@pytest.mark.parametrize(
    ("optimizer", "variant"),
    [
        ("lamb", "beta1"),
        ("lamb", "beta2"),
        ("lamb", "epsilon"),
        ("lamb", "epsilon_root"),
        ("lamb", "weight_decay"),
        ("lars", "weight_decay"),
        ("lars", "trust_coefficient"),
        ("lars", "epsilon"),
        ("lars", "momentum"),
        ("lars", "nesterov"),
        ("adafactor", "beta2_decay"),
        ("adafactor", "epsilon1"),
        ("adafactor", "epsilon2"),
        ("adafactor", "d"),
        ("adafactor", "weight_decay"),
    ],
)
def test_fixture_exercises_each_variant(optimizer: str, variant: str) -> None:
    assert any(
        case["optimizer"] == optimizer and variant in case["hyperparameters"]
        for case in CASES.values()
    )
