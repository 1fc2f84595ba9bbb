"""``sweep``: the options of ``descentlab sweep`` into a ``SweepConfig``, then ``run_sweep``."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from descentlab import threads
from descentlab.api.arguments import (
    SCHEDULE,
    GridValues,
    batch_size_of,
    grid_text,
    hidden_layers_of,
    learning_rate_text,
    name_of,
    optimizer_names,
    progress_bar,
    schedule_of,
    seeds_of,
)
from descentlab.datasets import Dataset
from descentlab.sweep.config import SweepConfig
from descentlab.validation import check_int

if TYPE_CHECKING:
    from descentlab.results import SweepResults


def sweep(
    optimizers: str | Sequence[str] = SweepConfig.optimizers,
    *,
    learning_rate: GridValues | Mapping[str | None, GridValues] = SweepConfig.learning_rate,
    hyperparameters: Mapping[str, GridValues] | None = None,
    beta: GridValues | None = None,
    beta1: GridValues | None = None,
    beta2: GridValues | None = None,
    epsilon: GridValues | None = None,
    eps_inside_sqrt: bool = False,
    seeds: int | Sequence[int] = SweepConfig.seeds,
    search: str = SweepConfig.search,
    samples: int | None = None,
    search_seed: int | None = None,
    dataset: str | Dataset = "moons",
    epochs: int = SweepConfig.epochs,
    batch_size: int | str | None = SweepConfig.batch_size,
    layers: Sequence[int] = SweepConfig.hidden_layers,
    schedule: str = SCHEDULE.name,
    decay_rate: float = SCHEDULE.decay_rate,
    decay_every: int = SCHEDULE.every,
    schedule_unit: str = SCHEDULE.unit,
    warmup: int = SCHEDULE.warmup,
    min_learning_rate: float = SCHEDULE.min_learning_rate,
    max_stack: int | None = None,
    jobs: int | str = 1,
    blas_threads: int | str | None = None,
    engine: str | None = None,
    progress: bool = False,
) -> SweepResults:
    """Train a grid (or a random sample) of optimizers x hyperparameters x seeds: ``descentlab
    sweep``.

    Values are the command line's text or Python values: ``learning_rate="1e-4..1e-1:log:13"``
    (13 values evenly spaced on a log scale), ``learning_rate=[0.01, 0.1]``, or per optimizer
    ``{"adam": "1e-4..1e-1:log:13", "gd": 0.1}`` (key None: the optimizers not named).
    ``hyperparameters`` maps "NAME" (every chosen optimizer that has it) or "OPTIMIZER.NAME" to
    values; ``beta`` ... ``epsilon`` are the same as "beta" ... "epsilon" there. ``seeds``: a
    count N (seeds 0..N-1, ``--seeds``) or the seeds themselves (``--seed-list``).
    ``search="random"`` draws ``samples`` configurations per optimizer (default 20) with
    ``search_seed`` (default 0). ``max_stack`` and ``jobs`` (a number or "auto") say how the runs
    are trained; they never change the results. ``blas_threads`` is ``--blas-threads``;
    ``engine`` is ``--engine`` ("auto", "numpy" or "compiled"; None: ``DESCENTLAB_ENGINE``,
    else numpy, the library's default).
    """
    from descentlab import datasets

    if search != "random" and (samples is not None or search_seed is not None):
        raise ValueError("samples and search_seed go with search='random'")
    settings = {"beta": beta, "beta1": beta1, "beta2": beta2, "epsilon": epsilon}
    given = {key: values for key, values in settings.items() if values is not None}
    if eps_inside_sqrt:
        given["eps_inside_sqrt"] = True
    for target, values in (hyperparameters or {}).items():
        if target in given:
            raise ValueError(f"hyperparameter {target!r} is given twice")
        given[target] = values
    config = SweepConfig(
        optimizers=optimizer_names("optimizers", optimizers),
        learning_rate=learning_rate_text(learning_rate),
        hyperparameters={target: grid_text(target, values) for target, values in given.items()},
        seeds=seeds_of(seeds),
        epochs=epochs,
        batch_size=batch_size_of(batch_size),
        hidden_layers=hidden_layers_of(layers),
        schedule=schedule_of(
            schedule, decay_rate, decay_every, schedule_unit, warmup, min_learning_rate
        ),
        search=search,
        samples=SweepConfig.samples if samples is None else samples,
        search_seed=SweepConfig.search_seed if search_seed is None else search_seed,
    )
    data = dataset if isinstance(dataset, Dataset) else datasets.load(name_of("dataset", dataset))
    return _run_sweep(config, data, max_stack, jobs, blas_threads, engine, progress)


def _run_sweep(
    config: SweepConfig,
    dataset: Dataset,
    max_stack: int | None,
    jobs: int | str,
    blas_threads: int | str | None,
    engine: str | None,
    progress: bool,
) -> SweepResults:
    from descentlab.results import SweepResults
    from descentlab.sweep import busy_cores, resolve_jobs, run_sweep
    from descentlab.sweep.plan import check_sweep

    if max_stack is not None:
        max_stack = check_int("max_stack", max_stack, minimum=1)
    if jobs == "auto":
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        processes = resolve_jobs("auto", config, cores or 1, busy_cores())
    else:
        processes = resolve_jobs(jobs, config, 1)
    check_sweep(
        config, dataset.n_features, dataset.n_examples, dataset.n_classes, max_stack, processes
    )
    with (
        threads.blas_threads(blas_threads),
        progress_bar(progress, len(config.runs) * config.epochs, " run-epochs", "sweep") as update,
    ):
        outcome = run_sweep(
            config, dataset, max_stack=max_stack, jobs=processes, progress=update, engine=engine
        )
    return SweepResults(outcome, dataset)
