"""``compare`` and ``train``: the options of ``descentlab compare`` and ``train`` into an
``ExperimentConfig``, then ``run_experiment``."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from descentlab import budget, engines, threads
from descentlab.api.arguments import (
    SCHEDULE,
    Hyperparameters,
    batch_size_of,
    hidden_layers_of,
    load_dataset,
    optimizer_names,
    progress_bar,
    schedule_of,
    scoped_hyperparameters,
)
from descentlab.datasets import Dataset
from descentlab.experiment import ExperimentConfig
from descentlab.validation import check_int

if TYPE_CHECKING:
    from descentlab.results import ExperimentResults


def compare(
    optimizers: str | Sequence[str] = ExperimentConfig.optimizers,
    *,
    learning_rate: float | Mapping[str, float] = ExperimentConfig.learning_rate,
    batch_size: int | str | None = ExperimentConfig.batch_size,
    epochs: int = ExperimentConfig.epochs,
    layers: Sequence[int] = ExperimentConfig.hidden_layers,
    seed: int = ExperimentConfig.seed,
    beta: float | None = None,
    beta1: float | None = None,
    beta2: float | None = None,
    epsilon: float | None = None,
    eps_inside_sqrt: bool = False,
    hyperparameters: Hyperparameters | None = None,
    schedule: str = SCHEDULE.name,
    decay_rate: float = SCHEDULE.decay_rate,
    decay_every: int = SCHEDULE.every,
    schedule_unit: str = SCHEDULE.unit,
    warmup: int = SCHEDULE.warmup,
    min_learning_rate: float = SCHEDULE.min_learning_rate,
    dataset: str | Dataset | None = None,
    data: str | os.PathLike[str] | None = None,
    target: str | None = None,
    n_samples: int | None = None,
    noise: float | None = None,
    data_seed: int | None = None,
    standardize: bool | None = ExperimentConfig.standardize,
    validation_fraction: float = ExperimentConfig.validation_fraction,
    test_fraction: float = ExperimentConfig.test_fraction,
    early_stopping: bool = ExperimentConfig.early_stopping,
    patience: int = ExperimentConfig.patience,
    dtype: str = ExperimentConfig.dtype,
    weight_paths: int = 0,
    blas_threads: int | str | None = None,
    engine: str | None = None,
    progress: bool = False,
) -> ExperimentResults:
    """Train every optimizer from the same initial weights on the same batches: ``descentlab
    compare``. The defaults are the published experiment (gd, momentum and adam on the course's
    moons, [2, 5, 2, 1], learning rate 0.0007, batches of 64, 10000 epochs).

    ``optimizers``: names, or one name or "gd,adam" as a string. ``learning_rate``: one rate, or
    a rate for each optimizer (``{"gd": 0.1, "adam": 0.01}``). ``hyperparameters``: any other
    keywords, as ``-H`` takes them (``{"momentum": 0.9, "sgd.nesterov": True}``, see
    ``Hyperparameters``); ``beta`` ... ``epsilon`` go to every optimizer that has a keyword of
    that name. ``dataset``: a name (default "moons") with
    ``n_samples``, ``noise`` and ``data_seed``, or a ``Dataset``; or ``data``: a .csv, .npz or
    .npy file, with ``target`` naming its labels. ``weight_paths=EVERY`` records the weights every
    EVERY epochs; ``blas_threads`` is ``--blas-threads``; ``engine`` is ``--engine`` ("auto",
    "numpy" or "compiled"; None: ``DESCENTLAB_ENGINE``, else numpy, the library's default);
    ``progress`` shows a progress bar.
    """
    names = optimizer_names("optimizers", optimizers)
    config = _experiment_config(
        names,
        hyperparameters=scoped_hyperparameters(hyperparameters, names),
        **_experiment_options(locals()),
    )
    dataset_ = load_dataset(dataset, data, target, n_samples, noise, data_seed)
    return _run_experiment(
        "compare", config, dataset_, weight_paths, blas_threads, engine, progress
    )


def train(
    optimizer: str = "adam",
    *,
    learning_rate: float | Mapping[str, float] = ExperimentConfig.learning_rate,
    batch_size: int | str | None = ExperimentConfig.batch_size,
    epochs: int = ExperimentConfig.epochs,
    layers: Sequence[int] = ExperimentConfig.hidden_layers,
    seed: int = ExperimentConfig.seed,
    beta: float | None = None,
    beta1: float | None = None,
    beta2: float | None = None,
    epsilon: float | None = None,
    eps_inside_sqrt: bool = False,
    hyperparameters: Hyperparameters | None = None,
    schedule: str = SCHEDULE.name,
    decay_rate: float = SCHEDULE.decay_rate,
    decay_every: int = SCHEDULE.every,
    schedule_unit: str = SCHEDULE.unit,
    warmup: int = SCHEDULE.warmup,
    min_learning_rate: float = SCHEDULE.min_learning_rate,
    dataset: str | Dataset | None = None,
    data: str | os.PathLike[str] | None = None,
    target: str | None = None,
    n_samples: int | None = None,
    noise: float | None = None,
    data_seed: int | None = None,
    standardize: bool | None = ExperimentConfig.standardize,
    validation_fraction: float = ExperimentConfig.validation_fraction,
    test_fraction: float = ExperimentConfig.test_fraction,
    early_stopping: bool = ExperimentConfig.early_stopping,
    patience: int = ExperimentConfig.patience,
    dtype: str = ExperimentConfig.dtype,
    weight_paths: int = 0,
    blas_threads: int | str | None = None,
    engine: str | None = None,
    progress: bool = False,
) -> ExperimentResults:
    """Train one optimizer: ``descentlab train``. The options are ``compare``'s
    (``hyperparameters={"nesterov": True}`` sets the one optimizer's keywords)."""
    if not isinstance(optimizer, str):
        raise ValueError(f"optimizer must be one optimizer's name, got {optimizer!r}")
    names = optimizer_names("optimizer", optimizer)
    if len(names) != 1:
        raise ValueError(f"train trains one optimizer (compare trains several), got {optimizer!r}")
    config = _experiment_config(
        names,
        hyperparameters=scoped_hyperparameters(hyperparameters, names),
        **_experiment_options(locals()),
    )
    dataset_ = load_dataset(dataset, data, target, n_samples, noise, data_seed)
    return _run_experiment("train", config, dataset_, weight_paths, blas_threads, engine, progress)


def _experiment_options(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The options ``compare`` and ``train`` share, from the caller's ``locals()``."""
    return {key: arguments[key] for key in _EXPERIMENT_OPTIONS}


_EXPERIMENT_OPTIONS = (
    "learning_rate", "batch_size", "epochs", "layers", "seed", "beta", "beta1", "beta2",
    "epsilon", "eps_inside_sqrt", "schedule", "decay_rate", "decay_every", "schedule_unit",
    "warmup", "min_learning_rate", "standardize", "validation_fraction", "test_fraction",
    "early_stopping", "patience", "dtype",
)  # fmt: skip


def _experiment_config(
    names: tuple[str, ...],
    *,
    hyperparameters: Mapping[str, Mapping[str, float | bool]],
    learning_rate: float | Mapping[str, float],
    batch_size: int | str | None,
    epochs: int,
    layers: Sequence[int],
    schedule: str,
    decay_rate: float,
    decay_every: int,
    schedule_unit: str,
    warmup: int,
    min_learning_rate: float,
    **options: Any,
) -> ExperimentConfig:
    """The ``ExperimentConfig`` the command line builds from the same options."""
    return ExperimentConfig(
        optimizers=names,
        learning_rate=learning_rate,
        hyperparameters=hyperparameters,
        schedule=schedule_of(
            schedule, decay_rate, decay_every, schedule_unit, warmup, min_learning_rate
        ),
        batch_size=batch_size_of(batch_size),
        epochs=epochs,
        hidden_layers=hidden_layers_of(layers),
        **options,
    )


def _run_experiment(
    command: str,
    config: ExperimentConfig,
    dataset: Dataset,
    weight_paths: int,
    blas_threads: int | str | None,
    engine: str | None,
    progress: bool,
) -> ExperimentResults:
    from descentlab.experiment import prepare_data, run_experiment
    from descentlab.results import ExperimentResults

    path_every = check_int("weight_paths", weight_paths, minimum=0)
    budget.check(
        budget.experiment_estimate(
            config, dataset.n_features, dataset.n_examples, dataset.n_classes, path_every
        )
    )
    data = prepare_data(config, dataset)
    chosen_engine = engines.resolve(engine)  # a bad value or a missing numba before training
    with (
        threads.blas_threads(blas_threads),
        engines.using(chosen_engine),
        progress_bar(progress, config.epochs, "epoch", ",".join(config.optimizers)) as update,
    ):
        outcomes = run_experiment(
            config,
            dataset,
            None if update is None else lambda epoch, costs: update(1),
            data=data,
            path_every=path_every,
        )
    return ExperimentResults(command, config, dataset, data, tuple(outcomes))
