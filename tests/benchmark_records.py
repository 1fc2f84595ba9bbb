"""Hand-built benchmark task records with known numbers, shared by the summary and report
tests: every trial's score, final loss and epochs to target are given, and every tuning holds
four configurations (learning rates 0.1, 0.01, 0.001, 0.0001) of which the first
``diverged_configurations`` diverged and the last is the best."""

from __future__ import annotations

import json
import math

from descentlab.benchmark.config import BenchmarkConfig
from descentlab.benchmark.problems import Problem
from descentlab.benchmark.tasks import TaskRecord
from descentlab.benchmark.trials import ConfigurationRecord, TrialRecord, TuningRecord

NAN = math.nan
INF = math.inf
SEED = 7
OPTIMIZERS = ("gd", "momentum", "adam")

TINY = Problem(
    name="tiny-moons",
    description="moons, a small network, a few epochs",
    dataset="moons",
    hidden_layers=(3,),
    epochs=4,
    batch_size=64,
    metric="accuracy",
    target=0.8,
)
"""A real problem that trains in milliseconds (the trials and runner tests train it)."""

TINY_PROBLEM_FILES = {
    "tiny-moons.toml": 'name = "tiny-moons"\ndataset = "moons"\nlayers = [3]\nepochs = 300\n'
    "target = 0.8\n",
    "tiny-cancer.json": json.dumps(
        {"name": "tiny-cancer", "dataset": "breast-cancer", "layers": [], "epochs": 20,
         "target": 0.95}
    ),
}  # fmt: skip
"""Two problem files (file name -> text) whose benchmark of 3 optimizers, N = 4, S = 3 with
``--defaults`` is twelve tasks of a fraction of a second each (the command's tests)."""


def problem(name: str, metric: str = "accuracy", target: float = 0.9) -> Problem:
    return Problem(
        name=name,
        description=name,
        dataset="moons",
        hidden_layers=(3,),
        epochs=3,
        batch_size=64,
        metric=metric,
        target=target,
    )


def config(*problems: Problem, defaults: bool = False, seeds: int = 3) -> BenchmarkConfig:
    return BenchmarkConfig(
        tuple(problems), OPTIMIZERS, budget=4, seeds=seeds, seed=SEED, defaults=defaults, suite=None
    )


def record(
    problem_name: str,
    optimizer: str,
    scores: list[float],
    *,
    epochs: list[int | None] | None = None,
    losses: list[float] | None = None,
    kind: str = "tuned",
    diverged_configurations: int = 0,
    seconds: float = 1.0,
    metric: str = "accuracy",
) -> TaskRecord:
    epochs = epochs if epochs is not None else [None] * len(scores)
    losses = losses if losses is not None else [0.5] * len(scores)
    trials = tuple(
        TrialRecord(
            problem_name,
            optimizer,
            SEED + 1 + i,
            {"learning_rate": 0.1},
            score,
            loss,
            reached,
            (score,),
            not math.isfinite(score),
        )
        for i, (score, loss, reached) in enumerate(zip(scores, losses, epochs, strict=True))
    )
    tuning = None
    if kind == "tuned":
        configurations = tuple(
            ConfigurationRecord(
                {"learning_rate": 10.0 ** -(i + 1)},
                NAN if i < diverged_configurations else 0.8 + 0.01 * i,
                (0.8,),
                i < diverged_configurations,
            )
            for i in range(4)
        )
        tuning = TuningRecord(problem_name, optimizer, SEED, metric, configurations, 3)
    return TaskRecord(problem_name, optimizer, kind, tuning, trials, seconds)


def filled(cfg: BenchmarkConfig, given: list[TaskRecord]) -> list[TaskRecord]:
    """``given`` plus a plain record for every other task of ``cfg``."""
    keys = {(r.problem, r.optimizer, r.kind) for r in given}
    rest = [
        record(t.problem.name, t.optimizer, [0.5, 0.6, 0.7], kind=t.kind, metric=t.problem.metric)
        for t in cfg.tasks
        if (t.problem.name, t.optimizer, t.kind) not in keys
    ]
    return given + rest
