"""muon against torch.optim.Muon + torch.optim.AdamW, prodigy against pytorch-optimizer's
Prodigy (and once, with bias_correction=True, against optax.contrib.prodigy), through
tests/fixtures/muon_prodigy_optimizers.json.

The fixture holds the reference's parameters after 500 updates
(tools/make_muon_prodigy_fixtures.py wrote it; neither torch nor optax is needed here):
prodigy on the gradient stream of tests/fixtures/torch_optimizers.json, muon on a network's
flat buffer (the layout of ``Layout.of_network(layer_sizes)``) with gradients drawn the same
way. Every case must match to
its optimizer's relative tolerance, stored with its justification in the fixture, in every
entry and with no absolute slack. Both optimizers are driven by ``optim.drive``, which hands
muon its layout.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from descentlab import optim
from descentlab.optim import drive
from descentlab.optim.layout import Layout

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE = json.loads((FIXTURES / "muon_prodigy_optimizers.json").read_text())
CASES = {case["id"]: case for case in FIXTURE["cases"]}
SHAPE = tuple(FIXTURE["shape"])
CEILING = 1e-11
"""No tolerance in the fixture may be looser than this (muon's; prodigy's is 1e-12)."""


def _stream(case: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, Layout | None]:
    """The case's starting parameters, its gradients (one per update) and its layout, all as
    one run's flat buffer: prodigy's (3, 4) stream flattened, as the reference's one tensor is
    one run (its sums are over all 12 entries)."""
    if "layer_sizes" in case:
        layout = Layout.of_network(case["layer_sizes"])
        shape: tuple[int, ...] = (layout.n_params,)
    else:
        layout, shape = None, SHAPE
    initial = np.random.default_rng(FIXTURE["initial_params_seed"]).standard_normal(shape)
    rng = np.random.default_rng(FIXTURE["gradient_seed"])
    gradients = rng.standard_normal((FIXTURE["steps"], *shape))
    return initial.reshape(-1), gradients.reshape(FIXTURE["steps"], -1), layout


def _descentlab_final_params(case: dict[str, Any]) -> np.ndarray:
    opt = optim.get(case["optimizer"], **case["hyperparameters"])
    params, gradients, layout = _stream(case)
    state = drive.start(opt, params, layout)
    for index, gradient in enumerate(gradients):
        params, state, _ = drive.step(
            opt, state, params, lambda points, g=gradient: (np.zeros(1), g), layout
        )
        assert state.step == index + 1
    return params


@pytest.mark.parametrize("case_id", list(CASES))
def test_matches_the_reference_after_500_steps(case_id: str) -> None:
    case = CASES[case_id]
    expected = np.array(case["final_params"]).reshape(-1)
    rtol = FIXTURE["tolerances"][case["optimizer"]]["rtol"]
    np.testing.assert_allclose(_descentlab_final_params(case), expected, rtol=rtol, atol=0)


def test_the_gradient_stream_is_the_torch_fixtures() -> None:
    torch_fixture = json.loads((FIXTURES / "torch_optimizers.json").read_text())
    for key in ("steps", "shape", "gradient_seed", "initial_params_seed"):
        assert FIXTURE[key] == torch_fixture[key], key
    assert FIXTURE["steps"] >= 300


def test_each_optimizer_has_three_settings_and_a_justified_tolerance() -> None:
    optimizers = {case["optimizer"] for case in CASES.values()}
    assert optimizers == set(FIXTURE["tolerances"]) == {"muon", "prodigy"}
    for name in optimizers:
        assert sum(case["optimizer"] == name for case in CASES.values()) >= 3
        tolerance = FIXTURE["tolerances"][name]
        assert 0 < tolerance["rtol"] <= CEILING and "measured" in tolerance["why"]


def test_muon_runs_on_networks_with_one_and_two_hidden_matrices() -> None:
    hidden_matrices = {
        sum(slot.role == "weight" for slot in Layout.of_network(case["layer_sizes"]).slots)
        for case in CASES.values()
        if case["optimizer"] == "muon"
    }
    assert hidden_matrices == {1, 2}
    assert all("layer_sizes" not in c for c in CASES.values() if c["optimizer"] == "prodigy")


def test_the_references_are_the_versions_the_docs_name() -> None:
    assert FIXTURE["versions"]["torch"].startswith("2.13.0")
    assert FIXTURE["versions"]["pytorch_optimizer"] == "4.1.0"
    assert FIXTURE["versions"]["optax"] == "0.2.8"
    libraries = {case["reference"]["library"] for case in CASES.values()}
    assert libraries == {"torch", "pytorch_optimizer", "optax"}
    # optax.contrib.prodigy is bias_correction=True (its only rule), checked once
    optax_cases = [c for c in CASES.values() if c["reference"]["library"] == "optax"]
    assert [c["hyperparameters"]["bias_correction"] for c in optax_cases] == [True]


@pytest.mark.parametrize(
    ("optimizer", "variant"),
    [
        ("muon", "nesterov"),
        ("muon", "weight_decay"),
        ("muon", "match_rms_adamw"),
        ("muon", "ns_steps"),
        ("muon", "ns_c"),
        ("muon", "adam_lr_ratio"),
        ("muon", "adam_weight_decay"),
        ("prodigy", "bias_correction"),
        ("prodigy", "safeguard_warmup"),
        ("prodigy", "weight_decay"),
        ("prodigy", "d0"),
        ("prodigy", "d_coef"),
    ],
)
def test_fixture_exercises_each_variant(optimizer: str, variant: str) -> None:
    assert any(
        case["optimizer"] == optimizer and variant in case["hyperparameters"]
        for case in CASES.values()
    )
