"""A stack of K runs equals K runs trained alone, bit for bit, for every optimizer."""

from __future__ import annotations

import numpy as np
import pytest

import descentlab.train as train_module
from descentlab import datasets, nn, optim, schedules
from descentlab.optim.stack import stack_key, stacked
from descentlab.train import RunGroup, train, train_stack
from helpers import full_batch

pytestmark = pytest.mark.exact

NETWORK = nn.Network((2, 5, 2, 1))
DATA = datasets.moons()

# Per optimizer: the settings of three runs that share one stacked optimizer.
STACKS = {
    "gd": [{"learning_rate": 0.1}, {"learning_rate": 0.03}, {"learning_rate": 0.3}],
    "momentum": [
        {"learning_rate": 0.1, "beta": 0.9},
        {"learning_rate": 0.05, "beta": 0.5},
        {"learning_rate": 0.1, "beta": 0.0},
    ],
    "sgd": [
        {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True},
        {"learning_rate": 0.01, "momentum": 0.5, "nesterov": True},
        {"learning_rate": 0.02, "momentum": 0.7, "nesterov": True},
    ],
    "rmsprop": [
        {"learning_rate": 0.01, "centered": True, "weight_decay": 1e-3},
        {"learning_rate": 0.003, "centered": True, "weight_decay": 1e-2},
        {"learning_rate": 0.001, "centered": True, "weight_decay": 1e-4},
    ],
    "adagrad": [
        {"learning_rate": 0.1, "lr_decay": 0.01},
        {"learning_rate": 0.3, "lr_decay": 0.1},
        {"learning_rate": 0.01, "lr_decay": 0.001},
    ],
    "adam": [
        {"learning_rate": 0.01, "beta1": 0.9},
        {"learning_rate": 0.001, "beta1": 0.8},
        {"learning_rate": 0.0007, "beta2": 0.99, "weight_decay": 0.01},
    ],
    "adamw": [{"learning_rate": 0.01}, {"learning_rate": 0.003, "weight_decay": 0.1}],
    "nadam": [{"learning_rate": 0.01}, {"learning_rate": 0.002, "momentum_decay": 0.01}],
    "adamax": [{"learning_rate": 0.02}, {"learning_rate": 0.002, "beta1": 0.5}],
    # beta2 = 0.6 never rectifies, 0.999 and 0.9 do from t = 6: both branches in one stack
    "radam": [
        {"learning_rate": 0.01, "beta2": 0.999},
        {"learning_rate": 0.003, "beta2": 0.6, "weight_decay": 0.01},
        {"learning_rate": 0.001, "beta2": 0.9, "weight_decay": 0.1},
    ],
    "adadelta": [
        {"learning_rate": 1.0},
        {"learning_rate": 3.0, "rho": 0.95, "epsilon": 1e-4},
        {"learning_rate": 0.5, "rho": 1.0, "weight_decay": 0.01},
    ],
    "rprop": [
        {"learning_rate": 0.01},
        {"learning_rate": 0.1, "etaminus": 0.3, "etaplus": 1.5},
        {"learning_rate": 0.05, "step_size_min": 0.005, "step_size_max": 0.02},
    ],
    "lion": [
        {"learning_rate": 0.001},
        {"learning_rate": 0.003, "beta1": 0.8, "weight_decay": 0.01},
        {"learning_rate": 0.0003, "beta2": 0.9},
    ],
    "adabelief": [
        {"learning_rate": 0.01},
        {"learning_rate": 0.003, "beta1": 0.8, "epsilon": 1e-8},
        {"learning_rate": 0.001, "beta2": 0.99, "epsilon_root": 0.0},
    ],
    "yogi": [
        {"learning_rate": 0.01},
        {"learning_rate": 0.003, "beta1": 0.8, "initial_accumulator_value": 0.1},
        {"learning_rate": 0.02, "beta2": 0.99, "epsilon": 1e-6},
    ],
    "adan": [
        {"learning_rate": 0.01, "weight_decay": 0.01},
        {"learning_rate": 0.003, "beta1": 0.9, "beta3": 0.999, "weight_decay": 0.1},
        {"learning_rate": 0.02, "beta2": 0.8, "weight_decay": 0.0},  # no decay, as alone
    ],
    "lamb": [
        {"learning_rate": 0.01, "weight_decay": 0.01},
        {"learning_rate": 0.003, "beta1": 0.8, "weight_decay": 0.1},
        {"learning_rate": 0.02, "beta2": 0.99, "epsilon_root": 1e-8, "weight_decay": 0.001},
    ],
    "lars": [
        {"learning_rate": 1.0},
        {"learning_rate": 3.0, "trust_coefficient": 0.01, "weight_decay": 1e-3},
        {"learning_rate": 0.5, "momentum": 0.5, "epsilon": 1e-6},
    ],
    "adafactor": [
        {"learning_rate": 0.01},
        {"learning_rate": 0.3, "beta2_decay": -0.5, "epsilon1": 1e-6, "d": 1.5},
        {"learning_rate": 0.05, "epsilon2": 0.01, "weight_decay": 0.01},
    ],
    # full batch (FULL_BATCH); each run its own inner iterations, history and tolerances
    "lbfgs": [
        {"learning_rate": 1.0, "max_iter": 5},
        {"learning_rate": 0.5, "max_iter": 3, "history_size": 4},
        {"learning_rate": 0.2, "max_iter": 8, "history_size": 10, "tolerance_change": 1e-5},
    ],
    "lookahead:adam": [
        {"learning_rate": 0.01, "sync_period": 5},
        {"learning_rate": 0.003, "sync_period": 2, "slow_step_size": 0.8, "beta1": 0.8},
        {"learning_rate": 0.02, "sync_period": 7, "slow_step_size": 0.3},
    ],
    "sam:adam": [
        {"learning_rate": 0.01, "radius": 0.05},
        {"learning_rate": 0.003, "radius": 0.5, "beta1": 0.8},
        {"learning_rate": 0.02, "radius": 0.0},
    ],
    "prodigy": [  # each run its own d: the sums are per run
        {"learning_rate": 1.0, "weight_decay": 0.01},
        {"learning_rate": 0.5, "beta1": 0.8, "d_coef": 2.0, "weight_decay": 0.1},
        {"learning_rate": 1.0, "beta3": 0.9, "d0": 1e-4, "weight_decay": 0.05},
    ],
    "muon": [  # the Newton-Schulz iteration runs per run, each with its own coefficients
        {"learning_rate": 0.02, "adam_lr_ratio": 0.5},
        {"learning_rate": 0.05, "momentum": 0.5, "ns_a": 3.0, "weight_decay": 0.01},
        {"learning_rate": 0.01, "match_rms_adamw": False, "adam_beta1": 0.8, "ns_c": 1.5},
    ],
    # averaging from update 5, never, from the start: both sides of t0 in one stack
    "asgd": [
        {"learning_rate": 0.05, "t0": 5.0},
        {"learning_rate": 0.1, "lambd": 0.01, "t0": 1e6},
        {"learning_rate": 0.02, "alpha": 1.0, "t0": 0.0, "weight_decay": 0.01},
    ],
    "schedule_free_adamw": [
        {"learning_rate": 0.01},
        {"learning_rate": 0.003, "warmup_steps": 10, "beta1": 0.5},
        {"learning_rate": 0.02, "weight_decay": 0.01, "weight_lr_power": 1.0},
    ],
    "schedule_free_sgd": [
        {"learning_rate": 0.1},
        {"learning_rate": 0.05, "warmup_steps": 20, "beta1": 0.95},
        {"learning_rate": 0.2, "weight_decay": 0.01, "weight_lr_power": 0.0},
    ],
}


