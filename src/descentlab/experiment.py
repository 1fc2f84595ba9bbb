"""Run several optimizers on one dataset under one protocol: what ``compare`` and ``train`` do.

The protocol is an ``ExperimentConfig`` (``descentlab.experiment_config``); ``run_experiment``
trains its optimizers as one stack and measures each run (``RunOutcome``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from descentlab import checkpoint, metrics, optim
from descentlab.datasets import Dataset
from descentlab.evaluation import Monitor, confusion_matrix
from descentlab.experiment_config import COURSE_OPTIMIZERS, SHARED_HYPERPARAMETERS, ExperimentConfig
from descentlab.history import History
from descentlab.nn import Network, he_initialization, predict_classes
from descentlab.optim import Optimizer
from descentlab.resume import initial_states, resume_stack
from descentlab.seeds import RunSeeds, run_seeds
from descentlab.splits import check_fits_dtype, split, standardize
from descentlab.train import (
    EpochDetailCallback,
    EpochSnapshot,
    RunGroup,
    StackResult,
    TrainResult,
    reported_params,
    squeeze_state,
)

__all__ = [
    "COURSE_OPTIMIZERS",
    "SHARED_HYPERPARAMETERS",
    "Checkpointing",
    "ExperimentConfig",
    "PreparedData",
    "ProgressCallback",
    "RunOutcome",
    "prepare_data",
    "run_experiment",
]


@dataclass(frozen=True)
class RunOutcome:
    """One optimizer's trained run and what was measured of it."""

    optimizer: Optimizer
    result: TrainResult
    train_correct: int
    n_examples: int
    oscillation: float
    cost_shape: str
    seconds: float
    learning_rates: np.ndarray
    """The rate each epoch's updates used, shape (epochs,)."""
    validation_costs: np.ndarray | None = None
    """Mean cost on the validation split after every epoch, or None without one."""
    validation_accuracies: np.ndarray | None = None
    accuracies: Mapping[str, float] = field(default_factory=dict)
    """Accuracy of the final parameters on "train", and "validation" / "test" when split."""
    confusion: Mapping[str, np.ndarray] = field(default_factory=dict)
    """Confusion matrix (true class x predicted class) per split."""
    stopped_epoch: int | None = None
    """The epoch early stopping ended this run, or None."""
    best_epoch: int | None = None
    """With early stopping: the epoch whose parameters were kept."""
    weight_path: np.ndarray | None = None
    """With ``path_every``: the parameters at the start and every ``path_every`` epochs,
    shape (snapshots, n_params)."""
    engine: str = "numpy"
    """The engine that trained the stack this run was part of (``StackResult.engine``)."""
    numpy_updates: tuple[str, ...] = ()
    """That stack's optimizers the compiled engine updated with numpy (``StackResult``)."""

    @property
    def train_accuracy(self) -> float:
        return self.train_correct / self.n_examples

    @property
    def final_cost(self) -> float:
        return float(self.result.history.epoch_costs[-1])


ProgressCallback = Callable[[int, np.ndarray], None]
"""Called after every epoch with the epoch index and every run's epoch cost."""


@dataclass(frozen=True)
class PreparedData:
    """The splits a run trains and is evaluated on, after standardisation."""

    train: Dataset
    validation: Dataset | None
    test: Dataset | None
    scaling: dict[str, list[float]] | None
    """The standardiser learned on the training split, or None."""

    def named(self) -> dict[str, Dataset]:
        parts = {"train": self.train, "validation": self.validation, "test": self.test}
        return {name: part for name, part in parts.items() if part is not None}


