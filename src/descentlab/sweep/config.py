"""What a sweep trains: its configurations (optimizer x hyperparameter values) and seeds."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

from descentlab import budget, optim
from descentlab.nn import Network
from descentlab.schedules import ScheduleSpec
from descentlab.sweep.grid import (
    Axis,
    Value,
    draw_settings,
    parse_learning_rates,
    parse_values,
    search_generator,
)
from descentlab.validation import check_epochs, check_int

SEARCHES = ("grid", "random")


@dataclass(frozen=True)
class Configuration:
    """One optimizer with one value for each hyperparameter the sweep sets."""

    index: int
    optimizer: str
    settings: Mapping[str, Value]
    """The learning rate (the initial one under a schedule), then every hyperparameter given."""
    hyperparameters: Mapping[str, Value | str]
    """Every hyperparameter of the optimizer, its defaults included."""


class RunSpec(NamedTuple):
    """One run of a sweep: a configuration trained with one user-facing seed."""

    configuration: int
    seed: int


@dataclass(frozen=True)
class SweepConfig:
    """Everything that decides a sweep's results (how it is executed does not).

    ``learning_rate`` is ``--learning-rate``'s text (see ``grid.parse_learning_rates``);
    ``hyperparameters`` maps ``"NAME"`` (every chosen optimizer that has it) or
    ``"OPTIMIZER.NAME"`` (that one; it wins over an unscoped NAME) to values in the same
    syntax. ``search="grid"`` takes the product of every value of every hyperparameter;
    ``search="random"`` draws ``samples`` configurations per optimizer from a generator seeded
    by (``search_seed``, the optimizer's name), so adding an optimizer or reordering options
    never changes another optimizer's draws. Every configuration is trained once per seed.
    """

    optimizers: tuple[str, ...] = ("gd", "momentum", "adam")
    learning_rate: str = "1e-4..1e-1:log:13"
    hyperparameters: Mapping[str, str] = field(default_factory=dict)
    seeds: Sequence[int] = (0, 1, 2)
    """The seeds, kept as a tuple; a ``range`` is counted before it is built."""
    epochs: int = 10000
    batch_size: int | None = 64
    hidden_layers: tuple[int, ...] = (5, 2)
    schedule: ScheduleSpec = field(default_factory=ScheduleSpec)
    search: str = "grid"
    samples: int = 20
    search_seed: int = 0

    def __post_init__(self) -> None:
        given: object = self.optimizers
        if isinstance(given, str):  # one name ("adam"), not its letters
            object.__setattr__(self, "optimizers", (given,))
        _check_unique("optimizer", self.optimizers)
        for name in self.optimizers:
            optim.check_name(name)  # an unknown name or a wrapper alone fails here
        check_epochs(self.epochs)
        if self.batch_size is not None:
            check_int("batch_size", self.batch_size, minimum=1)
        optim.check_full_batch(self.optimizers, self.batch_size)
        for size in self.hidden_layers:
            check_int("hidden layer size", size, minimum=1)
        if self.search not in SEARCHES:
            raise ValueError(f"search must be 'grid' or 'random', got {self.search!r}")
        check_int("samples", self.samples, minimum=1)
        check_int("search seed", self.search_seed, minimum=0)
        # Counted before any list is built: a range of 10^12 values or --seeds 10**12 is
        # refused from its count (descentlab.budget), not after filling the memory.
        n_configurations = self.count()
        budget.check(budget.count_estimate(n_configurations, _count_seeds(self.seeds)))
        if not isinstance(self.seeds, tuple):
            object.__setattr__(self, "seeds", tuple(self.seeds))
        for seed in self.seeds:
            check_int("seed", seed, minimum=0)
        _check_unique("seed", self.seeds)
        _ = self.configurations  # expands every value and builds every optimizer, up front
        # The schedule against every rate; in steps, its length comes with the data.
        self.check_schedule(None)

    def count(self) -> int:
        """How many configurations the sweep has, counted from the values without building
        them: per optimizer the product of its axes' counts (grid) or ``samples`` (random)."""
        total = 0
        for axes in self.axes.values():
            if self.search == "random":
                total += self.samples
            else:
                total += math.prod(axis.count() for axis in axes.values())
        return total

    @cached_property
    def axes(self) -> dict[str, dict[str, Axis]]:
        """Per optimizer: its learning rates first, then each hyperparameter given."""
        rates = parse_learning_rates(self.learning_rate)
        for owner in rates:
            if owner is not None and owner not in self.optimizers:
                raise ValueError(
                    f"--learning-rate names {owner!r}, which is not among the optimizers "
                    f"({', '.join(self.optimizers)})"
                )
        axes: dict[str, dict[str, Axis]] = {}
        for name in self.optimizers:
            text = rates.get(name, rates.get(None))
            if text is None:
                raise ValueError(
                    f"--learning-rate gives no values for {name!r}; add {name}=VALUES or "
                    "values for the rest"
                )
            items = parse_values(text, f"learning rate of {name}", positive=True)
            axes[name] = {"learning_rate": Axis("learning_rate", text, items)}
        settings: list[tuple[str | None, str, str]] = []
        for target, text in self.hyperparameters.items():
            owner, dot, key = target.rpartition(".")  # "adam.beta1", or "beta1" for every one
            settings.append((owner if dot else None, key, text))
        for name, texts in optim.scope_hyperparameters(settings, self.optimizers).items():
            for key, text in texts.items():
                axes[name][key] = Axis(key, text, parse_values(text, key))
        return axes

    @cached_property
    def configurations(self) -> list[Configuration]:
        """Every configuration, optimizer by optimizer. Each one's optimizer is built here, so
        a value the optimizer refuses fails up front with the optimizer's own message."""
        configurations: list[Configuration] = []
        for name in self.optimizers:
            for settings in self._settings_of(name):
                built = optim.get(name, **settings)
                hyperparameters = {**built.hyperparameters, **settings}
                configurations.append(
                    Configuration(len(configurations), name, settings, hyperparameters)
                )
        return configurations

    def _settings_of(self, name: str) -> list[dict[str, Value]]:
        axes = self.axes[name]
        if self.search == "grid":
            grids = [axis.grid() for axis in axes.values()]
            return [dict(zip(axes, values, strict=True)) for values in itertools.product(*grids)]
        return draw_settings(axes, self.samples, search_generator(self.search_seed, name))

    def check_schedule(self, n_examples: int | None) -> None:
        """The schedule built for every configuration's learning rate over a run of
        ``n_examples`` (a schedule in steps is checked against its length only once they are
        known): a one-line ``ValueError`` for a minimum above a rate or a warmup too long."""
        if self.schedule.is_constant:
            return
        if n_examples is None:
            per_epoch = self.schedule.warmup + 1 if self.schedule.unit == "step" else 1
        else:
            per_epoch = -(-n_examples // (self.batch_size or n_examples))
        for configuration in self.configurations:
            rate = float(configuration.settings["learning_rate"])
            self.schedule.for_optimizer(rate, epochs=self.epochs, batches_per_epoch=per_epoch)

    @cached_property
    def runs(self) -> list[RunSpec]:
        """Every configuration with every seed, configuration by configuration."""
        return [RunSpec(c.index, seed) for c in self.configurations for seed in self.seeds]

    def network(self, n_features: int, n_classes: int = 2) -> Network:
        """The network [n_features, *hidden_layers, n_out] (``Network.for_classes``)."""
        return Network.for_classes(n_features, self.hidden_layers, n_classes)

    def to_dict(self) -> dict[str, object]:
        """results.json's ``config``: the values as given and as expanded per optimizer."""
        return {
            "search": self.search,
            "optimizers": list(self.optimizers),
            "learning_rate": self.learning_rate,
            "hyperparameters": dict(self.hyperparameters),
            "expanded": {
                name: {key: axis.describe(self.search) for key, axis in axes.items()}
                for name, axes in self.axes.items()
            },
            "configurations": len(self.configurations),
            "samples": self.samples if self.search == "random" else None,
            "search_seed": self.search_seed if self.search == "random" else None,
            "seeds": list(self.seeds),
            "runs": len(self.runs),
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "hidden_layers": list(self.hidden_layers),
            "schedule": self.schedule.to_dict(),
        }


def _count_seeds(seeds: object) -> int:
    """How many seeds ``seeds`` holds (a ``range`` counts without being built)."""
    if isinstance(seeds, Sequence) and not isinstance(seeds, str):
        return len(seeds)
    raise ValueError(f"seeds must be a sequence of integers >= 0, got {seeds!r}")


def _check_unique(what: str, values: Sequence[object]) -> None:
    """At least one value, none listed twice (one pass with a set: a million seeds take a
    second, not hours)."""
    if not values:
        raise ValueError(f"a sweep needs at least one {what}")
    seen: set[object] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{what} {value!r} is listed twice")
        seen.add(value)
