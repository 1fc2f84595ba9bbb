"""Run several optimizers on one dataset under one protocol: what ``compare`` and ``train`` do."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from descentlab import metrics, optim
from descentlab.datasets import Dataset
from descentlab.evaluation import Monitor, confusion_matrix
from descentlab.history import History
from descentlab.nn import Network, he_initialization, predict_classes
from descentlab.optim import Optimizer
from descentlab.schedules import ScheduleSpec
from descentlab.seeds import run_seeds
from descentlab.splits import split, standardize
from descentlab.train import (
    EpochSnapshot,
    RunGroup,
    StackResult,
    TrainResult,
    squeeze_state,
    train_stack,
)
from descentlab.validation import check_int, check_positive_float

COURSE_OPTIMIZERS = ("gd", "momentum", "adam")


SHARED_HYPERPARAMETERS = ("beta", "beta1", "beta2", "epsilon", "eps_inside_sqrt")
"""Settings that every optimizer with a keyword of that name takes (``--beta`` and friends)."""


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything that decides a comparison's result. The defaults are the published experiment.

    ``learning_rate`` is one rate for every optimizer or a mapping from optimizer name to its
    rate. Each optimizer takes the shared settings whose names it knows (momentum takes
    ``beta``; adam takes ``beta1``, ``beta2``, ``epsilon`` and ``eps_inside_sqrt``); a shared
    setting left at ``None`` keeps each optimizer's own default. ``hyperparameters`` gives
    per-optimizer keywords on top (``{"sgd": {"momentum": 0.9, "nesterov": True}}``).
    ``schedule`` decays every optimizer's rate from its initial value; ``batch_size=None``
    means one batch of all examples.
    """

    optimizers: tuple[str, ...] = COURSE_OPTIMIZERS
    learning_rate: float | Mapping[str, float] = 0.0007
    batch_size: int | None = 64
    epochs: int = 10000
    hidden_layers: tuple[int, ...] = (5, 2)
    beta: float | None = None
    beta1: float | None = None
    beta2: float | None = None
    epsilon: float | None = None
    eps_inside_sqrt: bool = False
    hyperparameters: Mapping[str, Mapping[str, float | bool]] = field(default_factory=dict)
    schedule: ScheduleSpec = field(default_factory=ScheduleSpec)
    seed: int = 0
    validation_fraction: float = 0.0
    test_fraction: float = 0.0
    standardize: bool | None = None
    early_stopping: bool = False
    patience: int = 10
    dtype: str = "float64"

    def __post_init__(self) -> None:
        if not self.optimizers:
            raise ValueError("optimizers must name at least one optimizer")
        duplicates = sorted({name for name in self.optimizers if self.optimizers.count(name) > 1})
        if duplicates:
            raise ValueError(f"optimizer {duplicates[0]!r} is listed twice")
        for name in self.optimizers:
            optim.hyperparameter_names(name)  # an unknown name fails here
        if isinstance(self.learning_rate, Mapping):
            unknown = sorted(set(self.learning_rate) - set(self.optimizers))
            missing = [name for name in self.optimizers if name not in self.learning_rate]
            if unknown:
                raise ValueError(
                    f"learning rate given for {unknown[0]!r}, which is not among the "
                    f"optimizers ({', '.join(self.optimizers)})"
                )
            if missing:
                raise ValueError(f"no learning rate given for optimizer {missing[0]!r}")
            for name, rate in self.learning_rate.items():
                check_positive_float(f"learning rate of {name}", rate)
        else:
            check_positive_float("learning_rate", self.learning_rate)
        for name in self.hyperparameters:
            if name not in self.optimizers:
                raise ValueError(
                    f"hyperparameters given for {name!r}, which is not among the optimizers "
                    f"({', '.join(self.optimizers)})"
                )
        if self.batch_size is not None:
            check_int("batch_size", self.batch_size, minimum=1)
        check_int("epochs", self.epochs, minimum=1)
        for size in self.hidden_layers:
            check_int("hidden layer size", size, minimum=1)
        check_int("seed", self.seed, minimum=0)
        check_int("patience", self.patience, minimum=1)
        if self.early_stopping and not self.validation_fraction:
            raise ValueError("early stopping needs a validation split (--validation-fraction)")
        if self.dtype not in ("float64", "float32"):
            raise ValueError(f"dtype must be 'float64' or 'float32', got {self.dtype!r}")
        self.built_optimizers(batches_per_epoch=1)  # bad hyperparameters fail here, up front

    def learning_rate_for(self, name: str) -> float:
        """The initial learning rate of optimizer ``name``."""
        if isinstance(self.learning_rate, Mapping):
            return float(self.learning_rate[name])
        return float(self.learning_rate)

    def optimizer_settings(self, name: str) -> dict[str, float | bool]:
        """The keywords ``optim.get(name, ...)`` receives, learning rate aside."""
        accepted = optim.hyperparameter_names(name)
        settings: dict[str, float | bool] = {}
        for key in SHARED_HYPERPARAMETERS:
            value = getattr(self, key)
            if key in accepted and value is not None and value is not False:
                settings[key] = value
        settings.update(self.hyperparameters.get(name, {}))
        return settings

    def learning_rate_of(self, name: str, batches_per_epoch: int) -> optim.ScalarOrSchedule:
        """Optimizer ``name``'s rate: a number, or a function of its step count when a
        schedule is set (a constant rate stays a number, so its arithmetic is unchanged)."""
        lr0 = self.learning_rate_for(name)
        if self.schedule.is_constant:
            return lr0
        return self.schedule.for_optimizer(
            lr0, epochs=self.epochs, batches_per_epoch=batches_per_epoch
        )

    def built_optimizers(self, batches_per_epoch: int) -> tuple[Optimizer, ...]:
        """One configured optimizer per name, its rate scheduled over ``batches_per_epoch``."""
        return tuple(
            optim.get(
                name,
                learning_rate=self.learning_rate_of(name, batches_per_epoch),
                **self.optimizer_settings(name),
            )
            for name in self.optimizers
        )

    def batches_per_epoch(self, n_examples: int) -> int:
        batch = n_examples if self.batch_size is None else self.batch_size
        return -(-n_examples // batch)

    def network(self, n_features: int, n_classes: int = 2) -> Network:
        """The network [n_features, *hidden_layers, n_out]: one sigmoid output for two classes,
        ``n_classes`` softmax outputs for more."""
        return Network.for_classes(n_features, self.hidden_layers, n_classes)

    def standardizes(self, dataset: Dataset) -> bool:
        """Whether features are standardised: as set, or by default for every dataset but the
        course's moons (whose published numbers need the raw features)."""
        return dataset.name != "moons" if self.standardize is None else self.standardize

    def to_dict(self) -> dict[str, object]:
        settings = asdict(self)
        settings["optimizers"] = list(self.optimizers)
        settings["hidden_layers"] = list(self.hidden_layers)
        settings["learning_rate"] = (
            dict(self.learning_rate)
            if isinstance(self.learning_rate, Mapping)
            else self.learning_rate
        )
        settings["hyperparameters"] = {k: dict(v) for k, v in self.hyperparameters.items()}
        settings["schedule"] = self.schedule.to_dict()
        seeds = run_seeds(self.seed)
        settings["init_seed"] = seeds.init_seed
        settings["shuffle_seed"] = seeds.shuffle_seed
        return settings


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
    with the mean and deviation of the training split when ``config.standardizes``."""
    parts = split(dataset, config.validation_fraction, config.test_fraction, seed=config.seed)
    scaling = None
    if config.standardizes(dataset):
        parts, scaler = standardize(parts)
        scaling = scaler.to_dict()
    return PreparedData(parts.train, parts.validation, parts.test, scaling)


@dataclass(frozen=True)
class Checkpointing:
    """Where and how often a run saves checkpoints, and whether it continues one.

    ``every`` epochs (0: never on a schedule) and whenever ``interrupted()`` turns True at an
    epoch's end, the run's state goes to ``path`` (with ``description`` so that it can be
    rebuilt). With ``resume`` the run continues from the checkpoint at ``path`` and ends
    exactly as if it had never stopped.
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
) -> list[RunOutcome]:
    """Train every optimizer of ``config`` on ``dataset``'s training split together, as one
    stack, from the same initial weights and the same batch order, and measure each run.

    A run's ``seconds`` is its share of the stack's training time (the stack's time divided
    by the number of runs). With a validation split every epoch is evaluated on it, and with
    ``early_stopping`` each run stops once its validation cost has not improved for
    ``patience`` epochs and keeps its best epoch's parameters. With ``path_every`` each run
    records its parameters at the start and every ``path_every`` epochs (``weight_path``;
    a resumed run records only the epochs of its last session)."""
    data = prepare_data(config, dataset) if data is None else data
    train_set = data.train
    network = config.network(train_set.n_features, dataset.n_classes)
    seeds = run_seeds(config.seed)
    batches_per_epoch = config.batches_per_epoch(train_set.n_examples)
    optimizers = config.built_optimizers(batches_per_epoch)
    monitor = None
    if data.validation is not None:
        monitor = Monitor(
            network,
            data.validation,
            n_runs=len(optimizers),
            epochs=config.epochs,
            patience=config.patience if config.early_stopping else None,
        )
    groups = [RunGroup(optimizer, 1) for optimizer in optimizers]
    continuation: dict[str, Any] = {}
    prior: EpochSnapshot | None = None
    if checkpointing is not None:
        from descentlab import checkpoint

        path = checkpointing.path

        def write(snapshot: EpochSnapshot) -> None:
            if prior is not None:  # a checkpoint always holds the whole history
                snapshot = replace(
                    snapshot,
                    epoch_costs=np.concatenate([prior.epoch_costs, snapshot.epoch_costs], 1),
                    minibatch_costs=np.concatenate(
                        [prior.minibatch_costs, snapshot.minibatch_costs], 1
                    ),
                )
            state = None if monitor is None else monitor.state()
            checkpoint.save(
                path, checkpoint.Checkpoint(snapshot, state, dict(checkpointing.description))
            )

        continuation.update(
            checkpoint=write,
            checkpoint_every=checkpointing.every,
            interrupted=checkpointing.interrupted,
        )
        if checkpointing.resume:
            probe = np.zeros((1, network.n_params), dtype=np.dtype(config.dtype))
            saved = checkpoint.load(path, [opt.init(probe) for opt in optimizers])
            prior = saved.snapshot
            if monitor is not None and saved.monitor is not None:
                monitor.restore(saved.monitor)
            continuation.update(
                params=prior.params,
                opt_states=prior.opt_states,
                start_epoch=prior.epochs_done,
                reference_costs=prior.reference_costs,
                diverged_epochs=prior.diverged_epochs,
            )
    snapshots: list[np.ndarray] = []
    should_stop = None if monitor is None else monitor.after_epoch
    if path_every:
        start = continuation.get("params")
        if start is None:
            start = np.stack(
                [he_initialization(network, seeds.init_seed)] * len(optimizers)
            ).astype(config.dtype)
        snapshots.append(np.array(start))
        stop_rule = should_stop

        def should_stop(epoch: int, params: np.ndarray) -> bool:
            if (epoch + 1) % path_every == 0 or epoch + 1 == config.epochs:
                snapshots.append(params.copy())
            return stop_rule(epoch, params) if stop_rule is not None else False

    remaining = config.epochs - (0 if prior is None else prior.epochs_done)
    if monitor is not None and monitor.all_stopped:
        remaining = 0
    started = time.perf_counter()
    if remaining > 0:
        stack = train_stack(
            network,
            train_set.X,
            train_set.Y,
            groups,
            init_seeds=[seeds.init_seed] * len(optimizers),
            shuffle_seeds=[seeds.shuffle_seed] * len(optimizers),
            epochs=remaining,
            batch_size=config.batch_size,
            dtype=np.dtype(config.dtype).type,
            on_epoch_end=progress,
            should_stop=should_stop,
            **continuation,
        )
        if prior is not None:
            stack = _joined(prior, stack)
    else:
        assert prior is not None
        stack = _stack_of(prior, batches_per_epoch)
    share = (time.perf_counter() - started) / len(optimizers)
    final_params = stack.params if monitor is None else monitor.final_params(stack.params)
    outcomes = []
    for index, optimizer in enumerate(optimizers):
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
        params = final_params[index]
        result = replace(result, params=params)
        accuracies: dict[str, float] = {}
        confusion: dict[str, np.ndarray] = {}
        for name, part in data.named().items():
            predictions = predict_classes(network, params, part.X)
            accuracies[name] = float(np.mean(predictions == part.labels))
            confusion[name] = confusion_matrix(part.labels, predictions, dataset.n_classes)
        correct = int(np.trace(confusion["train"]))
        index_value = metrics.oscillation_index(result.history)
        shape = metrics.cost_shape(index_value)
        if result.diverged_epoch is not None:
            shape = "diverged"
        validation_costs = validation_accuracies = None
        if monitor is not None:
            last = result.history.epochs
            validation_costs = monitor.costs[index, :last].copy()
            validation_accuracies = monitor.accuracies[index, :last].copy()
        outcomes.append(
            RunOutcome(
                optimizer=optimizer,
                result=result,
                train_correct=correct,
                n_examples=train_set.n_examples,
                oscillation=index_value,
                cost_shape=shape,
                seconds=share,
                learning_rates=learning_rates,
                validation_costs=validation_costs,
                validation_accuracies=validation_accuracies,
                accuracies=accuracies,
                confusion=confusion,
                stopped_epoch=stopped,
                best_epoch=None
                if monitor is None or not config.early_stopping
                else int(monitor.best_epoch[index]),
                weight_path=(
                    np.stack([snapshot[index] for snapshot in snapshots]) if snapshots else None
                ),
            )
        )
    return outcomes


