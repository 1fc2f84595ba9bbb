"""A benchmark's pictures: performance profiles, test scores with intervals, learning-rate
sensitivity.

Like ``descentlab.report.plots``, matplotlib is imported inside the functions and figures are
built with ``matplotlib.figure.Figure`` directly (Agg, no pyplot state); ``*_figure`` builds a
figure, ``plot_*`` writes it as a PNG, atomically. Optimizer ``i`` of the benchmark is drawn
in ``color_for(i)`` in every picture, with ``line_style_for(i)`` or ``marker_for(i)`` so that
the 11th optimizer does not look like the 1st.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from descentlab.benchmark.summary import CONFIDENCE, Summary
from descentlab.benchmark.tasks import TaskRecord
from descentlab.report.plots import (
    COST_FIGSIZE,
    DPI,
    color_for,
    line_style_for,
    make_headroom,
    marker_for,
    plot_text,
    save_png,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

TAU_TAIL = 2.0
"""The profile's x axis reaches this factor beyond its last tau, so each line's final level
shows as a flat step."""
PANEL_SIZE = (4.2, 3.2)
"""Inches per panel of the per-problem pictures."""
PANELS_PER_ROW = 3
DIVERGED_MARK_Y = 0.96
"""Height, in axes coordinates, of the x marks that stand for diverged configurations."""
RATE_MARGIN = 1.5
"""The learning-rate axis reaches this factor beyond the lowest and the highest rate."""
LOG_SCORE_RATIO = 100.0
"""A loss axis is logarithmic when the highest loss drawn passes the lowest this many times."""
DEFAULTS_OFFSET = 0.25
"""Vertical offset, in rows, of the defaults' interval under the tuned one."""


def profile_figure(summary: Summary) -> Figure:
    """rho_s(tau) against tau (log x), one step line per optimizer: the share of problems on
    which its median epochs to target is within a factor tau of the fastest."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=COST_FIGSIZE, dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    profile = summary.profile
    taus = [*profile.taus, profile.taus[-1] * TAU_TAIL]
    for s, name in enumerate(summary.optimizers):
        levels = [*profile.rho[s], profile.rho[s][-1]]
        ax.step(taus, levels, where="post", color=color_for(s), linewidth=1.8,
                linestyle=line_style_for(s), label=plot_text(name))  # fmt: skip
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    ax.set_xscale("log", base=2)
    ax.set_xlim(1.0, taus[-1])
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("tau (epochs to target / fastest optimizer's, per problem)")
    ax.set_ylabel("share of problems within tau")
    ax.set_title(
        f"Performance profile of epochs to target ({len(summary.problems)} problems, "
        "median over seeds)"
    )
    ax.grid(True, which="major", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.legend(loc="lower right", frameon=True, framealpha=0.9, fontsize=9)
    return fig


def _panels(count: int) -> tuple[Figure, list[Axes]]:
    from matplotlib.figure import Figure

    columns = min(PANELS_PER_ROW, count)
    rows = math.ceil(count / columns)
    fig = Figure(
        figsize=(PANEL_SIZE[0] * columns, PANEL_SIZE[1] * rows), dpi=DPI, layout="constrained"
    )
    axes = [fig.add_subplot(rows, columns, i + 1) for i in range(count)]
    return fig, axes


def intervals_figure(summary: Summary) -> Figure:
    """One panel per problem: each optimizer's mean test score (tuned: filled dot) with its
    bootstrap interval as an error bar, the defaults' (hollow dot) below it when run, and the
    problem's target as a dashed line. An optimizer without a finite score has no bar."""
    fig, axes = _panels(len(summary.problems))
    for ax, problem in zip(axes, summary.problems, strict=True):
        for s, entry in enumerate(problem.optimizers):
            shown = [(entry.test, 0.0, "o", color_for(s))]
            if summary.defaults:
                shown.append((entry.defaults_test, DEFAULTS_OFFSET, "o", "none"))
            for interval, offset, marker, face in shown:
                if interval is None:
                    continue
                below = max(interval.mean - interval.low, 0.0)
                above = max(interval.high - interval.mean, 0.0)
                ax.errorbar([interval.mean], [s + offset], xerr=[[below], [above]],
                            fmt=marker, color=color_for(s), markerfacecolor=face,
                            capsize=3, markersize=5)  # fmt: skip
        ax.axvline(problem.target, color="#888888", linestyle="--", linewidth=1.0)
        ax.set_yticks(range(len(problem.optimizers)),
                      [plot_text(e.optimizer) for e in problem.optimizers], fontsize=8)  # fmt: skip
        ax.set_ylim(len(problem.optimizers) - 0.5, -0.5)
        ax.set_xlabel(f"test {problem.metric} (target dashed)")
        ax.set_title(plot_text(problem.problem), fontsize=10)
        ax.grid(True, axis="x", color="#dddddd", linewidth=0.6)
    suffix = "; hollow: defaults" if summary.defaults else ""
    fig.suptitle(
        f"Test score: mean over {summary.seeds} seeds, {100 * CONFIDENCE:g}% bootstrap "
        f"interval{suffix}",
        fontsize=11,
    )
    return fig


