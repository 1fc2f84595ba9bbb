"""A sweep's picture: final cost against learning rate, one line per optimizer.

Like ``descentlab.report.plots``, matplotlib is imported inside the functions and figures are
built with ``matplotlib.figure.Figure`` directly (Agg, no pyplot state).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from descentlab.report.plots import (
    COST_FIGSIZE,
    DPI,
    LINESTYLES,
    color_for,
    make_headroom,
    save_png,
)
from descentlab.sweep.summary import Summary, format_settings

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

LOG_COST_RATIO = 100.0
"""The cost axis is logarithmic when the highest cost drawn passes the lowest this many times."""
RATE_MARGIN = 1.5
"""The learning-rate axis reaches this factor beyond the lowest and the highest rate."""
DIVERGED_MARK_Y = 0.96
"""Height, in axes coordinates, of the x marks that stand for diverged runs."""


def sensitivity_lines(summaries: Sequence[Summary]) -> dict[tuple[str, str], list[Summary]]:
    """Summaries grouped into lines: one per optimizer and per value of its other
    hyperparameters (the learning rate varies along a line), each sorted by learning rate."""
    lines: dict[tuple[str, str], list[Summary]] = {}
    for summary in summaries:
        configuration = summary.configuration
        others = {k: v for k, v in configuration.settings.items() if k != "learning_rate"}
        lines.setdefault((configuration.optimizer, format_settings(others)), []).append(summary)
    for members in lines.values():
        members.sort(key=lambda s: float(s.configuration.settings["learning_rate"]))
    return lines


def sensitivity_figure(summaries: Sequence[Summary]) -> Figure:
    """Final cost against learning rate (log x): per line the mean over seeds (solid, dots)
    and a band from the lowest to the highest seed; an x at the top marks each learning rate
    where a seed diverged, with the count when more than one did. Diverged runs are never
    part of a mean or a band."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=COST_FIGSIZE, dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    optimizers = list(dict.fromkeys(s.configuration.optimizer for s in summaries))
    styles: dict[str, int] = {}
    any_diverged = False
    for (name, others), members in sensitivity_lines(summaries).items():
        color = color_for(optimizers.index(name))
        style = LINESTYLES[styles.setdefault(name, 0) % len(LINESTYLES)]
        styles[name] += 1
        _draw_line(ax, members, color, style, name if not others else f"{name} ({others})")
        any_diverged |= _mark_diverged(ax, members, color)
    _finish_axes(ax, summaries, any_diverged)
    return fig


def plot_sensitivity(path: Path, summaries: Sequence[Summary]) -> None:
    """Write ``sensitivity_figure(summaries)`` to ``path`` as a PNG (atomically)."""
    save_png(path, sensitivity_figure(summaries))


def _draw_line(ax: Axes, members: Sequence[Summary], color: str, style: str, label: str) -> None:
    rates = np.array([float(s.configuration.settings["learning_rate"]) for s in members])
    nan = float("nan")
    mean = np.array([nan if s.final_cost is None else s.final_cost.mean for s in members])
    low = np.array([nan if s.final_cost is None else s.final_cost.min for s in members])
    high = np.array([nan if s.final_cost is None else s.final_cost.max for s in members])
    ax.fill_between(rates, low, high, color=color, alpha=0.18, linewidth=0)
    ax.plot(rates, mean, color=color, linestyle=style, linewidth=1.8, marker="o",
            markersize=3.5, label=label)  # fmt: skip


def _mark_diverged(ax: Axes, members: Sequence[Summary], color: str) -> bool:
    """An x at the top of the axes over each learning rate where a seed diverged."""
    top = ax.get_xaxis_transform()  # x in data, y in axes coordinates
    diverged = [s for s in members if s.diverged]
    for summary in diverged:
        rate = float(summary.configuration.settings["learning_rate"])
        ax.scatter([rate], [DIVERGED_MARK_Y], marker="x", s=40, color=color, linewidths=1.6,
                   transform=top, clip_on=False, zorder=3)  # fmt: skip
        if summary.diverged > 1:
            count = ax.annotate(str(summary.diverged), (rate, DIVERGED_MARK_Y), xycoords=top,
                                xytext=(4, -10), textcoords="offset points", fontsize=7,
                                color=color)  # fmt: skip
            count.set_in_layout(False)  # inside the axes; as a layout item it collapses them
    return bool(diverged)


def _finish_axes(ax: Axes, summaries: Sequence[Summary], any_diverged: bool) -> None:
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    ax.set_xscale("log")
    finite = [s.final_cost for s in summaries if s.final_cost is not None]
    lows = [stats.min for stats in finite if stats.min > 0]
    if lows and max(stats.max for stats in finite) > LOG_COST_RATIO * min(lows):
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(ScalarFormatter())
        ax.yaxis.set_minor_formatter(NullFormatter())
    rates = [float(s.configuration.settings["learning_rate"]) for s in summaries]
    if rates:  # the marks are not data points: every rate must be in view for them
        ax.set_xlim(min(rates) / RATE_MARGIN, max(rates) * RATE_MARGIN)
    if any_diverged:
        make_headroom(ax)
        # A legend entry for the marks, in neutral grey: each mark has its line's colour.
        ax.scatter([], [], marker="x", color="#555555", label="a seed diverged (count if > 1)")
    seeds = max((s.seeds for s in summaries), default=0)
    ax.set_xlabel("learning rate (initial rate under a schedule)")
    ax.set_ylabel("final cost (last epoch)")
    ax.set_title(f"Final cost vs learning rate: mean over {seeds} seeds, band from min to max")
    ax.grid(True, which="major", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    if summaries:
        ax.legend(loc="best", frameon=True, framealpha=0.9, fontsize=9)
