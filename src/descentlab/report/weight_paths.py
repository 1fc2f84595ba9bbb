"""The training path of each run's weights, projected onto two principal directions.

A network's weights live in many dimensions; to see the optimizers' paths side by side, the
weights every run visited (at regular epochs) are pooled, centred, and projected onto the two
directions along which they vary most (principal component analysis by SVD). The picture is a
projection: points far apart in weight space can land close together in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from descentlab.report.plots import COST_FIGSIZE, DPI, color_for, save_png

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from descentlab.experiment import RunOutcome


def project_paths(paths: Sequence[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray]:
    """Each path (snapshots, n_params) projected onto the two principal directions of all the
    snapshots pooled: a list of (snapshots, 2) arrays, and the fraction of the pooled
    variance each direction explains."""
    pooled = np.concatenate(paths, axis=0)
    pooled = pooled[np.isfinite(pooled).all(axis=1)]
    centre = pooled.mean(axis=0)
    _, singular, directions = np.linalg.svd(pooled - centre, full_matrices=False)
    variance = singular**2
    explained = variance[:2] / variance.sum() if variance.sum() > 0 else np.zeros(2)
    basis = directions[:2].T
    if basis.shape[1] < 2:  # one snapshot, or one parameter: pad the missing direction
        basis = np.pad(basis, ((0, 0), (0, 2 - basis.shape[1])))
        explained = np.pad(explained, (0, 2 - explained.size))
    return [(path - centre) @ basis for path in paths], explained


def weight_paths_figure(outcomes: Sequence[RunOutcome]) -> Figure:
    """Every run's projected weight path, its start (circle) and end (square), titled as the
    projection it is, with the variance the two directions explain."""
    from matplotlib.figure import Figure

    paths = [outcome.weight_path for outcome in outcomes if outcome.weight_path is not None]
    projected, explained = project_paths(paths)
    fig = Figure(figsize=(COST_FIGSIZE[0] * 0.8, COST_FIGSIZE[1]), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    for index, (outcome, path) in enumerate(zip(outcomes, projected, strict=True)):
        color = color_for(index)
        ax.plot(path[:, 0], path[:, 1], color=color, linewidth=1.6, label=outcome.optimizer.name)
        ax.plot(*path[0], marker="o", color=color, markersize=7, markeredgecolor="black")
        ax.plot(*path[-1], marker="s", color=color, markersize=7, markeredgecolor="black")
    ax.set_xlabel(f"principal direction 1 ({100 * explained[0]:.0f}% of the variance)")
    ax.set_ylabel(f"principal direction 2 ({100 * explained[1]:.0f}% of the variance)")
    ax.set_title(
        "Weights during training, projected onto their two principal directions\n"
        "(a projection: circle = start, square = end)",
        fontsize=11,
    )
    ax.grid(True, color="#dddddd", linewidth=0.6)
    ax.legend(loc="best", frameon=True, framealpha=0.9)
    return fig


def plot_weight_paths(path: Path, outcomes: Sequence[RunOutcome]) -> None:
    """Write ``weight_paths_figure(outcomes)`` to ``path`` as a PNG (atomically)."""
    save_png(path, weight_paths_figure(outcomes))
