from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from descentlab import optim
from descentlab.optim import drive
from helpers import run_on_gradients, tree_copy, tree_equal, update_on

OPTIMIZERS_UNDER_TEST: list[tuple[str, dict[str, Any]]] = [
    ("gd", {"learning_rate": 0.1}),
    ("momentum", {"learning_rate": 0.1, "beta": 0.9}),
    ("sgd", {"learning_rate": 0.1}),
    ("sgd", {"learning_rate": 0.05, "momentum": 0.9}),
    ("sgd", {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True}),
    ("sgd", {"learning_rate": 0.05, "momentum": 0.9, "dampening": 0.5, "weight_decay": 0.01}),
    ("rmsprop", {"learning_rate": 0.01}),
    (
        "rmsprop",
        {"learning_rate": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.01},
    ),
    ("adagrad", {"learning_rate": 0.5}),
    (
        "adagrad",
        {
            "learning_rate": 0.5,
            "lr_decay": 0.01,
            "initial_accumulator_value": 0.1,
            "weight_decay": 0.01,
        },
    ),
    ("adam", {"learning_rate": 0.1}),
    ("adam", {"learning_rate": 0.1, "eps_inside_sqrt": True}),
    ("adam", {"learning_rate": 0.1, "amsgrad": True, "weight_decay": 0.01}),
    ("adamw", {"learning_rate": 0.1}),
    ("adamw", {"learning_rate": 0.1, "amsgrad": True}),
    ("nadam", {"learning_rate": 0.1}),
    ("adamax", {"learning_rate": 0.1}),
    ("radam", {"learning_rate": 0.1}),
    ("radam", {"learning_rate": 0.1, "beta2": 0.6, "weight_decay": 0.01}),  # never rectified
    ("radam", {"learning_rate": 0.1, "weight_decay": 0.01, "decoupled_weight_decay": True}),
    ("adadelta", {"learning_rate": 10.0}),  # at 1.0 its growing steps need more than 200
    ("adadelta", {"learning_rate": 10.0, "rho": 0.95, "epsilon": 1e-4, "weight_decay": 0.01}),
    ("rprop", {"learning_rate": 0.1}),
    (
        "rprop",
        {
            "learning_rate": 0.01,
            "etaminus": 0.3,
            "etaplus": 1.5,
            "step_size_min": 1e-4,
            "step_size_max": 1.0,
        },
    ),
    ("lion", {"learning_rate": 0.05}),
    ("lion", {"learning_rate": 0.05, "beta1": 0.8, "beta2": 0.9, "weight_decay": 0.0}),
    ("adabelief", {"learning_rate": 0.1}),
    ("adabelief", {"learning_rate": 0.1, "nesterov": True, "epsilon": 1e-8, "epsilon_root": 0.0}),
    ("yogi", {"learning_rate": 0.1}),
    ("yogi", {"learning_rate": 0.1, "initial_accumulator_value": 0.0, "beta1": 0.5}),
    ("adan", {"learning_rate": 0.1}),
    ("adan", {"learning_rate": 0.1, "weight_decay": 0.01}),
    ("adan", {"learning_rate": 0.1, "weight_decay": 0.01, "weight_decouple": True}),
    ("lamb", {"learning_rate": 0.1}),
    ("lamb", {"learning_rate": 0.1, "beta1": 0.8, "epsilon_root": 1e-8, "weight_decay": 0.01}),
    ("lars", {"learning_rate": 10.0}),  # steps of lr * 1e-3 * |x|: rates near 10 on |x|^2
    ("lars", {"learning_rate": 3.0, "trust_coefficient": 0.01, "nesterov": True, "epsilon": 1e-8}),
    ("adafactor", {"learning_rate": 0.1}),
    ("adafactor", {"learning_rate": 0.1, "beta2_decay": -0.5, "d": 2.0, "weight_decay": 0.01}),
    ("lbfgs", {"learning_rate": 1.0}),
    ("lbfgs", {"learning_rate": 0.5, "max_iter": 4, "history_size": 2, "tolerance_change": 1e-6}),
    # a wrapper runs around an inner optimizer (WRAPPER:INNER): it is listed by its own name
    ("lookahead:adam", {"learning_rate": 0.1}),
    ("lookahead:sgd", {"learning_rate": 0.05, "momentum": 0.9, "sync_period": 3}),
    ("sam:sgd", {"learning_rate": 0.05}),
    ("sam:adam", {"learning_rate": 0.1, "radius": 0.1, "adaptive": True}),
    ("lookahead:sam:adam", {"learning_rate": 0.1, "slow_step_size": 0.8}),
    ("prodigy", {"learning_rate": 1.0}),
    ("prodigy", {"learning_rate": 1.0, "weight_decay": 0.01, "bias_correction": True}),
    ("muon", {"learning_rate": 0.1}),  # a plain vector has no hidden matrix: its AdamW
    ("muon", {"learning_rate": 0.1, "adam_lr_ratio": 0.5, "adam_weight_decay": 0.0}),
    ("asgd", {"learning_rate": 0.1}),
    ("asgd", {"learning_rate": 0.1, "lambd": 0.01, "alpha": 0.5, "t0": 2.0, "weight_decay": 0.01}),
    ("schedule_free_adamw", {"learning_rate": 0.1}),
    (
        "schedule_free_adamw",
        {"learning_rate": 0.1, "warmup_steps": 5, "beta1": 0.5, "weight_decay": 0.01},
    ),
    ("schedule_free_sgd", {"learning_rate": 0.1}),
    (
        "schedule_free_sgd",
        {"learning_rate": 0.1, "warmup_steps": 5, "beta1": 0.95, "weight_lr_power": 1.0},
    ),
]

