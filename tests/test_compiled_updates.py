"""The compiled updates of nadam, radam, adabelief, adadelta, rprop, adan, yogi, asgd and the
schedule-free pair against the numpy engine (``descentlab.compiled.more_updates``).

Agreement is ``relative_difference``: max |compiled - numpy| / max |numpy| over a run's epoch
costs, mini-batch costs and final parameters. Measured on this machine (AMD EPYC, AVX-512)
with these tests (20 epochs of the course's moons, every option, alone and stacked with
per-run learning rates and a per-run numeric option): nadam 3.2e-16, radam 4.6e-16,
adabelief 4.7e-16, adadelta 3.4e-16, rprop 3.1e-16, adan 4.2e-16, yogi 3.1e-16, asgd 3.1e-16,
schedule_free_sgd 4.1e-16, schedule_free_adamw 1.5e-15; over 2000 epochs nadam 2.9e-15,
radam 4.9e-15, adan 3.9e-15, yogi 3.4e-15, asgd 1.0e-15, schedule_free_adamw 1.9e-14; runs
that blow up 3.5e-15. These differences come from the forward and backward passes
(matrix-product sums and ``exp``), not from the updates: on the same gradients the kernel's
update has every bit of the numpy update, nan and inf included
(``test_the_kernel_update_has_the_bits_of_the_numpy_update``).
``TOLERANCE`` (1e-9) leaves room for other CPUs and libms.

nadam's ``mu_product``, asgd's ``eta`` and ``average_weight`` and schedule-free's
``weight_sum`` and ``max_lr`` are per-run numbers that each step changes from their previous
values: Python carries them (``ElementwiseRule.carried``) with the very arithmetic of
``update``, so the states the compiled engine hands back hold the numpy engine's bits.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from descentlab import course, nn, optim
from descentlab.compiled import TOLERANCE, kernels
from descentlab.compiled.stack import SHARED_RUNS
from descentlab.optim.elementwise import ElementwiseRule
from descentlab.optim.stack import stacked
from descentlab.train import RunGroup, StackResult, train_stack
from helpers import assert_engines_agree, relative_difference

MOONS = course.load_dataset()
NETWORK = nn.Network((2, 5, 2, 1))
RATES = (0.01, 0.02, 0.005)
COMPILED = ["nadam", "radam", "adabelief", "adadelta", "rprop", "adan", "yogi", "asgd"]
COMPILED += ["schedule_free_sgd", "schedule_free_adamw"]
KIND = {"schedule_free_sgd": "schedule_free", "schedule_free_adamw": "schedule_free"}
CARRIED = {"mu_product", "eta", "average_weight", "weight_sum", "max_lr"}
"""The states' per-run numbers that ``ElementwiseRule.carried`` carries."""


def assert_agree(compiled: StackResult, numpy: StackResult) -> None:
    assert compiled.numpy_updates == ()
    assert_engines_agree(compiled, numpy)
    for a_state, b_state in zip(compiled.opt_states, numpy.opt_states, strict=True):
        assert type(a_state) is type(b_state)
        assert a_state.step == b_state.step
        for field in CARRIED & set(a_state._fields):  # carried in Python: every bit
            mine, theirs = getattr(a_state, field), getattr(b_state, field)
            assert np.shape(mine) == np.shape(theirs)
            np.testing.assert_array_equal(mine, theirs)


def both_engines(
    optimizer: optim.Optimizer, runs: int, epochs: int = 20, **kwargs: Any
) -> tuple[StackResult, StackResult]:
    arguments: dict[str, Any] = dict(
        init_seeds=[3, 4, 5][:runs], shuffle_seeds=[10, 11, 12][:runs], epochs=epochs, **kwargs
    )
    return (
        train_stack(NETWORK, *MOONS, [RunGroup(optimizer, runs)], engine="compiled", **arguments),
        train_stack(NETWORK, *MOONS, [RunGroup(optimizer, runs)], engine="numpy", **arguments),
    )


@pytest.mark.parametrize("name", COMPILED)
def test_each_optimizer_has_a_compiled_update(name: str) -> None:
    optimizer = optim.get(name, learning_rate=0.01)
    assert optimizer.elementwise is not None
    assert optimizer.elementwise.kind == KIND.get(name, name)
    assert not optimizer.needs


