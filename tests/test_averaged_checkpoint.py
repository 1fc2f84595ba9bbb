"""The optimizers that report other weights than they train (asgd, schedule-free) through a
checkpoint file: a stack whose runs differ in the settings that make their per-run scalars
(ASGD's step size and averaging weight, schedule-free's weight sum and largest rate) numbers
for one run and arrays for a stack resumes from the file as the uninterrupted stack ends, its
trained and reported weights alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from descentlab import checkpoint, datasets
from descentlab.nn import Network
from descentlab.optim.stack import stacked
from descentlab.resume import initial_states, resume_stack
from descentlab.train import (
    EpochSnapshot,
    RunGroup,
    TrainingInterrupted,
    reported_params,
    train_stack,
)

DATA = datasets.moons()
NETWORK = Network((2, 4, 1))
SEEDS: dict[str, Any] = {"init_seeds": [3, 4, 5], "shuffle_seeds": [10, 11, 12], "batch_size": 64}
EPOCHS = 8
BATCHES_PER_EPOCH = 5  # 300 examples in batches of 64

STACKS = {
    "asgd": [
        {"learning_rate": 0.05, "t0": 5.0},
        {"learning_rate": 0.1, "t0": 1e6},
        {"learning_rate": 0.02, "t0": 0.0},
    ],
    "schedule_free_sgd": [
        {"learning_rate": 0.1, "warmup_steps": 0},
        {"learning_rate": 0.05, "warmup_steps": 20},
        {"learning_rate": 0.2, "warmup_steps": 3},
    ],
    "schedule_free_adamw": [
        {"learning_rate": 0.01, "beta1": 0.9, "weight_lr_power": 2.0},
        {"learning_rate": 0.003, "beta1": 0.5, "weight_lr_power": 1.0},
        {"learning_rate": 0.02, "beta1": 1.0, "weight_lr_power": 0.0},
    ],
}


@pytest.mark.exact
@pytest.mark.parametrize("name", list(STACKS))
def test_a_stack_resumed_from_its_checkpoint_file_equals_the_uninterrupted_one(
    name: str, tmp_path: Path
) -> None:
    groups = [RunGroup(stacked(name, STACKS[name]), 3)]
    whole = train_stack(NETWORK, DATA.X, DATA.Y, groups, epochs=EPOCHS, **SEEDS)
    saved: list[EpochSnapshot] = []
    trained: list[int] = []
    with pytest.raises(TrainingInterrupted):
        train_stack(
            NETWORK, DATA.X, DATA.Y, groups, epochs=EPOCHS, checkpoint=saved.append,
            interrupted=lambda: len(trained) >= 3,
            on_epoch_end=lambda epoch, costs: trained.append(epoch), **SEEDS,
        )  # fmt: skip
    path = tmp_path / "checkpoint.npz"
    checkpoint.save(path, checkpoint.Checkpoint(saved[-1], None, {}))
    expected = checkpoint.Expected(3, NETWORK.n_params, EPOCHS, BATCHES_PER_EPOCH)
    loaded = checkpoint.load(path, initial_states(NETWORK, groups), expected).snapshot
    for before, after in zip(saved[-1].opt_states[0], loaded.opt_states[0], strict=True):
        assert np.array_equal(before, after)  # per-run scalars come back as (3, 1) arrays
    resumed = resume_stack(NETWORK, DATA.X, DATA.Y, groups, epochs=EPOCHS, prior=loaded, **SEEDS)
    assert np.array_equal(resumed.params, whole.params)
    reported = reported_params(groups, resumed.opt_states, resumed.params)
    assert np.array_equal(reported, reported_params(groups, whole.opt_states, whole.params))
    assert not np.allclose(reported, resumed.params)
