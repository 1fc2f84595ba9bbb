"""A race's ``config`` (the start message's), read into what ``descentlab compare`` trains.

Every rule is the library's or the command line's (``optim.get``, ``ScheduleSpec``, the
dataset registry, the ``--data`` reader); this module checks the JSON's shape and says which
field broke a rule (``config.optimizers[1].learning_rate``, ``config.schedule.every``).
Absent or null fields take ``descentlab compare``'s defaults.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import cast

from descentlab import optim
from descentlab.api.arguments import batch_size_of, hidden_layers_of, load_dataset
from descentlab.datasets import Dataset
from descentlab.experiment_config import COURSE_OPTIMIZERS, ExperimentConfig
from descentlab.schedules import SCHEDULES, UNITS, ScheduleSpec
from descentlab.validation import check_int, check_nonnegative_float
from descentlab.web.limits import Limits
from descentlab.web.requests import FieldError, checked, json_object, optimizer_entries
from descentlab.web.upload import Upload

RACE_FIELDS = (
    "dataset", "n_samples", "noise", "data_seed", "upload", "hidden_layers", "batch_size",
    "epochs", "seed", "schedule", "optimizers",
)  # fmt: skip
SCHEDULE_FIELDS = ("name", "decay_rate", "every", "unit", "warmup", "min_learning_rate")
MIN_RACE_OPTIMIZERS = 2
"""A race has at least two optimizers (at most ``Limits.max_optimizers``)."""
DEFAULT_LEARNING_RATE = cast(float, ExperimentConfig.learning_rate)
"""An optimizer without a learning rate gets ``descentlab compare``'s default."""
DEFAULT_DATASET = "moons"


@dataclass(frozen=True)
class RaceRequest:
    """A checked race: what ``run_experiment`` trains, on which data (``upload``: the name of
    the uploaded file it came from, or None for a named dataset)."""

    config: ExperimentConfig
    dataset: Dataset
    upload: str | None = None


def _number(value: float | bool) -> float | bool:
    """A JSON hyperparameter as the command line reads it: true/false, or a float (so 1 and
    1.0 are the same setting, and results.json records it as ``-H`` would)."""
    return value if isinstance(value, bool) else float(value)


def schedule_spec(body: object) -> ScheduleSpec:
    """``config.schedule`` (null: a constant rate) as a ``ScheduleSpec``, each field checked as
    the command line's schedule options check it."""
    if body is None:
        return ScheduleSpec()
    body = json_object("config.schedule", body, SCHEDULE_FIELDS)
    defaults = ScheduleSpec()

    def field(name: str, check: Callable[[object], object]) -> object:
        value = body.get(name)
        return (
            getattr(defaults, name)
            if value is None
            else checked(f"config.schedule.{name}", check, value)
        )

    def choice(allowed: tuple[str, ...], what: str) -> Callable[[object], object]:
        def check(value: object) -> object:
            if value not in allowed:
                raise ValueError(f"unknown {what} {value!r}; choose one of: {', '.join(allowed)}")
            return value

        return check

    def number(what: str) -> Callable[[object], object]:
        def check(value: object) -> float:
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ValueError(f"{what} must be a number, got {value!r}")
            return check_nonnegative_float(what, value)

        return check

    settings = {
        "name": field("name", choice(SCHEDULES, "schedule")),
        "decay_rate": field("decay_rate", number("decay rate")),
        "every": field("every", lambda v: check_int("decay every", v, minimum=1)),
        "unit": field("unit", choice(UNITS, "schedule unit")),
        "warmup": field("warmup", lambda v: check_int("warmup", v, minimum=0)),
        "min_learning_rate": field("min_learning_rate", number("minimum learning rate")),
    }
    return cast(ScheduleSpec, checked("config.schedule", ScheduleSpec, **settings))