def _complete(name: str, runs: list[dict[str, object]]) -> list[dict[str, object]]:
    """Every run sets the same keywords (missing ones take the factory's default)."""
    defaults = dict(optim.get(name, learning_rate=1.0).hyperparameters)
    keys = sorted({key for run in runs for key in run})
    return [{key: run.get(key, defaults[key]) for key in keys} for run in runs]


def test_every_optimizer_is_in_the_table() -> None:
    assert sorted(STACKS) == sorted(optim.runnable_names())


@pytest.mark.parametrize("name", list(STACKS))
def test_stack_equals_runs_alone(name: str) -> None:
    runs = _complete(name, STACKS[name])
    batch_size = None if full_batch(name) else 64
    k = len(runs)
    init_seeds = [3, 11, 12][:k]
    shuffle_seeds = [10, 10, 77][:k]
    stack = train_stack(
        NETWORK,
        DATA.X,
        DATA.Y,
        [RunGroup(stacked(name, runs), k)],
        init_seeds=init_seeds,
        shuffle_seeds=shuffle_seeds,
        epochs=15,
        batch_size=batch_size,
    )
    for index, settings in enumerate(runs):
        alone = train(
            NETWORK,
            DATA.X,
            DATA.Y,
            optim.get(name, **settings),  # type: ignore[arg-type]
            epochs=15,
            init_seed=init_seeds[index],
            shuffle_seed=shuffle_seeds[index],
            batch_size=batch_size,
        )
        assert np.array_equal(stack.params[index], alone.params), (name, index)
        assert np.array_equal(stack.histories[index].epoch_costs, alone.history.epoch_costs)
        assert np.array_equal(stack.histories[index].minibatch_costs, alone.history.minibatch_costs)


def test_different_optimizer_kinds_share_one_stack() -> None:
    groups = [RunGroup(optim.gd(0.0007), 1), RunGroup(optim.momentum(0.0007), 1)]
    groups.append(RunGroup(optim.adam(0.0007), 1))
    stack = train_stack(
        NETWORK, DATA.X, DATA.Y, groups, init_seeds=[3] * 3, shuffle_seeds=[10] * 3, epochs=40
    )
    for index, group in enumerate(groups):
        alone = train(NETWORK, DATA.X, DATA.Y, group.optimizer, epochs=40)
        assert np.array_equal(stack.params[index], alone.params)
        assert np.array_equal(stack.histories[index].epoch_costs, alone.history.epoch_costs)


