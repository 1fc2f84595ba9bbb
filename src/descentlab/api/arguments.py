"""The options the API's functions share, read into what the config objects take: optimizer
names, ``-H``-style hyperparameters, batch size, layers, schedule, dataset, a sweep's values as
the command line's text, and the progress bar."""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from descentlab import optim
from descentlab.datasets import Dataset
from descentlab.schedules import ScheduleSpec
from descentlab.validation import check_int

Hyperparameters = Mapping[str, float | bool | Mapping[str, float | bool]]
"""Optimizer keywords, as ``-H`` gives them: ``{"momentum": 0.9}`` goes to every chosen optimizer
that has a keyword ``momentum``, ``{"sgd.nesterov": True}`` or ``{"sgd": {"nesterov": True}}``
to sgd only (``descentlab.optim.scope_hyperparameters``)."""

GridValues = str | float | bool | Iterable[float | bool]
"""A sweep's values for one setting: the command line's text (``"1e-4..1e-1:log:13"``,
``"0.8,0.9"``), one value, or several (a list, ``np.geomspace(1e-4, 1e-1, 13)``)."""

SCHEDULE = ScheduleSpec()
"""The schedule options' defaults (a constant rate)."""


@contextmanager
def progress_bar(
    show: bool, total: int, unit: str, description: str
) -> Iterator[Callable[[int], None] | None]:
    """A tqdm bar's ``update`` when ``show``, else None; the bar is closed on leaving."""
    if not show:
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(total=total, unit=unit, unit_scale=True, leave=False, desc=description)

    def update(count: int) -> None:
        bar.update(count)

    try:
        yield update
    finally:
        bar.close()


def optimizer_names(what: str, names: str | Sequence[str]) -> tuple[str, ...]:
    """Optimizer names as a tuple: a string is one name or "gd,adam", as on the command line
    (the config objects check the names themselves)."""
    if isinstance(names, str):
        return tuple(part.strip() for part in names.split(","))
    if not isinstance(names, Sequence) or not all(isinstance(name, str) for name in names):
        raise ValueError(f"{what} must be optimizer names, got {names!r}")
    return tuple(names)


def scoped_hyperparameters(
    hyperparameters: Hyperparameters | None, names: Sequence[str]
) -> dict[str, dict[str, float | bool]]:
    """{optimizer: {keyword: value}} from ``Hyperparameters``, scoped as ``-H`` is."""
    if hyperparameters is None:
        return {}
    if not isinstance(hyperparameters, Mapping):
        raise ValueError(
            "hyperparameters must map keywords to values, e.g. {'sgd.nesterov': True}, got "
            f"{hyperparameters!r}"
        )
    settings: list[tuple[str | None, str, float | bool]] = []
    for key, value in hyperparameters.items():
        if isinstance(value, Mapping):
            settings += [(key, name, keyword) for name, keyword in value.items()]
        else:
            owner, dot, name = key.rpartition(".")
            settings.append((owner if dot else None, name, value))
    return optim.scope_hyperparameters(settings, names)


def batch_size_of(batch_size: int | str | None) -> int | None:
    """``"full"`` (or None) is one batch of every example; a number is checked by the config."""
    if batch_size is None:
        return None
    if isinstance(batch_size, str):
        if batch_size.strip().lower() == "full":
            return None
        raise ValueError(f"batch_size must be a positive integer or 'full', got {batch_size!r}")
    return batch_size


def hidden_layers_of(layers: object) -> tuple[int, ...]:
    """Hidden layer sizes as a tuple (each size is checked by the config)."""
    if isinstance(layers, str) or not isinstance(layers, Sequence):
        raise ValueError(
            f"layers must be a sequence of hidden layer sizes like (5, 2), got {layers!r}"
        )
    return tuple(layers)


def schedule_of(
    name: str, decay_rate: float, every: int, unit: str, warmup: int, min_learning_rate: float
) -> ScheduleSpec:
    return ScheduleSpec(
        name=name,
        decay_rate=decay_rate,
        every=every,
        unit=unit,
        warmup=warmup,
        min_learning_rate=min_learning_rate,
    )


def name_of(what: str, value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a name, got {value!r}")
    return value.strip()


def load_dataset(
    dataset: str | Dataset | None,
    data: str | os.PathLike[str] | None,
    target: str | None,
    n_samples: int | None,
    noise: float | None,
    data_seed: int | None,
) -> Dataset:
    """The dataset the options name: ``data`` (a file), a ``Dataset``, or a named one."""
    from descentlab import datasets, loaders

    settings = {"n_samples": n_samples, "noise": noise, "seed": data_seed}
    given = {key: value for key, value in settings.items() if value is not None}
    if data is not None:
        if dataset is not None or given:
            raise ValueError(
                "data reads your own file; dataset, n_samples, noise and data_seed are for "
                "named datasets"
            )
        return loaders.load_file(Path(data), target=target)
    if target is not None:
        raise ValueError("target goes with data (a file)")
    if isinstance(dataset, Dataset):
        if given:
            raise ValueError(
                f"n_samples, noise and data_seed are for named datasets, not {dataset.name!r}"
            )
        return dataset
    return datasets.load("moons" if dataset is None else name_of("dataset", dataset), **given)


def grid_text(name: str, values: GridValues) -> str:
    """A sweep setting's values as the command line's text, which ``SweepConfig`` parses."""
    if isinstance(values, str):
        return values
    if isinstance(values, bool | numbers.Real):
        items: list[object] = [values]
    elif isinstance(values, Iterable) and not isinstance(values, Mapping):
        items = list(values)
    else:
        items = []
    if not items:
        raise ValueError(f"{name} must be values (text, a number or a list), got {values!r}")
    texts = []
    for item in items:
        if isinstance(item, bool):
            texts.append("true" if item else "false")
        elif isinstance(item, numbers.Real):
            texts.append(repr(float(item)))  # repr round-trips: the value parses back exactly
        else:
            raise ValueError(f"{name} must be numbers or True/False, got {item!r}")
    return ",".join(texts)


def learning_rate_text(learning_rate: GridValues | Mapping[str | None, GridValues]) -> str:
    """``--learning-rate``'s text: values for all, or "NAME=VALUES" sections (None: the rest)."""
    if not isinstance(learning_rate, Mapping):
        return grid_text("learning_rate", learning_rate)
    sections = sorted(learning_rate.items(), key=lambda item: item[0] is not None)
    return ",".join(
        grid_text("learning_rate", values)
        if name is None
        else f"{name}={grid_text(f'learning rate of {name}', values)}"
        for name, values in sections
    )


def seeds_of(seeds: object) -> Sequence[int]:
    """A count N (seeds 0..N-1, a ``range`` the config counts before building it) or the
    seeds (the config checks them)."""
    if isinstance(seeds, range):
        return seeds
    if isinstance(seeds, Iterable) and not isinstance(seeds, str):
        return tuple(seeds)
    return range(check_int("seeds", seeds, minimum=1))
