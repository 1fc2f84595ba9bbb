"""Two-dimensional loss landscapes with exact gradients, and optimizer paths across them.

Each landscape is a small frozen object: ``f(xy)`` and ``grad(xy)`` take points of shape
(..., 2) (the last axis is (x, y)) and return values of shape (...) and gradients of shape
(..., 2). It knows its minima (``minima``; the saddle has none and measures the distance to
its saddle point instead), a start that teaches something, a view and whether its contours read
better log-scaled. ``noisy(landscape, scale, seed)`` adds seeded Gaussian noise to the gradient,
the way a mini-batch gradient scatters around the full one.

``run_trajectory`` moves a point of shape (2,) with any ``descentlab.optim`` optimizer, the same
pure ``init`` / ``update`` / ``apply_updates`` the networks train with: the landscape is the
network, its two coordinates the parameters.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import numpy as np

from descentlab import optim
from descentlab.optim import Optimizer, drive
from descentlab.optim.base import reported_params

Points = np.ndarray
"""Points of shape (..., 2): the last axis holds (x, y)."""

DIVERGENCE_LIMIT = 1e6
"""A path whose coordinates leave [-1e6, 1e6] (or stop being finite) is stopped as diverged."""
TOLERANCE = 1e-3
"""``steps_to_tolerance`` counts the steps until the distance to the minimum is at most this."""


@dataclasses.dataclass(frozen=True)
class Landscape:
    """A function of two variables with its exact gradient and what is known about it.

    ``minima`` holds the points distances are measured to (the nearest one counts); for a
    function without a minimum (``has_minimum`` False, the saddle) it holds the saddle point.
    ``f_min`` is the minimum value (None without one). ``log_contours`` says the contours read
    better with log-spaced levels of f - f_min. ``family_learning_rates`` holds the default
    learning rate of each optimizer family (``descentlab.optim.FAMILIES``) on this landscape,
    ``learning_rate_overrides`` those of single optimizers that differ from their family's (see
    ``default_learning_rate``).
    """

    name: str
    formula: str
    value: Callable[[np.ndarray, np.ndarray], np.ndarray]
    gradient: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
    minima: tuple[tuple[float, float], ...]
    has_minimum: bool
    f_min: float | None
    start: tuple[float, float]
    bounds: tuple[tuple[float, float], tuple[float, float]]
    log_contours: bool
    steps: int
    family_learning_rates: Mapping[str, float]
    learning_rate_overrides: Mapping[str, float]

    def f(self, xy: Points) -> np.ndarray:
        """The function's value at every point: shape (...) for points of shape (..., 2)."""
        xy = np.asarray(xy, dtype=np.float64)
        return self.value(xy[..., 0], xy[..., 1])

    def grad(self, xy: Points) -> np.ndarray:
        """The exact gradient at every point: shape (..., 2)."""
        xy = np.asarray(xy, dtype=np.float64)
        dx, dy = self.gradient(xy[..., 0], xy[..., 1])
        return np.stack(np.broadcast_arrays(dx, dy), axis=-1)

    def distance_to_minimum(self, xy: Points) -> np.ndarray:
        """Euclidean distance from every point to the nearest of ``minima``: shape (...)."""
        xy = np.asarray(xy, dtype=np.float64)
        targets = np.asarray(self.minima, dtype=np.float64)  # (M, 2)
        gaps = xy[..., np.newaxis, :] - targets  # (..., M, 2)
        return np.sqrt((gaps**2).sum(axis=-1)).min(axis=-1)

    @property
    def learning_rates(self) -> dict[str, float]:
        """Every optimizer that ``descentlab landscape`` accepts, with its default rate here."""
        return {name: default_learning_rate(self, name) for name in optim.names("landscape")}

    def fresh(self) -> Landscape:
        """This landscape as it was built: for a noisy one, a copy whose noise starts over
        from its seed (every optimizer of a comparison sees the same noise); else itself."""
        return self


