"""A landscape's folder: trajectories.png, loss.png, trajectories.gif, then results.json."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from descentlab import landscapes
from descentlab.landscapes import Landscape, NoisyLandscape, Trajectory
from descentlab.runs.folder import write_results
from descentlab.runs.header import results_header
from descentlab.runs.names import LOSS_FILE, TRAJECTORIES_ANIMATION_FILE, TRAJECTORIES_FILE


def run_record(trajectory: Trajectory) -> dict[str, object]:
    """One entry of results.json's ``runs``: the path subsampled to at most 200 points."""
    path_steps, path = landscapes.subsample(trajectory.path)
    return {
        "optimizer": trajectory.optimizer,
        "hyperparameters": dict(trajectory.hyperparameters),
        "status": trajectory.status,
        "diverged_step": trajectory.diverged_step,
        "steps_run": len(trajectory.path) - 1,
        "final_point": [float(v) for v in trajectory.final_point],
        "final_value": trajectory.final_value,
        "distance_to_minimum": trajectory.final_distance,
        "steps_to_tolerance": trajectory.steps_to_tolerance,
        "path_steps": path_steps,
        "path": path.tolist(),
    }


class LandscapeRun(NamedTuple):
    """What ``descentlab landscape`` ran: ``function`` as defined, ``landscape`` as the
    optimizers saw it (with gradient noise or not), and the settings of the paths."""

    function: Landscape
    landscape: Landscape
    trajectories: Sequence[Trajectory]
    start: Sequence[float]
    steps: int
    tolerance: float
    frames: int


def results_dict(run: LandscapeRun) -> dict[str, object]:
    """The whole results.json document of ``descentlab landscape``."""
    function, landscape = run.function, run.landscape
    noise = (
        {"scale": landscape.scale, "seed": landscape.seed}
        if isinstance(landscape, NoisyLandscape)
        else None
    )
    return {
        **results_header("landscape"),
        "function": {
            "name": function.name,
            "formula": function.formula,
            "minima": [list(point) for point in function.minima],
            "has_minimum": function.has_minimum,
            "f_min": function.f_min,
            "noise": noise,
        },
        "start": [float(v) for v in run.start],
        "steps": run.steps,
        "tolerance": run.tolerance,
        "frames": run.frames,
        "runs": [run_record(trajectory) for trajectory in run.trajectories],
        "files": [TRAJECTORIES_FILE, TRAJECTORIES_ANIMATION_FILE, LOSS_FILE],
    }


def write_landscape_folder(
    out_dir: Path,
    function: Landscape,
    landscape: Landscape,
    trajectories: Sequence[Trajectory],
    *,
    start: Sequence[float],
    steps: int,
    tolerance: float,
    frames: int,
) -> dict[str, object]:
    """Draw the pictures, then write results.json (last, atomically); return the document."""
    from descentlab.report.trajectories import plot_loss, plot_trajectories, save_animation

    out_dir = Path(out_dir)
    plot_trajectories(out_dir / TRAJECTORIES_FILE, landscape, trajectories)
    plot_loss(out_dir / LOSS_FILE, landscape, trajectories)
    save_animation(out_dir / TRAJECTORIES_ANIMATION_FILE, landscape, trajectories, frames)
    run = LandscapeRun(function, landscape, trajectories, start, steps, tolerance, frames)
    results = results_dict(run)
    write_results(out_dir, results)
    return results