SCALAR_STATE_FIELDS = {"step", "mu_product", "eta", "average_weight", "weight_sum", "max_lr"}
"""State fields that are one number per run, not one per parameter."""

OTHER_SHAPED_STATE_FIELDS: set[str] = {
    *("row", "col", "variance"),  # adafactor's factors
    # lbfgs: its history (..., history_size, n) and (..., history_size), and one per run
    *("old_dirs", "old_stps", "ro"),
    *("n_iter", "func_evals", "t", "start", "held", "H_diag", "prev_loss"),
}
OTHER_SHAPED_STATE_FIELDS |= {"d", "numerator"}  # prodigy's estimate, one per run
OTHER_SHAPED_STATE_FIELDS |= {"momentum_buffer", "adam_mu", "adam_nu"}  # muon's two parts
"""State fields whose arrays are not shaped as the parameters (histories, per-layer factors):
they keep the shape ``init`` gave them."""

COUNTER_STATE_FIELDS = {"n_iter", "func_evals", "start", "held"}
"""State arrays of integers (lbfgs's counts and ring-buffer positions, one per run): int64
whatever the parameters' dtype."""


def _inverse_time(lr0: float, every: int) -> Callable[[int], float]:
    return lambda step: lr0 / (1 + step / every)


def _after(steps: int, first: float, then: Callable[[int], float]) -> Callable[[int], float]:
    """``first`` for the first ``steps`` updates, then ``then``."""
    return lambda step: first if step < steps else then(step)


ROSENBROCK_SETTINGS: dict[str, tuple[dict[str, Any], int]] = {
    # name: (hyperparameters, steps). Each stays within 1e-3 of (1, 1) for at least its last
    # fifth of steps. At a constant rate the adaptive ones circle the minimum, so they decay it.
    "gd": ({"learning_rate": 0.0015}, 15000),
    "momentum": ({"learning_rate": 0.005, "beta": 0.9}, 5000),
    "sgd": ({"learning_rate": 0.001, "momentum": 0.9, "nesterov": True}, 2500),
    "rmsprop": ({"learning_rate": _inverse_time(0.002, 500), "momentum": 0.9}, 2000),
    "adagrad": ({"learning_rate": 1.0}, 17000),
    "adam": ({"learning_rate": _inverse_time(0.05, 500)}, 5000),
    # decoupled decay moves the minimum away from (1, 1), so none here
    "adamw": ({"learning_rate": _inverse_time(0.05, 500), "weight_decay": 0.0}, 5000),
    "nadam": ({"learning_rate": _inverse_time(0.05, 200)}, 9000),
    "adamax": ({"learning_rate": _inverse_time(0.1, 500)}, 6000),
    # radam's first 5 steps are lr times the raw gradient (about 155 here): a small rate there
    "radam": ({"learning_rate": _after(5, 0.0005, _inverse_time(0.05, 500))}, 6000),
    "adadelta": ({"learning_rate": _inverse_time(1.0, 300)}, 20000),
    # at the default step_size_min = 1e-6 its steps bottom out 8.6e-4 from the minimum
    "rprop": ({"learning_rate": 0.01, "step_size_min": 1e-9}, 6000),
    # decoupled decay moves the minimum away from (1, 1), so none here
    "lion": ({"learning_rate": _inverse_time(0.01, 100), "weight_decay": 0.0}, 6000),
    "adabelief": ({"learning_rate": _inverse_time(0.05, 500)}, 5000),
    "yogi": ({"learning_rate": _inverse_time(0.1, 1000)}, 6000),
    "adan": ({"learning_rate": _inverse_time(0.05, 500)}, 5000),
    # lamb, lars and adafactor step a fraction of |x| (about 1.4 here) whatever the gradient:
    # they circle the minimum at that distance until the rate has decayed far enough
    "lamb": ({"learning_rate": _inverse_time(0.05, 100)}, 20000),
    "lars": ({"learning_rate": _inverse_time(10.0, 100)}, 3000),
    "adafactor": ({"learning_rate": _inverse_time(0.1, 100)}, 20000),
    "lbfgs": ({"learning_rate": 1.0}, 50),  # within 1e-3 after 5 updates (of 20 iterations)
    "lookahead:adam": ({"learning_rate": _inverse_time(0.05, 500)}, 5000),
    # SAM circles the minimum at about its radius's distance (its perturbation never shrinks)
    "sam:adam": ({"learning_rate": _inverse_time(0.05, 500), "radius": 1e-4}, 5000),
    "prodigy": ({"learning_rate": _inverse_time(1.0, 500)}, 5000),
    # a plain vector is all AdamW's; decoupled decay moves the minimum, so none here
    "muon": ({"learning_rate": _inverse_time(0.05, 500), "adam_weight_decay": 0.0}, 5000),
    # its decay lambd W moves the minimum away from (1, 1), so none here
    "asgd": ({"learning_rate": 0.0015, "lambd": 0.0}, 15000),
    # schedule-free reports x, the average of every z since the start (weights max_lr^p), which
    # forgets the start as 1/t; a warmup over the whole run with a large weight_lr_power weights
    # it towards the last steps instead
    "schedule_free_adamw": (
        {"learning_rate": 0.01, "warmup_steps": 20000, "weight_lr_power": 16.0},
        20000,
    ),
    "schedule_free_sgd": (
        {"learning_rate": 0.0015, "beta1": 0.5, "warmup_steps": 30000, "weight_lr_power": 12.0},
        30000,
    ),
}


