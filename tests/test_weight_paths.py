from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli
from descentlab import datasets
from descentlab.experiment import ExperimentConfig, run_experiment
from descentlab.report.weight_paths import project_paths


def test_projection_finds_the_directions_the_paths_vary_along() -> None:
    t = np.linspace(0, 1, 11)[:, None]
    first = np.array([[3.0, 0.0, 0.0, 0.0]]) * t  # moves along axis 0 ...
    second = np.array([[0.0, 0.0, 1.0, 0.0]]) * t  # ... and a little along axis 2
    projected, explained = project_paths([first, second])
    assert explained.sum() == pytest.approx(1.0)
    assert explained[0] > explained[1] > 0
    # Distances along each path are kept (the paths lie in the plane of the two directions).
    for path, original in zip(projected, (first, second), strict=True):
        np.testing.assert_allclose(
            np.linalg.norm(np.diff(path, axis=0), axis=1),
            np.linalg.norm(np.diff(original, axis=0), axis=1),
        )


def test_runs_record_their_weights_every_n_epochs() -> None:
    config = ExperimentConfig(optimizers=("gd", "adam"), epochs=25)
    gd, adam = run_experiment(config, datasets.moons(), path_every=10)
    assert gd.weight_path is not None and adam.weight_path is not None
    assert gd.weight_path.shape == (4, 30)  # start, epochs 10, 20, the last (25); 30 weights
    assert np.array_equal(gd.weight_path[0], adam.weight_path[0])  # the same start
    assert np.array_equal(gd.weight_path[-1], gd.result.params)


def test_compare_draws_the_projection(tmp_path: Path) -> None:
    out = tmp_path / "wp"
    result = run_cli(
        "compare", "--epochs", "50", "--weight-paths", "10", "--quiet", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    projection = json.loads((out / "results.json").read_text())["weight_path_projection"]
    assert projection["snapshots"] == 6 and projection["file"] == "weight_paths.png"
    assert (out / "weight_paths.png").read_bytes()[:4] == b"\x89PNG"
    assert "a projection onto two principal directions" in (out / "report.html").read_text()
