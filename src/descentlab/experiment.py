"""Run several optimizers on one dataset under one protocol: what ``compare`` and ``train`` do."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from descentlab import metrics, optim
from descentlab.datasets import Dataset
from descentlab.nn import Network, predict
from descentlab.optim import Optimizer
from descentlab.seeds import run_seeds
from descentlab.train import EpochCallback, TrainResult, train
from descentlab.validation import (
    check_decay,
    check_int,
    check_nonnegative_float,
    check_positive_float,
)

COURSE_OPTIMIZERS = ("gd", "momentum", "adam")


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything that decides a comparison's result. The defaults are the published experiment.

    Each optimizer takes the hyperparameters it knows from here (momentum takes ``beta``,
    adam takes ``beta1``, ``beta2``, ``epsilon`` and ``eps_inside_sqrt``, all take
    ``learning_rate``); ``batch_size=None`` means one batch of all examples.
    """

    optimizers: tuple[str, ...] = COURSE_OPTIMIZERS
    learning_rate: float = 0.0007
    batch_size: int | None = 64
    epochs: int = 10000
    hidden_layers: tuple[int, ...] = (5, 2)
    beta: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8
    eps_inside_sqrt: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.optimizers:
            raise ValueError("optimizers must name at least one optimizer")
        duplicates = sorted({name for name in self.optimizers if self.optimizers.count(name) > 1})
        if duplicates:
            raise ValueError(f"optimizer {duplicates[0]!r} is listed twice")
        check_positive_float("learning_rate", self.learning_rate)
        if self.batch_size is not None:
            check_int("batch_size", self.batch_size, minimum=1)
        check_int("epochs", self.epochs, minimum=1)
        for size in self.hidden_layers:
            check_int("hidden layer size", size, minimum=1)
        check_decay("beta", self.beta)
        check_decay("beta1", self.beta1)
        check_decay("beta2", self.beta2)
        check_nonnegative_float("epsilon", self.epsilon)
        check_int("seed", self.seed, minimum=0)
        self.built_optimizers()  # unknown names and bad hyperparameters fail here, up front

    def built_optimizers(self) -> tuple[Optimizer, ...]:
        """One configured optimizer per name in ``optimizers``."""
        settings = asdict(self)
        return tuple(
            optim.get(name, **{key: settings[key] for key in optim.hyperparameter_names(name)})
            for name in self.optimizers
        )

    def network(self, n_features: int) -> Network:
        """The network [n_features, *hidden_layers, 1]."""
        return Network((n_features, *self.hidden_layers, 1))

    def to_dict(self) -> dict[str, object]:
        settings = asdict(self)
        settings["optimizers"] = list(self.optimizers)
        settings["hidden_layers"] = list(self.hidden_layers)
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

    @property
    def train_accuracy(self) -> float:
        return self.train_correct / self.n_examples

    @property
    def final_cost(self) -> float:
        return float(self.result.history.epoch_costs[-1])


ProgressFactory = Callable[[str], EpochCallback | None]
"""Given an optimizer's name, a per-epoch callback for it (or None)."""


def run_experiment(
    config: ExperimentConfig,
    dataset: Dataset,
    progress: ProgressFactory | None = None,
) -> list[RunOutcome]:
    """Train every optimizer of ``config`` on ``dataset`` from the same initial weights and
    the same batch order, and measure each run."""
    network = config.network(dataset.n_features)
    seeds = run_seeds(config.seed)
    outcomes = []
    for optimizer in config.built_optimizers():
        callback = progress(optimizer.name) if progress is not None else None
        started = time.perf_counter()
        result = train(
            network,
            dataset.X,
            dataset.Y,
            optimizer,
            epochs=config.epochs,
            batch_size=config.batch_size,
            init_seed=seeds.init_seed,
            shuffle_seed=seeds.shuffle_seed,
            on_epoch_end=callback,
        )
        seconds = time.perf_counter() - started
        correct = int((predict(network, result.params, dataset.X) == dataset.Y).sum())
        index = metrics.oscillation_index(result.history)
        outcomes.append(
            RunOutcome(
                optimizer=optimizer,
                result=result,
                train_correct=correct,
                n_examples=dataset.n_examples,
                oscillation=index,
                cost_shape=metrics.cost_shape(index),
                seconds=seconds,
            )
        )
    return outcomes