def test_per_run_schedules_in_one_stack() -> None:
    rates = [
        schedules.per_step(schedules.inverse_time(0.1, 1.0, every=3), 5),
        schedules.per_step(schedules.exponential(0.05, 0.9), 5),
    ]
    runs = [{"learning_rate": rate} for rate in rates]
    stack = train_stack(
        NETWORK, DATA.X, DATA.Y, [RunGroup(stacked("momentum", runs), 2)],
        init_seeds=[3, 3], shuffle_seeds=[10, 10], epochs=12,
    )  # fmt: skip
    for index, rate in enumerate(rates):
        alone = train(NETWORK, DATA.X, DATA.Y, optim.momentum(rate), epochs=12)
        assert np.array_equal(stack.params[index], alone.params)


@pytest.mark.parametrize("shuffle_seeds", [[10, 10], [10, 99]])
def test_batches_gathered_one_at_a_time_equal_the_epoch_shuffle(
    shuffle_seeds: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    def run() -> np.ndarray:
        group = RunGroup(stacked("adam", [{"learning_rate": 0.01}, {"learning_rate": 0.002}]), 2)
        result = train_stack(
            NETWORK, DATA.X, DATA.Y, [group], init_seeds=[3, 4], shuffle_seeds=shuffle_seeds,
            epochs=10,
        )  # fmt: skip
        return np.concatenate([result.params.ravel(), result.histories[1].minibatch_costs])

    whole_epoch = run()
    monkeypatch.setattr(train_module, "GATHER_PER_EPOCH_LIMIT", 0)
    assert np.array_equal(run(), whole_epoch)


def test_a_diverging_run_is_marked_and_leaves_the_others_alone() -> None:
    runs = [{"learning_rate": 1e3}, {"learning_rate": 0.01}]
    with np.errstate(all="raise"):  # no warning may escape the loop
        stack = train_stack(
            NETWORK, DATA.X, DATA.Y, [RunGroup(stacked("gd", runs), 2)],
            init_seeds=[3, 3], shuffle_seeds=[10, 10], epochs=30,
        )  # fmt: skip
    first_bad = stack.diverged_epochs[0]
    assert first_bad is not None
    costs = stack.histories[0].epoch_costs
    initial = stack.histories[0].minibatch_costs[0]
    assert not costs[first_bad] <= 100 * initial
    assert np.all(costs[:first_bad] <= 100 * initial)
    assert stack.diverged_epochs[1] is None
    alone = train(NETWORK, DATA.X, DATA.Y, optim.gd(0.01), epochs=30)
    assert np.array_equal(stack.params[1], alone.params)


def test_float32_training_tracks_float64() -> None:
    wide = train(NETWORK, DATA.X, DATA.Y, optim.adam(0.01), epochs=50)
    narrow = train(NETWORK, DATA.X, DATA.Y, optim.adam(0.01), epochs=50, dtype=np.float32)
    assert narrow.params.dtype == np.float32
    np.testing.assert_allclose(narrow.history.epoch_costs, wide.history.epoch_costs, rtol=1e-3)


def test_stack_key_separates_switches_and_zero_patterns() -> None:
    assert stack_key("adam", {"learning_rate": 0.1}) == stack_key("adam", {"learning_rate": 0.2})
    assert stack_key("sgd", {"nesterov": True}) != stack_key("sgd", {"nesterov": False})
    assert stack_key("adam", {"weight_decay": 0.0}) == stack_key("adam", {"weight_decay": 0.1})
    assert stack_key("adam", {"amsgrad": True}) != stack_key("adamw", {"amsgrad": True})
    with pytest.raises(ValueError, match="different switches cannot share one optimizer"):
        stacked("sgd", [{"learning_rate": 0.1, "nesterov": True, "momentum": 0.9},
                        {"learning_rate": 0.1, "nesterov": False, "momentum": 0.9}])  # fmt: skip


def test_stacked_hyperparameters_are_validated_per_run() -> None:
    with pytest.raises(ValueError, match=r"beta must be a number in \[0, 1\), got 1.5"):
        stacked(
            "momentum", [{"learning_rate": 0.1, "beta": 0.9}, {"learning_rate": 0.1, "beta": 1.5}]
        )
    with pytest.raises(ValueError, match=r"learning_rate must be a finite number > 0, got -0\.1"):
        stacked("gd", [{"learning_rate": 0.1}, {"learning_rate": -0.1}])


def test_nan_parameters_diverge_at_the_first_epoch() -> None:
    params = nn.he_initialization(NETWORK)
    params[0] = np.nan
    with np.errstate(all="raise"):
        result = train(NETWORK, DATA.X, DATA.Y, optim.adam(0.01), epochs=3, params=params)
    assert result.diverged_epoch == 0
    assert np.isnan(result.history.epoch_costs).all()
