"""The command line behind a view: the ``descentlab ...`` line that computes the same numbers.

Every setting is written out, the defaults the page filled in too, so the line still gives the
same numbers when a default changes; floats are written as ``repr`` writes them, which reads
back to the same float.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from descentlab import landscapes
from descentlab.web.requests import LandscapeRequest

if TYPE_CHECKING:
    from descentlab.web.race_config import RaceRequest

DATASET_OPTIONS = {"n_samples": "--n-samples", "noise": "--noise", "seed": "--data-seed"}
"""A named dataset's settings that ``descentlab compare`` takes, and their options."""


def _number(value: float | bool) -> str:
    """A ``-H`` value as ``parse_hyperparameter`` reads it: true/false, or the exact float."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(float(value))


def landscape_command(request: LandscapeRequest) -> str:
    """The ``descentlab landscape`` line whose results.json ``runs`` are ``request``'s paths:
    the function, the optimizers, each one's learning rate, its ``-H`` settings scoped to it,
    the start, the steps and the noise."""
    function = landscapes.get(request.function)
    rates = {
        name: request.learning_rates[name]
        if name in request.learning_rates
        else landscapes.default_learning_rate(function, name)
        for name in request.optimizers
    }
    x, y = request.start if request.start is not None else function.start
    steps = request.steps if request.steps is not None else function.steps
    words = [
        "descentlab",
        "landscape",
        "--function",
        function.name,
        "--optimizers",
        ",".join(request.optimizers),
        "--learning-rate",
        ",".join(f"{name}={float(rate)!r}" for name, rate in rates.items()),
    ]
    for name in request.optimizers:
        for key, value in request.hyperparameters.get(name, {}).items():
            words += ["-H", f"{name}.{key}={_number(value)}"]
    words += [
        f"--start={float(x)!r},{float(y)!r}",  # "=": a start below 0 is not read as an option
        "--steps",
        str(steps),
        "--noise",
        repr(float(request.noise)),
        "--noise-seed",
        str(request.noise_seed),
    ]
    return shlex.join(words)


def compare_command(request: RaceRequest) -> str:
    """The ``descentlab compare`` line that trains ``request``'s race: the data (the named
    dataset and its size, noise and seed, or ``--data`` and the uploaded file's name, to run
    where that file is), the network, batch size, epochs, seed and standardisation, the
    optimizers, each one's learning rate, its ``-H`` settings scoped to it, and the schedule."""
    config = request.config
    dataset = request.dataset
    if request.upload is not None:
        words = ["descentlab", "compare", f"--data={request.upload}"]
    else:
        words = ["descentlab", "compare", "--dataset", dataset.name]
        for key, option in DATASET_OPTIONS.items():
            value = dataset.params.get(key)
            if value is not None:
                words += [option, repr(float(value)) if isinstance(value, float) else str(value)]
    words += [
        "--standardize" if config.standardizes(dataset) else "--no-standardize",
        "--layers",
        ",".join(str(width) for width in config.hidden_layers),
        "--batch-size",
        "full" if config.batch_size is None else str(config.batch_size),
        "--epochs",
        str(config.epochs),
        "--seed",
        str(config.seed),
        "--optimizers",
        ",".join(config.optimizers),
        "--learning-rate",
        ",".join(f"{name}={config.learning_rate_for(name)!r}" for name in config.optimizers),
    ]
    for name in config.optimizers:
        for key, value in config.hyperparameters.get(name, {}).items():
            words += ["-H", f"{name}.{key}={_number(value)}"]
    schedule = config.schedule
    words += ["--schedule", schedule.name]
    if not schedule.is_constant:
        settings = schedule.to_dict()
        options = {
            "decay_rate": "--decay-rate",
            "every": "--decay-every",
            "warmup": "--warmup",
            "min_learning_rate": "--min-learning-rate",
        }
        for key, option in options.items():
            if key in settings:
                value = settings[key]
                words += [option, repr(float(value)) if isinstance(value, float) else str(value)]
        words += ["--schedule-unit", schedule.unit]
    return shlex.join(words)
