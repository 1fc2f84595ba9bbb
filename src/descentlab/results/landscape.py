"""``LandscapeResults``: what ``landscape`` returns."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from descentlab.landscapes import Landscape, Trajectory
from descentlab.results.display import Record, Table, check_kind, pandas_module, shown

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass(frozen=True, repr=False, eq=False)
class LandscapeResults:
    """Every optimizer's path on a 2-D ``function`` (``landscape``: the same with its gradient
    noise, if any), each from ``start`` for ``steps`` updates at ``learning_rates``."""

    function: Landscape
    landscape: Landscape
    trajectories: tuple[Trajectory, ...]
    learning_rates: Mapping[str, float]
    start: tuple[float, float]
    steps: int
    tolerance: float
    frames: int
    noise: float
    noise_seed: int

    PICTURES = ("trajectories", "loss")

    @property
    def optimizers(self) -> tuple[str, ...]:
        return tuple(trajectory.optimizer for trajectory in self.trajectories)

    def __getitem__(self, optimizer: str) -> Trajectory:
        for trajectory in self.trajectories:
            if trajectory.optimizer == optimizer:
                return trajectory
        raise KeyError(f"no path of {optimizer!r}; the optimizers: {', '.join(self.optimizers)}")

    def records(self) -> list[Record]:
        """One record per optimizer: its rate, status, where it ended and how fast it got
        within ``tolerance`` of the minimum (the saddle point, on the saddle)."""
        return [
            {
                "optimizer": trajectory.optimizer,
                "learning_rate": self.learning_rates[trajectory.optimizer],
                "status": trajectory.status,
                "diverged_step": trajectory.diverged_step,
                "steps_run": len(trajectory.path) - 1,
                "final_x": float(trajectory.final_point[0]),
                "final_y": float(trajectory.final_point[1]),
                "final_value": trajectory.final_value,
                "distance_to_minimum": trajectory.final_distance,
                "steps_to_tolerance": trajectory.steps_to_tolerance,
            }
            for trajectory in self.trajectories
        ]

    def _headline(self) -> str:
        noise = (
            "" if self.noise == 0 else f", gradient noise {self.noise:g} (seed {self.noise_seed})"
        )
        return (
            f"landscape: {self.function.name}, {self.function.formula}, start "
            f"({self.start[0]:g}, {self.start[1]:g}), {self.steps} steps{noise}"
        )

    def _table(self) -> Table:
        from descentlab.report.trajectories import describe_distance

        target = "distance to minimum" if self.function.has_minimum else "distance to saddle"
        header = ["optimizer", "learning rate", target, f"steps to {self.tolerance:g}", "status"]
        rows = []
        for trajectory in self.trajectories:
            finished = trajectory.status == "finished"
            reached = trajectory.steps_to_tolerance
            rows.append(
                [
                    trajectory.optimizer,
                    f"{self.learning_rates[trajectory.optimizer]:g}",
                    describe_distance(self.function, trajectory).split(" from ")[0]
                    if finished
                    else "-",
                    "-" if reached is None else str(reached),
                    "finished" if finished else f"diverged at step {trajectory.diverged_step}",
                ]
            )
        return Table(header, rows, numeric=range(1, 4))

    def __repr__(self) -> str:
        return f"<LandscapeResults {self._headline()}>\n{self._table().text()}"

    def _repr_html_(self) -> str:
        return self._table().html(f"LandscapeResults {self._headline()}")

    def plot(self, kind: str = "trajectories") -> Figure:
        """The paths over the function's contours (``"trajectories"``) or f along each path
        (``"loss"``), as trajectories.png and loss.png show them."""
        from descentlab.report.trajectories import loss_figure, trajectories_figure

        check_kind(kind, self.PICTURES)
        draw = trajectories_figure if kind == "trajectories" else loss_figure
        return shown(draw(self.landscape, self.trajectories))

    def to_pandas(self) -> Any:
        """A DataFrame with one row per optimizer (``records``)."""
        return pandas_module().DataFrame.from_records(self.records())

    def history_frame(self) -> Any:
        """A long DataFrame, one row per optimizer and step: optimizer, step, x, y, value (f)
        and distance (to the nearest minimum)."""
        pandas = pandas_module()
        frames = [
            pandas.DataFrame(
                {
                    "optimizer": trajectory.optimizer,
                    "step": np.arange(len(trajectory.path)),
                    "x": trajectory.path[:, 0],
                    "y": trajectory.path[:, 1],
                    "value": trajectory.values,
                    "distance": trajectory.distances,
                }
            )
            for trajectory in self.trajectories
        ]
        return pandas.concat(frames, ignore_index=True)

    def save(self, out_dir: str | os.PathLike[str]) -> Path:
        """Write the folder ``descentlab landscape --out out_dir`` writes (trajectories.png,
        loss.png, trajectories.gif of ``frames`` frames, then results.json) into a new or empty
        folder."""
        from descentlab.runs.folder import claimed, prepare_out_dir
        from descentlab.runs.landscape import write_landscape_folder

        folder = prepare_out_dir(Path(out_dir))
        with claimed(folder):
            write_landscape_folder(
                folder,
                self.function,
                self.landscape,
                self.trajectories,
                start=self.start,
                steps=self.steps,
                tolerance=self.tolerance,
                frames=self.frames,
            )
        return folder
