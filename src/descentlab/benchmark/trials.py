"""The benchmark's engine: tune an optimizer on a problem's validation split, then re-run the
chosen configuration with fresh seeds and measure it on the test split.

The protocol, exactly:

- ``tune(problem, name, n, seed)`` draws the n configurations
  ``search_space.draw_configurations(name, n, seed)``. On a data problem all n train on the
  problem's training split (``problem.prepare()``) as ONE stack (``train.train_stack``, one
  ``RunGroup`` per set of configurations with equal ``optim.stack.stack_key`` and the same
  settings exactly zero), every one from the same initialisation and shuffles:
  ``seeds.run_seeds(seed)``. After every epoch each run's
  weights (``train.reported_params``) are measured on the validation split
  (``evaluation.evaluate``: the mean cross-entropy or the accuracy, ``problem.metric``): that is
  its curve, and its score is the curve's last value. On the stochastic problem each
  configuration runs ``landscapes.run_trajectory`` on ``problem.noisy_landscape(seed)`` from the
  landscape's start for ``problem.epochs`` steps; its curve is ``problems.stochastic_loss`` of
  the point after each step with the noise seed ``noise_seeds(seed).validation``. A stack never
  changes a number: each run equals training that configuration alone, bit for bit.
- A configuration has diverged when ``train_stack`` says so (an epoch cost NaN, infinite or
  above ``train.DIVERGENCE_FACTOR`` times its first mini-batch cost) or its trajectory left the
  finite region; the curve of a trajectory that stopped is NaN from there on. The best
  configuration is the non-diverged one with the best score (the highest accuracy, the lowest
  loss; ties: the first drawn); when every configuration diverged, the first drawn.
- ``retest(problem, name, configuration, seeds)`` trains the configuration once per trial seed
  s, exactly as tuning trains with seed s (init and shuffle ``run_seeds(s)``; the stochastic
  problem's training noise ``noise_seeds(s).train``), and measures it after every epoch on the
  TEST split (stochastic: noise seed ``noise_seeds(s).test``): its ``test_score`` is the last
  value of that curve, ``epochs_to_target`` is ``scores.epochs_to_target`` of that curve and
  ``final_training_loss`` the last epoch's training cost (stochastic: the noise-free f at the
  final point). ``retest_seeds(seed, count)`` = seed + 1, ..., seed + count: never the tuning
  seed, so the re-runs start from initialisations and shuffles tuning never used.
- Tuning never reads the test split, and re-running never reads the validation split.

Records are frozen dataclasses; ``to_dict()`` is plain JSON (a NaN or infinite number written
as null) holding every configuration and curve, and ``from_dict`` reads it back. A curve holding
NaN never compares equal to itself as a dataclass field: compare records by ``to_dict()``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from descentlab import landscapes, optim
from descentlab.benchmark.problems import Problem, noise_seeds, stochastic_loss
from descentlab.benchmark.scores import epochs_to_target
from descentlab.benchmark.search_space import draw_configurations
from descentlab.dataset import Dataset
from descentlab.evaluation import evaluate
from descentlab.optim.stack import stack_key, stacked
from descentlab.seeds import run_seeds
from descentlab.splits import Splits
from descentlab.sweep.grid import Value
from descentlab.train import EpochDetail, RunGroup, StackResult, TrainingInterrupted, train_stack
from descentlab.validation import check_int

__all__ = ["ConfigurationRecord", "TrialRecord", "TuningRecord", "retest", "retest_seeds", "tune"]

Configuration = Mapping[str, Value]

Interrupted = Callable[[], bool] | None
"""Asked at every epoch's end (``train.train_stack``) and between trajectories; when it
returns True, ``train.TrainingInterrupted`` is raised and nothing is measured."""

StackObserver = Callable[[StackResult], None] | None
"""Shown every stack ``train_stack`` trained (what ``tasks`` records its engine from)."""


def _floats(values: np.ndarray) -> list[float | None]:
    """A curve as JSON numbers: NaN and infinities as None."""
    return [float(v) if np.isfinite(v) else None for v in values.tolist()]


def _from_json(values: Sequence[float | None]) -> tuple[float, ...]:
    return tuple(float("nan") if v is None else float(v) for v in values)


def _score(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


@dataclass(frozen=True)
class ConfigurationRecord:
    """One tuned configuration: its hyperparameters and its validation measurements."""

    configuration: dict[str, Value]
    validation_score: float
    """The validation metric after the last epoch (NaN when not finite)."""
    curve: tuple[float, ...]
    """The validation metric after each epoch (step), ``problem.epochs`` values."""
    diverged: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "configuration": dict(self.configuration),
            "validation_score": _score(self.validation_score),
            "curve": _floats(np.asarray(self.curve)),
            "diverged": self.diverged,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConfigurationRecord:
        score = data["validation_score"]
        return cls(
            dict(data["configuration"]),
            float("nan") if score is None else float(score),
            _from_json(data["curve"]),
            bool(data["diverged"]),
        )


@dataclass(frozen=True)
class TuningRecord:
    """Everything ``tune`` measured: every configuration in drawing order and the best one."""

    problem: str
    optimizer: str
    seed: int
    metric: str
    configurations: tuple[ConfigurationRecord, ...]
    best_index: int

    @property
    def best(self) -> ConfigurationRecord:
        return self.configurations[self.best_index]

    def to_dict(self) -> dict[str, Any]:
        return {
            "problem": self.problem,
            "optimizer": self.optimizer,
            "seed": self.seed,
            "metric": self.metric,
            "configurations": [record.to_dict() for record in self.configurations],
            "best_index": self.best_index,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TuningRecord:
        return cls(
            str(data["problem"]),
            str(data["optimizer"]),
            int(data["seed"]),
            str(data["metric"]),
            tuple(ConfigurationRecord.from_dict(c) for c in data["configurations"]),
            int(data["best_index"]),
        )


@dataclass(frozen=True)
class TrialRecord:
    """One re-run of the chosen configuration with one fresh seed, measured on the test split."""

    problem: str
    optimizer: str
    seed: int
    configuration: dict[str, Value]
    test_score: float
    final_training_loss: float
    epochs_to_target: int | None
    curve: tuple[float, ...]
    """The test metric after each epoch (step)."""
    diverged: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "problem": self.problem,
            "optimizer": self.optimizer,
            "seed": self.seed,
            "configuration": dict(self.configuration),
            "test_score": _score(self.test_score),
            "final_training_loss": _score(self.final_training_loss),
            "epochs_to_target": self.epochs_to_target,
            "curve": _floats(np.asarray(self.curve)),
            "diverged": self.diverged,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrialRecord:
        def number(value: float | None) -> float:
            return float("nan") if value is None else float(value)

        reached = data["epochs_to_target"]
        return cls(
            str(data["problem"]),
            str(data["optimizer"]),
            int(data["seed"]),
            dict(data["configuration"]),
            number(data["test_score"]),
            number(data["final_training_loss"]),
            None if reached is None else int(reached),
            _from_json(data["curve"]),
            bool(data["diverged"]),
        )


@dataclass(frozen=True)
class _Measured:
    """What one training call measured per run, in the order of the runs given."""

    curves: np.ndarray
    """(K, epochs)."""
    final_training_losses: np.ndarray
    diverged: list[bool]


def _data_splits(problem: Problem) -> Splits:
    parts = problem.prepare()
    assert isinstance(parts, Splits)
    return parts


def _train_data(
    problem: Problem,
    name: str,
    configurations: Sequence[Configuration],
    seeds: Sequence[int],
    measured_on: Dataset,
    train: Dataset,
    interrupted: Interrupted = None,
    on_stack: StackObserver = None,
) -> _Measured:
    """Train run k (configuration k, trial seed k) as one stack and measure ``measured_on``
    after every epoch."""
    network = problem.network(train)
    order: dict[Any, list[int]] = {}
    for index, configuration in enumerate(configurations):
        # Runs sharing an optimizer must also agree on which settings are exactly zero
        # (``optim.stack``: a zero weight decay skips its arithmetic).
        zeros = tuple(sorted(key for key, value in configuration.items() if value == 0))
        order.setdefault((stack_key(name, configuration), zeros), []).append(index)
    runs = [index for indices in order.values() for index in indices]
    groups = [
        RunGroup(stacked(name, [configurations[i] for i in indices]), len(indices))
        for indices in order.values()
    ]
    run_seed = [run_seeds(seeds[i]) for i in runs]
    metric_index = 1 if problem.metric == "accuracy" else 0
    curves = np.empty((len(runs), problem.epochs))

    def measure(detail: EpochDetail) -> None:
        curves[:, detail.epoch] = evaluate(network, detail.params, measured_on)[metric_index]

    with np.errstate(all="ignore"):  # a diverging run overflows; divergence is recorded
        result = train_stack(
            network,
            train.X,
            train.Y,
            groups,
            init_seeds=[s.init_seed for s in run_seed],
            shuffle_seeds=[s.shuffle_seed for s in run_seed],
            epochs=problem.epochs,
            batch_size=problem.batch_size,
            on_epoch_detail=measure,
            interrupted=interrupted,
        )
    if on_stack is not None:
        on_stack(result)
    back = np.argsort(runs)  # stack position of each run given
    return _Measured(
        curves=curves[back],
        final_training_losses=np.array([result.histories[p].epoch_costs[-1] for p in back]),
        diverged=[result.diverged_epochs[p] is not None for p in back],
    )


def _train_landscape(
    problem: Problem,
    name: str,
    configuration: Configuration,
    seed: int,
    held_out: str,
    interrupted: Interrupted,
) -> tuple[np.ndarray, float, bool]:
    """One trajectory with trial seed ``seed``: its curve of ``stochastic_loss`` on the noise
    seed ``held_out`` names (validation or test), its final noise-free f, diverged."""
    if interrupted is not None and interrupted():
        raise TrainingInterrupted(0)
    landscape = problem.noisy_landscape(seed)
    trajectory = landscapes.run_trajectory(
        landscape, optim.get(name, **configuration), landscape.start, problem.epochs
    )
    noise_seed = int(getattr(noise_seeds(seed), held_out))
    curve = np.full(problem.epochs, np.nan)
    steps = trajectory.path[1:]
    with np.errstate(all="ignore"):
        curve[: len(steps)] = stochastic_loss(landscape, problem.noise_scale, steps, noise_seed)
    diverged = trajectory.status == "diverged"
    final = float("nan") if diverged else trajectory.final_value
    return curve, final, diverged


def _best_index(scores: np.ndarray, diverged: Sequence[bool], higher_is_better: bool) -> int:
    candidates = [
        i for i, score in enumerate(scores.tolist()) if not diverged[i] and np.isfinite(score)
    ]
    if not candidates:
        return 0
    sign = -1.0 if higher_is_better else 1.0
    return min(candidates, key=lambda i: (sign * scores[i], i))


def tune(
    problem: Problem,
    optimizer_name: str,
    n: int,
    seed: int,
    interrupted: Interrupted = None,
    on_stack: StackObserver = None,
) -> TuningRecord:
    """Tune ``optimizer_name`` on ``problem`` with n configurations and seed ``seed`` (see the
    module docstring for the exact protocol); the test split is never read. ``interrupted``:
    see ``Interrupted``; ``on_stack``: see ``StackObserver``."""
    seed = check_int("seed", seed, minimum=0)
    configurations = draw_configurations(optimizer_name, n, seed)
    if problem.is_stochastic:
        measured = [
            _train_landscape(problem, optimizer_name, c, seed, "validation", interrupted)
            for c in configurations
        ]
        curves = np.stack([m[0] for m in measured])
        diverged = [m[2] for m in measured]
    else:
        parts = _data_splits(problem)
        assert parts.validation is not None
        stack = _train_data(
            problem,
            optimizer_name,
            configurations,
            [seed] * len(configurations),
            parts.validation,
            parts.train,
            interrupted,
            on_stack,
        )
        curves, diverged = stack.curves, stack.diverged
    scores = curves[:, -1]
    records = tuple(
        ConfigurationRecord(dict(c), float(scores[i]), tuple(curves[i].tolist()), diverged[i])
        for i, c in enumerate(configurations)
    )
    best = _best_index(scores, diverged, problem.higher_is_better)
    return TuningRecord(problem.name, optimizer_name, seed, problem.metric, records, best)


def retest_seeds(seed: int, count: int) -> list[int]:
    """The fresh trial seeds of a benchmark tuned with ``seed``: seed + 1, ..., seed + count."""
    seed = check_int("seed", seed, minimum=0)
    count = check_int("number of seeds", count, minimum=1)
    return list(range(seed + 1, seed + count + 1))


def retest(
    problem: Problem,
    optimizer_name: str,
    configuration: Configuration,
    seeds: Sequence[int],
    interrupted: Interrupted = None,
    on_stack: StackObserver = None,
) -> list[TrialRecord]:
    """Re-run ``configuration`` once per trial seed (distinct integers >= 0) and measure each on
    the test split (see the module docstring); one ``TrialRecord`` per seed, in order.
    ``interrupted``: see ``Interrupted``; ``on_stack``: see ``StackObserver``."""
    seeds = [check_int("seed", s, minimum=0) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct integers >= 0, at least one, got {seeds!r}")
    if problem.is_stochastic:
        measured = [
            _train_landscape(problem, optimizer_name, configuration, s, "test", interrupted)
            for s in seeds
        ]
        curves = np.stack([m[0] for m in measured])
        losses = np.array([m[1] for m in measured])
        diverged = [m[2] for m in measured]
    else:
        parts = _data_splits(problem)
        assert parts.test is not None
        stack = _train_data(
            problem,
            optimizer_name,
            [configuration] * len(seeds),
            seeds,
            parts.test,
            parts.train,
            interrupted,
            on_stack,
        )
        curves, losses, diverged = stack.curves, stack.final_training_losses, stack.diverged
    return [
        TrialRecord(
            problem.name,
            optimizer_name,
            s,
            dict(configuration),
            float(curves[i, -1]),
            float(losses[i]),
            epochs_to_target(curves[i], problem.target, higher_is_better=problem.higher_is_better),
            tuple(curves[i].tolist()),
            diverged[i],
        )
        for i, s in enumerate(seeds)
    ]
