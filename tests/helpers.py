"""Small helpers shared by the tests."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from descentlab import optim
from descentlab.compiled import TOLERANCE
from descentlab.optim import drive, registry
from descentlab.train import StackResult


def global_random_state() -> tuple[Any, ...]:
    """numpy's whole legacy global RandomState (key, position, cached gaussian), copied, to
    check that code never draws from it."""
    kind, key, position, has_gauss, cached = np.random.get_state()  # noqa: NPY002 (reading it is the point)
    return kind, key.copy(), position, has_gauss, cached


def assert_same_random_state(before: tuple[Any, ...], after: tuple[Any, ...]) -> None:
    assert before[0] == after[0] and before[2:] == after[2:]
    np.testing.assert_array_equal(before[1], after[1])


def linear_objective(gradient: np.ndarray) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``value_and_grad`` of f(x) = sum(gradient * x), one value per run: its gradient is
    ``gradient`` at every point, so an optimizer fed this stream of gradients sees the same
    numbers whether it asks for more evaluations (SAM, L-BFGS) or not."""

    def value_and_grad(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        values = np.sum(gradient * points, axis=-1, keepdims=True)
        return values, np.broadcast_to(gradient, points.shape).astype(points.dtype)

    return value_and_grad


def update_on(
    opt: optim.Optimizer, gradient: np.ndarray, state: Any, params: np.ndarray
) -> tuple[np.ndarray, Any]:
    """``opt.update(gradient, state, params)`` with whatever else ``opt`` needs
    (``optim.drive.extras``), on ``linear_objective(gradient)``."""
    objective = linear_objective(gradient)
    value = objective(params)[0]
    return opt.update(gradient, state, params, **drive.extras(opt, params, value, objective))


def run_on_gradients(
    opt: optim.Optimizer, params: np.ndarray, gradients: Iterable[np.ndarray]
) -> np.ndarray:
    """``params`` after one update per gradient of ``gradients`` (``update_on``)."""
    state = drive.start(opt, params)
    for gradient in gradients:
        updates, state = update_on(opt, gradient, state, params)
        params = optim.apply_updates(params, updates)
    return params


def tree_copy(state: Any) -> Any:
    """A deep copy of an optimizer state's arrays (wrapped states included)."""
    if isinstance(state, tuple):
        return type(state)(*(tree_copy(leaf) for leaf in state))
    return np.copy(state) if isinstance(state, np.ndarray) else state


def tree_equal(first: Any, second: Any) -> bool:
    """Whether two optimizer states hold the same values, bit for bit."""
    if isinstance(first, tuple) and isinstance(second, tuple):
        return type(first) is type(second) and all(
            tree_equal(a, b) for a, b in zip(first, second, strict=True)
        )
    if isinstance(first, np.ndarray) or isinstance(second, np.ndarray):
        return np.array_equal(first, second)
    return bool(first == second)


def full_batch(name: str) -> bool:
    """Whether optimizer ``name`` (a wrapper's innermost included) refuses mini-batches."""
    return any("full_batch" in part.needs for part in registry.chain(name))


def mini_batch_names(command: str | None = None) -> list[str]:
    """``optim.runnable_names(command)`` without the full-batch optimizers (L-BFGS)."""
    return [name for name in optim.runnable_names(command) if not full_batch(name)]


def final_params_on_the_gradient_stream(
    fixture: dict[str, Any], case: dict[str, Any]
) -> np.ndarray:
    """The parameters descentlab's optimizer of ``case`` reaches on a reference fixture's
    stream: from ``default_rng(initial_params_seed).standard_normal(shape)``, one update per
    gradient of ``default_rng(gradient_seed).standard_normal((steps, *shape))``, each gradient
    plus ``case["gradient_l2"]`` times the parameters when the case sets it (torch's coupled
    weight_decay, by hand). Its state must have counted every step."""
    shape = tuple(fixture["shape"])
    gradients = np.random.default_rng(fixture["gradient_seed"]).standard_normal(
        (fixture["steps"], *shape)
    )
    params = np.random.default_rng(fixture["initial_params_seed"]).standard_normal(shape)
    opt = optim.get(case["optimizer"], **case["hyperparameters"])
    gradient_l2 = case.get("gradient_l2", 0.0)
    state = drive.start(opt, params)
    for gradient in gradients:
        if gradient_l2:
            gradient = gradient + gradient_l2 * params
        updates, state = update_on(opt, gradient, state, params)
        params = optim.apply_updates(params, updates)
    assert state.step == fixture["steps"]
    return params


def relative_difference(compiled: np.ndarray, numpy: np.ndarray) -> float:
    """max |compiled - numpy| / max |numpy| (0 for equal arrays)."""
    scale = float(np.max(np.abs(numpy)))
    return float(np.max(np.abs(compiled - numpy))) / scale if scale else 0.0


def assert_engines_agree(
    compiled: StackResult, numpy: StackResult, tolerance: float = TOLERANCE
) -> None:
    """The same stack trained by each engine: every run's epoch costs, mini-batch costs and
    final parameters within ``tolerance`` (``relative_difference``; by default the engine's
    stated ``descentlab.compiled.TOLERANCE``), the same divergence epochs."""
    assert (compiled.engine, numpy.engine) == ("compiled", "numpy")
    for run, (a, b) in enumerate(zip(compiled.histories, numpy.histories, strict=True)):
        pairs = [
            (a.epoch_costs, b.epoch_costs),
            (a.minibatch_costs, b.minibatch_costs),
            (compiled.params[run], numpy.params[run]),
        ]
        for first, second in pairs:
            assert first.shape == second.shape
            assert relative_difference(first, second) <= tolerance, run
    assert compiled.diverged_epochs == numpy.diverged_epochs