# Each option, and a numeric option that differs between the three stacked runs.
OPTIONS: list[tuple[str, dict[str, Any], dict[str, list[float]]]] = [
    ("asgd", {}, {"lambd": [1e-4, 0.0, 0.01]}),
    ("asgd", {"t0": 20.0, "weight_decay": 0.01}, {"alpha": [0.75, 0.5, 1.0]}),
    ("asgd", {"lambd": 0.0}, {"t0": [0.0, 1e6, 40.0]}),
    ("schedule_free_sgd", {}, {"beta1": [0.9, 0.5, 1.0]}),
    ("schedule_free_sgd", {"warmup_steps": 7}, {"weight_decay": [0.0, 0.01, 0.1]}),
    ("schedule_free_adamw", {}, {"beta2": [0.999, 0.9, 0.0]}),
    ("schedule_free_adamw", {"weight_decay": 0.01}, {"warmup_steps": [0.0, 5.0, 30.0]}),
    ("schedule_free_adamw", {"warmup_steps": 5}, {"weight_lr_power": [2.0, 0.0, 1.0]}),
    ("nadam", {}, {"momentum_decay": [0.004, 0.0, 1.0]}),
    ("nadam", {"epsilon": 1e-6}, {"beta1": [0.9, 0.8, 0.0]}),
    ("radam", {}, {"beta2": [0.999, 0.5, 0.99]}),  # 0.5: never rectified (rho_inf = 3)
    ("radam", {"weight_decay": 0.01}, {"beta1": [0.9, 0.8, 0.95]}),
    ("radam", {"decoupled_weight_decay": True}, {"weight_decay": [0.01, 0.0, 0.1]}),
    ("adabelief", {}, {"beta2": [0.999, 0.99, 0.9]}),
    ("adabelief", {"nesterov": True}, {"epsilon_root": [1e-16, 1e-8, 0.0]}),
    ("adadelta", {}, {"rho": [0.9, 0.95, 1.0]}),
    ("adadelta", {"learning_rate": 1.0}, {"weight_decay": [0.01, 0.0, 0.001]}),
    ("rprop", {}, {"etaplus": [1.2, 1.5, 1.1]}),
    ("rprop", {"step_size_max": 0.05}, {"step_size_min": [1e-6, 1e-3, 0.0]}),
    ("adan", {}, {"beta2": [0.92, 0.5, 0.99]}),
    ("adan", {"weight_decay": 0.02}, {"beta3": [0.99, 0.9, 0.999]}),
    ("adan", {"weight_decouple": True}, {"weight_decay": [0.02, 0.0, 0.1]}),
    ("yogi", {}, {"initial_accumulator_value": [1e-6, 0.0, 0.1]}),
    ("yogi", {"epsilon": 1e-8}, {"beta1": [0.9, 0.0, 0.5]}),
]


@pytest.mark.parametrize(("name", "settings", "per_run"), OPTIONS)
def test_every_option_agrees_stacked(
    name: str, settings: dict[str, Any], per_run: dict[str, list[float]]
) -> None:
    runs = [
        {"learning_rate": rate, **settings, **{key: values[i] for key, values in per_run.items()}}
        for i, rate in enumerate(RATES)
    ]
    compiled, numpy = both_engines(stacked(name, runs), 3, batch_size=64)
    assert_agree(compiled, numpy)


@pytest.mark.parametrize(("name", "settings", "per_run"), OPTIONS)
def test_every_option_agrees_alone(
    name: str, settings: dict[str, Any], per_run: dict[str, list[float]]
) -> None:
    run = {"learning_rate": 0.01, **settings, **{key: values[1] for key, values in per_run.items()}}
    compiled, numpy = both_engines(optim.get(name, **run), 1, batch_size=64)
    assert_agree(compiled, numpy)