def prepare_data(config: ExperimentConfig, dataset: Dataset) -> PreparedData:
    """Split ``dataset`` (stratified, seeded with ``config.seed``) and standardise every split
    with the mean and deviation of the training split when ``config.standardizes``. Raises a
    one-line ``ValueError`` before any training for features the run cannot take (see
    ``splits.standardize`` and ``splits.check_fits_dtype``) and for a schedule that does not
    fit the run's number of steps."""
    parts = split(dataset, config.validation_fraction, config.test_fraction, seed=config.seed)
    scaling = None
    if config.standardizes(dataset):
        parts, scaler = standardize(parts)
        scaling = scaler.to_dict()
    check_fits_dtype(parts, config.dtype)
    # A schedule counted in steps is checked against the run's real length, before training.
    config.built_optimizers(config.batches_per_epoch(parts.train.n_examples))
    return PreparedData(parts.train, parts.validation, parts.test, scaling)


@dataclass(frozen=True)
class Checkpointing:
    """Where and how often a run saves checkpoints, and whether it continues one.

    ``every`` epochs (0: never on a schedule) and whenever ``interrupted()`` turns True at an
    epoch's end, the run's state goes to ``path`` (with ``description`` so that it can be
    rebuilt, to which ``run_experiment`` adds the data's fingerprint, the configuration and
    the weight-path interval). With ``resume`` the run continues from the checkpoint at
    ``path``, once ``checkpoint.load`` has checked it against the run (the same data, the
    same configuration, every array the right shape), and ends exactly as if it had never
    stopped.
    """

    path: Path
    every: int = 0
    interrupted: Callable[[], bool] | None = None
    description: Mapping[str, Any] = field(default_factory=dict)
    resume: bool = False


def run_experiment(
    config: ExperimentConfig,
    dataset: Dataset,
    progress: ProgressCallback | None = None,
    data: PreparedData | None = None,
    checkpointing: Checkpointing | None = None,
    path_every: int = 0,
    on_epoch_detail: EpochDetailCallback | None = None,
) -> list[RunOutcome]:
    """Train every optimizer of ``config`` on ``dataset``'s training split together, as one
    stack, from the same initial weights and the same batch order, and measure each run.

    A run's ``seconds`` is its share of the stack's training time (the stack's time divided
    by the number of runs). With a validation split every epoch is evaluated on it, and with
    ``early_stopping`` each run stops once its validation cost has not improved for
    ``patience`` epochs and keeps its best epoch's parameters. With ``path_every`` each run
    records its parameters at the start and every ``path_every`` epochs (``weight_path``;
    a checkpoint keeps them, so a resumed run's path is the whole run's). ``on_epoch_detail``
    observes every epoch's mini-batch costs and parameters (``train.EpochDetail``), for live
    views."""
    data = prepare_data(config, dataset) if data is None else data
    network = config.network(data.train.n_features, dataset.n_classes)
    seeds = run_seeds(config.seed)
    batches_per_epoch = config.batches_per_epoch(data.train.n_examples)
    optimizers = config.built_optimizers(batches_per_epoch)
    groups = [RunGroup(optimizer, 1) for optimizer in optimizers]
    monitor = None
    if data.validation is not None:
        monitor = Monitor(
            network,
            data.validation,
            n_runs=len(optimizers),
            epochs=config.epochs,
            patience=config.patience if config.early_stopping else None,
        )
    prior = None
    saving: dict[str, Any] = {}
    paths = None
    if path_every:
        paths = _WeightPaths(
            path_every, config.epochs, _initial_params(network, seeds, groups).astype(config.dtype)
        )
    if checkpointing is not None:
        description = {
            **checkpointing.description,
            "data": checkpoint.data_fingerprint(dataset),
            "config": config.to_dict(),
            "weight_paths": path_every,
        }
        expected = checkpoint.Expected(
            n_runs=len(optimizers),
            n_params=network.n_params,
            epochs=config.epochs,
            batches_per_epoch=batches_per_epoch,
            description=description,
            monitor=_monitor_template(monitor, network.n_params, config.dtype),
            weight_path_snapshots=None if paths is None else paths.count_after,
        )
        prior = _restore(checkpointing, network, groups, monitor, paths, expected, config.dtype)
        saving = _saving(checkpointing, monitor, paths, description)
    started = time.perf_counter()
    stack = resume_stack(
        network,
        data.train.X,
        data.train.Y,
        groups,
        epochs=config.epochs,
        prior=prior,
        finished=monitor is not None and monitor.all_stopped,
        init_seeds=[seeds.init_seed] * len(optimizers),
        shuffle_seeds=[seeds.shuffle_seed] * len(optimizers),
        batch_size=config.batch_size,
        dtype=np.dtype(config.dtype).type,
        on_epoch_end=progress,
        on_epoch_detail=on_epoch_detail,
        should_stop=_stop_rule(monitor, paths),
        **saving,
    )
    share = (time.perf_counter() - started) / len(optimizers)
    weights = reported_params(groups, stack.opt_states, stack.params)
    final_params = weights if monitor is None else monitor.final_params(weights)
    return [
        _measure(
            config, network, data, dataset.n_classes, stack, index, optimizer,
            final_params[index], share, monitor, paths,
        )
        for index, optimizer in enumerate(optimizers)
    ]  # fmt: skip


