"""The benchmark's short text verdict, written from a ``Summary`` and never stronger than it.

``verdict(summary)`` gives one line per statement, in this order:

1. The optimizer(s) with the lowest mean rank, the rank, and on how many problems each is
   tied with the best (``ProblemSummary.tied_with_best``).
2. Per problem: the optimizer with the best mean test score and those that cannot be told
   apart from it (Welch's t-test with Holm's correction, alpha ``summary.ALPHA``, over S
   seeds); "every other optimizer differs from it" when none; the optimizers left out (fewer
   than 2 finite test scores); "no optimizer had 2 finite test scores" when none was tested.
3. Whether one optimizer was the best or tied with the best on every problem (it is then
   named; only when there are at least 2 optimizers), or that none was.
4. With defaults: per problem, the median tuning gap over the optimizers that have one
   (positive: tuning helped) and on how many of them tuning helped (gap > 0).
5. Always: with S seeds only large differences can be detected, and "cannot be told apart"
   does not mean equal.

The wording never ranks two optimizers that cannot be told apart: a tie is written as "cannot
be told apart", never as one being ahead.
"""

from __future__ import annotations

import statistics

from descentlab.benchmark.summary import ALPHA, ProblemSummary, Summary

__all__ = ["verdict"]


def _names(names: list[str] | tuple[str, ...]) -> str:
    return ", ".join(names)


def _number(value: float) -> str:
    return f"{value:.4g}"


def _problem_line(problem: ProblemSummary, seeds: int) -> str:
    if problem.best is None:
        line = f"- {problem.problem}: no optimizer had 2 finite test scores; nothing was compared."
        return line
    best = problem.get(problem.best)
    assert best.test is not None
    others = [name for name in problem.tied_with_best if name != problem.best]
    line = (
        f"- {problem.problem}: best mean test {problem.metric}: {problem.best} "
        f"({_number(best.test.mean)}); "
    )
    if others:
        line += (
            f"cannot be told apart from it: {_names(others)} "
            f"(Welch's t-test, Holm, alpha {ALPHA}, {seeds} seeds)."
        )
    elif len(problem.optimizers) - len(problem.left_out) > 1:
        line += f"every other optimizer differs from it (Welch's t-test, Holm, alpha {ALPHA})."
    else:
        line += "no other optimizer was compared."
    if problem.left_out:
        line += f" Left out (fewer than 2 finite test scores): {_names(problem.left_out)}."
    return line


def _tuning_lines(summary: Summary) -> list[str]:
    lines = []
    for problem in summary.problems:
        gaps = [e.tuning_gap for e in problem.optimizers if e.tuning_gap is not None]
        if not gaps:
            lines.append(f"- Tuning on {problem.problem}: no gap could be measured.")
            continue
        helped = sum(gap > 0 for gap in gaps)
        lines.append(
            f"- Tuning on {problem.problem}: median gap {_number(statistics.median(gaps))} "
            f"{problem.metric} (positive: tuning helped); "
            f"it helped {helped} of {len(gaps)} optimizers."
        )
    return lines


def verdict(summary: Summary) -> str:
    """The verdict's lines joined by newlines (the rules are in the module docstring)."""
    count = len(summary.problems)
    lowest = min(row.mean_rank for row in summary.ranking)
    leaders = [row for row in summary.ranking if row.mean_rank == lowest]
    lines = [
        f"Lowest mean rank ({_number(lowest)} over {count} problem{'s' * (count != 1)}): "
        + "; ".join(
            f"{row.optimizer}, tied with the best on {row.tied_with_best} of {count}"
            for row in leaders
        )
        + "."
    ]
    lines += [_problem_line(problem, summary.seeds) for problem in summary.problems]
    everywhere = [
        name
        for name in summary.optimizers
        if all(name in problem.tied_with_best for problem in summary.problems)
    ]
    if len(summary.optimizers) > 1 and everywhere:
        lines.append(f"Best or tied with the best on every problem: {_names(everywhere)}.")
    elif len(summary.optimizers) > 1:
        lines.append("No optimizer was the best or tied with the best on every problem.")
    if summary.defaults:
        lines += _tuning_lines(summary)
    lines.append(
        f"With {summary.seeds} seeds per optimizer only large differences can be detected: "
        "optimizers that cannot be told apart are not shown to be equal."
    )
    return "\n".join(lines)
