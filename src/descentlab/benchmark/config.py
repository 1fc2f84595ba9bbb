"""What a benchmark runs: its problems, its optimizers, the budget and the seeds, checked.

A ``BenchmarkConfig`` fixes the whole protocol (``benchmark.trials``): each optimizer is
tuned on each problem with ``budget`` configurations drawn with the search seed ``seed``,
then its best configuration re-runs with the ``seeds`` trial seeds ``retest_seeds(seed,
seeds)``; with ``defaults`` its untuned configuration (``search_space.defaults``) also runs
with those trial seeds. ``tasks`` cuts that work into independent pieces, one per problem,
optimizer and kind ("tuned" or "defaults"), in a fixed order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from descentlab.benchmark.problems import Problem, load_problem_file, suite
from descentlab.benchmark.search_space import DEFAULT_OPTIMIZERS
from descentlab.optim import registry
from descentlab.validation import check_int

__all__ = ["KINDS", "BenchmarkConfig", "Task", "describe_problem", "task_key"]

KINDS = ("tuned", "defaults")
"""``tuned``: tune on validation, then re-run the best configuration on test; ``defaults``:
run the untuned configuration on test with the same trial seeds."""


@dataclass(frozen=True)
class Task:
    """One independent piece of a benchmark: one optimizer, one problem, one kind."""

    problem: Problem
    optimizer: str
    kind: str

    @property
    def key(self) -> str:
        return task_key(self.problem.name, self.optimizer, self.kind)


def task_key(problem: str, optimizer: str, kind: str) -> str:
    """A task's name, unique within a benchmark and safe as a file name (a wrapper chain
    spelled as run folders spell it: ``optim.registry.file_safe``)."""
    return f"{problem}__{registry.file_safe(optimizer)}__{kind}"


def describe_problem(problem: Problem) -> dict[str, Any]:
    """Every field of ``problem`` as plain JSON (a stochastic problem included)."""
    data = dataclasses.asdict(problem)
    data["hidden_layers"] = list(problem.hidden_layers)
    return data


@dataclass(frozen=True)
class BenchmarkConfig:
    """A benchmark, every value checked on construction (a one-line ``ValueError``).

    ``problems`` are the suite's (``suite`` named) followed by those read from
    ``problem_files``; names must be distinct. ``optimizers`` are registry names or wrapper
    chains (``lookahead:adam``), each once. ``budget`` N >= 1 configurations per optimizer and
    problem; ``seeds`` S >= 2 trial seeds (a spread needs two); ``seed`` >= 0 draws the
    configurations and fixes the trial seeds.
    """

    problems: tuple[Problem, ...]
    optimizers: tuple[str, ...] = DEFAULT_OPTIMIZERS
    budget: int = 20
    seeds: int = 5
    seed: int = 0
    defaults: bool = False
    suite: str | None = "small"
    problem_files: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.problems:
            raise ValueError("a benchmark needs at least one problem, got none")
        names = [problem.name for problem in self.problems]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"problem names must be distinct; given twice: {', '.join(twice)}")
        if not self.optimizers:
            raise ValueError("a benchmark needs at least one optimizer, got none")
        for name in self.optimizers:
            registry.chain(name)  # a one-line error for an unknown name or a bare wrapper
        repeated = sorted({n for n in self.optimizers if self.optimizers.count(n) > 1})
        if repeated:
            raise ValueError(f"optimizer given twice: {', '.join(repeated)}")
        for problem in self.problems:
            try:
                registry.check_full_batch(self.optimizers, problem.batch_size)
            except ValueError:
                needy = [n for n in self.optimizers if _needs_full_batch(n)]
                raise ValueError(
                    f"{', '.join(needy)} needs the whole training set at every step, but "
                    f"problem {problem.name!r} trains on mini-batches of {problem.batch_size}; "
                    'benchmark it only on problems with batch_size "full"'
                ) from None
        on_landscapes = set(registry.names("landscape"))
        for problem in (p for p in self.problems if p.is_stochastic):
            off = [n for n in self.optimizers if not _runs_on(n, on_landscapes)]
            if off:
                raise ValueError(
                    f"{', '.join(off)} cannot run on a landscape, and problem {problem.name!r} "
                    "is one; leave one of them out"
                )
        object.__setattr__(self, "budget", check_int("budget", self.budget, minimum=1))
        object.__setattr__(self, "seeds", check_int("seeds", self.seeds, minimum=2))
        object.__setattr__(self, "seed", check_int("seed", self.seed, minimum=0))

    @classmethod
    def from_options(
        cls,
        *,
        suite_name: str | None = "small",
        only: Sequence[str] | None = None,
        problem_files: Sequence[str] = (),
        optimizers: Sequence[str] = DEFAULT_OPTIMIZERS,
        budget: int = 20,
        seeds: int = 5,
        seed: int = 0,
        defaults: bool = False,
    ) -> BenchmarkConfig:
        """The benchmark of a suite (None: none), or of ``only`` the suite's problems of
        those names, plus problem files, as the command line names it."""
        problems = list(suite(suite_name)) if suite_name is not None else []
        if only is not None:
            known = [problem.name for problem in problems]
            unknown = [name for name in only if name not in known]
            if unknown or not only:
                raise ValueError(
                    f"unknown problem {(unknown or [''])[0]!r}; suite {suite_name!r} has: "
                    f"{', '.join(known)}"
                )
            problems = [problem for problem in problems if problem.name in only]
        problems += [load_problem_file(path) for path in problem_files]
        return cls(
            tuple(problems),
            tuple(optimizers),
            budget,
            seeds,
            seed,
            defaults,
            suite_name,
            tuple(str(path) for path in problem_files),
        )

    @property
    def kinds(self) -> tuple[str, ...]:
        return KINDS if self.defaults else KINDS[:1]

    @property
    def tasks(self) -> list[Task]:
        """Every task, problem by problem, then optimizer by optimizer, then kind."""
        return [
            Task(problem, name, kind)
            for problem in self.problems
            for name in self.optimizers
            for kind in self.kinds
        ]

    def to_dict(self) -> dict[str, Any]:
        """The benchmark as results.json records it: every problem in full."""
        return {
            "suite": self.suite,
            "problem_files": list(self.problem_files),
            "problems": [describe_problem(problem) for problem in self.problems],
            "optimizers": list(self.optimizers),
            "budget": self.budget,
            "seeds": self.seeds,
            "seed": self.seed,
            "defaults": self.defaults,
        }

    def same_protocol(self, recorded: Mapping[str, Any]) -> bool:
        """Whether ``recorded`` (a ``to_dict``) describes exactly this benchmark."""
        return dict(recorded) == self.to_dict()


def _runs_on(name: str, allowed: set[str]) -> bool:
    return all(part.name in allowed for part in registry.chain(name))


def _needs_full_batch(name: str) -> bool:
    return any("full_batch" in part.needs for part in registry.chain(name))
