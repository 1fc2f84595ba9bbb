r"""A benchmark's summary: its task records turned into scores, per problem and across problems.

``summarize(config, records)`` reads nothing but its arguments, so anyone can recompute it
from results.json (``TaskRecord.from_dict`` of each record); the same inputs give the same
summary, bit for bit (the only randomness, the bootstrap's, is seeded by ``config.seed``).
The exact rules:

- **Matching.** Each record is matched to ``config.tasks`` by (problem, optimizer, kind), in
  any order. A task without a record, a record without a task, a record given twice, or a
  record whose trial count is not ``config.seeds`` (or whose tuning count is not
  ``config.budget``) is a one-line ``ValueError`` naming it.
- **Per problem and optimizer** (``OptimizerSummary``), from the tuned record's S trials:
  ``test``: the mean test score and its 95 % percentile bootstrap interval
  (``scores.bootstrap_interval(values, seed=config.seed)``) over the finite test scores only,
  None when none is finite; ``final_loss``: the same over the finite final training losses;
  ``finite_trials``: how many test scores are finite; ``diverged_trials``: how many trials
  say they diverged. ``epochs_to_target``: the median over the S seeds of each trial's
  ``epochs_to_target``, a seed that never reached the target counting as +inf (numpy's
  median: the mean of the two middle values for even S); None when that median is infinite.
  ``reached``: how many seeds reached the target. ``diverged_share``: the tuning
  configurations that diverged / ``config.budget``. ``best_configuration``: the one tuning
  chose. With ``config.defaults``: ``defaults_test``, the defaults record's test scores as
  ``test``, and ``tuning_gap``: ``scores.tuning_gap`` of the two means (positive when tuning
  helped), None when either mean is missing.
- **Per problem** (``ProblemSummary``): ``scores.indistinguishable`` (Welch's t-test on every
  pair, Holm's correction, alpha ``ALPHA``) over the finite test scores of the optimizers
  with at least 2 of them, in the config's order; the others are ``left_out``. ``best`` and
  ``tied_with_best`` are its verdict (None and () when fewer than one optimizer qualifies).
  ``seconds``: the sum of the problem's tasks' seconds (runs in one stack share their time,
  so timings are per problem).
- **Performance profile** (``Profile``, Dolan & Moré): ``times[p][s]`` is optimizer s's
  median epochs to target on problem p (inf when it is None). The tau grid is 1 and every
  finite performance ratio r_{p,s} (``scores.performance_ratios``), sorted, without repeats:
  rho_s is a step function that changes only at those ratios, so this grid gives it exactly,
  and at the last tau rho_s is the share of problems s solves (``solved``: the share of
  problems on which s's median epochs to target is finite).
- **Mean ranks** (``RankingRow``): ``scores.mean_ranks`` (higher is better) of the table
  ``oriented[p][s]``: the optimizer's mean test score on problem p, negated for a loss metric
  so that higher is better on every problem; an optimizer without a finite mean gets -inf
  (ranks last; several such share the last ranks). ``problem_ranks`` are each problem's ranks
  by the same rule. ``tied_with_best``: the number of problems where the optimizer is in
  ``tied_with_best``; ``reached``: the number of problems it solves (as ``solved``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from descentlab.benchmark.config import BenchmarkConfig
from descentlab.benchmark.problems import Problem
from descentlab.benchmark.scores import (
    Interval,
    bootstrap_interval,
    indistinguishable,
    mean_ranks,
    performance_profile,
    performance_ratios,
    tuning_gap,
)
from descentlab.benchmark.tasks import TaskRecord
from descentlab.sweep.grid import Value

__all__ = [
    "ALPHA",
    "CONFIDENCE",
    "OptimizerSummary",
    "ProblemSummary",
    "Profile",
    "RankingRow",
    "Summary",
    "summarize",
]

ALPHA = 0.05
"""The family-wise level of the per-problem pairwise tests."""
CONFIDENCE = 0.95
"""The bootstrap intervals' confidence."""


def _json_number(value: float | None) -> float | None:
    """A number as JSON writes it: NaN and infinities as null."""
    return None if value is None or not math.isfinite(value) else float(value)


