"""Run several optimizers on one dataset under one protocol: what ``compare`` and ``train`` do."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field

import numpy as np

from descentlab import metrics, optim
from descentlab.datasets import Dataset
from descentlab.nn import Network, predict
from descentlab.optim import Optimizer
from descentlab.schedules import ScheduleSpec
from descentlab.seeds import run_seeds
from descentlab.train import RunGroup, TrainResult, squeeze_state, train_stack
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

    def network(self, n_features: int) -> Network:
        """The network [n_features, *hidden_layers, 1]."""
        return Network((n_features, *self.hidden_layers, 1))

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

    @property
    def train_accuracy(self) -> float:
        return self.train_correct / self.n_examples

    @property
    def final_cost(self) -> float:
        return float(self.result.history.epoch_costs[-1])


ProgressCallback = Callable[[int, np.ndarray], None]
"""Called after every epoch with the epoch index and every run's epoch cost."""


def run_experiment(
    config: ExperimentConfig,
    dataset: Dataset,
    progress: ProgressCallback | None = None,
) -> list[RunOutcome]:
    """Train every optimizer of ``config`` on ``dataset`` together, as one stack, from the
    same initial weights and the same batch order, and measure each run.

    A run's ``seconds`` is its share of the stack's training time (the stack's time divided
    by the number of runs)."""
    network = config.network(dataset.n_features)
    seeds = run_seeds(config.seed)
    batches_per_epoch = config.batches_per_epoch(dataset.n_examples)
    optimizers = config.built_optimizers(batches_per_epoch)
    started = time.perf_counter()
    stack = train_stack(
        network,
        dataset.X,
        dataset.Y,
        [RunGroup(optimizer, 1) for optimizer in optimizers],
        init_seeds=[seeds.init_seed] * len(optimizers),
        shuffle_seeds=[seeds.shuffle_seed] * len(optimizers),
        epochs=config.epochs,
        batch_size=config.batch_size,
        on_epoch_end=progress,
    )
    share = (time.perf_counter() - started) / len(optimizers)
    outcomes = []
    for index, optimizer in enumerate(optimizers):
        rate = optim.learning_rate_at(config.learning_rate_of(optimizer.name, batches_per_epoch))
        learning_rates = np.array(
            [rate(epoch * batches_per_epoch) for epoch in range(config.epochs)]
        )
        result = stack.run(index, opt_state=squeeze_state(stack.opt_states[index]))
        correct = int((predict(network, result.params, dataset.X) == dataset.Y).sum())
        index_value = metrics.oscillation_index(result.history)
        shape = metrics.cost_shape(index_value)
        if result.diverged_epoch is not None:
            shape = "diverged"
        outcomes.append(
            RunOutcome(
                optimizer=optimizer,
                result=result,
                train_correct=correct,
                n_examples=dataset.n_examples,
                oscillation=index_value,
                cost_shape=shape,
                seconds=share,
                learning_rates=learning_rates,
            )
        )
    return outcomes