def race_dataset(
    body: Mapping[str, object], limits: Limits, uploads: Callable[[object], Upload | None]
) -> tuple[Dataset, str | None]:
    """The race's data: the upload ``config.upload`` names (then the named dataset's fields
    are ignored), or the named dataset with its settings; and the upload's file name."""
    token = body.get("upload")
    if token is not None:
        upload = uploads(token)
        if upload is None:
            raise FieldError(
                "config.upload",
                "no such upload on this server (it restarted, or the file was never sent): "
                "upload the file again",
            )
        dataset, name = upload.dataset, upload.name
    else:
        n_samples = body.get("n_samples")
        if n_samples is not None:
            n_samples = checked("n_samples", check_int, "n_samples", n_samples, minimum=2)
            if n_samples > limits.max_examples:
                raise FieldError(
                    "n_samples", f"must be at most {limits.max_examples}, got {n_samples}"
                )
        noise = body.get("noise")
        if noise is not None:
            noise = checked("noise", check_nonnegative_float, "noise", noise)
        data_seed = body.get("data_seed")
        if data_seed is not None:
            data_seed = checked("data_seed", check_int, "data_seed", data_seed, minimum=0)
        dataset = checked(
            "dataset",
            load_dataset,
            body.get("dataset") or DEFAULT_DATASET,
            None,
            None,
            n_samples,
            noise,
            data_seed,
        )
        name = None
    if dataset.n_examples > limits.max_examples:
        where = "config.upload" if name is not None else "n_samples"
        raise FieldError(
            where, f"must be at most {limits.max_examples} examples, got {dataset.n_examples}"
        )
    return dataset, name


def race_request(
    body: object,
    limits: Limits,
    uploads: Callable[[object], Upload | None] = lambda token: None,
) -> RaceRequest:
    """``body`` (the ``config`` of a start message) as a ``RaceRequest``; ``FieldError`` on
    the first bad field, named from ``config``. ``uploads(token)`` finds an upload."""
    try:
        return _race_request(body, limits, uploads)
    except FieldError as refused:
        if refused.field.startswith("config"):
            raise
        raise FieldError(f"config.{refused.field}", refused.message) from None


def _race_request(
    body: object, limits: Limits, uploads: Callable[[object], Upload | None]
) -> RaceRequest:
    body = json_object("config", body, RACE_FIELDS)
    names, rates, settings = optimizer_entries(
        body.get("optimizers", [{"name": name} for name in COURSE_OPTIMIZERS]),
        command="compare",
        fewest=MIN_RACE_OPTIMIZERS,
        most=limits.max_optimizers,
        default_rate=lambda name: DEFAULT_LEARNING_RATE,
    )
    layers = checked(
        "hidden_layers",
        hidden_layers_of,
        body.get("hidden_layers") or list(ExperimentConfig.hidden_layers),
    )
    for index, width in enumerate(layers):
        where = f"hidden_layers[{index}]"
        checked(where, check_int, "hidden layer size", width, minimum=1)
        if width > limits.max_layer_width:
            raise FieldError(where, f"must be at most {limits.max_layer_width}, got {width}")
    batch_size = body.get("batch_size")
    batch_size = checked(
        "batch_size",
        batch_size_of,
        ExperimentConfig.batch_size if batch_size is None else batch_size,
    )
    if batch_size is not None:
        batch_size = checked("batch_size", check_int, "batch_size", batch_size, minimum=1)
    checked("batch_size", optim.check_full_batch, names, batch_size)
    epochs = body.get("epochs")
    epochs = checked(
        "epochs",
        check_int,
        "epochs",
        ExperimentConfig.epochs if epochs is None else epochs,
        minimum=1,
    )
    if epochs > limits.max_epochs:
        raise FieldError("epochs", f"must be at most {limits.max_epochs}, got {epochs}")
    seed = body.get("seed")
    seed = checked("seed", check_int, "seed", 0 if seed is None else seed, minimum=0)
    schedule = schedule_spec(body.get("schedule"))
    dataset, upload = race_dataset(body, limits, uploads)
    # Written out, not left to the default, so the command line and results.json say it.
    standardize = ExperimentConfig().standardizes(dataset)
    config = checked(
        "config",
        ExperimentConfig,
        optimizers=names,
        learning_rate={name: float(rates.get(name, DEFAULT_LEARNING_RATE)) for name in names},
        hyperparameters={
            name: {key: _number(value) for key, value in given.items()}
            for name, given in settings.items()
        },
        batch_size=batch_size,
        epochs=epochs,
        hidden_layers=tuple(int(width) for width in layers),
        seed=seed,
        schedule=schedule,
        standardize=standardize,
    )
    # Training keeps every mini-batch's cost (8 bytes each, per optimizer) for results.json.
    minibatches = epochs * config.batches_per_epoch(dataset.n_examples)
    if minibatches > limits.max_minibatches:
        raise FieldError(
            "epochs",
            f"epochs x batches per epoch must be at most {limits.max_minibatches}, got "
            f"{epochs} x {config.batches_per_epoch(dataset.n_examples)} = {minibatches} "
            "(fewer epochs or a larger batch_size)",
        )
    return RaceRequest(config, dataset, upload)