def _interval_dict(interval: Interval | None) -> dict[str, float | None] | None:
    if interval is None:
        return None
    return {key: _json_number(value) for key, value in interval._asdict().items()}


@dataclass(frozen=True)
class OptimizerSummary:
    """One optimizer on one problem (the rules are in the module docstring)."""

    optimizer: str
    test: Interval | None
    final_loss: Interval | None
    finite_trials: int
    diverged_trials: int
    epochs_to_target: float | None
    reached: int
    seeds: int
    diverged_share: float
    best_configuration: dict[str, Value]
    best_validation_score: float
    defaults_test: Interval | None = None
    tuning_gap: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "optimizer": self.optimizer,
            "test": _interval_dict(self.test),
            "final_loss": _interval_dict(self.final_loss),
            "finite_trials": self.finite_trials,
            "diverged_trials": self.diverged_trials,
            "epochs_to_target": _json_number(self.epochs_to_target),
            "reached": self.reached,
            "seeds": self.seeds,
            "diverged_share": self.diverged_share,
            "best_configuration": dict(self.best_configuration),
            "best_validation_score": _json_number(self.best_validation_score),
            "defaults_test": _interval_dict(self.defaults_test),
            "tuning_gap": _json_number(self.tuning_gap),
        }


@dataclass(frozen=True)
class ProblemSummary:
    """One problem: each optimizer's summary (in the config's order) and who is tied."""

    problem: str
    metric: str
    higher_is_better: bool
    target: float
    optimizers: tuple[OptimizerSummary, ...]
    best: str | None
    tied_with_best: tuple[str, ...]
    left_out: tuple[str, ...]
    """Optimizers with fewer than 2 finite test scores: not tested against the others."""
    adjusted_p: tuple[tuple[str, str, float], ...]
    """Each tested pair's Holm-adjusted p-value."""
    seconds: float

    def get(self, optimizer: str) -> OptimizerSummary:
        """The summary of ``optimizer`` on this problem."""
        for entry in self.optimizers:
            if entry.optimizer == optimizer:
                return entry
        raise KeyError(optimizer)

    def to_dict(self) -> dict[str, Any]:
        return {
            "problem": self.problem,
            "metric": self.metric,
            "higher_is_better": self.higher_is_better,
            "target": self.target,
            "optimizers": [entry.to_dict() for entry in self.optimizers],
            "best": self.best,
            "tied_with_best": list(self.tied_with_best),
            "left_out": list(self.left_out),
            "adjusted_p": [[a, b, p] for a, b, p in self.adjusted_p],
            "seconds": self.seconds,
        }


