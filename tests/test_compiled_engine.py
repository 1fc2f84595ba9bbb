"""The compiled engine (``descentlab.compiled``) against the numpy engine.

Agreement is measured as ``relative_difference``: max |compiled - numpy| / max |numpy| over a
whole array (epoch costs, mini-batch costs, final parameters), per run. Measured on this
machine (AMD EPYC, AVX-512) with these tests: every optimizer of the registry on the course's
moons (20 epochs), stacked and alone, every option of the compiled updates, and digits on
[64, 64, 32, 10] softmax, at most 2.7e-15; 18 runs sharing one shuffle (the wide kernel)
1.3e-13; the published workload (gd, momentum, adam, 10000 epochs) 7.6e-16 on the epoch costs
and 2.3e-15 on the final parameters. L-BFGS is the exception: its line search turns a last-bit
difference into a visibly different step within a few epochs, so it is compared over 3 epochs
(6.2e-13). Between the two kernels the bits are equal. ``TOLERANCE`` (1e-9) leaves room for
other CPUs and numpy builds, whose exp and log differ from these in other last bits.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from descentlab import course, datasets, nn, optim
from descentlab.compiled import TOLERANCE
from descentlab.compiled.stack import SHARED_RUNS
from descentlab.optim.adam import AdamState
from descentlab.optim.stack import stacked
from descentlab.train import (
    EpochSnapshot,
    RunGroup,
    StackResult,
    TrainingInterrupted,
    train_stack,
)
from helpers import assert_engines_agree, full_batch, relative_difference

MOONS = course.load_dataset()
NETWORK = nn.Network((2, 5, 2, 1))
RATES = (0.01, 0.02, 0.005)
NAMES = optim.runnable_names("train")


def both_engines(*args: Any, **kwargs: Any) -> tuple[StackResult, StackResult]:
    return (
        train_stack(*args, engine="compiled", **kwargs),
        train_stack(*args, engine="numpy", **kwargs),
    )


def has_compiled_update(name: str) -> bool:
    optimizer = optim.get(name, learning_rate=0.01)
    return optimizer.elementwise is not None and not optimizer.needs


@pytest.mark.parametrize("runs", [1, 3], ids=["alone", "stacked"])
@pytest.mark.parametrize("name", NAMES)
def test_every_optimizer_agrees_with_the_numpy_engine(name: str, runs: int) -> None:
    settings = [{"learning_rate": rate} for rate in RATES[:runs]]
    optimizer = stacked(name, settings) if runs > 1 else optim.get(name, **settings[0])
    compiled, numpy = both_engines(
        NETWORK,
        *MOONS,
        [RunGroup(optimizer, runs)],
        init_seeds=[3, 4, 5][:runs],
        shuffle_seeds=[10, 11, 12][:runs],
        epochs=3 if full_batch(name) else 20,
        batch_size=None if full_batch(name) else 64,
    )
    assert_engines_agree(compiled, numpy)
    assert compiled.numpy_updates == (() if has_compiled_update(name) else (name,))
    assert type(compiled.opt_states[0]) is type(numpy.opt_states[0])


def test_the_classic_optimizers_have_compiled_updates() -> None:
    compiled = [name for name in NAMES if has_compiled_update(name)]
    expected = ["gd", "momentum", "sgd", "rmsprop", "adagrad", "adam", "adamw", "adamax", "lion"]
    expected += ["nadam", "radam", "adabelief", "adadelta", "rprop", "adan", "yogi", "asgd"]
    expected += ["schedule_free_sgd", "schedule_free_adamw"]
    assert sorted(compiled) == sorted(expected)


@pytest.mark.parametrize(
    ("name", "settings"),
    [
        ("sgd", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
        ("sgd", {"momentum": 0.8, "dampening": 0.3}),
        ("adam", {"amsgrad": True, "weight_decay": 0.01}),
        ("adam", {"eps_inside_sqrt": True}),
        ("adamw", {"amsgrad": True}),
        ("rmsprop", {"centered": True, "momentum": 0.5, "weight_decay": 0.001}),
        ("adagrad", {"lr_decay": 0.01, "initial_accumulator_value": 0.1, "weight_decay": 0.01}),
        ("lion", {"weight_decay": 0.1}),
    ],
)
def test_every_option_of_the_compiled_updates(name: str, settings: dict[str, Any]) -> None:
    # Stacked with per-run learning rates and a per-run first numeric option.
    runs = [{**settings, "learning_rate": rate} for rate in RATES]
    compiled, numpy = both_engines(
        NETWORK,
        *MOONS,
        [RunGroup(stacked(name, runs), 3)],
        init_seeds=[3, 4, 5],
        shuffle_seeds=[10, 10, 12],
        epochs=20,
    )
    assert_engines_agree(compiled, numpy)
    assert compiled.numpy_updates == ()


def test_a_wide_stack_sharing_one_shuffle_agrees() -> None:
    # SHARED_RUNS or more runs with one shuffle and only compiled updates train with the runs
    # as the innermost axis (kernels.train_batches_shared); a softmax output too.
    assert SHARED_RUNS <= 18
    rates = list(np.logspace(-3, -1, 6))
    groups = [
        RunGroup(stacked("adam", [{"learning_rate": r, "amsgrad": True} for r in rates]), 6),
        RunGroup(stacked("sgd", [{"learning_rate": r, "momentum": 0.9} for r in rates]), 6),
        RunGroup(stacked("rmsprop", [{"learning_rate": r} for r in rates]), 6),
    ]
    blobs = datasets.load("blobs")
    for network, (X, Y) in ((NETWORK, MOONS), (nn.Network((2, 8, 3)), (blobs.X, blobs.Y))):
        compiled, numpy = both_engines(
            network, X, Y, groups, init_seeds=list(range(18)), shuffle_seeds=[10] * 18,
            epochs=20, batch_size=32,
        )  # fmt: skip
        assert_engines_agree(compiled, numpy)


WIDE_GROUPS = [
    ("gd", {}),
    ("momentum", {"beta": 0.9}),
    ("sgd", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("adam", {"amsgrad": True}),
    ("rmsprop", {"centered": True, "momentum": 0.5}),
    ("adagrad", {"lr_decay": 0.01}),
    ("adamax", {}),
    ("lion", {"weight_decay": 0.1}),
]


def _assert_same_bits(first: StackResult, second: StackResult) -> None:
    np.testing.assert_array_equal(first.params, second.params)
    for a, b in zip(first.histories, second.histories, strict=True):
        np.testing.assert_array_equal(a.minibatch_costs, b.minibatch_costs)
        np.testing.assert_array_equal(a.epoch_costs, b.epoch_costs)
    for a, b in zip(first.opt_states, second.opt_states, strict=True):
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)


@pytest.mark.exact
@pytest.mark.parametrize("batch_size", [32, None], ids=["minibatches", "full-batch"])
@pytest.mark.parametrize("output", ["sigmoid", "softmax"])
def test_a_run_gets_the_same_bits_in_a_wide_or_a_narrow_stack(
    output: str, batch_size: int | None
) -> None:
    # Every compiled rule, two runs each: 16 runs sharing a shuffle train with the runs
    # innermost (train_batches_shared); each pair alone trains run by run (train_batches).
    # A sweep's results must not depend on how its runs are split into chunks (--jobs).
    assert 2 * len(WIDE_GROUPS) >= SHARED_RUNS
    blobs = datasets.load("blobs")
    network, X, Y = (
        (NETWORK, *MOONS) if output == "sigmoid" else (nn.Network((2, 8, 3)), blobs.X, blobs.Y)
    )
    groups = [
        RunGroup(stacked(name, [{**options, "learning_rate": r} for r in (0.003, 0.03)]), 2)
        for name, options in WIDE_GROUPS
    ]
    kwargs: dict[str, Any] = dict(epochs=12, batch_size=batch_size, engine="compiled")
    n_runs = 2 * len(groups)
    wide = train_stack(
        network, X, Y, groups, init_seeds=list(range(n_runs)), shuffle_seeds=[7] * n_runs, **kwargs
    )
    for index, group in enumerate(groups):
        narrow = train_stack(
            network, X, Y, [group], init_seeds=[2 * index, 2 * index + 1], shuffle_seeds=[7, 7],
            **kwargs,
        )  # fmt: skip
        runs = slice(2 * index, 2 * index + 2)
        part = StackResult(
            wide.params[runs],
            [wide.opt_states[index]],
            wide.histories[runs],
            wide.diverged_epochs[runs],
        )
        _assert_same_bits(part, narrow)


def test_a_learning_rate_schedule_is_evaluated_per_step() -> None:
    optimizer = optim.adam(lambda step: 0.01 / (1 + step // 5))
    compiled, numpy = both_engines(
        NETWORK, *MOONS, [RunGroup(optimizer, 1)], init_seeds=[3], shuffle_seeds=[10], epochs=20
    )
    assert_engines_agree(compiled, numpy)


def test_stacked_schedules_and_diverging_runs_agree() -> None:
    # Rates of 30 and 1e4 blow up at once: saturated outputs whose cost comes from the logits.
    schedules = [lambda step: 0.01 / (1 + step // 5), lambda step: 30.0, lambda step: 1e4]
    optimizer = stacked("adam", [{"learning_rate": schedule} for schedule in schedules])
    compiled, numpy = both_engines(
        NETWORK, *MOONS, [RunGroup(optimizer, 3)], init_seeds=[3, 4, 5],
        shuffle_seeds=[10, 11, 12], epochs=30,
    )  # fmt: skip
    assert compiled.diverged_epochs == [None, 0, 0]
    assert all(np.isfinite(history.epoch_costs).all() for history in compiled.histories)
    assert compiled.histories[2].epoch_costs[-1] > 100
    assert_engines_agree(compiled, numpy)


def test_mixed_groups_fall_back_per_optimizer() -> None:
    groups = [
        RunGroup(optim.adam(0.01), 1),
        RunGroup(optim.get("lookahead:adam", learning_rate=0.01), 1),
        RunGroup(optim.get("prodigy", learning_rate=1.0), 1),
        RunGroup(optim.gd(0.05), 1),
    ]
    compiled, numpy = both_engines(
        NETWORK, *MOONS, groups, init_seeds=[3] * 4, shuffle_seeds=[10, 11, 12, 13], epochs=10
    )
    assert_engines_agree(compiled, numpy)
    assert compiled.numpy_updates == ("lookahead:adam", "prodigy")


def test_a_larger_softmax_network_agrees() -> None:
    digits = datasets.load("digits")
    X = digits.X / 16.0
    network = nn.Network((64, 64, 32, 10))
    optimizer = stacked("adam", [{"learning_rate": 0.001}, {"learning_rate": 0.003}])
    compiled, numpy = both_engines(
        network,
        X,
        digits.Y,
        [RunGroup(optimizer, 2), RunGroup(optim.momentum(0.05), 1)],
        init_seeds=[1, 2, 3],
        shuffle_seeds=[1, 2, 3],
        epochs=15,
    )
    assert_engines_agree(compiled, numpy)
    assert compiled.histories[0].epoch_costs[-1] < 0.2  # it learns


def test_identical_bits_run_to_run() -> None:
    groups = [RunGroup(stacked("adam", [{"learning_rate": r} for r in RATES]), 3)]
    kwargs: dict[str, Any] = dict(init_seeds=[3, 4, 5], shuffle_seeds=[10, 11, 12], epochs=30)
    first = train_stack(NETWORK, *MOONS, groups, engine="compiled", **kwargs)
    second = train_stack(NETWORK, *MOONS, groups, engine="compiled", **kwargs)
    np.testing.assert_array_equal(first.params, second.params)
    for a, b in zip(first.histories, second.histories, strict=True):
        np.testing.assert_array_equal(a.minibatch_costs, b.minibatch_costs)
        np.testing.assert_array_equal(a.epoch_costs, b.epoch_costs)


def _snapshots() -> tuple[list[EpochSnapshot], Any]:
    kept: list[EpochSnapshot] = []

    def keep(snapshot: EpochSnapshot) -> None:
        # The numpy engine keeps updating params in place after a checkpoint, as writers
        # expect; the states a snapshot holds must stay as they were.
        kept.append(snapshot.__class__(**{**snapshot.__dict__, "params": snapshot.params.copy()}))

    return kept, keep


@pytest.mark.parametrize("name", ["adam", "sgd", "nadam"])
def test_continuing_from_a_snapshot_equals_one_run(name: str) -> None:
    optimizer = stacked(name, [{"learning_rate": rate} for rate in RATES[:2]])
    groups = [RunGroup(optimizer, 2)]
    seeds: dict[str, Any] = dict(init_seeds=[3, 4], shuffle_seeds=[10, 11])
    whole = train_stack(NETWORK, *MOONS, groups, epochs=10, engine="compiled", **seeds)
    kept, keep = _snapshots()
    train_stack(
        NETWORK, *MOONS, groups, epochs=5, engine="compiled", checkpoint=keep,
        checkpoint_every=5, **seeds,
    )  # fmt: skip
    (snapshot,) = kept
    rest = train_stack(
        NETWORK,
        *MOONS,
        groups,
        epochs=5,
        engine="compiled",
        params=snapshot.params,
        opt_states=snapshot.opt_states,
        start_epoch=snapshot.epochs_done,
        reference_costs=snapshot.reference_costs,
        diverged_epochs=snapshot.diverged_epochs,
        **seeds,
    )
    np.testing.assert_array_equal(rest.params, whole.params)
    for a, b in zip(rest.histories, whole.histories, strict=True):
        np.testing.assert_array_equal(a.epoch_costs, b.epoch_costs[5:])
        np.testing.assert_array_equal(a.minibatch_costs, b.minibatch_costs[25:])


def test_a_checkpoint_of_one_engine_continues_in_the_other() -> None:
    groups = [RunGroup(optim.adam(0.01, amsgrad=True), 1)]
    seeds: dict[str, Any] = dict(init_seeds=[3], shuffle_seeds=[10])
    whole = train_stack(NETWORK, *MOONS, groups, epochs=10, engine="numpy", **seeds)
    for first, then in (("numpy", "compiled"), ("compiled", "numpy")):
        kept, keep = _snapshots()
        train_stack(
            NETWORK, *MOONS, groups, epochs=5, engine=first, checkpoint=keep,
            checkpoint_every=5, **seeds,
        )  # fmt: skip
        (snapshot,) = kept
        assert isinstance(snapshot.opt_states[0], AdamState)
        assert snapshot.opt_states[0].step == 25
        rest = train_stack(
            NETWORK,
            *MOONS,
            groups,
            epochs=5,
            engine=then,
            params=snapshot.params,
            opt_states=snapshot.opt_states,
            start_epoch=5,
            reference_costs=snapshot.reference_costs,
            diverged_epochs=snapshot.diverged_epochs,
            **seeds,
        )
        assert relative_difference(rest.params, whole.params) <= TOLERANCE
        assert (
            relative_difference(rest.histories[0].epoch_costs, whole.histories[0].epoch_costs[5:])
            <= TOLERANCE
        )


def test_snapshots_are_not_written_after_they_are_handed_out() -> None:
    kept, keep = _snapshots()
    train_stack(
        NETWORK, *MOONS, [RunGroup(optim.adam(0.01), 1)], init_seeds=[3], shuffle_seeds=[10],
        epochs=4, engine="compiled", checkpoint=keep, checkpoint_every=1,
    )  # fmt: skip
    steps = [snapshot.opt_states[0].step for snapshot in kept]
    assert steps == [5, 10, 15, 20]
    for epochs, snapshot in enumerate(kept, start=1):
        alone = train_stack(
            NETWORK, *MOONS, [RunGroup(optim.adam(0.01), 1)], init_seeds=[3], shuffle_seeds=[10],
            epochs=epochs, engine="compiled",
        )  # fmt: skip
        np.testing.assert_array_equal(snapshot.opt_states[0].mu, alone.opt_states[0].mu)
        np.testing.assert_array_equal(snapshot.opt_states[0].nu, alone.opt_states[0].nu)


def test_callbacks_early_stop_and_interrupts_work_the_same() -> None:
    groups = [RunGroup(optim.adam(0.01), 1), RunGroup(optim.get("prodigy", learning_rate=1.0), 1)]
    seen: dict[str, list[tuple[int, float]]] = {"compiled": [], "numpy": []}
    details: dict[str, list[int]] = {"compiled": [], "numpy": []}
    results = {}
    for engine in seen:
        results[engine] = train_stack(
            NETWORK, *MOONS, groups, init_seeds=[3, 3], shuffle_seeds=[10, 11], epochs=50,
            engine=engine,
            on_epoch_end=lambda epoch, costs, e=engine: seen[e].append((epoch, float(costs[1]))),
            on_epoch_detail=lambda detail, e=engine: details[e].append(detail.epoch),
            should_stop=lambda epoch, weights: epoch == 6,
        )  # fmt: skip
    assert [epoch for epoch, _ in seen["compiled"]] == list(range(7)) == details["compiled"]
    assert (
        relative_difference(
            np.array([cost for _, cost in seen["compiled"]]),
            np.array([cost for _, cost in seen["numpy"]]),
        )
        <= TOLERANCE
    )
    assert len(results["compiled"].histories[0].epoch_costs) == 7
    kept, keep = _snapshots()
    with pytest.raises(TrainingInterrupted):
        train_stack(
            NETWORK, *MOONS, groups, init_seeds=[3, 3], shuffle_seeds=[10, 11], epochs=50,
            engine="compiled", checkpoint=keep, interrupted=lambda: len(kept) == 0,
        )  # fmt: skip
    assert [snapshot.epochs_done for snapshot in kept] == [1]
    assert [state.step for state in kept[0].opt_states] == [5, 5]


@pytest.mark.parametrize(
    ("case", "kwargs"),
    [
        ("sample_weight", {"sample_weight": np.linspace(0.5, 1.5, 300)}),
        ("float32", {"dtype": np.float32}),
    ],
)
def test_what_the_compiled_engine_does_not_do_falls_back_to_numpy(
    case: str, kwargs: dict[str, Any]
) -> None:
    groups = [RunGroup(optim.adam(0.01), 1)]
    seeds: dict[str, Any] = dict(init_seeds=[3], shuffle_seeds=[10], epochs=3)
    result = train_stack(NETWORK, *MOONS, groups, engine="compiled", **seeds, **kwargs)
    numpy = train_stack(NETWORK, *MOONS, groups, engine="numpy", **seeds, **kwargs)
    assert (result.engine, result.numpy_updates) == ("numpy", ())
    np.testing.assert_array_equal(result.params, numpy.params)


NUMBA_FREE = """
import sys
import descentlab, descentlab.train, descentlab.engines
from descentlab.cli import main
try:
    main(["--help"])
