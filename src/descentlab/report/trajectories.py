"""Pictures of optimizer paths on 2-D landscapes: contours with paths, an animation, f per step.

matplotlib is imported inside the functions (Figure API, Agg, no pyplot state), as in
``descentlab.report.plots``; optimizer ``i`` is drawn in ``color_for(i)`` everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from descentlab.atomic import write_path_atomic
from descentlab.landscapes import Landscape, Trajectory
from descentlab.report.plots import DPI, color_for, save_png

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

GRID_POINTS = 200
"""Points per axis of the grid the contours are drawn from."""
CONTOUR_LEVELS = 25
LOG_LEVEL_RANGE = 1e-5
"""Log-scaled contours span [range * top, top] of f - f_min over the view."""
GIF_DPI = 60
GIF_FPS = 12
LINEAR_THRESHOLD = 1e-3
"""Where loss.png's symmetric log scale turns linear, for a function without a minimum."""


def view_of(
    landscape: Landscape, trajectories: Sequence[Trajectory] = ()
) -> tuple[tuple[float, float], tuple[float, float]]:
    """The landscape's default view, widened to hold every start (with a 10% margin)."""
    (x_low, x_high), (y_low, y_high) = landscape.bounds
    for trajectory in trajectories:
        x, y = trajectory.path[0]
        x_low, x_high = min(x_low, x), max(x_high, x)
        y_low, y_high = min(y_low, y), max(y_high, y)
    x_pad, y_pad = 0.05 * (x_high - x_low), 0.05 * (y_high - y_low)
    return (x_low - x_pad, x_high + x_pad), (y_low - y_pad, y_high + y_pad)


def describe_distance(landscape: Landscape, trajectory: Trajectory) -> str:
    """ "0.0012 from the minimum" (or "... from the saddle point"), or "diverged at step k"."""
    if trajectory.status == "diverged":
        return f"diverged at step {trajectory.diverged_step}"
    target = "the nearest minimum" if len(landscape.minima) > 1 else "the minimum"
    if not landscape.has_minimum:
        target = "the saddle point"
    return f"{trajectory.final_distance:.2g} from {target}"


class ContourGrid(NamedTuple):
    """A landscape's heights on a grid over a view, with the levels its contours are drawn at:
    ``heights[i, j]`` is at (``x[j]``, ``y[i]``). With ``log_scaled`` the heights are f - f_min
    and the levels log-spaced over [1e-5 * top, top]; else they are f and the levels even."""

    x: np.ndarray
    y: np.ndarray
    heights: np.ndarray
    levels: np.ndarray
    log_scaled: bool


def contour_grid(
    landscape: Landscape, view: tuple[tuple[float, float], ...], points: int = GRID_POINTS
) -> ContourGrid:
    """The contours of ``landscape`` over ``view``, ``points`` per axis: what trajectories.png
    draws and the playground's map shows."""
    (x_low, x_high), (y_low, y_high) = view
    xs = np.linspace(x_low, x_high, points)
    ys = np.linspace(y_low, y_high, points)
    grid_x, grid_y = np.meshgrid(xs, ys)
    values = landscape.f(np.stack([grid_x, grid_y], axis=-1))
    if landscape.log_contours and landscape.f_min is not None:
        heights = values - landscape.f_min
        top = float(heights.max())
        levels = np.geomspace(LOG_LEVEL_RANGE * top, top, CONTOUR_LEVELS)
        return ContourGrid(xs, ys, heights, levels, True)
    levels = np.linspace(float(values.min()), float(values.max()), CONTOUR_LEVELS)
    return ContourGrid(xs, ys, values, levels, False)


def _draw_contours(ax: Axes, landscape: Landscape, view: tuple[tuple[float, float], ...]) -> None:
    from matplotlib.colors import LogNorm

    (x_low, x_high), (y_low, y_high) = view
    grid = contour_grid(landscape, view)
    grid_x, grid_y = np.meshgrid(grid.x, grid.y)
    if grid.log_scaled:
        ax.contour(
            grid_x, grid_y, grid.heights, levels=grid.levels, norm=LogNorm(), cmap="viridis",
            linewidths=0.7, alpha=0.6,
        )  # fmt: skip
    else:
        ax.contour(
            grid_x, grid_y, grid.heights, levels=grid.levels, cmap="viridis", linewidths=0.7,
            alpha=0.6,
        )  # fmt: skip
    minima = np.asarray(landscape.minima)
    ax.plot(
        minima[:, 0], minima[:, 1], linestyle="none", marker="*" if landscape.has_minimum else "X",
        markersize=12, color="black", label="minimum" if landscape.has_minimum else "saddle point",
    )  # fmt: skip
    ax.set_xlim(x_low, x_high)
    ax.set_ylim(y_low, y_high)
    ax.set_aspect("equal")
    ax.set_xlabel("x")
    ax.set_ylabel("y")


def _figure_size(view: tuple[tuple[float, float], ...], width: float = 7.0) -> tuple[float, float]:
    (x_low, x_high), (y_low, y_high) = view
    ratio = (y_high - y_low) / (x_high - x_low)
    return width, float(np.clip(width * ratio, 3.0, width)) + 0.6


