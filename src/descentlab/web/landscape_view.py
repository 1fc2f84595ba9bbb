"""The landscape view's answers: the choices (from the registries), a function's contour map,
the optimizers' paths, computed by ``descentlab.api.landscape`` (the library function behind
``descentlab landscape``'s numbers) and recorded as results.json records them, and the whole
results.json that command would write."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from descentlab import landscapes, optim
from descentlab.api.landscapes import landscape
from descentlab.web.commands import landscape_command
from descentlab.web.limits import Limits
from descentlab.web.requests import LandscapeRequest

if TYPE_CHECKING:
    from descentlab.results import LandscapeResults


def json_safe(value: Any) -> Any:
    """``value`` with every float that JSON cannot hold (nan, inf) as None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


def options(limits: Limits) -> dict[str, Any]:
    """What the page's forms offer: every landscape with its defaults, every optimizer of
    ``descentlab landscape`` with its family, summary and hyperparameters (from the optimizer
    registry), and the limits."""
    functions = [
        {
            "name": function.name,
            "formula": function.formula,
            "start": list(function.start),
            "steps": function.steps,
            "bounds": [list(axis) for axis in function.bounds],
            "minima": [list(point) for point in function.minima],
            "has_minimum": function.has_minimum,
            "log_contours": function.log_contours,
            "learning_rates": function.learning_rates,
        }
        for function in (landscapes.get(name) for name in landscapes.names())
    ]
    optimizers = [
        {
            "name": name,
            "family": optim.spec(name).family,
            "summary": optim.spec(name).summary,
            "wraps_inner": optim.spec(name).wraps_inner,
            "hyperparameters": [
                {"name": h.name, "default": h.default, "required": h.required}
                for h in optim.spec(name).hyperparameters
            ],
        }
        for name in optim.names("landscape")
    ]
    return json_safe(
        {
            "functions": functions,
            "optimizers": optimizers,
            "limits": {
                "max_steps": limits.max_steps,
                "min_optimizers": limits.min_optimizers,
                "max_optimizers": limits.max_optimizers,
            },
        }
    )


def contours(name: str, limits: Limits) -> dict[str, Any]:
    """The contour map of function ``name`` over its view: the grid trajectories.png's
    contours are drawn from, at ``limits.grid_points`` per axis."""
    from descentlab.report.trajectories import contour_grid, view_of

    function = landscapes.get(name)
    grid = contour_grid(function, view_of(function), limits.grid_points)
    return json_safe(
        {
            "function": function.name,
            "x": grid.x.tolist(),
            "y": grid.y.tolist(),
            "heights": grid.heights.tolist(),
            "levels": grid.levels.tolist(),
            "log_scaled": grid.log_scaled,
        }
    )


def _run(request: LandscapeRequest) -> LandscapeResults:
    """``request``'s paths, by the library function behind ``descentlab landscape``."""
    return landscape(
        request.function,
        request.optimizers,
        learning_rate=request.learning_rates,
        hyperparameters=request.hyperparameters,
        steps=request.steps,
        start=request.start,
        noise=request.noise,
        noise_seed=request.noise_seed,
    )


def paths(request: LandscapeRequest) -> dict[str, Any]:
    """Every optimizer's path: each run as results.json records it (``run_record``), with its
    learning rate and f after every step (``loss``, the full length of the run), and the
    ``descentlab landscape`` line that computes the same runs (``command``)."""
    from descentlab.runs.landscape import run_record

    results = _run(request)
    runs = [
        {
            **run_record(trajectory),
            "learning_rate": results.learning_rates[trajectory.optimizer],
            "loss": trajectory.values.tolist(),
        }
        for trajectory in results.trajectories
    ]
    return json_safe(
        {
            "function": results.function.name,
            "start": list(results.start),
            "steps": results.steps,
            "noise": results.noise,
            "noise_seed": results.noise_seed,
            "command": landscape_command(request),
            "runs": runs,
        }
    )


def results_json(request: LandscapeRequest) -> str:
    """The results.json ``descentlab landscape`` writes for ``request`` (``command`` of
    ``paths``), as it writes it: the same document (``runs.landscape.results_dict``), the same
    text (``runs.folder.to_json``)."""
    from descentlab.runs.folder import to_json
    from descentlab.runs.landscape import LandscapeRun, results_dict

    results = _run(request)
    run = LandscapeRun(
        results.function,
        results.landscape,
        results.trajectories,
        results.start,
        results.steps,
        results.tolerance,
        results.frames,
    )
    return to_json(results_dict(run)) + "\n"
