"""The main job: `descentlab compare` with its defaults reproduces the published comparison.

One real run of the published experiment (three optimizers, 10000 epochs: tens of seconds),
conftest's ``published_comparison``, is shared by every test of the session that needs it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import Result

PUBLISHED = json.loads(
    (Path(__file__).parent / "fixtures" / "published_comparison.json").read_text()
)
OPTIMIZERS = ("gd", "momentum", "adam")

pytestmark = [pytest.mark.slow, pytest.mark.exact]


@pytest.fixture(scope="module")
def compare_run(
    published_comparison: tuple[Result, Path],
) -> tuple[Result, Path, dict[str, Any]]:
    result, out = published_comparison
    return result, out, json.loads((out / "results.json").read_text())


def test_published_accuracies_exactly(compare_run: tuple[Result, Path, dict[str, Any]]) -> None:
    _, _, results = compare_run
    runs = {run["optimizer"]: run for run in results["runs"]}
    assert list(runs) == list(OPTIMIZERS)
    for name in OPTIMIZERS:
        assert runs[name]["train_correct"] == PUBLISHED["train_accuracy"][name]["correct"]
        assert runs[name]["n_examples"] == 300
    assert round(runs["gd"]["train_accuracy"], 12) == float("0.796666666667")


def test_published_epoch_cost_lines(compare_run: tuple[Result, Path, dict[str, Any]]) -> None:
    _, out, results = compare_run
    published = PUBLISHED["epoch_cost_lines_v1a"]
    for run in results["runs"]:
        assert run["cost_every"] == 100
        costs = run["costs"]
        assert len(costs) == 100
        printed = [f"{costs[epoch // 100]:f}" for epoch in published["epochs"]]
        assert printed == published[run["optimizer"]]
        epoch_costs = np.load(out / run["epoch_costs_file"], allow_pickle=False)
        assert epoch_costs.shape == (10000,)
        assert epoch_costs[::100].tolist() == costs
        assert run["final_cost"] == epoch_costs[-1]


def test_published_last_minibatch_cost_lines(
    compare_run: tuple[Result, Path, dict[str, Any]],
) -> None:
    _, out, results = compare_run
    published = PUBLISHED["last_minibatch_cost_lines_original"]
    for run in results["runs"]:
        batches = np.load(out / run["minibatch_costs_file"], allow_pickle=False)
        per_epoch = run["batches_per_epoch"]
        assert per_epoch == 5 and batches.shape == (50000,)
        last_of_epoch = batches[per_epoch - 1 :: per_epoch]
        printed = [f"{last_of_epoch[epoch]:f}" for epoch in published["epochs"]]
        assert printed == published[run["optimizer"]]


def test_cost_shape_is_measured_as_published(
    compare_run: tuple[Result, Path, dict[str, Any]],
) -> None:
    _, _, results = compare_run
    shapes = {run["optimizer"]: run["cost_shape"] for run in results["runs"]}
    assert shapes == {"gd": "oscillates", "momentum": "oscillates", "adam": "smoother"}
    indices = {run["optimizer"]: run["oscillation"] for run in results["runs"]}
    assert indices["adam"] < run_threshold(results) < min(indices["gd"], indices["momentum"])


def run_threshold(results: dict[str, Any]) -> float:
    (threshold,) = {run["oscillation_threshold"] for run in results["runs"]}
    return float(threshold)


def test_printed_table(compare_run: tuple[Result, Path, dict[str, Any]]) -> None:
    result, out, _ = compare_run
    lines = result.stdout.splitlines()
    header = next(line for line in lines if line.startswith("optimizer"))
    for column in ("train accuracy", "final cost", "oscillation", "cost shape", "seconds"):
        assert column in header
    rows = {
        line.split()[0]: line
        for line in lines
        if line.split()[:1] in (["gd"], ["momentum"], ["adam"])
    }
    assert "79.7% (239/300)" in rows["gd"] and "oscillates" in rows["gd"]
    assert "79.7% (239/300)" in rows["momentum"] and "oscillates" in rows["momentum"]
    assert "94.0% (282/300)" in rows["adam"] and "smoother" in rows["adam"]
    assert f"wrote {out}/" in result.stdout


def test_results_document_contract(compare_run: tuple[Result, Path, dict[str, Any]]) -> None:
    _, out, results = compare_run
    assert results["status"] == "finished"
    assert results["descentlab_version"]
    assert results["dataset"] == {
        "name": "moons",
        "n_features": 2,
        "n_examples": 300,
        "n_samples": 300,
        "noise": 0.2,
        "seed": 3,
        "n_classes": 2,
        "classes": [0, 1],
        "feature_names": ["x1", "x2"],
        "splits": {"train": 300},
        "scaling": None,
    }
    config = results["config"]
    assert config["layers"] == [2, 5, 2, 1]
    assert (config["learning_rate"], config["batch_size"], config["epochs"]) == (0.0007, 64, 10000)
    assert (config["init_seed"], config["shuffle_seed"]) == (3, 10)
    for run in results["runs"]:
        for key in ("optimizer", "train_accuracy", "final_cost", "cost_every", "costs",
                    "minibatch_costs_file", "oscillation", "seconds"):  # fmt: skip
            assert key in run
        assert (out / run["params_file"]).exists()
    html = (out / "report.html").read_text()
    assert "94.0% (282/300)" in html and "data:image/png;base64," in html
    for picture in ("cost_curves.png", "decision_boundaries.png"):
        assert (out / picture).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