@dataclass(frozen=True)
class Profile:
    """The performance profile of time to target: ``rho[s][i]`` = rho_s(``taus[i]``)."""

    taus: tuple[float, ...]
    times: tuple[tuple[float, ...], ...]
    """times[p][s]: median epochs to target, inf when not reached."""
    rho: tuple[tuple[float, ...], ...]
    solved: tuple[float, ...]
    """Per optimizer, the share of problems whose median epochs to target is finite."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "taus": list(self.taus),
            "times": [[_json_number(t) for t in row] for row in self.times],
            "rho": [list(row) for row in self.rho],
            "solved": list(self.solved),
        }


@dataclass(frozen=True)
class RankingRow:
    """One optimizer across problems."""

    optimizer: str
    mean_rank: float
    problem_ranks: tuple[float, ...]
    tied_with_best: int
    reached: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "optimizer": self.optimizer,
            "mean_rank": self.mean_rank,
            "problem_ranks": list(self.problem_ranks),
            "tied_with_best": self.tied_with_best,
            "reached": self.reached,
        }


@dataclass(frozen=True)
class Summary:
    """Everything ``summarize`` computes; ``ranking`` is in the config's optimizer order."""

    optimizers: tuple[str, ...]
    budget: int
    seeds: int
    seed: int
    defaults: bool
    problems: tuple[ProblemSummary, ...]
    profile: Profile
    ranking: tuple[RankingRow, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: NaN and infinities as null."""
        return {
            "optimizers": list(self.optimizers),
            "budget": self.budget,
            "seeds": self.seeds,
            "seed": self.seed,
            "defaults": self.defaults,
            "alpha": ALPHA,
            "confidence": CONFIDENCE,
            "problems": [problem.to_dict() for problem in self.problems],
            "profile": self.profile.to_dict(),
            "ranking": [row.to_dict() for row in self.ranking],
        }


def _matched(
    config: BenchmarkConfig, records: Sequence[TaskRecord]
) -> dict[tuple[str, str, str], TaskRecord]:
    expected = {(t.problem.name, t.optimizer, t.kind) for t in config.tasks}
    found: dict[tuple[str, str, str], TaskRecord] = {}
    for record in records:
        key = (record.problem, record.optimizer, record.kind)
        if key not in expected:
            raise ValueError(f"record {record.key} is not a task of this benchmark")
        if key in found:
            raise ValueError(f"record {record.key} is given twice")
        if len(record.trials) != config.seeds:
            raise ValueError(
                f"record {record.key} has {len(record.trials)} trials, expected {config.seeds}"
            )
        if record.kind == "tuned" and (
            record.tuning is None or len(record.tuning.configurations) != config.budget
        ):
            raise ValueError(
                f"record {record.key} does not hold {config.budget} tuned configurations"
            )
        found[key] = record
    for task in config.tasks:
        if (task.problem.name, task.optimizer, task.kind) not in found:
            raise ValueError(f"no record for task {task.key}")
    return found


def _finite(values: Sequence[float]) -> list[float]:
    return [value for value in values if math.isfinite(value)]


def _interval(values: Sequence[float], seed: int) -> Interval | None:
    finite = _finite(values)
    if not finite:
        return None
    return bootstrap_interval(finite, confidence=CONFIDENCE, seed=seed)


def _median_epochs(record: TaskRecord) -> float | None:
    epochs = [math.inf if t.epochs_to_target is None else t.epochs_to_target for t in record.trials]
    median = float(np.median(epochs))
    return median if math.isfinite(median) else None


def _optimizer_summary(
    tuned: TaskRecord, default: TaskRecord | None, seed: int, budget: int
) -> OptimizerSummary:
    """Everything but the tuning gap, which ``_problem_summary`` computes for all at once."""
    assert tuned.tuning is not None
    diverged = sum(c.diverged for c in tuned.tuning.configurations)
    test_scores = [t.test_score for t in tuned.trials]
    return OptimizerSummary(
        optimizer=tuned.optimizer,
        test=_interval(test_scores, seed),
        final_loss=_interval([t.final_training_loss for t in tuned.trials], seed),
        finite_trials=len(_finite(test_scores)),
        diverged_trials=sum(t.diverged for t in tuned.trials),
        epochs_to_target=_median_epochs(tuned),
        reached=sum(t.epochs_to_target is not None for t in tuned.trials),
        seeds=len(tuned.trials),
        diverged_share=diverged / budget,
        best_configuration=dict(tuned.tuning.best.configuration),
        best_validation_score=tuned.tuning.best.validation_score,
        defaults_test=(
            None if default is None else _interval([t.test_score for t in default.trials], seed)
        ),
    )


def _with_gaps(
    entries: Sequence[OptimizerSummary], higher_is_better: bool
) -> tuple[OptimizerSummary, ...]:
    """``entries`` with ``tuning_gap`` set wherever both means exist."""
    both = [e for e in entries if e.test is not None and e.defaults_test is not None]
    gaps = tuning_gap(
        {e.optimizer: e.test.mean for e in both if e.test is not None},
        {e.optimizer: e.defaults_test.mean for e in both if e.defaults_test is not None},
        higher_is_better=higher_is_better,
    )
    return tuple(dataclasses.replace(e, tuning_gap=gaps.get(e.optimizer)) for e in entries)


def _problem_summary(
    problem: Problem, found: Mapping[tuple[str, str, str], TaskRecord], config: BenchmarkConfig
) -> ProblemSummary:
    tuned = {name: found[(problem.name, name, "tuned")] for name in config.optimizers}
    entries = _with_gaps(
        [
            _optimizer_summary(
                tuned[name], found.get((problem.name, name, "defaults")), config.seed, config.budget
            )
            for name in config.optimizers
        ],
        problem.higher_is_better,
    )
    finite_scores = {
        name: _finite([t.test_score for t in record.trials]) for name, record in tuned.items()
    }
    tested = {name: values for name, values in finite_scores.items() if len(values) >= 2}
    left_out = tuple(name for name in config.optimizers if name not in tested)
    best: str | None = None
    tied: tuple[str, ...] = ()
    adjusted: tuple[tuple[str, str, float], ...] = ()
    if tested:
        ties = indistinguishable(tested, higher_is_better=problem.higher_is_better, alpha=ALPHA)
        best, tied = ties.best, tuple(ties.tied_with_best)
        adjusted = tuple((a, b, p) for (a, b), p in ties.adjusted_p.items())
    seconds = sum(record.seconds for key, record in found.items() if key[0] == problem.name)
    return ProblemSummary(
        problem=problem.name,
        metric=problem.metric,
        higher_is_better=problem.higher_is_better,
        target=problem.target,
        optimizers=entries,
        best=best,
        tied_with_best=tied,
        left_out=left_out,
        adjusted_p=adjusted,
        seconds=seconds,
    )


def profile_taus(times: np.ndarray) -> np.ndarray:
    """1 and every finite performance ratio of ``times``, sorted, without repeats."""
    ratios = performance_ratios(times)
    return np.unique(np.concatenate([[1.0], ratios[np.isfinite(ratios)]]))


def _profile(problems: Sequence[ProblemSummary]) -> Profile:
    times = np.array(
        [
            [math.inf if e.epochs_to_target is None else e.epochs_to_target for e in p.optimizers]
            for p in problems
        ]
    )
    taus = profile_taus(times)
    rho = performance_profile(times, taus)
    solved = np.isfinite(times).mean(axis=0)
    return Profile(
        taus=tuple(float(t) for t in taus),
        times=tuple(tuple(float(t) for t in row) for row in times),
        rho=tuple(tuple(float(r) for r in row) for row in rho),
        solved=tuple(float(s) for s in solved),
    )


def oriented_scores(problems: Sequence[ProblemSummary]) -> np.ndarray:
    """``oriented[p][s]``: the mean test score, negated for a loss; -inf when not finite."""
    rows = []
    for problem in problems:
        sign = 1.0 if problem.higher_is_better else -1.0
        rows.append(
            [
                -math.inf
                if e.test is None or not math.isfinite(e.test.mean)
                else sign * e.test.mean
                for e in problem.optimizers
            ]
        )
    return np.array(rows)


def _ranking(
    optimizers: Sequence[str], problems: Sequence[ProblemSummary]
) -> tuple[RankingRow, ...]:
    oriented = oriented_scores(problems)
    means = mean_ranks(oriented, higher_is_better=True)
    per_problem = [mean_ranks(row[None, :], higher_is_better=True) for row in oriented]
    return tuple(
        RankingRow(
            optimizer=name,
            mean_rank=float(means[s]),
            problem_ranks=tuple(float(ranks[s]) for ranks in per_problem),
            tied_with_best=sum(name in p.tied_with_best for p in problems),
            reached=sum(p.optimizers[s].epochs_to_target is not None for p in problems),
        )
        for s, name in enumerate(optimizers)
    )


def summarize(config: BenchmarkConfig, records: Sequence[TaskRecord]) -> Summary:
    """The benchmark's summary from its config and its task records alone (the rules are in
    the module docstring)."""
    found = _matched(config, records)
    problems = tuple(_problem_summary(problem, found, config) for problem in config.problems)
    return Summary(
        optimizers=tuple(config.optimizers),
        budget=config.budget,
        seeds=config.seeds,
        seed=config.seed,
        defaults=config.defaults,
        problems=problems,
        profile=_profile(problems),
        ranking=_ranking(config.optimizers, problems),
    )