def sensitivity_figure(summary: Summary, records: Sequence[TaskRecord]) -> Figure:
    """One panel per problem: each tuning configuration's validation score against its
    learning rate (log x), one colour per optimizer; a configuration that diverged (or whose
    score is not finite) is an x at the top of the panel over its learning rate. A
    configuration without a learning rate is not drawn."""
    tuned = {(r.problem, r.optimizer): r for r in records if r.kind == "tuned"}
    fig, axes = _panels(len(summary.problems))
    for ax, problem in zip(axes, summary.problems, strict=True):
        top = ax.get_xaxis_transform()  # x in data, y in axes coordinates
        any_diverged = False
        every_rate: list[float] = []
        every_score: list[float] = []
        for s, name in enumerate(summary.optimizers):
            record = tuned.get((problem.problem, name))
            if record is None or record.tuning is None:
                continue
            rates, scores, failed = [], [], []
            for configuration in record.tuning.configurations:
                rate = configuration.configuration.get("learning_rate")
                if not isinstance(rate, int | float) or isinstance(rate, bool) or rate <= 0:
                    continue
                if configuration.diverged or not math.isfinite(configuration.validation_score):
                    failed.append(float(rate))
                else:
                    rates.append(float(rate))
                    scores.append(configuration.validation_score)
            ax.scatter(
                rates, scores, color=color_for(s), marker=marker_for(s), s=18,
                label=plot_text(name),
            )  # fmt: skip
            every_rate += rates + failed
            every_score += scores
            if failed:
                any_diverged = True
                ax.scatter(failed, [DIVERGED_MARK_Y] * len(failed), marker="x", s=30,
                           color=color_for(s), transform=top, clip_on=False)  # fmt: skip
        ax.set_xscale("log")
        if every_rate:  # the x marks are not data points: every rate must be in view for them
            ax.set_xlim(min(every_rate) / RATE_MARGIN, max(every_rate) * RATE_MARGIN)
        positive = [score for score in every_score if score > 0]
        if (
            not problem.higher_is_better
            and positive
            and max(positive) > LOG_SCORE_RATIO * min(positive)
            and len(positive) == len(every_score)
        ):
            ax.set_yscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel(f"validation {problem.metric}")
        ax.set_title(plot_text(problem.problem), fontsize=10)
        ax.grid(True, which="major", color="#dddddd", linewidth=0.6)
        if any_diverged:
            make_headroom(ax)
    if axes:
        axes[0].legend(loc="best", fontsize=7, framealpha=0.9)
    fig.suptitle(
        f"Tuning: validation score of each of the {summary.budget} configurations (x: diverged)",
        fontsize=11,
    )
    return fig


def plot_profile(path: Path, summary: Summary) -> None:
    """Write ``profile_figure(summary)`` to ``path`` as a PNG (atomically)."""
    save_png(path, profile_figure(summary))


def plot_intervals(path: Path, summary: Summary) -> None:
    """Write ``intervals_figure(summary)`` to ``path`` as a PNG (atomically)."""
    save_png(path, intervals_figure(summary))


def plot_sensitivity(path: Path, summary: Summary, records: Sequence[TaskRecord]) -> None:
    """Write ``sensitivity_figure(summary, records)`` to ``path`` as a PNG (atomically)."""
    save_png(path, sensitivity_figure(summary, records))