def _gradients(steps: int, shape: tuple[int, ...] = (3, 4)) -> list[np.ndarray]:
    rng = np.random.default_rng(42)
    return [rng.normal(size=shape) for _ in range(steps)]


_run = run_on_gradients


@pytest.mark.exact
def test_gd_recomputed_by_hand() -> None:
    params = np.ones((3, 4))
    grads = _gradients(3)
    expected = params.copy()
    for g in grads:
        expected = expected - 0.05 * g
    assert np.array_equal(_run(optim.gd(0.05), params, grads), expected)


@pytest.mark.exact
def test_momentum_recomputed_by_hand() -> None:
    params = np.ones((3, 4))
    grads = _gradients(4)
    v = np.zeros_like(params)
    expected = params.copy()
    for g in grads:
        v = 0.8 * v + (1 - 0.8) * g
        expected = expected - 0.05 * v
    assert np.array_equal(_run(optim.momentum(0.05, beta=0.8), params, grads), expected)


@pytest.mark.exact
@pytest.mark.parametrize("inside", [False, True])
def test_adam_recomputed_by_hand(inside: bool) -> None:
    # Computed the way the course does, which is the reference this test stands for: the bias
    # correction is the scalar call np.power(beta, t), not Python's beta ** t (on AVX-512 CPUs
    # the two differ in the last bit for about 5 % of (beta, t) pairs).
    params = np.ones((3, 4))
    grads = _gradients(5)
    v = np.zeros_like(params)
    s = np.zeros_like(params)
    expected = params.copy()
    b1, b2, eps, lr = 0.8, 0.99, 1e-3, 0.01
    for t, g in enumerate(grads, start=1):
        v = b1 * v + (1 - b1) * g
        s = b2 * s + (1 - b2) * np.power(g, 2)
        v_hat = v / (1 - np.power(b1, t))
        s_hat = s / (1 - np.power(b2, t))
        denominator = np.sqrt(s_hat + eps) if inside else np.sqrt(s_hat) + eps
        expected = expected - lr * v_hat / denominator
    opt = optim.adam(lr, beta1=b1, beta2=b2, epsilon=eps, eps_inside_sqrt=inside)
    assert np.array_equal(_run(opt, params, grads), expected)


def test_adam_step_count_increments_once_per_update() -> None:
    opt = optim.adam(0.1)
    state = opt.init(np.zeros(2))
    assert state.step == 0
    for expected in (1, 2, 3):
        _, state = opt.update(np.ones(2), state, None)
        assert state.step == expected


def test_adam_first_step_is_learning_rate_times_sign() -> None:
    # With bias correction the first step is lr * g / (|g| + eps): about lr per coordinate.
    updates, _ = optim.adam(0.01).update(
        np.array([3.0, -0.5]), optim.adam(0.01).init(np.zeros(2)), None
    )
    np.testing.assert_allclose(updates, [-0.01, 0.01], rtol=1e-7)


def test_sgd_without_momentum_is_gd_and_ignores_dampening() -> None:
    # torch skips the buffer when momentum is 0, so dampening has no effect there.
    params = np.ones((3, 4))
    grads = _gradients(4)
    expected = _run(optim.gd(0.05), params, grads)
    assert np.array_equal(_run(optim.sgd(0.05), params, grads), expected)
    assert np.array_equal(_run(optim.sgd(0.05, dampening=0.5), params, grads), expected)


@pytest.mark.exact
def test_sgd_recomputed_by_hand() -> None:
    params = np.ones((3, 4))
    grads = _gradients(4)
    lr, m, d, wd = 0.05, 0.8, 0.25, 0.1
    expected = params.copy()
    buffer = np.zeros_like(params)
    for t, g in enumerate(grads):
        g = g + wd * expected
        buffer = g.copy() if t == 0 else m * buffer + (1 - d) * g
        expected = expected - lr * buffer
    opt = optim.sgd(lr, momentum=m, dampening=d, weight_decay=wd)
    np.testing.assert_allclose(_run(opt, params, grads), expected, rtol=1e-15, atol=0)


