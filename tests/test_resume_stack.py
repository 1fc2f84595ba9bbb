"""``descentlab.resume``, the one resume path: a stack continued from a snapshot ends as the
uninterrupted stack does, with whole histories, and counts only the epochs it trained."""

from __future__ import annotations

import numpy as np
import pytest

from descentlab import datasets, optim
from descentlab.nn import Network
from descentlab.resume import initial_states, resume_stack, snapshot_of, stack_of
from descentlab.train import EpochSnapshot, RunGroup, TrainingInterrupted, train_stack

DATA = datasets.moons()
NETWORK = Network((2, 4, 1))
GROUPS = [RunGroup(optim.get("adam", learning_rate=0.01), 1), RunGroup(optim.gd(0.1), 1)]
SEEDS = {"init_seeds": [3, 3], "shuffle_seeds": [10, 10], "batch_size": 64}


def _interrupted_after(epochs: int) -> EpochSnapshot:
    """The checkpoint a stack of 20 epochs saves when interrupted after ``epochs``."""
    trained: list[int] = []
    saved: list[EpochSnapshot] = []
    with pytest.raises(TrainingInterrupted):
        train_stack(
            NETWORK, DATA.X, DATA.Y, GROUPS, epochs=20, checkpoint=saved.append,
            interrupted=lambda: len(trained) >= epochs,
            on_epoch_end=lambda epoch, costs: trained.append(epoch), **SEEDS,
        )  # fmt: skip
    return saved[-1]


def test_a_resumed_stack_equals_the_uninterrupted_one_and_trains_only_the_rest() -> None:
    whole = train_stack(NETWORK, DATA.X, DATA.Y, GROUPS, epochs=20, **SEEDS)
    prior = _interrupted_after(7)
    assert prior.epochs_done == 7
    trained: list[int] = []
    written: list[EpochSnapshot] = []
    resumed = resume_stack(
        NETWORK, DATA.X, DATA.Y, GROUPS, epochs=20, prior=prior, checkpoint=written.append,
        checkpoint_every=5, on_epoch_end=lambda epoch, costs: trained.append(epoch), **SEEDS,
    )  # fmt: skip
    assert trained == list(range(7, 20))  # 13 epochs, numbered as the whole run numbers them
    np.testing.assert_array_equal(resumed.params, whole.params)
    for run in range(2):
        np.testing.assert_array_equal(
            resumed.histories[run].epoch_costs, whole.histories[run].epoch_costs
        )
        np.testing.assert_array_equal(
            resumed.histories[run].minibatch_costs, whole.histories[run].minibatch_costs
        )
    # Every checkpoint written after the resume holds the whole history so far.
    assert [snapshot.epochs_done for snapshot in written] == [10, 15, 20]
    assert all(s.epoch_costs.shape[1] == s.epochs_done for s in written)


def test_a_finished_snapshot_is_read_back_untrained() -> None:
    whole = train_stack(NETWORK, DATA.X, DATA.Y, GROUPS, epochs=5, **SEEDS)
    snapshot = snapshot_of(whole, 5)
    trained: list[int] = []
    again = resume_stack(
        NETWORK, DATA.X, DATA.Y, GROUPS, epochs=5, prior=snapshot,
        on_epoch_end=lambda epoch, costs: trained.append(epoch), **SEEDS,
    )  # fmt: skip
    assert trained == []
    np.testing.assert_array_equal(again.params, whole.params)
    assert again.histories[0].batches_per_epoch == whole.histories[0].batches_per_epoch
    assert stack_of(snapshot).diverged_epochs == whole.diverged_epochs


def test_initial_states_have_the_groups_state_types() -> None:
    states = initial_states(NETWORK, GROUPS)
    fresh = [group.optimizer.init(np.zeros((1, NETWORK.n_params))) for group in GROUPS]
    assert [type(state) for state in states] == [type(state) for state in fresh]