except SystemExit:
    pass
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("numba", "llvmlite"))
loaded += sorted(m for m in sys.modules if m.startswith("descentlab.compiled"))
print("loaded:", loaded, file=sys.stderr)
sys.exit(1 if loaded else 0)
"""


def test_numba_is_imported_only_when_the_compiled_engine_trains() -> None:
    result = subprocess.run(
        [sys.executable, "-c", NUMBA_FREE], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


PUBLISHED = Path(__file__).parent / "fixtures" / "published_comparison.json"


@pytest.mark.slow
@pytest.mark.exact
def test_the_compiled_engine_reproduces_the_published_comparison() -> None:
    import json

    published = json.loads(PUBLISHED.read_text())
    names = ("gd", "momentum", "adam")
    groups = [
        RunGroup(optim.gd(0.0007), 1),
        RunGroup(optim.momentum(0.0007, beta=0.9), 1),
        RunGroup(optim.adam(0.0007), 1),
    ]
    X, Y = MOONS
    result = train_stack(
        NETWORK, X, Y, groups, init_seeds=[3] * 3, shuffle_seeds=[10] * 3, epochs=10000,
        batch_size=64, engine="compiled",
    )  # fmt: skip
    assert (result.engine, result.numpy_updates) == ("compiled", ())
    epoch_lines = published["epoch_cost_lines_v1a"]
    batch_lines = published["last_minibatch_cost_lines_original"]
    for run, name in enumerate(names):
        correct = int(np.sum(nn.predict(NETWORK, result.params[run], X) == Y))
        assert correct == published["train_accuracy"][name]["correct"]
        costs = result.histories[run].epoch_costs
        assert [f"{costs[e]:f}" for e in epoch_lines["epochs"]] == epoch_lines[name]
        last_of_epoch = result.histories[run].minibatch_costs[4::5]
        assert [f"{last_of_epoch[e]:f}" for e in batch_lines["epochs"]] == batch_lines[name]
