"""``landscape``: the options of ``descentlab landscape`` into optimizers, then
``run_trajectories``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from descentlab import budget, landscapes, optim
from descentlab.api.arguments import (
    Hyperparameters,
    name_of,
    optimizer_names,
    scoped_hyperparameters,
)
from descentlab.validation import check_int, check_nonnegative_float, check_positive_float

if TYPE_CHECKING:
    from descentlab.results import LandscapeResults

LANDSCAPE_FUNCTION = "rosenbrock"
LANDSCAPE_OPTIMIZERS = ("gd", "momentum", "adam", "rmsprop")
LANDSCAPE_FRAMES = 60
"""``descentlab landscape``'s defaults: function, optimizers and frames of the animation."""


def landscape(
    function: str = LANDSCAPE_FUNCTION,
    optimizers: str | Sequence[str] = LANDSCAPE_OPTIMIZERS,
    *,
    learning_rate: float | Mapping[str, float] | None = None,
    hyperparameters: Hyperparameters | None = None,
    steps: int | None = None,
    start: str | Sequence[float] | None = None,
    noise: float = 0.0,
    noise_seed: int = 0,
    tolerance: float = landscapes.TOLERANCE,
    frames: int = LANDSCAPE_FRAMES,
) -> LandscapeResults:
    """Run every optimizer from the same start on a 2-D function: ``descentlab landscape``.

    ``learning_rate``: one rate for all, or rates for some optimizers (``{"adam": 0.05}``);
    those not given keep the function's default rate. ``steps`` and ``start`` (x, y) default
    to the function's own. ``noise`` adds N(0, noise^2) to each gradient coordinate, the same
    for every optimizer (``noise_seed``). ``frames`` is the length of the animation ``save``
    writes.
    """
    from descentlab.results import LandscapeResults

    surface = landscapes.get(name_of("function", function))
    names = optimizer_names("optimizers", optimizers)
    settings = scoped_hyperparameters(hyperparameters, names)
    rates = _landscape_rates(surface, names, learning_rate)
    built = [optim.get(name, learning_rate=rates[name], **settings.get(name, {})) for name in names]
    noise = check_nonnegative_float("noise", noise)
    noise_seed = check_int("noise seed", noise_seed, minimum=0)
    moved = surface if noise == 0 else landscapes.noisy(surface, noise, noise_seed)
    point = surface.start if start is None else landscapes.check_start(surface, _start(start))
    steps = surface.steps if steps is None else check_int("steps", steps, minimum=1)
    tolerance = check_positive_float("tolerance", tolerance)
    frames = check_int("frames", frames, minimum=1)
    budget.check(budget.landscape_estimate(len(built), steps, frames))
    trajectories = landscapes.run_trajectories(moved, built, point, steps, tolerance=tolerance)
    return LandscapeResults(
        function=surface,
        landscape=moved,
        trajectories=tuple(trajectories),
        learning_rates=rates,
        start=point,
        steps=steps,
        tolerance=tolerance,
        frames=frames,
        noise=noise,
        noise_seed=noise_seed,
    )


def _landscape_rates(
    surface: landscapes.Landscape,
    names: Sequence[str],
    learning_rate: float | Mapping[str, float] | None,
) -> dict[str, float]:
    """Each optimizer's rate: as given, else the function's default for it."""
    if learning_rate is None or isinstance(learning_rate, Mapping):
        given = dict(learning_rate or {})
        for name in given:
            if name not in names:
                raise ValueError(
                    f"learning_rate names {name!r}, which is not among the optimizers "
                    f"({', '.join(names)})"
                )
        return {
            name: given[name] if name in given else landscapes.default_learning_rate(surface, name)
            for name in names
        }
    return dict.fromkeys(names, learning_rate)


def _start(start: str | Sequence[float]) -> tuple[float, float]:
    """(x, y) from "X,Y" or two numbers."""
    if isinstance(start, str):
        return landscapes.parse_start(start)
    if isinstance(start, Sequence) and len(start) == 2:
        return landscapes.parse_start(",".join(str(value) for value in start))
    raise ValueError(f"start must be two numbers (x, y), got {start!r}")