def _initial_params(network: Network, seeds: RunSeeds, groups: list[RunGroup]) -> np.ndarray:
    return np.stack([he_initialization(network, seeds.init_seed)] * len(groups))


def _restore(
    checkpointing: Checkpointing,
    network: Network,
    groups: list[RunGroup],
    monitor: Monitor | None,
    paths: _WeightPaths | None,
    expected: checkpoint.Expected,
    dtype: str,
) -> EpochSnapshot | None:
    """The snapshot to continue from (None unless resuming), the monitor and the weight paths
    restored with it; the checkpoint is checked against the run (``checkpoint.load``)."""
    if not checkpointing.resume:
        return None
    states = initial_states(network, groups, np.dtype(dtype).type)
    saved = checkpoint.load(checkpointing.path, states, expected)
    if monitor is not None and saved.monitor is not None:
        monitor.restore(saved.monitor)
    if paths is not None and saved.weight_path is not None:
        paths.restore(saved.weight_path)
    return saved.snapshot


def _monitor_template(
    monitor: Monitor | None, n_params: int, dtype: str
) -> dict[str, np.ndarray | list[int | None]] | None:
    """What a checkpoint's monitor state must look like: a fresh monitor's, with the best
    parameters early stopping keeps after the first epoch."""
    if monitor is None:
        return None
    template = monitor.state()
    if monitor.patience is not None:
        template["best_params"] = np.zeros((monitor.n_runs, n_params), dtype=dtype)
    return template


def _saving(
    checkpointing: Checkpointing,
    monitor: Monitor | None,
    paths: _WeightPaths | None,
    description: Mapping[str, Any],
) -> dict[str, Any]:
    """``train_stack``'s checkpoint keywords: each (whole) snapshot goes to
    ``checkpointing.path`` with the monitor's state, the weight paths so far and the run's
    description."""

    def write(snapshot: EpochSnapshot) -> None:
        state = None if monitor is None else monitor.state()
        weight_path = None if paths is None else np.stack(paths.snapshots)
        checkpoint.save(
            checkpointing.path,
            checkpoint.Checkpoint(snapshot, state, dict(description), weight_path),
        )

    return {
        "checkpoint": write,
        "checkpoint_every": checkpointing.every,
        "interrupted": checkpointing.interrupted,
    }


@dataclass
class _WeightPaths:
    """Every run's parameters at the start and after every ``every`` epochs (and the last)."""

    every: int
    epochs: int
    start: np.ndarray
    snapshots: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.snapshots.append(np.array(self.start))

    def after_epoch(self, epoch: int, params: np.ndarray) -> None:
        if (epoch + 1) % self.every == 0 or epoch + 1 == self.epochs:
            self.snapshots.append(params.copy())

    def count_after(self, epochs_done: int) -> int:
        """How many snapshots the first ``epochs_done`` epochs record (the start included)."""
        last = epochs_done == self.epochs and self.epochs % self.every != 0
        return 1 + epochs_done // self.every + int(last)

    def restore(self, saved: np.ndarray) -> None:
        """Continue from a checkpoint's snapshots (snapshots, K, n_params), the start included."""
        self.snapshots = [np.array(snapshot) for snapshot in saved]

    def of_run(self, index: int) -> np.ndarray:
        return np.stack([snapshot[index] for snapshot in self.snapshots])