@dataclasses.dataclass(frozen=True)
class NoisyLandscape(Landscape):
    """``base`` with Gaussian noise of deviation ``scale`` added to every gradient coordinate.

    grad(xy) = base.grad(xy) + scale * N(0, 1), drawn from ``np.random.default_rng(seed)``, a
    generator this object owns (no global random state): two landscapes built with the same
    seed give the same sequence of gradients. f is the base's, without noise.
    """

    scale: float = 0.0
    seed: int = 0
    rng: np.random.Generator = dataclasses.field(
        default_factory=lambda: np.random.default_rng(0), compare=False, repr=False
    )

    def grad(self, xy: Points) -> np.ndarray:
        exact = super().grad(xy)
        return exact + self.scale * self.rng.standard_normal(exact.shape)

    def fresh(self) -> Landscape:
        return dataclasses.replace(self, rng=np.random.default_rng(self.seed))


def _quadratic(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return 0.5 * (x**2 + 25.0 * y**2)


def _quadratic_grad(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return x, 25.0 * y


def _rosenbrock(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (1.0 - x) ** 2 + 100.0 * (y - x**2) ** 2


def _rosenbrock_grad(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return -2.0 * (1.0 - x) - 400.0 * x * (y - x**2), 200.0 * (y - x**2)


def _beale_terms(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3


def _beale(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    a, b, c = _beale_terms(x, y)
    return a**2 + b**2 + c**2


def _beale_grad(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b, c = _beale_terms(x, y)
    dx = 2.0 * (a * (y - 1.0) + b * (y**2 - 1.0) + c * (y**3 - 1.0))
    dy = 2.0 * (a * x + b * 2.0 * x * y + c * 3.0 * x * y**2)
    return dx, dy


def _saddle(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return x**2 - y**2


def _saddle_grad(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return 2.0 * x, -2.0 * y


def _himmelblau(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x**2 + y - 11.0) ** 2 + (x + y**2 - 7.0) ** 2


def _himmelblau_grad(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    u, v = x**2 + y - 11.0, x + y**2 - 7.0
    return 4.0 * x * u + 2.0 * v, 2.0 * u + 4.0 * y * v


QUADRATIC = Landscape(
    name="quadratic",
    formula="f(x, y) = 0.5 (x^2 + 25 y^2)",
    value=_quadratic,
    gradient=_quadratic_grad,
    minima=((0.0, 0.0),),
    has_minimum=True,
    f_min=0.0,
    start=(-4.5, 1.0),
    bounds=((-5.0, 5.0), (-1.5, 1.5)),
    log_contours=False,
    steps=150,
    family_learning_rates={
        "gradient": 0.075,
        "adaptive": 0.3,
        "accumulator": 1.0,
        "rms_ratio": 18.0,
        "quasi_newton": 1.0,
    },
    learning_rate_overrides={
        "rmsprop": 0.075,
        "radam": 0.15,
        "lion": 0.03,
        "adan": 1.0,
        "lars": 10.0,
        "lookahead:adam": 0.3,
        "sam:adam": 0.3,
        "schedule_free_adamw": 1.0,
        "schedule_free_sgd": 0.5,
    },
)
"""An ill-conditioned quadratic (condition number 25): minimum 0 at (0, 0). gd with a rate near
its limit 2/25 zig-zags across the narrow y direction; momentum averages the zig-zag away."""

ROSENBROCK = Landscape(
    name="rosenbrock",
    formula="f(x, y) = (1 - x)^2 + 100 (y - x^2)^2",
    value=_rosenbrock,
    gradient=_rosenbrock_grad,
    minima=((1.0, 1.0),),
    has_minimum=True,
    f_min=0.0,
    start=(-1.5, 2.0),
    bounds=((-2.0, 2.0), (-1.0, 3.0)),
    log_contours=True,
    steps=500,
    family_learning_rates={
        "gradient": 0.001,
        "adaptive": 0.1,
        "accumulator": 0.3,
        "rms_ratio": 10.0,
        "quasi_newton": 1.0,
    },
    learning_rate_overrides={
        "rmsprop": 0.01,
        "radam": 0.01,
        "lion": 0.01,
        "lars": 10.0,
        "lookahead:adam": 0.1,
        "sam:adam": 0.1,
    },
)
"""Rosenbrock's banana valley: minimum 0 at (1, 1). Finding the valley is quick, following its
flat floor slow: gd crawls, the adaptive methods rescale the floor's tiny gradient."""

BEALE = Landscape(
    name="beale",
    formula="f(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
    value=_beale,
    gradient=_beale_grad,
    minima=((3.0, 0.5),),
    has_minimum=True,
    f_min=0.0,
    start=(1.0, 1.5),
    bounds=((-4.5, 4.5), (-4.5, 4.5)),
    log_contours=True,
    steps=500,
    family_learning_rates={
        "gradient": 0.01,
        "adaptive": 0.1,
        "accumulator": 0.5,
        "rms_ratio": 3.0,
        "quasi_newton": 1.0,
    },
    learning_rate_overrides={"radam": 0.01, "lars": 1.0, "lookahead:adam": 0.1, "sam:adam": 0.1},
)
"""Beale's function: minimum 0 at (3, 0.5), with steep walls and flat plateaus."""

SADDLE = Landscape(
    name="saddle",
    formula="f(x, y) = x^2 - y^2",
    value=_saddle,
    gradient=_saddle_grad,
    minima=((0.0, 0.0),),
    has_minimum=False,
    f_min=None,
    start=(-1.5, 0.001),
    bounds=((-2.0, 2.0), (-2.0, 4.0)),
    log_contours=False,
    steps=150,
    family_learning_rates={
        "gradient": 0.01,
        "adaptive": 0.01,
        "accumulator": 0.1,
        "rms_ratio": 1.0,
        "quasi_newton": 1.0,
    },
    learning_rate_overrides={"lars": 3.0, "lookahead:adam": 0.01, "sam:adam": 0.01},
)
"""A saddle: no minimum (f falls without bound along y); distances are to the saddle point
(0, 0). Started almost on the ridge y = 0, gd slides to the saddle and lingers there, while the
adaptive methods rescale the tiny y gradient and escape quickly."""

HIMMELBLAU = Landscape(
    name="himmelblau",
    formula="f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2",
    value=_himmelblau,
    gradient=_himmelblau_grad,
    minima=(
        (3.0, 2.0),
        (-2.805118086952745, 3.131312518250573),
        (-3.779310253377747, -3.283185991286170),
        (3.584428340330492, -1.848126526964404),
    ),
    has_minimum=True,
    f_min=0.0,
    start=(-0.27, -0.9),
    bounds=((-5.0, 5.0), (-5.0, 5.0)),
    log_contours=True,
    steps=200,
    family_learning_rates={
        "gradient": 0.01,
        "adaptive": 0.05,
        "accumulator": 0.5,
        "rms_ratio": 1.0,
        "quasi_newton": 1.0,
    },
    learning_rate_overrides={"lars": 3.0, "lookahead:adam": 0.05, "sam:adam": 0.05},
)
"""Himmelblau's function: four minima, all 0; distances are to the nearest one. From next to
the local maximum near (-0.27, -0.92), different optimizers fall into different minima."""

LANDSCAPES: dict[str, Landscape] = {
    landscape.name: landscape for landscape in (QUADRATIC, ROSENBROCK, BEALE, SADDLE, HIMMELBLAU)
}


def names() -> list[str]:
    """The landscape names ``get`` accepts."""
    return list(LANDSCAPES)


def get(name: str) -> Landscape:
    """The landscape called ``name``; ``ValueError`` naming the choices otherwise."""
    try:
        return LANDSCAPES[name]
    except KeyError:
        raise ValueError(
            f"unknown function {name!r}; choose from: {', '.join(LANDSCAPES)}"
        ) from None


def noisy(landscape: Landscape, scale: float, seed: int = 0) -> NoisyLandscape:
    """``landscape`` with N(0, scale^2) noise added to each gradient coordinate, seeded."""
    if not np.isfinite(scale) or scale < 0:
        raise ValueError(f"noise scale must be a finite number >= 0, got {scale!r}")
    fields = {field.name: getattr(landscape, field.name) for field in dataclasses.fields(Landscape)}
    fields["name"] = f"{landscape.name} (noisy)"
    return NoisyLandscape(**fields, scale=float(scale), seed=seed, rng=np.random.default_rng(seed))


def default_learning_rate(landscape: Landscape, optimizer: str) -> float:
    """The learning rate ``optimizer`` uses on ``landscape`` unless told otherwise: its own
    override there, else its family's rate (``descentlab.optim.spec(optimizer).family``). A
    wrapper chain (``lookahead:sgd``) without an override of its own takes its innermost
    optimizer's rate: the rate is the inner optimizer's."""
    if optimizer in landscape.learning_rate_overrides:
        return landscape.learning_rate_overrides[optimizer]
    if ":" in optimizer:
        return default_learning_rate(landscape, optimizer.rpartition(":")[2])
    family = optim.spec(optimizer).family if optimizer in optim.names() else None
    if family is None or family not in landscape.family_learning_rates:
        raise ValueError(f"no default learning rate for {optimizer!r} on {landscape.name}")
    return landscape.family_learning_rates[family]


class Trajectory(NamedTuple):
    """One optimizer's path: ``path[t]`` is the point after t updates (``path[0]`` the start)."""

    optimizer: str
    hyperparameters: Mapping[str, float | bool | str]
    path: np.ndarray
    """Shape (steps_run + 1, 2); a diverged path ends at its last point inside the limit."""
    values: np.ndarray
    """f along the path, shape (steps_run + 1,)."""
    distances: np.ndarray
    """Distance to the nearest minimum (the saddle point) along the path."""
    status: str
    """"finished", or "diverged" when a step left the finite region |x|, |y| <= 1e6."""
    diverged_step: int | None
    steps_to_tolerance: int | None
    """The first t with distances[t] <= tolerance, or None."""

    @property
    def final_point(self) -> np.ndarray:
        return self.path[-1]

    @property
    def final_value(self) -> float:
        return float(self.values[-1])

    @property
    def final_distance(self) -> float:
        return float(self.distances[-1])


def parse_start(text: str) -> tuple[float, float]:
    """ "X,Y" -> (x, y), two finite numbers."""
    parts = text.split(",")
    message = f"start must be two numbers X,Y (e.g. -1.5,2), got {text!r}"
    if len(parts) != 2:
        raise ValueError(message)
    try:
        x, y = (float(part) for part in parts)
    except ValueError:
        raise ValueError(message) from None
    if not (np.isfinite(x) and np.isfinite(y)):
        raise ValueError(message)
    return x, y


def check_start(landscape: Landscape, start: tuple[float, float]) -> tuple[float, float]:
    """``start`` if f and its exact gradient are finite there (a path must begin somewhere
    it can be drawn and recorded); ``ValueError`` naming the start and the value otherwise."""
    point = np.asarray(start, dtype=np.float64)
    with np.errstate(all="ignore"):
        value = float(landscape.f(point))
        slope = landscape.grad(point)
    if not (np.isfinite(value) and np.all(np.isfinite(slope))):
        x, y = start
        shown = value if not np.isfinite(value) else slope.tolist()
        raise ValueError(
            f"start {x!r},{y!r} is too far out for {landscape.name}: f or its gradient is not "
            f"finite there ({shown}); choose a start where both are, e.g. within the view "
            f"x in {list(landscape.bounds[0])}, y in {list(landscape.bounds[1])}"
        )
    return start


def run_trajectory(
    landscape: Landscape,
    optimizer: Optimizer,
    start: Sequence[float],
    steps: int,
    *,
    tolerance: float = TOLERANCE,
    progress: Callable[[int], None] | None = None,
) -> Trajectory:
    """Move ``start`` with ``optimizer`` for ``steps`` updates on ``landscape``; ``progress``
    receives the number of steps taken, every ``PROGRESS_EVERY`` steps and at the end.

    Each step is what a network's training step is: g = grad(x); (u, state) =
    update(g, state, x); x = apply_updates(x, u), the optimizer given the value and the
    gradient at points it names if it needs them (``optim.drive``). The path records the
    weights the optimizer reports (``optim.base.reported_params``: x itself for most,
    schedule-free's average, ASGD's average), as a network's evaluation uses them. A point has
    no layers: an optimizer that needs a layout gets one vector (``Layout.vector``). A noisy
    landscape starts its noise over
    (``Landscape.fresh``). A step whose point is not finite or leaves |x|, |y| <= 1e6 stops
    the path as diverged (that point is not recorded); no numpy warning escapes.
    """
    if steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps}")
    landscape = landscape.fresh()
    point = np.asarray(start, dtype=np.float64).reshape(2)
    if not np.isfinite(point).all():
        raise ValueError(f"start must be finite, got {tuple(point)}")
    points = [point]
    status, diverged_step = "finished", None

    def value_and_grad(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return landscape.f(points)[..., np.newaxis], landscape.grad(points)

    with np.errstate(all="ignore"):
        state = drive.start(optimizer, point)
        for step in range(1, steps + 1):
            point, state, _ = drive.step(optimizer, state, point, value_and_grad)
            shown = reported_params(optimizer, state, point)
            if not (np.isfinite(shown).all() and np.abs(shown).max() <= DIVERGENCE_LIMIT):
                status, diverged_step = "diverged", step
                break
            points.append(shown)
            if progress is not None and step % PROGRESS_EVERY == 0:
                progress(PROGRESS_EVERY)
        if progress is not None:
            progress(steps - (len(points) - 1) // PROGRESS_EVERY * PROGRESS_EVERY)
        path = np.stack(points)
        values = landscape.f(path)
        distances = landscape.distance_to_minimum(path)
    within = np.flatnonzero(distances <= tolerance)
    return Trajectory(
        optimizer=optimizer.name,
        hyperparameters=dict(optimizer.hyperparameters),
        path=path,
        values=values,
        distances=distances,
        status=status,
        diverged_step=diverged_step,
        steps_to_tolerance=int(within[0]) if within.size else None,
    )


def run_trajectories(
    landscape: Landscape,
    optimizers: Sequence[Optimizer],
    start: Sequence[float],
    steps: int,
    *,
    tolerance: float = TOLERANCE,
    progress: Callable[[int], None] | None = None,
) -> list[Trajectory]:
    """Every optimizer from the same start for the same number of steps (and, on a noisy
    landscape, the same noise); ``progress`` receives steps as they are taken (a diverged
    path counts its remaining steps when it stops)."""
    return [
        run_trajectory(landscape, optimizer, start, steps, tolerance=tolerance, progress=progress)
        for optimizer in optimizers
    ]


PROGRESS_EVERY = 1000
"""``run_trajectory`` reports its progress every 1000 steps."""


def subsample(path: np.ndarray, max_points: int = 200) -> tuple[list[int], np.ndarray]:
    """At most ``max_points`` evenly spaced rows of ``path``, first and last included, with
    their step numbers."""
    n = len(path)
    if n <= max_points:
        index = np.arange(n)
    else:
        index = np.unique(np.linspace(0, n - 1, max_points).round().astype(np.intp))
    return [int(i) for i in index], path[index]
