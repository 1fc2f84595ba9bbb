"""A sweep summarised over seeds: per configuration, the best per optimizer, and the table.

A run whose cost became NaN or infinite is "diverged": it is counted, never averaged in. A
run whose chunk failed on a cluster is "failed": counted apart, never averaged in either.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from descentlab.sweep.config import Configuration
from descentlab.sweep.engine import RunResult, SweepOutcome
from descentlab.sweep.grid import Value


@dataclass(frozen=True)
class Stats:
    """Mean, sample standard deviation (n - 1 in the denominator; None for one value), min
    and max."""

    mean: float
    std: float | None
    min: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Stats | None:
        """None for no values."""
        if not values:
            return None
        array = np.asarray(values, dtype=np.float64)
        std = float(np.std(array, ddof=1)) if array.size > 1 else None
        return cls(float(array.mean()), std, float(array.min()), float(array.max()))


@dataclass(frozen=True)
class Summary:
    """One configuration over its seeds, diverged and failed runs left out of the
    statistics."""

    configuration: Configuration
    seeds: int
    diverged: int
    final_cost: Stats | None
    """None when every seed diverged (or failed)."""
    train_accuracy: Stats | None
    failed: int = 0


def summarize(outcome: SweepOutcome) -> list[Summary]:
    """One summary per configuration, in configuration order."""
    by_configuration: dict[int, list[RunResult]] = {}
    for run in outcome.runs:
        by_configuration.setdefault(run.spec.configuration, []).append(run)
    summaries = []
    for configuration in outcome.config.configurations:
        runs = by_configuration[configuration.index]
        finished = [run for run in runs if run.status == "finished"]
        summaries.append(
            Summary(
                configuration,
                seeds=len(runs),
                diverged=sum(run.status == "diverged" for run in runs),
                final_cost=Stats.of([run.final_cost for run in finished]),
                train_accuracy=Stats.of([run.train_accuracy for run in finished]),
                failed=sum(run.status == "failed" for run in runs),
            )
        )
    return summaries


def best_per_optimizer(summaries: Sequence[Summary]) -> dict[str, Summary | None]:
    """Per optimizer, the configuration with the lowest mean final cost among those where no
    seed diverged; if each diverged somewhere, among those with a finished seed; None if
    every run of the optimizer diverged."""
    best: dict[str, Summary | None] = {}
    for name in dict.fromkeys(s.configuration.optimizer for s in summaries):
        mine = [s for s in summaries if s.configuration.optimizer == name and s.final_cost]
        stable = [s for s in mine if s.diverged == 0] or mine
        best[name] = min(stable, key=_mean_final_cost, default=None)
    return best


def _mean_final_cost(summary: Summary) -> float:
    return math.inf if summary.final_cost is None else summary.final_cost.mean


def format_settings(settings: Mapping[str, Value]) -> str:
    """``lr 0.001, beta1 0.9``: a configuration's values, compactly (4 significant digits)."""
    parts = []
    for key, value in settings.items():
        label = "lr" if key == "learning_rate" else key
        shown = str(value).lower() if isinstance(value, bool) else f"{value:.4g}"
        parts.append(f"{label} {shown}")
    return ", ".join(parts)


def _mean_std(stats: Stats | None, scale: float, digits: int, suffix: str = "") -> str:
    if stats is None:
        return "diverged"
    mean = f"{scale * stats.mean:.{digits}f}{suffix}"
    return mean if stats.std is None else f"{mean} ± {scale * stats.std:.{digits}f}{suffix}"


def format_table(summaries: Sequence[Summary]) -> str:
    """One row per configuration: mean ± std over seeds of the final cost and the training
    accuracy, and how many seeds diverged; then how many runs failed (if any) and the best
    configuration per optimizer."""
    header = ("optimizer", "hyperparameters", "final cost", "train accuracy", "diverged")
    rows = [header] + [
        (
            s.configuration.optimizer,
            format_settings(s.configuration.settings),
            _mean_std(s.final_cost, 1.0, 4),
            _mean_std(s.train_accuracy, 100.0, 1, "%"),
            f"{s.diverged}/{s.seeds}",
        )
        for s in summaries
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
    failed = sum(s.failed for s in summaries)
    if failed:
        lines.append(
            f"{_count(failed, 'run')} failed (a chunk raised on the cluster): left out of the "
            "statistics; their errors are in results.json"
        )
    return "\n".join([*lines, "", *_best_lines(summaries)])


def _best_lines(summaries: Sequence[Summary]) -> list[str]:
    best = best_per_optimizer(summaries)
    lines = [
        "best per optimizer (lowest mean final cost among configurations with no diverged seed):"
    ]
    width = max(len(name) for name in best)
    for name, summary in best.items():
        if summary is None:
            lines.append(f"  {name:<{width}}  every run diverged")
            continue
        diverged = f" ({summary.diverged}/{summary.seeds} diverged)" if summary.diverged else ""
        lines.append(
            f"  {name:<{width}}  {format_settings(summary.configuration.settings)}: final cost "
            f"{_mean_std(summary.final_cost, 1.0, 4)}, train accuracy "
            f"{_mean_std(summary.train_accuracy, 100.0, 1, '%')}{diverged}"
        )
    return lines


def describe_execution(outcome: SweepOutcome) -> str:
    """How the runs were trained: "trained 64 runs in 1 stack on 1 process in 3.4 s (...)"."""
    execution = outcome.execution
    n_runs = len(outcome.runs)
    return (
        f"trained {_count(n_runs, 'run')} in {_count(execution.stacks, 'stack')} on "
        f"{_count(execution.processes, *_WHERE[execution.cluster])} in {execution.seconds:.1f} s "
        f"(at most {execution.max_stack} runs per stack; memory estimate "
        f"{execution.bytes_per_run / 2**10:.0f} KiB per run)"
    )


_WHERE = {False: ("process", "processes"), True: ("cluster worker", "cluster workers")}


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"
