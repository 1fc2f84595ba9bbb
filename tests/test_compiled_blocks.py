"""The compiled engine trains blocks of epochs per kernel call (``kernels.train_epochs``),
shuffling in compiled code (``compiled.shuffle``): the same bits as one call per epoch with
numpy's shuffle, and every per-epoch feature of ``train_stack`` unchanged."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from descentlab import course, nn
from descentlab.compiled import kernels
from descentlab.compiled.shuffle import legacy_permutation
from descentlab.compiled.stack import SHARED_RUNS
from descentlab.optim.stack import stacked
from descentlab.train import (
    EpochSnapshot,
    RunGroup,
    StackResult,
    TrainingInterrupted,
    train_stack,
)

MOONS = course.load_dataset()
NETWORK = nn.Network((2, 5, 2, 1))


@pytest.mark.exact
@pytest.mark.parametrize("seed", [0, 1, 11, 2**31, 2**32 - 1, 987654321])
def test_the_compiled_shuffle_is_numpys_legacy_permutation(seed: int) -> None:
    # m around 624 and 1249 crosses the generator's refills; 70000 draws many masks.
    for m in (1, 2, 3, 64, 300, 623, 624, 625, 1249, 70000):
        shuffled = np.empty(m, np.int64)
        legacy_permutation(seed, shuffled)
        np.testing.assert_array_equal(shuffled, np.random.RandomState(seed).permutation(m))


STACKS = {
    # name: (optimizer, its settings, shuffle seeds)
    "one shuffle": ("adam", [0.01, 0.003, 0.03], [10, 10, 10]),
    "a shuffle per run": ("nadam", [0.01, 0.003, 0.03], [10, 11, 12]),
    "wide": ("adam", list(np.geomspace(1e-4, 1e-1, SHARED_RUNS + 2)), [10] * (SHARED_RUNS + 2)),
    "one run diverges mid-block": ("gd", [0.1, 600.0], [10, 10]),
}


def _train(case: str, *, per_epoch: bool, **options: Any) -> StackResult:
    """The stack of ``case``; ``per_epoch`` adds an observer of single epochs, which makes
    ``train_stack`` call the kernel once per epoch with numpy's shuffle."""
    name, rates, seeds = STACKS[case]
    optimizer = stacked(name, [{"learning_rate": float(rate)} for rate in rates])
    return train_stack(
        NETWORK, *MOONS, [RunGroup(optimizer, len(rates))],
        init_seeds=[1] * len(rates), shuffle_seeds=seeds, epochs=options.pop("epochs", 150),
        engine="compiled",
        on_epoch_detail=(lambda detail: None) if per_epoch else None,
        **options,
    )  # fmt: skip


def _assert_same_bits(a: StackResult, b: StackResult) -> None:
    np.testing.assert_array_equal(a.params, b.params)
    assert a.diverged_epochs == b.diverged_epochs
    for x, y in zip(a.histories, b.histories, strict=True):
        np.testing.assert_array_equal(x.epoch_costs, y.epoch_costs)
        np.testing.assert_array_equal(x.minibatch_costs, y.minibatch_costs)
    for x, y in zip(a.opt_states, b.opt_states, strict=True):
        for field, value in x._asdict().items():
            np.testing.assert_array_equal(value, getattr(y, field), err_msg=field)


@pytest.mark.exact
@pytest.mark.parametrize("case", STACKS)
def test_blocks_of_epochs_give_the_bits_of_one_call_per_epoch(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocks = kernels.train_epochs
    epochs_per_call: list[int] = []

    def counted(*args: Any) -> None:
        epochs_per_call.append(args[4].shape[0])  # the seeds: one row per epoch
        blocks(*args)

    monkeypatch.setattr(kernels, "train_epochs", counted)
    blocked = _train(case, per_epoch=False)
    assert sum(epochs_per_call) == 150 and max(epochs_per_call) > 1
    epochs_per_call.clear()
    _assert_same_bits(blocked, _train(case, per_epoch=True))
    assert epochs_per_call == []  # an observer of single epochs: no blocks
    if case == "one run diverges mid-block":
        assert blocked.diverged_epochs == [None, 16]


def test_a_block_reports_every_epoch_in_order_and_stops_at_each_checkpoint() -> None:
    seen: list[tuple[int, float]] = []
    snapshots: list[EpochSnapshot] = []
    result = _train(
        "one shuffle", per_epoch=False, epochs=30, start_epoch=5,
        on_epoch_end=lambda epoch, costs: seen.append((epoch, float(costs[2]))),
        checkpoint=snapshots.append, checkpoint_every=7,
    )  # fmt: skip
    assert [epoch for epoch, _ in seen] == list(range(5, 35))
    assert [cost for _, cost in seen] == result.histories[2].epoch_costs.tolist()
    # epochs count from 0 overall: epochs 6, 13, 20, 27 and 34 end a checkpoint's stretch
    assert [snapshot.epochs_done for snapshot in snapshots] == [7, 14, 21, 28, 35]
    _assert_same_bits(
        result,
        _train(
            "one shuffle",
            per_epoch=True,
            epochs=30,
            start_epoch=5,
            checkpoint=lambda snapshot: None,
            checkpoint_every=7,
        ),
    )


def test_an_interrupt_after_a_block_checkpoints_it_and_continuing_equals_one_run() -> None:
    snapshots: list[EpochSnapshot] = []
    with pytest.raises(TrainingInterrupted) as stopped:
        _train(
            "a shuffle per run", per_epoch=False, checkpoint=snapshots.append,
            interrupted=lambda: True,
        )  # fmt: skip
    (snapshot,) = snapshots
    assert 1 < snapshot.epochs_done == stopped.value.epochs_done < 150
    rest = _train(
        "a shuffle per run", per_epoch=False, epochs=150 - snapshot.epochs_done,
        params=snapshot.params, opt_states=snapshot.opt_states,
        start_epoch=snapshot.epochs_done, reference_costs=snapshot.reference_costs,
        diverged_epochs=snapshot.diverged_epochs,
    )  # fmt: skip
    whole = _train("a shuffle per run", per_epoch=False)
    np.testing.assert_array_equal(rest.params, whole.params)
    for part, run in zip(rest.histories, whole.histories, strict=True):
        np.testing.assert_array_equal(part.epoch_costs, run.epoch_costs[snapshot.epochs_done :])
