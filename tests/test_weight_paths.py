from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli
from descentlab import datasets
from descentlab.experiment import Checkpointing, ExperimentConfig, run_experiment
from descentlab.report.weight_paths import project_paths
from descentlab.train import TrainingInterrupted


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


@pytest.mark.exact
@pytest.mark.parametrize("stops", [(1,), (9,), (10,), (24,), (3, 11)])
def test_interrupted_and_resumed_runs_record_the_same_weight_paths(
    stops: tuple[int, ...], tmp_path: Path
) -> None:
    """A checkpoint keeps the snapshots recorded so far: interrupted after each epoch of
    ``stops`` (a session each) and resumed, the runs end with the uninterrupted paths, bit
    for bit, and so with the same projection."""
    config = ExperimentConfig(optimizers=("gd", "nadam"), epochs=25)
    whole = run_experiment(config, datasets.moons(), path_every=10)
    path = tmp_path / "checkpoint.npz"
    for session, stop_after in enumerate(stops):
        calls: list[int] = []

        def interrupted(calls: list[int] = calls, stop_after: int = stop_after) -> bool:
            calls.append(1)
            return len(calls) == stop_after

        with pytest.raises(TrainingInterrupted):
            run_experiment(
                config, datasets.moons(), path_every=10,
                checkpointing=Checkpointing(path, interrupted=interrupted, resume=session > 0),
            )  # fmt: skip
    resumed = run_experiment(
        config, datasets.moons(), path_every=10, checkpointing=Checkpointing(path, resume=True)
    )
    for one, two in zip(resumed, whole, strict=True):
        assert one.weight_path is not None and two.weight_path is not None
        assert one.weight_path.shape == (4, 30)
        assert np.array_equal(one.weight_path, two.weight_path)
    projected, explained = project_paths([o.weight_path for o in resumed])  # type: ignore[misc]
    expected, expected_explained = project_paths([o.weight_path for o in whole])  # type: ignore[misc]
    assert np.array_equal(explained, expected_explained)
    assert all(np.array_equal(a, b) for a, b in zip(projected, expected, strict=True))