def _stop_rule(
    monitor: Monitor | None, paths: _WeightPaths | None
) -> Callable[[int, np.ndarray], bool] | None:
    """``train_stack``'s ``should_stop``: record the weight paths, then ask the monitor."""
    if paths is None:
        return None if monitor is None else monitor.after_epoch

    def should_stop(epoch: int, params: np.ndarray) -> bool:
        paths.after_epoch(epoch, params)
        return monitor.after_epoch(epoch, params) if monitor is not None else False

    return should_stop


def _measure(
    config: ExperimentConfig,
    network: Network,
    data: PreparedData,
    n_classes: int,
    stack: StackResult,
    index: int,
    optimizer: Optimizer,
    params: np.ndarray,
    seconds: float,
    monitor: Monitor | None,
    paths: _WeightPaths | None,
) -> RunOutcome:
    """Run ``index`` of the trained ``stack``, cut at its early stop or divergence, measured:
    accuracy and confusion per split, oscillation and cost shape, validation curves."""
    batches_per_epoch = config.batches_per_epoch(data.train.n_examples)
    rate = optim.learning_rate_at(config.learning_rate_of(optimizer.name, batches_per_epoch))
    epochs_run = stack.histories[index].epochs
    learning_rates = np.array([rate(epoch * batches_per_epoch) for epoch in range(epochs_run)])
    result = stack.run(index, opt_state=squeeze_state(stack.opt_states[index]))
    stopped = None if monitor is None else monitor.stopped_epoch[index]
    if stopped is not None:
        result = _truncated(result, stopped + 1)
    if result.diverged_epoch is not None:
        # A diverged run stops at the epoch it diverged; what the stack computed for it
        # afterwards is discarded (the other runs are unaffected).
        result = _truncated(result, result.diverged_epoch + 1)
    result = replace(result, params=params)
    accuracies: dict[str, float] = {}
    confusion: dict[str, np.ndarray] = {}
    for name, part in data.named().items():
        predictions = predict_classes(network, params, part.X)
        accuracies[name] = float(np.mean(predictions == part.labels))
        confusion[name] = confusion_matrix(part.labels, predictions, n_classes)
    oscillation = metrics.oscillation_index(result.history)
    best_epoch = None
    if monitor is not None and config.early_stopping:
        best_epoch = int(monitor.best_epoch[index])
    return RunOutcome(
        optimizer=optimizer,
        result=result,
        train_correct=int(np.trace(confusion["train"])),
        n_examples=data.train.n_examples,
        oscillation=oscillation,
        cost_shape=(
            "diverged" if result.diverged_epoch is not None else metrics.cost_shape(oscillation)
        ),
        seconds=seconds,
        learning_rates=learning_rates,
        stopped_epoch=stopped,
        best_epoch=best_epoch,
        weight_path=None if paths is None else paths.of_run(index),
        engine=stack.engine,
        numpy_updates=stack.numpy_updates,
        accuracies=accuracies,
        confusion=confusion,
        **_validation_curves(monitor, index, result.history.epochs),
    )


def _validation_curves(monitor: Monitor | None, index: int, epochs: int) -> dict[str, Any]:
    """Run ``index``'s validation cost and accuracy over its first ``epochs`` epochs."""
    if monitor is None:
        return {}
    return {
        "validation_costs": monitor.costs[index, :epochs].copy(),
        "validation_accuracies": monitor.accuracies[index, :epochs].copy(),
    }


def _truncated(result: TrainResult, epochs: int) -> TrainResult:
    """``result`` with its history cut after ``epochs`` epochs."""
    history = result.history
    cut = History(
        history.epoch_costs[:epochs],
        history.minibatch_costs[: epochs * history.batches_per_epoch],
        history.batches_per_epoch,
    )
    return replace(result, history=cut)