@pytest.mark.exact
def test_adamw_without_decay_is_adam_bit_for_bit() -> None:
    params = np.ones((3, 4))
    grads = _gradients(5)
    expected = _run(optim.adam(0.01), params, grads)
    assert np.array_equal(_run(optim.adamw(0.01, weight_decay=0.0), params, grads), expected)
    assert np.array_equal(_run(optim.adam(0.01, weight_decay=0.0), params, grads), expected)


def test_weight_decay_needs_the_parameters() -> None:
    opt = optim.sgd(0.1, weight_decay=0.5)
    with pytest.raises(ValueError, match=r"sgd with weight_decay=0.5 needs the parameters"):
        opt.update(np.ones(2), opt.init(np.zeros(2)), None)
    adamw = optim.adamw(0.1)
    with pytest.raises(ValueError, match=r"adamw with weight_decay=0.01 needs the parameters"):
        adamw.update(np.ones(2), adamw.init(np.zeros(2)), None)


def test_amsgrad_from_a_state_built_without_a_maximum() -> None:
    # course.py builds AdamState(step, mu, nu) by hand; amsgrad then starts its maximum at nu.
    opt = optim.adam(0.1, amsgrad=True)
    state = optim.AdamState(step=0, mu=np.zeros(2), nu=np.zeros(2))
    updates, state = opt.update(np.array([1.0, -2.0]), state, np.zeros(2))
    assert np.array_equal(state.nu_max, state.nu)
    np.testing.assert_allclose(updates, [-0.1, 0.1], rtol=1e-7)


def _outermost(name: str) -> str:
    """A wrapper chain counts for its outermost wrapper (lookahead:adam for lookahead)."""
    return name.split(":")[0]


def test_every_optimizer_is_under_test() -> None:
    assert {_outermost(name) for name, _ in OPTIMIZERS_UNDER_TEST} == set(optim.names())
    assert {_outermost(name) for name in ROSENBROCK_SETTINGS} == set(optim.names())
    assert {_outermost(name) for name in CONTRACT} == set(optim.names())


@pytest.mark.parametrize(("name", "kwargs"), OPTIMIZERS_UNDER_TEST)
def test_goes_downhill_on_a_quadratic(name: str, kwargs: dict[str, Any]) -> None:
    opt = optim.get(name, **kwargs)
    params = np.array([3.0, -2.0])
    state = drive.start(opt, params)
    for _ in range(200):
        params, state, _ = drive.step(opt, state, params, _squared_norm)
    weights = optim.reported_params(opt, state, params)
    assert float(weights @ weights) < 0.1 * 13.0