def _stack_of(snapshot: EpochSnapshot, batches_per_epoch: int) -> StackResult:
    """A finished stack as a checkpoint left it."""
    histories = [
        History(snapshot.epoch_costs[run], snapshot.minibatch_costs[run], batches_per_epoch)
        for run in range(snapshot.params.shape[0])
    ]
    return StackResult(
        snapshot.params, snapshot.opt_states, histories, list(snapshot.diverged_epochs)
    )


def _joined(prior: EpochSnapshot, stack: StackResult) -> StackResult:
    """The histories of a checkpoint followed by those of the run that continued it."""
    histories = [
        History(
            np.concatenate([prior.epoch_costs[run], history.epoch_costs]),
            np.concatenate([prior.minibatch_costs[run], history.minibatch_costs]),
            history.batches_per_epoch,
        )
        for run, history in enumerate(stack.histories)
    ]
    return StackResult(stack.params, stack.opt_states, histories, stack.diverged_epochs)


def _truncated(result: TrainResult, epochs: int) -> TrainResult:
    """``result`` with its history cut after ``epochs`` epochs."""
    history = result.history
    cut = History(
        history.epoch_costs[:epochs],
        history.minibatch_costs[: epochs * history.batches_per_epoch],
        history.batches_per_epoch,
    )
    return replace(result, history=cut)
