"""A benchmark's tables, as plain text for the terminal and as Markdown for report.md.

Every table is built from a ``benchmark.summary.Summary`` alone; the numbers are printed to 4
significant digits. ``render_markdown`` writes the whole report.md text; the run folder's
writer names its pictures.
"""

from __future__ import annotations

from collections.abc import Sequence

from descentlab.benchmark.config import BenchmarkConfig
from descentlab.benchmark.scores import Interval
from descentlab.benchmark.summary import (
    ALPHA,
    CONFIDENCE,
    OptimizerSummary,
    ProblemSummary,
    Summary,
)
from descentlab.benchmark.verdict import verdict
from descentlab.report.tables import aligned

__all__ = [
    "problem_markdown",
    "problem_rows",
    "problem_table",
    "ranking_markdown",
    "ranking_rows",
    "ranking_table",
    "render_markdown",
]

MISSING = "-"
"""What a cell shows for a number that does not exist (no finite value, never reached)."""


def _number(value: float) -> str:
    return f"{value:.4g}"


def _interval(interval: Interval | None) -> str:
    if interval is None:
        return MISSING
    return f"{_number(interval.mean)} [{_number(interval.low)}, {_number(interval.high)}]"


def ranking_rows(summary: Summary) -> list[list[str]]:
    """The ranking's header and one row per optimizer, lowest mean rank first (ties in the
    config's order): mean rank, problems where it is tied with the best, problems where its
    median epochs to target is finite, problems where it is fastest to the target (rho(1))."""
    count = len(summary.problems)
    order = sorted(range(len(summary.ranking)), key=lambda s: summary.ranking[s].mean_rank)
    rows = [["optimizer", "mean rank", "tied with best", "reached target", "fastest to target"]]
    for s in order:
        row = summary.ranking[s]
        fastest = round(summary.profile.rho[s][0] * count)
        rows.append(
            [
                row.optimizer,
                f"{row.mean_rank:.2f}",
                f"{row.tied_with_best}/{count}",
                f"{row.reached}/{count}",
                f"{fastest}/{count}",
            ]
        )
    return rows


def _tie_mark(problem: ProblemSummary, name: str) -> str:
    if name == problem.best:
        return "best"
    if name in problem.tied_with_best:
        return "tied"
    if name in problem.left_out:
        return "left out"
    return ""


def _epochs(entry: OptimizerSummary) -> str:
    median = MISSING if entry.epochs_to_target is None else f"{entry.epochs_to_target:g}"
    return f"{median} ({entry.reached}/{entry.seeds})"


def _test_cell(entry: OptimizerSummary) -> str:
    cell = _interval(entry.test)
    if entry.finite_trials < entry.seeds:
        cell += f" ({entry.finite_trials}/{entry.seeds} finite)"
    return cell


def problem_rows(problem: ProblemSummary, *, defaults: bool) -> list[list[str]]:
    """One problem's header and one row per optimizer: test metric mean [95% interval] (and
    how many trials were finite when not all), final training loss likewise, median epochs to
    target (seeds reaching it / seeds), share of the tuning budget that diverged, with
    ``defaults`` the defaults' test metric and the tuning gap, and whether it is the best or
    tied with the best (Welch + Holm)."""
    percent = f"{100 * CONFIDENCE:g}%"
    header = [
        "optimizer",
        f"test {problem.metric} [{percent}]",
        f"final loss [{percent}]",
        "epochs to target",
        "diverged (budget)",
    ]
    if defaults:
        header += [f"defaults test {problem.metric}", "tuning gap"]
    header.append("vs best")
    rows = [header]
    for entry in problem.optimizers:
        row = [
            entry.optimizer,
            _test_cell(entry),
            _interval(entry.final_loss),
            _epochs(entry),
            f"{100 * entry.diverged_share:.0f}%",
        ]
        if defaults:
            gap = MISSING if entry.tuning_gap is None else f"{entry.tuning_gap:+.4g}"
            row += [_interval(entry.defaults_test), gap]
        row.append(_tie_mark(problem, entry.optimizer))
        rows.append(row)
    return rows


