"""Checkpoints: interrupting a run and resuming it ends exactly as the uninterrupted run, and
the resumed run trains only the epochs that were left (``progress`` sees each epoch trained)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from conftest import checkpoint_epochs_done
from descentlab import checkpoint, datasets
from descentlab.experiment import Checkpointing, ExperimentConfig, RunOutcome, run_experiment
from descentlab.train import TrainingInterrupted

pytestmark = pytest.mark.exact

CONFIGS = {
    "course": ExperimentConfig(epochs=40),
    "schedule-early-stopping": ExperimentConfig(
        optimizers=("sgd", "adam", "nadam"),
        learning_rate=0.05,
        hidden_layers=(6,),
        epochs=120,
        validation_fraction=0.25,
        early_stopping=True,
        patience=30,
        hyperparameters={"sgd": {"momentum": 0.9}},
    ),
}


def _recorder() -> tuple[list[int], Callable[[int, np.ndarray], None]]:
    """A ``progress`` callback and the list of the epochs it saw trained."""
    epochs: list[int] = []
    return epochs, lambda epoch, costs: epochs.append(epoch)


def _same(a: list[RunOutcome], b: list[RunOutcome]) -> None:
    for one, two in zip(a, b, strict=True):
        assert np.array_equal(one.result.params, two.result.params)
        assert np.array_equal(one.result.history.epoch_costs, two.result.history.epoch_costs)
        assert np.array_equal(
            one.result.history.minibatch_costs, two.result.history.minibatch_costs
        )
        assert one.result.diverged_epoch == two.result.diverged_epoch
        assert one.stopped_epoch == two.stopped_epoch and one.best_epoch == two.best_epoch


@pytest.mark.parametrize("name", list(CONFIGS))
@pytest.mark.parametrize("stop_after", [1, 13, 27])
def test_interrupt_then_resume_equals_uninterrupted(
    name: str, stop_after: int, tmp_path: Path
) -> None:
    config = CONFIGS[name]
    dataset = datasets.moons()
    whole_epochs, progress = _recorder()
    whole = run_experiment(config, dataset, progress)
    path = tmp_path / "checkpoint.npz"
    epochs_seen = []

    def interrupted() -> bool:
        epochs_seen.append(1)
        return len(epochs_seen) == stop_after

    with pytest.raises(TrainingInterrupted) as stopped:
        run_experiment(
            config, dataset, checkpointing=Checkpointing(path, every=5, interrupted=interrupted)
        )
    assert stopped.value.epochs_done == stop_after
    assert checkpoint_epochs_done(path) == stop_after
    resumed_epochs, progress = _recorder()
    resumed = run_experiment(
        config, dataset, progress, checkpointing=Checkpointing(path, every=5, resume=True)
    )
    _same(resumed, whole)
    # It went on from the checkpoint: exactly the epochs the whole run trained after it.
    assert resumed_epochs == whole_epochs[stop_after:]
    assert resumed_epochs[0] == stop_after


def test_periodic_checkpoints_and_resuming_a_finished_checkpoint(tmp_path: Path) -> None:
    config = ExperimentConfig(epochs=20)
    dataset = datasets.moons()
    path = tmp_path / "checkpoint.npz"
    whole = run_experiment(config, dataset, checkpointing=Checkpointing(path, every=10))
    assert checkpoint_epochs_done(path) == 20
    # The last periodic checkpoint is at epoch 20: resuming trains nothing and gives the same.
    trained, progress = _recorder()
    again = run_experiment(
        config, dataset, progress, checkpointing=Checkpointing(path, resume=True)
    )
    _same(again, whole)
    assert trained == []


def test_damaged_or_missing_checkpoints_are_refused(tmp_path: Path) -> None:
    config = ExperimentConfig(epochs=5)
    missing = tmp_path / "none.npz"
    with pytest.raises(ValueError, match="no checkpoint to resume from"):
        run_experiment(config, datasets.moons(), checkpointing=Checkpointing(missing, resume=True))
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        checkpoint.read_description(broken)


def test_resuming_twice_keeps_the_whole_history(tmp_path: Path) -> None:
    config = ExperimentConfig(epochs=30)
    dataset = datasets.moons()
    whole = run_experiment(config, dataset)
    path = tmp_path / "checkpoint.npz"
    # Stopped after 7 epochs, then resumed and stopped after 9 more (epochs 7..15).
    for stop_after, resume, first_epoch in ((7, False, 0), (9, True, 7)):
        calls = []

        def interrupted(calls: list[int] = calls, stop_after: int = stop_after) -> bool:
            calls.append(1)
            return len(calls) == stop_after

        trained, progress = _recorder()
        with pytest.raises(TrainingInterrupted) as stopped:
            run_experiment(
                config, dataset, progress,
                checkpointing=Checkpointing(path, every=5, interrupted=interrupted, resume=resume),
            )  # fmt: skip
        assert trained == list(range(first_epoch, first_epoch + stop_after))
        assert stopped.value.epochs_done == checkpoint_epochs_done(path) == trained[-1] + 1
    trained, progress = _recorder()
    resumed = run_experiment(
        config, dataset, progress, checkpointing=Checkpointing(path, resume=True)
    )
    _same(resumed, whole)
    assert trained == list(range(16, 30))
