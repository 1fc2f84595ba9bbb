"""The command line behind a view: the ``descentlab ...`` line that computes the same numbers.

Every setting is written out, the defaults the page filled in too, so the line still gives the
same numbers when a default changes; floats are written as ``repr`` writes them, which reads
back to the same float.
"""

from __future__ import annotations

import shlex

from descentlab import landscapes
from descentlab.web.requests import LandscapeRequest


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
        name: request.learning_rates.get(name, landscapes.default_learning_rate(function, name))
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