@pytest.mark.parametrize(
    "name", ["nadam", "radam", "adabelief", "adadelta", "adan", "yogi", "asgd", "schedule_free_sgd"]
)
def test_a_learning_rate_schedule_is_evaluated_per_step(name: str) -> None:
    optimizer = optim.get(name, learning_rate=lambda step: 0.02 / (1 + step // 5))
    compiled, numpy = both_engines(optimizer, 1, batch_size=32)
    assert_agree(compiled, numpy)


@pytest.mark.parametrize("name", ["nadam", "radam", "adan", "yogi", "asgd", "schedule_free_adamw"])
def test_a_long_run_agrees(name: str) -> None:
    optimizer = stacked(name, [{"learning_rate": rate} for rate in RATES[:2]])
    compiled, numpy = both_engines(optimizer, 2, epochs=2000, batch_size=64)
    assert_agree(compiled, numpy)
    assert compiled.histories[0].epoch_costs[-1] < compiled.histories[0].epoch_costs[0]


@pytest.mark.parametrize("name", ["adan", "rprop", "yogi"])
def test_diverging_runs_agree(name: str) -> None:
    # Rates far too large: runs 1 and 2 blow up in their first epoch, and nan and inf travel
    # through both engines alike. A run that has blown up is chaotic: the last-bit differences
    # of the engines' sums grow without bound there (adan's run 1 ends 1.4e-5 apart, relative,
    # with finite weights), so it is held to the same divergence epoch and the same pattern of
    # non-finite costs and weights; the run that trains normally agrees within TOLERANCE.
    optimizer = stacked(name, [{"learning_rate": rate} for rate in (0.01, 1e3, 1e8)])
    compiled, numpy = both_engines(optimizer, 3, epochs=30, batch_size=64)
    assert compiled.diverged_epochs == numpy.diverged_epochs == [None, 0, 0]
    for run in (1, 2):
        for mine, theirs in [
            (compiled.params[run], numpy.params[run]),
            (compiled.histories[run].epoch_costs, numpy.histories[run].epoch_costs),
            (compiled.histories[run].minibatch_costs, numpy.histories[run].minibatch_costs),
        ]:
            np.testing.assert_array_equal(np.isfinite(mine), np.isfinite(theirs))
            np.testing.assert_array_equal(np.isnan(mine), np.isnan(theirs))
    a, b = compiled.histories[0], numpy.histories[0]
    for mine, theirs in [
        (a.epoch_costs, b.epoch_costs),
        (a.minibatch_costs, b.minibatch_costs),
        (compiled.params[0], numpy.params[0]),
    ]:
        assert relative_difference(mine, theirs) <= TOLERANCE


@pytest.mark.parametrize("name", COMPILED)
def test_identical_bits_run_to_run(name: str) -> None:
    optimizer = stacked(name, [{"learning_rate": rate} for rate in RATES])
    first, second = (
        train_stack(
            NETWORK, *MOONS, [RunGroup(optimizer, 3)], init_seeds=[3, 4, 5],
            shuffle_seeds=[10, 11, 12], epochs=10, engine="compiled",
        )
        for _ in range(2)
    )  # fmt: skip
    np.testing.assert_array_equal(first.params, second.params)
    for a, b in zip(first.histories, second.histories, strict=True):
        np.testing.assert_array_equal(a.minibatch_costs, b.minibatch_costs)


@pytest.mark.parametrize("name", COMPILED)
def test_continuing_from_the_states_equals_one_run(name: str) -> None:
    # The states the compiled engine hands back (arrays and step count) continue exactly.
    optimizer = stacked(name, [{"learning_rate": rate} for rate in RATES[:2]])
    seeds: dict[str, Any] = dict(init_seeds=[3, 4], shuffle_seeds=[10, 11], engine="compiled")
    groups = [RunGroup(optimizer, 2)]
    whole = train_stack(NETWORK, *MOONS, groups, epochs=6, **seeds)
    half = train_stack(NETWORK, *MOONS, groups, epochs=3, **seeds)
    rest = train_stack(
        NETWORK, *MOONS, groups, epochs=3, params=half.params, opt_states=half.opt_states,
        start_epoch=3, **seeds,
    )  # fmt: skip
    np.testing.assert_array_equal(rest.params, whole.params)


def special_gradients(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Gradients with zeros of both signs, tiny and huge values, inf and nan among them."""
    grads = rng.normal(size=shape)
    specials = np.array([0.0, -0.0, 1e-300, -1e300, np.inf, -np.inf, np.nan])
    mask = rng.random(shape) < 0.02
    grads[mask] = rng.choice(specials, size=int(mask.sum()))
    return grads


def kernel_steps(
    rule: ElementwiseRule, state: Any, params: np.ndarray, grads: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """``params`` after the kernel's update with each gradient in turn, and the slots."""
    runs, size = params.shape
    w = params.copy()
    slots = np.zeros((len(rule.slots), runs, size))
    for index, name in enumerate(rule.slots):
        slots[index] = getattr(state, name)
    hyper = np.stack([np.broadcast_to(np.reshape(v, -1), (runs,)) for v in rule.hyperparameters], 1)
    carried = tuple(getattr(state, name) for name in rule.carried)
    for step, g in enumerate(grads):
        if rule.carried_scalars is None:
            numbers = rule.step_scalars(step, 1)
        else:
            numbers, after = rule.carried_scalars(step, 1, carried)
            carried = after[0]
        blocks = [np.reshape(np.asarray(b, dtype=float), (1, -1)) for b in numbers]
        scalars = np.zeros((runs, 5))
        for column, block in enumerate(blocks):
            scalars[:, column] = np.broadcast_to(block[0], (runs,))
        for k in range(runs):
            kernels._update(
                kernels.KINDS[rule.kind], w[k], g[k].copy(), hyper[k], scalars[k], slots, k
            )
    return w, slots


@pytest.mark.exact
@pytest.mark.parametrize(("name", "settings", "per_run"), OPTIONS)
def test_the_kernel_update_has_the_bits_of_the_numpy_update(
    name: str, settings: dict[str, Any], per_run: dict[str, list[float]]
) -> None:
    # Without a network in between, the update itself: every bit equal, nan and inf included
    # (np.sign and np.clip keep nan; 0 * inf is nan), over 12 steps of 3 runs (about 9 in 10
    # coordinates stay finite).
    runs = [
        {"learning_rate": rate, **settings, **{key: values[i] for key, values in per_run.items()}}
        for i, rate in enumerate(RATES)
    ]
    optimizer = stacked(name, runs)
    assert optimizer.elementwise is not None
    rng = np.random.default_rng(7)
    params = rng.normal(size=(3, 40))
    grads = [special_gradients(rng, params.shape) for _ in range(12)]
    state = optimizer.init(params)
    expected = params.copy()
    with np.errstate(all="ignore"):
        compiled, slots = kernel_steps(optimizer.elementwise, state, params, grads)
        for g in grads:
            updates, state = optimizer.update(g, state, expected)
            expected = expected + updates
    np.testing.assert_array_equal(compiled, expected)
    for index, field in enumerate(optimizer.elementwise.slots):
        np.testing.assert_array_equal(slots[index], getattr(state, field))


def test_a_wide_stack_sharing_one_shuffle_agrees(monkeypatch: pytest.MonkeyPatch) -> None:
    # SHARED_RUNS or more runs sharing one shuffle, every update compiled: the kernel that
    # loops over the runs innermost, with carried numbers in two of the three groups.
    assert SHARED_RUNS <= 18
    rates = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3]
    groups = [
        RunGroup(stacked("nadam", [{"learning_rate": rate} for rate in rates]), 6),
        RunGroup(stacked("asgd", [{"learning_rate": rate, "t0": 30.0} for rate in rates]), 6),
        RunGroup(stacked("adan", [{"learning_rate": rate} for rate in rates]), 6),
    ]
    arguments: dict[str, Any] = dict(
        init_seeds=list(range(18)), shuffle_seeds=[10] * 18, epochs=20, batch_size=32
    )
    blocks = kernels.train_epochs
    wide_epochs: list[int] = []

    def counted(*args: Any) -> None:
        seeds, shared = args[4], args[7]
        if shared:  # kernels.train_epochs hands these epochs to train_batches_shared
            wide_epochs.append(seeds.shape[0])
        blocks(*args)

    monkeypatch.setattr(kernels, "train_epochs", counted)
    compiled = train_stack(NETWORK, *MOONS, groups, engine="compiled", **arguments)
    numpy = train_stack(NETWORK, *MOONS, groups, engine="numpy", **arguments)
    assert_agree(compiled, numpy)
    assert sum(wide_epochs) == 20  # every epoch by the wide kernel