def trajectories_figure(landscape: Landscape, trajectories: Sequence[Trajectory]) -> Figure:
    """The landscape's contours with every path (start: circle, end: square) in its colour;
    the legend gives each optimizer's final distance to the (nearest) minimum."""
    from matplotlib.figure import Figure

    view = view_of(landscape, trajectories)
    fig = Figure(figsize=_figure_size(view), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    _draw_contours(ax, landscape, view)
    for index, trajectory in enumerate(trajectories):
        color = color_for(index)
        path = trajectory.path
        ax.plot(
            path[:, 0], path[:, 1], color=color, linewidth=1.4, marker=".", markersize=2.5,
            label=f"{trajectory.optimizer}: {describe_distance(landscape, trajectory)}",
        )  # fmt: skip
        ax.plot(*path[0], marker="o", markersize=7, color=color, markeredgecolor="black")
        ax.plot(*path[-1], marker="s", markersize=7, color=color, markeredgecolor="black")
    ax.set_title(f"{landscape.name}: {landscape.formula}  (circle: start, square: end)")
    ax.legend(fontsize="small", framealpha=0.85, loc="best")
    return fig


def loss_figure(landscape: Landscape, trajectories: Sequence[Trajectory]) -> Figure:
    """f(x_t) per step: f - f_min on a log scale, or f on a symmetric log scale for a
    function without a minimum (the saddle's f goes negative)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8.0, 4.5), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    for index, trajectory in enumerate(trajectories):
        steps = np.arange(len(trajectory.values))
        if landscape.f_min is not None:
            heights = trajectory.values - landscape.f_min
            # Exactly at the minimum f - f_min is 0, which a log scale cannot show.
            heights = np.where(heights > 0, heights, np.nan)
        else:
            heights = trajectory.values
        ax.plot(steps, heights, color=color_for(index), linewidth=1.4, label=trajectory.optimizer)
        if trajectory.status == "diverged":
            ax.plot(steps[-1], heights[-1], marker="x", color=color_for(index), markersize=9)
    if landscape.f_min is not None:
        ax.set_yscale("log")
        ax.set_ylabel("f(x_t) - f_min" if landscape.f_min != 0 else "f(x_t)")
    else:
        ax.set_yscale("symlog", linthresh=LINEAR_THRESHOLD)
        ax.set_ylabel("f(x_t)  (symmetric log scale)")
    ax.set_xlabel("step t")
    ax.set_title(f"{landscape.name}: {landscape.formula}")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return fig


def plot_trajectories(path: Path, landscape: Landscape, trajectories: Sequence[Trajectory]) -> None:
    """Write ``trajectories_figure`` as a PNG, atomically."""
    save_png(path, trajectories_figure(landscape, trajectories))


def plot_loss(path: Path, landscape: Landscape, trajectories: Sequence[Trajectory]) -> None:
    """Write ``loss_figure`` as a PNG, atomically."""
    save_png(path, loss_figure(landscape, trajectories))


def frame_steps(longest: int, frames: int) -> list[int]:
    """The step each of ``frames`` frames shows, evenly from 0 to ``longest`` (the last
    frame shows the whole path)."""
    if frames == 1:
        return [longest]
    return [round(k * longest / (frames - 1)) for k in range(frames)]


def save_animation(
    path: Path,
    landscape: Landscape,
    trajectories: Sequence[Trajectory],
    frames: int,
    *,
    fps: int = GIF_FPS,
) -> None:
    """Write a GIF of ``frames`` frames in which every path advances together (frame k shows
    steps 0 .. frame_steps(...)[k]; a diverged path stays at its last point). matplotlib's
    animation with the Pillow writer; written to a temporary file, then renamed into place."""
    from matplotlib.animation import FuncAnimation, PillowWriter
    from matplotlib.figure import Figure

    if frames < 1:
        raise ValueError(f"frames must be an integer >= 1, got {frames}")
    view = view_of(landscape, trajectories)
    fig = Figure(figsize=_figure_size(view, width=5.0), dpi=GIF_DPI, layout="constrained")
    ax = fig.add_subplot()
    _draw_contours(ax, landscape, view)
    lines, heads = [], []
    for index, trajectory in enumerate(trajectories):
        color = color_for(index)
        ax.plot(*trajectory.path[0], marker="o", markersize=6, color=color, markeredgecolor="black")
        (line,) = ax.plot([], [], color=color, linewidth=1.5, label=trajectory.optimizer)
        (head,) = ax.plot([], [], marker="o", markersize=6, color=color, markeredgecolor="black")
        lines.append(line)
        heads.append(head)
    # A fixed corner: "best" would search for a free spot on every frame.
    ax.legend(fontsize="small", framealpha=0.85, loc="upper right")
    title = ax.set_title("")
    # Lay the figure out once: constrained layout would redo it on every frame.
    fig.draw_without_rendering()
    fig.set_layout_engine("none")
    longest = max(len(trajectory.path) for trajectory in trajectories) - 1
    shown = frame_steps(longest, frames)

    def draw(frame: int) -> list[Artist]:
        step = shown[frame]
        for trajectory, line, head in zip(trajectories, lines, heads, strict=True):
            visible = trajectory.path[: step + 1]
            line.set_data(visible[:, 0], visible[:, 1])
            head.set_data([visible[-1, 0]], [visible[-1, 1]])
        # The frame number keeps every frame distinct: GIF writers merge identical frames.
        title.set_text(f"{landscape.name}: step {step}   (frame {frame + 1}/{frames})")
        return [*lines, *heads, title]

    animation = FuncAnimation(fig, draw, frames=frames, blit=False, repeat=False)
    try:  # Pillow picks the format by the extension, which the temporary file keeps
        write_path_atomic(
            Path(path),
            lambda temporary: animation.save(temporary, writer=PillowWriter(fps=fps), dpi=GIF_DPI),
        )
    finally:
        fig.clear()