def _squared_norm(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f = |x|^2 and its gradient 2x."""
    return np.sum(points * points, axis=-1, keepdims=True), 2 * points


def _rosenbrock(params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(1 - x)^2 + 100 (y - x^2)^2, whose minimum is (1, 1), and its gradient."""
    x, y = params
    value = np.array([(1 - x) ** 2 + 100 * (y - x * x) ** 2])
    return value, np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


@pytest.mark.parametrize("name", list(ROSENBROCK_SETTINGS))
def test_reaches_the_rosenbrock_minimum(name: str) -> None:
    kwargs, steps = ROSENBROCK_SETTINGS[name]
    opt = optim.get(name, **kwargs)
    params = np.array([-1.5, 2.0])
    state = drive.start(opt, params)
    for _ in range(steps):
        params, state, _ = drive.step(opt, state, params, _rosenbrock)
    weights = optim.reported_params(opt, state, params)
    assert np.linalg.norm(weights - np.array([1.0, 1.0])) < 1e-3


@pytest.mark.exact
@pytest.mark.parametrize(("name", "kwargs"), OPTIMIZERS_UNDER_TEST)
def test_pure_deterministic_and_shape_preserving(name: str, kwargs: dict[str, Any]) -> None:
    opt = optim.get(name, **kwargs)
    params = np.ones((2, 3))
    grad = np.full((2, 3), 0.5)
    state = drive.start(opt, params)
    state = update_on(opt, grad, state, params)[1]  # past the first step, where sgd differs
    frozen = tree_copy(state)
    first = update_on(opt, grad, state, params)
    second = update_on(opt, grad, state, params)
    assert np.array_equal(first[0], second[0])  # same inputs, same outputs
    assert tree_equal(frozen, state)  # the old state is not mutated
    new_state = first[1]
    assert type(new_state) is type(state)
    assert new_state.step == state.step + 1
    _check_state_shapes(state, new_state, params.shape)
    assert first[0].shape == params.shape


def _check_state_shapes(state: Any, new_state: Any, shape: tuple[int, ...]) -> None:
    """Every field keeps its kind: a number stays a number, an array keeps the parameters'
    shape (or, for ``OTHER_SHAPED_STATE_FIELDS``, its own), a wrapped optimizer's state is
    checked the same way."""
    for field, old, new in zip(state._fields, state, new_state, strict=True):
        if isinstance(old, tuple):
            assert type(new) is type(old), field
            _check_state_shapes(old, new, shape)
        elif field in SCALAR_STATE_FIELDS:
            assert np.ndim(new) == 0
        elif old is None:
            assert new is None  # an unused optional field (adam's nu_max without amsgrad)
        elif field in OTHER_SHAPED_STATE_FIELDS:
            assert new.shape == old.shape, field
        else:
            assert new.shape == shape, field


@pytest.mark.exact
@pytest.mark.parametrize(("name", "kwargs"), OPTIMIZERS_UNDER_TEST)
def test_stacked_runs_equal_separate_runs(name: str, kwargs: dict[str, Any]) -> None:
    # Two runs stacked on a leading axis, each with its own learning rate (a schedule that
    # returns one rate per run broadcasts against the (2, 5) parameters).
    rates = np.array([[kwargs["learning_rate"]], [kwargs["learning_rate"] / 2]])
    others = {key: value for key, value in kwargs.items() if key != "learning_rate"}
    grads = _gradients(6, shape=(2, 5))
    params = np.random.default_rng(7).normal(size=(2, 5))
    # rprop takes no schedule (its rate is its initial step size): the (2, 1) rates themselves
    per_run = rates if name == "rprop" else lambda step: rates
    stacked = _run(optim.get(name, learning_rate=per_run, **others), params, grads)
    for k in range(2):
        alone_opt = optim.get(name, learning_rate=float(rates[k, 0]), **others)
        alone = _run(alone_opt, params[k], [g[k] for g in grads])
        assert np.array_equal(stacked[k], alone)


def test_registry_names_and_get() -> None:
    assert optim.names()[:9] == [
        "gd",
        "momentum",
        "sgd",
        "rmsprop",
        "adagrad",
        "adam",
        "adamw",
        "nadam",
        "adamax",
    ]  # the nine classic optimizers first, then the newer ones (test_registry.py)
    assert optim.names() == list(optim.registry.REGISTRY)
    assert optim.get("momentum", learning_rate=0.1, beta=0.5).hyperparameters == {
        "learning_rate": 0.1,
        "beta": 0.5,
    }


CONTRACT = {
    "gd": {},
    "momentum": {"beta": 0.9},
    "sgd": {"momentum": 0.0, "dampening": 0.0, "nesterov": False, "weight_decay": 0.0},
    "rmsprop": {
        "rho": 0.99,
        "epsilon": 1e-8,
        "momentum": 0.0,
        "centered": False,
        "weight_decay": 0.0,
    },
    "adagrad": {
        "epsilon": 1e-10,
        "initial_accumulator_value": 0.0,
        "lr_decay": 0.0,
        "weight_decay": 0.0,
    },
    "adam": {
        "beta1": 0.9,
        "beta2": 0.999,
        "epsilon": 1e-8,
        "amsgrad": False,
        "weight_decay": 0.0,
        "eps_inside_sqrt": False,
    },
    "adamw": {
        "beta1": 0.9,
        "beta2": 0.999,
        "epsilon": 1e-8,
        "weight_decay": 0.01,
        "amsgrad": False,
    },
    "nadam": {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "momentum_decay": 0.004},
    "adamax": {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
    "radam": {
        "beta1": 0.9,
        "beta2": 0.999,
        "epsilon": 1e-8,
        "weight_decay": 0.0,
        "decoupled_weight_decay": False,
    },
    "adadelta": {"rho": 0.9, "epsilon": 1e-6, "weight_decay": 0.0},
    "rprop": {"etaminus": 0.5, "etaplus": 1.2, "step_size_min": 1e-6, "step_size_max": 50.0},
    "lion": {"beta1": 0.9, "beta2": 0.99, "weight_decay": 1e-3},
    "adabelief": {
        "beta1": 0.9,
        "beta2": 0.999,
        "epsilon": 1e-16,
        "epsilon_root": 1e-16,
        "nesterov": False,
    },
    "yogi": {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-3, "initial_accumulator_value": 1e-6},
    "adan": {
        "beta1": 0.98,
        "beta2": 0.92,
        "beta3": 0.99,
        "epsilon": 1e-8,
        "weight_decay": 0.0,
        "weight_decouple": False,
    },
    "lamb": {
        "beta1": 0.9,
        "beta2": 0.999,
        "epsilon": 1e-6,
        "epsilon_root": 0.0,
        "weight_decay": 0.0,
    },
    "lars": {
        "weight_decay": 0.0,
        "trust_coefficient": 0.001,
        "epsilon": 0.0,
        "momentum": 0.9,
        "nesterov": False,
    },
    "adafactor": {
        "beta2_decay": -0.8,
        "epsilon1": 0.0,
        "epsilon2": 1e-3,
        "d": 1.0,
        "weight_decay": 0.0,
    },
    "lbfgs": {
        "max_iter": 20,
        "max_eval": 0,
        "tolerance_grad": 1e-7,
        "tolerance_change": 1e-9,
        "history_size": 100,
        "strong_wolfe": False,
    },
    "lookahead:sgd": {
        "momentum": 0.0,
        "dampening": 0.0,
        "nesterov": False,
        "weight_decay": 0.0,
        "sync_period": 5,
        "slow_step_size": 0.5,
    },
    "sam:gd": {"radius": 0.05, "adaptive": False},
    "prodigy": {
        "beta1": 0.9,
        "beta2": 0.999,
        "beta3": 0.999**0.5,
        "epsilon": 1e-8,
        "d0": 1e-6,
        "d_coef": 1.0,
        "weight_decay": 0.0,
        "bias_correction": False,
        "safeguard_warmup": False,
    },
    "muon": {
        "momentum": 0.95,
        "nesterov": True,
        "weight_decay": 0.1,
        "ns_a": 3.4445,
        "ns_b": -4.775,
        "ns_c": 2.0315,
        "epsilon": 1e-7,
        "ns_steps": 5,
        "match_rms_adamw": False,
        "adam_lr_ratio": 1.0,
        "adam_beta1": 0.9,
        "adam_beta2": 0.999,
        "adam_epsilon": 1e-8,
        "adam_weight_decay": 0.01,
    },
    "asgd": {"lambd": 1e-4, "alpha": 0.75, "t0": 1e6, "weight_decay": 0.0},
    "schedule_free_adamw": {
        "warmup_steps": 0,
        "beta1": 0.9,
        "beta2": 0.999,
        "epsilon": 1e-8,
        "weight_decay": 0.0,
        "weight_lr_power": 2.0,
    },
    "schedule_free_sgd": {
        "warmup_steps": 0,
        "beta1": 0.9,
        "weight_decay": 0.0,
        "weight_lr_power": 2.0,
    },
}
"""Every factory's keywords after learning_rate, in order, with their defaults (a wrapper's
after its inner optimizer's)."""


@pytest.mark.parametrize("name", list(CONTRACT))
def test_keywords_and_defaults_are_the_contract(name: str) -> None:
    assert optim.hyperparameter_names(name) == ["learning_rate", *CONTRACT[name]]
    parameters = inspect.signature(optim.spec(name).factory).parameters
    defaults = {key: p.default for key, p in parameters.items() if key != "learning_rate"}
    assert defaults == CONTRACT[name]
    assert parameters["learning_rate"].default is inspect.Parameter.empty
    recorded = optim.get(name, learning_rate=0.1).hyperparameters
    assert recorded == {"learning_rate": 0.1, **CONTRACT[name]}


@pytest.mark.parametrize("name", list(CONTRACT))
def test_unknown_keyword_is_rejected_by_get(name: str) -> None:
    with pytest.raises(ValueError, match=f"unknown hyperparameter 'rate' for optimizer '{name}'"):
        optim.get(name, learning_rate=0.1, rate=0.5)


LR = {"learning_rate": 0.1}


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("nesterov", LR, "unknown optimizer 'nesterov'; choose one of: gd"),
        ("gd", {**LR, "beta": 0.9}, "unknown hyperparameter 'beta' for optimizer"),
        ("adamax", {**LR, "weight_decay": 0.1}, "unknown hyperparameter 'weight_decay'"),
        ("gd", {}, "optimizer 'gd' needs a learning_rate"),
        ("gd", {"learning_rate": 0.0}, "learning_rate must be a finite number > 0, got 0.0"),
        ("gd", {"learning_rate": float("inf")}, "learning_rate must be a finite number > 0"),
        ("momentum", {**LR, "beta": 1.0}, r"beta must be a number in \[0, 1\)"),
        ("sgd", {"learning_rate": -0.1}, "learning_rate must be a finite number > 0, got -0.1"),
        ("sgd", {**LR, "momentum": 1.0}, r"momentum must be a number in \[0, 1\), got 1.0"),
        ("sgd", {**LR, "momentum": -0.5}, r"momentum must be a number in \[0, 1\), got -0.5"),
        ("sgd", {**LR, "dampening": 1.5}, r"dampening must be a number in \[0, 1\], got 1.5"),
        ("sgd", {**LR, "nesterov": "yes"}, "nesterov must be True or False, got 'yes'"),
        (
            "sgd",
            {**LR, "nesterov": True},
            "nesterov=True needs momentum > 0 and dampening = 0, got momentum=0.0",
        ),
        (
            "sgd",
            {**LR, "momentum": 0.9, "dampening": 0.1, "nesterov": True},
            "nesterov=True needs momentum > 0 and dampening = 0, got momentum=0.9, dampening=0.1",
        ),
        ("sgd", {**LR, "weight_decay": -1}, "weight_decay must be a finite number >= 0, got -1"),
        ("rmsprop", {**LR, "rho": 1.0}, r"rho must be a number in \[0, 1\), got 1.0"),
        ("rmsprop", {**LR, "epsilon": -1e-8}, "epsilon must be a finite number >= 0, got -1e-08"),
        ("rmsprop", {**LR, "momentum": 1.0}, r"momentum must be a number in \[0, 1\), got 1.0"),
        ("rmsprop", {**LR, "centered": 1}, "centered must be True or False, got 1"),
        (
            "rmsprop",
            {**LR, "weight_decay": float("nan")},
            "weight_decay must be a finite number >= 0, got nan",
        ),
        ("adagrad", {**LR, "epsilon": -1.0}, "epsilon must be a finite number >= 0, got -1.0"),
        (
            "adagrad",
            {**LR, "initial_accumulator_value": -0.1},
            "initial_accumulator_value must be a finite number >= 0, got -0.1",
        ),
        ("adagrad", {**LR, "lr_decay": -0.01}, "lr_decay must be a finite number >= 0, got -0.01"),
        ("adagrad", {**LR, "weight_decay": -0.1}, "weight_decay must be a finite number >= 0"),
        ("adam", {**LR, "beta1": -0.1}, r"beta1 must be a number in \[0, 1\)"),
        ("adam", {**LR, "beta2": 1}, r"beta2 must be a number in \[0, 1\), got 1"),
        ("adam", {**LR, "epsilon": -1e-8}, "epsilon must be a finite number >= 0"),
        ("adam", {**LR, "amsgrad": "no"}, "amsgrad must be True or False, got 'no'"),
        ("adam", {**LR, "weight_decay": -0.1}, "weight_decay must be a finite number >= 0"),
        ("adam", {**LR, "eps_inside_sqrt": None}, "eps_inside_sqrt must be True or False"),
        ("adamw", {**LR, "beta1": 1.0}, r"beta1 must be a number in \[0, 1\), got 1.0"),
        ("adamw", {**LR, "beta2": 1.5}, r"beta2 must be a number in \[0, 1\), got 1.5"),
        ("adamw", {**LR, "epsilon": -1.0}, "epsilon must be a finite number >= 0, got -1.0"),
        ("adamw", {**LR, "weight_decay": -0.01}, "weight_decay must be a finite number >= 0"),
        ("adamw", {**LR, "amsgrad": 0}, "amsgrad must be True or False, got 0"),
        ("nadam", {**LR, "beta1": 1.0}, r"beta1 must be a number in \[0, 1\), got 1.0"),
        ("nadam", {**LR, "beta2": -0.5}, r"beta2 must be a number in \[0, 1\), got -0.5"),
        ("nadam", {**LR, "epsilon": -1e-8}, "epsilon must be a finite number >= 0"),
        (
            "nadam",
            {**LR, "momentum_decay": -0.004},
            "momentum_decay must be a finite number >= 0, got -0.004",
        ),
        ("adamax", {**LR, "beta1": 1}, r"beta1 must be a number in \[0, 1\), got 1"),
        ("adamax", {**LR, "beta2": 1.0}, r"beta2 must be a number in \[0, 1\), got 1.0"),
        ("adamax", {**LR, "epsilon": -1e-8}, "epsilon must be a finite number >= 0"),
        ("radam", {**LR, "beta1": 1.0}, r"beta1 must be a number in \[0, 1\), got 1.0"),
        ("radam", {**LR, "beta2": 1}, r"beta2 must be a number in \[0, 1\), got 1"),
        ("radam", {**LR, "epsilon": -1e-8}, "epsilon must be a finite number >= 0, got -1e-08"),
        ("radam", {**LR, "weight_decay": -0.1}, "weight_decay must be a finite number >= 0"),
        (
            "radam",
            {**LR, "decoupled_weight_decay": 1},
            "decoupled_weight_decay must be True or False, got 1",
        ),
        ("adadelta", {**LR, "rho": 1.5}, r"rho must be a number in \[0, 1\], got 1.5"),
        ("adadelta", {**LR, "rho": -0.1}, r"rho must be a number in \[0, 1\], got -0.1"),
        ("adadelta", {**LR, "epsilon": 0.0}, "epsilon must be a finite number > 0, got 0.0"),
        ("adadelta", {**LR, "weight_decay": -1.0}, "weight_decay must be a finite number >= 0"),
        ("rprop", {**LR, "etaminus": 0.0}, r"etaminus must be a number in \(0, 1\), got 0.0"),
        ("rprop", {**LR, "etaminus": 1.0}, r"etaminus must be a number in \(0, 1\), got 1.0"),
        ("rprop", {**LR, "etaplus": 1.0}, "etaplus must be a finite number > 1, got 1.0"),
        ("rprop", {**LR, "etaplus": float("inf")}, "etaplus must be a finite number > 1, got inf"),
        ("rprop", {**LR, "step_size_min": -1e-6}, "step_size_min must be a finite number >= 0"),
        ("rprop", {**LR, "step_size_max": 0}, "step_size_max must be a finite number > 0, got 0"),
        (
            "rprop",
            {**LR, "step_size_min": 60, "step_size_max": 50},
            "step_size_min must be <= step_size_max, got 60.0 > 50.0",
        ),
        ("lion", {**LR, "beta1": 1.0}, r"beta1 must be a number in \[0, 1\), got 1.0"),
        ("lion", {**LR, "beta2": -0.1}, r"beta2 must be a number in \[0, 1\), got -0.1"),
        ("lion", {**LR, "weight_decay": -1.0}, "weight_decay must be a finite number >= 0"),
        ("adabelief", {**LR, "beta1": 1.0}, r"beta1 must be a number in \[0, 1\), got 1.0"),
        ("adabelief", {**LR, "beta2": 2}, r"beta2 must be a number in \[0, 1\), got 2"),
        ("adabelief", {**LR, "epsilon": -1e-16}, "epsilon must be a finite number >= 0"),
        (
            "adabelief",
            {**LR, "epsilon_root": float("inf")},
            "epsilon_root must be a finite number >= 0, got inf",
        ),
        ("adabelief", {**LR, "nesterov": 1}, "nesterov must be True or False, got 1"),
        ("yogi", {**LR, "beta1": -0.1}, r"beta1 must be a number in \[0, 1\), got -0.1"),
        ("yogi", {**LR, "beta2": 1.0}, r"beta2 must be a number in \[0, 1\), got 1.0"),
        ("yogi", {**LR, "epsilon": -1e-3}, "epsilon must be a finite number >= 0"),
        (
            "yogi",
            {**LR, "initial_accumulator_value": -1e-6},
            "initial_accumulator_value must be a finite number >= 0, got -1e-06",
        ),
        ("adan", {**LR, "beta1": 1.0}, r"beta1 must be a number in \[0, 1\), got 1.0"),
        ("adan", {**LR, "beta2": -0.5}, r"beta2 must be a number in \[0, 1\), got -0.5"),
        ("adan", {**LR, "beta3": 1.5}, r"beta3 must be a number in \[0, 1\), got 1.5"),
        ("adan", {**LR, "epsilon": -1e-8}, "epsilon must be a finite number >= 0"),
        ("adan", {**LR, "weight_decay": -0.1}, "weight_decay must be a finite number >= 0"),
        ("adan", {**LR, "weight_decouple": "yes"}, "weight_decouple must be True or False"),
        ("lbfgs", {**LR, "max_iter": 0}, "max_iter must be an integer >= 1, got 0"),
        ("lbfgs", {**LR, "history_size": 2.5}, "history_size must be an integer >= 1, got 2.5"),
        ("lbfgs", {**LR, "tolerance_grad": -1.0}, "tolerance_grad must be a finite number >= 0"),
    ],
)
def test_invalid_hyperparameters_are_rejected_up_front(
    name: str, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        optim.get(name, **kwargs)


@pytest.mark.parametrize(("name", "kwargs"), OPTIMIZERS_UNDER_TEST)
def test_float32_parameters_keep_float32_updates_and_state(
    name: str, kwargs: dict[str, Any]
) -> None:
    opt = optim.get(name, **kwargs)
    params = np.ones((2, 3), dtype=np.float32)
    state = drive.start(opt, params)
    for scale in (0.5, -1.0, 2.0):
        updates, state = update_on(opt, np.full((2, 3), scale, dtype=np.float32), state, params)
        params = optim.apply_updates(params, updates)
        assert updates.dtype == np.float32 and params.dtype == np.float32
    for field, value in _fields(state):
        if field in COUNTER_STATE_FIELDS:
            assert value.dtype == np.int64, field
        elif field not in SCALAR_STATE_FIELDS and value is not None:
            assert value.dtype == np.float32, field


def _fields(state: Any) -> list[tuple[str, Any]]:
    """A state's fields, a wrapped optimizer's state's among them (lookahead's ``inner``)."""
    found = []
    for field, value in zip(state._fields, state, strict=True):
        is_state = isinstance(value, tuple) and hasattr(value, "_fields")
        found += _fields(value) if is_state else [(field, value)]
    return found


def test_adan_keeps_its_own_copy_of_the_previous_gradient() -> None:
    opt = optim.adan(0.01)
    gradient = np.array([1.0, -2.0])
    _, state = opt.update(gradient, opt.init(np.zeros(2)), None)
    gradient[:] = 7.0  # a caller reusing its gradient buffer
    assert np.array_equal(state.previous_grad, [1.0, -2.0])


def test_yogi_starts_both_moments_at_the_initial_value_and_keeps_v_positive() -> None:
    opt = optim.yogi(0.01, initial_accumulator_value=0.25)
    state = opt.init(np.zeros(3))
    assert np.array_equal(state.mu, np.full(3, 0.25)) and np.array_equal(state.nu, state.mu)
    for gradient in _gradients(50, shape=(3,)):
        _, state = opt.update(gradient, state, None)
        assert np.all(state.nu > 0)


@pytest.mark.exact
def test_adan_run_without_decay_in_a_stack_with_decay_steps_as_alone() -> None:
    # Weights far smaller than the step, where W_new - W is not exact: the run whose decay is 0
    # must still take the plain step of the run alone.
    params = np.array([[1e-7, -3e-8, 2e-9], [1e-7, -3e-8, 2e-9]])
    grads = _gradients(5, shape=(2, 3))
    stacked = _run(optim.adan(0.01, weight_decay=np.array([[0.0], [0.1]])), params, grads)
    alone = _run(optim.adan(0.01), params[0], [g[0] for g in grads])
    assert np.array_equal(stacked[0], alone)
