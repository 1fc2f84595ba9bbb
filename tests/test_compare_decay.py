"""The newer edition's experiment as one command: per-optimizer rates and fixed-interval decay."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli

PUBLISHED = json.loads(
    (Path(__file__).parent / "fixtures" / "published_comparison.json").read_text()
)["learning_rate_decay"]

pytestmark = [pytest.mark.slow, pytest.mark.exact]


def test_compare_with_fixed_interval_decay_reproduces_the_published_lines(
    tmp_path: Path,
) -> None:
    out = tmp_path / "decay"
    result = run_cli(
        "compare", "--learning-rate", "gd=0.1,momentum=0.1,adam=0.01",
        "--schedule", "inverse-time", "--decay-rate", "1", "--decay-every", "1000",
        "--epochs", "5000", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "learning rates gd=0.1, momentum=0.1, adam=0.01, inverse-time schedule" in result.stdout
    results = json.loads((out / "results.json").read_text())
    assert results["config"]["schedule"] == {
        "name": "inverse-time",
        "unit": "epoch",
        "decay_rate": 1.0,
        "every": 1000,
    }
    for run in results["runs"]:
        case = PUBLISHED["runs"][f"{run['optimizer']}-schedule_lr_decay"]
        costs = np.load(out / run["epoch_costs_file"], allow_pickle=False)
        assert [f"{costs[e]:f}" for e in PUBLISHED["epochs"]] == case["costs"]
        lr0 = case["learning_rate"]
        assert run["hyperparameters"]["learning_rate"] == lr0
        rates = run["learning_rates"]  # the rate epochs 0, 100, ... ran at
        # The rate set after epoch 1000 (lr0 / 2) is first used in epoch 1001.
        assert (rates[0], rates[10], rates[11], rates[49]) == (lr0, lr0, lr0 / 2, lr0 / 5)
    assert (out / "learning_rates.png").read_bytes()[:4] == b"\x89PNG"
    assert "Learning rate per epoch" in (out / "report.html").read_text()
