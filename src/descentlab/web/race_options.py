"""The race view's choices for ``GET /api/options``: every dataset with its defaults, every
optimizer of ``descentlab compare`` with its hyperparameters, the schedules and their fields,
the defaults of a race and its limits, all read from the registries (nothing per optimizer or
per dataset is written here)."""

from __future__ import annotations

import functools
import inspect
from dataclasses import fields
from typing import Any

from descentlab import datasets, optim
from descentlab.experiment_config import ExperimentConfig
from descentlab.schedules import SCHEDULES, UNITS, ScheduleSpec
from descentlab.web.limits import Limits
from descentlab.web.race_config import DEFAULT_DATASET, DEFAULT_LEARNING_RATE, MIN_RACE_OPTIMIZERS

DATASET_SETTINGS = {"n_samples": "n_samples", "noise": "noise", "seed": "data_seed"}
"""A dataset function's keyword, and the race config's field for it."""


@functools.cache
def dataset_choices() -> tuple[dict[str, Any], ...]:
    """Each named dataset: its defaults (``None``: it takes no such setting, as digits),
    whether it has noise, its number of features and the first line of its docstring. The
    number of features is that of the dataset built with its defaults (once per process)."""
    choices = []
    for name, factory in datasets.DATASETS.items():
        parameters = inspect.signature(factory).parameters
        entry: dict[str, Any] = {"name": name}
        for keyword, field in DATASET_SETTINGS.items():
            parameter = parameters.get(keyword)
            entry[field] = None if parameter is None else parameter.default
        try:
            n_features: int | None = datasets.load(name).n_features
        except ValueError:  # digits without scikit-learn
            n_features = None
        entry["n_features"] = n_features
        entry["has_noise"] = entry["noise"] is not None
        entry["summary"] = (inspect.getdoc(factory) or "").split("\n", 1)[0]
        choices.append(entry)
    return tuple(choices)


def race_options(limits: Limits) -> dict[str, Any]:
    """The ``race`` section of ``GET /api/options`` (docs/playground.md)."""
    defaults = ExperimentConfig()
    optimizers = [
        {
            "name": name,
            "family": optim.spec(name).family,
            "summary": optim.spec(name).summary,
            "wraps_inner": optim.spec(name).wraps_inner,
            "learning_rate": DEFAULT_LEARNING_RATE,
            "hyperparameters": [
                {"name": h.name, "default": h.default, "required": h.required}
                for h in optim.spec(name).hyperparameters
            ],
        }
        for name in optim.names("compare")
    ]
    schedule = ScheduleSpec()
    schedule_fields: list[dict[str, Any]] = []
    for field in fields(ScheduleSpec):
        if field.name == "name":
            continue
        entry: dict[str, Any] = {"name": field.name, "default": getattr(schedule, field.name)}
        if field.name == "unit":
            entry["choices"] = list(UNITS)
        schedule_fields.append(entry)
    return {
        "datasets": [dict(entry) for entry in dataset_choices()],
        "optimizers": optimizers,
        "schedules": [{"name": name} for name in SCHEDULES],
        "schedule_fields": schedule_fields,
        "defaults": {
            "dataset": DEFAULT_DATASET,
            "hidden_layers": list(defaults.hidden_layers),
            "batch_size": defaults.batch_size,
            "epochs": defaults.epochs,
            "seed": defaults.seed,
            "optimizers": list(defaults.optimizers),
        },
        "limits": {
            "min_optimizers": MIN_RACE_OPTIMIZERS,
            "max_optimizers": limits.max_optimizers,
            "max_epochs": limits.max_epochs,
            "max_examples": limits.max_examples,
            "max_layer_width": limits.max_layer_width,
            "boundary_grid": limits.boundary_grid,
            "max_upload_bytes": limits.max_upload_bytes,
            "max_races": limits.max_races,
            "max_minibatches": limits.max_minibatches,
        },
    }