def _markdown(rows: Sequence[Sequence[str]]) -> str:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    return "\n".join([line(rows[0]), line(["---"] * len(rows[0])), *map(line, rows[1:])])


def ranking_table(summary: Summary) -> str:
    """``ranking_rows`` as aligned plain text."""
    return aligned(ranking_rows(summary), right=frozenset({1, 2, 3, 4}))


def ranking_markdown(summary: Summary) -> str:
    """``ranking_rows`` as a Markdown table."""
    return _markdown(ranking_rows(summary))


def problem_table(problem: ProblemSummary, *, defaults: bool) -> str:
    """``problem_rows`` as aligned plain text."""
    return aligned(problem_rows(problem, defaults=defaults))


def problem_markdown(problem: ProblemSummary, *, defaults: bool) -> str:
    """``problem_rows`` as a Markdown table."""
    return _markdown(problem_rows(problem, defaults=defaults))


def _protocol(config: BenchmarkConfig) -> list[str]:
    first, last = config.seed + 1, config.seed + config.seeds
    lines = [
        f"- {len(config.optimizers)} optimizer{'s' * (len(config.optimizers) != 1)} "
        f"({', '.join(config.optimizers)}) on "
        f"{len(config.problems)} problem{'s' * (len(config.problems) != 1)}.",
        f"- Tuning: {config.budget} configurations per optimizer and problem, drawn from its "
        f"search space with seed {config.seed}, scored on the validation split.",
        f"- The best configuration re-ran with {config.seeds} fresh seeds ({first} to {last}), "
        "measured on the test split.",
    ]
    if config.defaults:
        lines.append("- Each optimizer also ran at its untuned defaults with the same seeds.")
    lines += [
        f"- Scores: mean over seeds with its {100 * CONFIDENCE:g}% percentile bootstrap "
        f"interval; ties: Welch's t-test on each pair, Holm's correction, alpha {ALPHA}.",
        "- Time to target: epochs, the median over seeds (a seed that never reached counts as "
        "infinite); seconds are per problem, since the runs of one stack share their time.",
    ]
    return lines


def _verdict_markdown(text: str) -> str:
    blocks: list[str] = []
    for line in text.splitlines():
        if line.startswith("- ") and blocks and blocks[-1].startswith("- "):
            blocks[-1] += "\n" + line
        else:
            blocks.append(line)
    return "\n\n".join(blocks)


def render_markdown(
    config: BenchmarkConfig, summary: Summary, *, profile: str, intervals: str, sensitivity: str
) -> str:
    """report.md: title, protocol, ranking, verdict, per-problem tables and links to the
    pictures named ``profile``, ``intervals`` and ``sensitivity`` (file names in the same
    folder)."""
    problems = "\n".join(
        f"| {p.problem} | {p.metric} | {p.target:g} | {problem.epochs} | {p.seconds:.1f} |"
        for p, problem in zip(summary.problems, config.problems, strict=True)
    )
    parts = [
        "# Optimizer benchmark",
        "## Protocol",
        "\n".join(_protocol(config)),
        "| problem | metric | target | epochs | seconds |\n| --- | --- | --- | --- | --- |\n"
        + problems,
        "## Ranking",
        ranking_markdown(summary),
        "## Verdict",
        _verdict_markdown(verdict(summary)),
        "## Performance profile",
        "The share of problems on which each optimizer's median epochs to target is within a "
        "factor tau of the fastest (Dolan & More).",
        f"![performance profile]({profile})",
        "## Per problem",
    ]
    for problem in summary.problems:
        parts += [
            f"### {problem.problem}",
            f"Metric: {problem.metric}, target {problem.target:g}; {problem.seconds:.1f} s.",
            problem_markdown(problem, defaults=summary.defaults),
        ]
    parts += [
        "## Test scores with their intervals",
        f"![test scores]({intervals})",
        "## Learning-rate sensitivity",
        "Each tuning configuration's validation score against its learning rate; an x marks "
        "a configuration that diverged.",
        f"![learning-rate sensitivity]({sensitivity})",
    ]
    return "\n\n".join(parts) + "\n"
