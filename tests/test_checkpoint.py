"""Checkpoints: interrupting a run and resuming it ends exactly as the uninterrupted run, and
the resumed run trains only the epochs that were left (``progress`` sees each epoch trained)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import checkpoint_epochs_done
from descentlab import checkpoint, datasets, optim
from descentlab.experiment import Checkpointing, ExperimentConfig, RunOutcome, run_experiment
from descentlab.train import TrainingInterrupted
from helpers import full_batch

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


# What resume checks: every key, type and shape, and the data and configuration it continues.

CHECKED_CONFIG = ExperimentConfig(
    optimizers=("gd", "nadam"),
    learning_rate=0.05,
    hidden_layers=(4,),
    epochs=10,
    validation_fraction=0.25,
    early_stopping=True,
    patience=50,
)
"""Two optimizer states (one with arrays), a validation monitor and, with ``path_every=2``,
weight paths: every part of a checkpoint."""


def _interrupted_after(epochs: int) -> Callable[[], bool]:
    calls: list[int] = []

    def interrupted() -> bool:
        calls.append(1)
        return len(calls) == epochs

    return interrupted


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    """A checkpoint of ``CHECKED_CONFIG`` on moons after 3 epochs, with weight paths."""
    path = tmp_path / "checkpoint.npz"
    with pytest.raises(TrainingInterrupted):
        run_experiment(
            CHECKED_CONFIG, datasets.moons(), path_every=2,
            checkpointing=Checkpointing(path, interrupted=_interrupted_after(3)),
        )  # fmt: skip
    return path


def _contents(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    return json.loads(arrays.pop("header").tobytes().decode()), arrays


def _rewrite(path: Path, change: Callable[[dict[str, Any], dict[str, np.ndarray]], None]) -> None:
    """Rewrite the checkpoint at ``path`` with ``change(header, arrays)`` applied (plain
    arrays and JSON, as ``checkpoint.save`` writes them)."""
    header, arrays = _contents(path)
    change(header, arrays)
    buffer = io.BytesIO()
    np.savez(buffer, header=np.frombuffer(json.dumps(header).encode(), np.uint8), **arrays)
    path.write_bytes(buffer.getvalue())


def _set(key: str, value: Any) -> Callable[[dict[str, Any], dict[str, np.ndarray]], None]:
    return lambda header, arrays: header.__setitem__(key, value)


def _drop(key: str) -> Callable[[dict[str, Any], dict[str, np.ndarray]], None]:
    return lambda header, arrays: header.pop(key)


def _array(
    key: str, change: Callable[[np.ndarray], np.ndarray | None]
) -> Callable[[dict[str, Any], dict[str, np.ndarray]], None]:
    def apply(header: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        changed = change(arrays[key])
        if changed is None:
            del arrays[key]
        else:
            arrays[key] = changed

    return apply


def _state(
    index: int, name: str, entry: Any
) -> Callable[[dict[str, Any], dict[str, np.ndarray]], None]:
    def apply(header: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        if entry is None:
            del header["states"][index][name]
        else:
            header["states"][index][name] = entry

    return apply


def _description(key: str, value: Any) -> Callable[[dict[str, Any], dict[str, np.ndarray]], None]:
    def apply(header: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        if value is None:
            del header["description"][key]
        elif isinstance(value, dict):
            header["description"][key] = {**header["description"][key], **value}
        else:
            header["description"][key] = value

    return apply


HOSTILE = [
    ("no epochs_done", _drop("epochs_done"), "the checkpoint has no 'epochs_done'"),
    ("epochs_done past the end", _set("epochs_done", 11), "epochs_done is 11, outside 1..10"),
    ("epochs_done 0", _set("epochs_done", 0), "epochs_done is 0, outside 1..10"),
    ("epochs_done a string", _set("epochs_done", "3"), "'epochs_done' must be an integer"),
    ("epochs_done true", _set("epochs_done", True), "'epochs_done' must be an integer"),
    ("no states", _drop("states"), "the checkpoint has no 'states'"),
    ("states not a list", _set("states", {}), "'states' must be a list"),
    (
        "one state too few",
        lambda h,
        a: h["states"].pop(),
        "holds 1 optimizer states, this run has 2",
    ),
    ("a state field missing", _state(1, "nu", None), "optimizer state 1 has fields"),
    ("a negative step", _state(0, "step", {"value": -1}), "state 0 'step' must be an integer >= 0"),
    ("a step as text", _state(0, "step", {"value": "3"}), "state 0 'step' must be an integer"),
    ("an array named nowhere", _state(1, "mu", {"array": "nowhere"}), "names no array"),
    (
        "a state array of another shape",
        _array("state1.mu", lambda a: a[:, :-1]),
        "state 1 'mu' has shape",
    ),
    ("no parameters", _array("params", lambda a: None), "the checkpoint has no array 'params'"),
    ("parameters of another network", _array("params", lambda a: a[:, :-1]), "'params' has shape"),
    ("parameters of one run", _array("params", lambda a: a[:1]), "'params' has shape (1, 17)"),
    ("parameters as integers", _array("params", lambda a: a.astype(np.int64)), "floating-point"),
    ("a history too short", _array("epoch_costs", lambda a: a[:, :-1]), "'epoch_costs' has shape"),
    (
        "mini-batch costs too long",
        _array("minibatch_costs", lambda a: np.hstack([a, a])),
        "'minibatch_costs' has shape",
    ),
    ("no reference costs", _array("reference_costs", lambda a: None), "no array 'reference_costs'"),
    (
        "one divergence for two runs",
        _set("diverged_epochs", [None]),
        "diverged_epochs must be 2 epochs",
    ),
    ("a divergence not yet trained", _set("diverged_epochs", [5, None]), "diverged_epochs must be"),
    (
        "a step count the epochs do not take",
        _state(1, "step", {"value": 7}),
        "optimizer state 1 has taken 7 steps, but 3 epochs of 4 mini-batches take 12",
    ),
    (
        "a best epoch not yet trained",
        _array("monitor.best_epoch", lambda a: a + 5),
        "the monitor's best epochs must be epochs in 0..2",
    ),
    (
        "a stopping epoch not yet trained",
        lambda h, a: h["monitor"].__setitem__("stopped_epoch", {"value": [9, None]}),
        "the monitor's stopping epochs must be epochs in 0..2 or nulls",
    ),
    ("no monitor", _set("monitor", None), "the validation monitor holds None"),
    (
        "a monitor without its costs",
        lambda h,
        a: h["monitor"].pop("costs"),
        "the validation monitor holds",
    ),
    (
        "a monitor of other epochs",
        _array("monitor.costs", lambda a: a[:, :5]),
        "monitor 'costs' has shape",
    ),
    ("no weight paths", _array("weight_path", lambda a: None), "no array 'weight_path'"),
    (
        "a weight path too short",
        _array("weight_path", lambda a: a[:-1]),
        "'weight_path' has shape (1, 2, 17), but this run needs (2, 2, 17)",
    ),
    ("no description", _set("description", []), "the checkpoint does not describe its run"),
    ("format 1", _set("format_version", 1), "a checkpoint of format 1 (older descentlab)"),
    ("format 3", _set("format_version", 3), "checkpoint format version 3, not 2"),
    ("another format", _set("format", "zip"), "not a descentlab checkpoint"),
    (
        "a configuration its command does not give",
        _description("config", {"epochs": 20}),
        "the checkpoint's config has epochs = 20, but the command it records gives epochs = 10",
    ),
    ("other weight paths", _description("weight_paths", 5), "the checkpoint's weight_paths is 5"),
    (
        "other data",
        _description("data", {"sha256": "0" * 64}),
        "dataset moons changed since the run started (same size",
    ),
    (
        "smaller data",
        _description("data", {"examples": 199}),
        "(199 examples, 2 features, 2 classes then, 300 examples",
    ),
    (
        "no record of its data",
        _description("data", None),
        "the checkpoint does not record its data",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    "change, message", [case[1:] for case in HOSTILE], ids=[c[0] for c in HOSTILE]
)
def test_a_checkpoint_is_checked_against_the_run_it_continues(
    saved: Path, change: Callable[[dict[str, Any], dict[str, np.ndarray]], None], message: str
) -> None:
    _rewrite(saved, change)
    with pytest.raises(ValueError) as refused:
        run_experiment(
            CHECKED_CONFIG, datasets.moons(), path_every=2,
            checkpointing=Checkpointing(saved, resume=True),
        )  # fmt: skip
    text = str(refused.value)
    assert text.startswith(f"{saved}: ") and "\n" not in text
    assert message in text


def test_the_untouched_checkpoint_resumes(saved: Path) -> None:
    """The fixture's checkpoint passes every check (so each refusal above is its change's)."""
    _rewrite(saved, lambda header, arrays: None)
    whole = run_experiment(CHECKED_CONFIG, datasets.moons(), path_every=2)
    resumed = run_experiment(
        CHECKED_CONFIG, datasets.moons(), path_every=2,
        checkpointing=Checkpointing(saved, resume=True),
    )  # fmt: skip
    _same(resumed, whole)


@pytest.mark.parametrize(
    "dataset, message",
    [
        (lambda: datasets.moons(n_samples=200), "200 examples, 2 features, 2 classes now"),
        (lambda: datasets.moons(noise=0.3), "same size, 300 examples, 2 features, 2 classes"),
        (datasets.blobs, "300 examples, 2 features, 3 classes now"),
    ],
    ids=["fewer examples", "other values", "another dataset"],
)
def test_a_checkpoint_of_other_data_is_refused(
    saved: Path, dataset: Callable[[], datasets.Dataset], message: str
) -> None:
    with pytest.raises(ValueError, match="changed since the run started") as refused:
        run_experiment(
            CHECKED_CONFIG, dataset(), path_every=2,
            checkpointing=Checkpointing(saved, resume=True),
        )  # fmt: skip
    assert message in str(refused.value)


@pytest.mark.parametrize("name", optim.runnable_names())
def test_every_optimizer_resumes_through_the_checks(name: str, tmp_path: Path) -> None:
    """Each optimizer's state passes ``load``'s checks (its step count is the updates the
    epochs done take) and the resumed run equals the uninterrupted one."""
    batch_size = None if full_batch(name) else 64
    config = ExperimentConfig(
        optimizers=(name,), epochs=6, learning_rate=0.01, batch_size=batch_size
    )
    whole = run_experiment(config, datasets.moons())
    path = tmp_path / "checkpoint.npz"
    with pytest.raises(TrainingInterrupted):
        run_experiment(
            config, datasets.moons(),
            checkpointing=Checkpointing(path, interrupted=_interrupted_after(4)),
        )  # fmt: skip
    resumed = run_experiment(
        config, datasets.moons(), checkpointing=Checkpointing(path, resume=True)
    )
    _same(resumed, whole)


@pytest.mark.parametrize("name", ["lookahead:adam", "lookahead:sgd"])
def test_a_wrappers_nested_state_resumes_bit_for_bit(name: str, tmp_path: Path) -> None:
    """A wrapper's state holds its inner optimizer's state: the checkpoint stores it as a
    nested entry ({"state": fields}) and rebuilds the same types and bits."""
    config = ExperimentConfig(
        optimizers=(name,), epochs=6, learning_rate=0.01,
        hyperparameters={name: {"sync_period": 3}},
    )  # fmt: skip
    whole = run_experiment(config, datasets.moons())
    path = tmp_path / "checkpoint.npz"
    with pytest.raises(TrainingInterrupted):
        run_experiment(
            config, datasets.moons(),
            checkpointing=Checkpointing(path, interrupted=_interrupted_after(4)),
        )  # fmt: skip
    header, _ = _contents(path)
    (fields,) = header["states"]
    assert sorted(fields) == ["inner", "slow", "step"]
    inner_fields = fields["inner"]["state"]
    assert inner_fields["step"] == {"value": fields["step"]["value"]}
    assert all(
        entry == {"array": f"state0.inner.{key}"}
        for key, entry in inner_fields.items()
        if "array" in entry
    )
    resumed = run_experiment(
        config, datasets.moons(), checkpointing=Checkpointing(path, resume=True)
    )
    _same(resumed, whole)


def test_a_damaged_nested_state_is_refused_in_one_line(tmp_path: Path) -> None:
    config = ExperimentConfig(optimizers=("lookahead:adam",), epochs=6, learning_rate=0.01)
    path = tmp_path / "checkpoint.npz"
    with pytest.raises(TrainingInterrupted):
        run_experiment(
            config, datasets.moons(),
            checkpointing=Checkpointing(path, interrupted=_interrupted_after(4)),
        )  # fmt: skip

    def drop_inner_mu(header: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        del header["states"][0]["inner"]["state"]["mu"]

    _rewrite(path, drop_inner_mu)
    with pytest.raises(ValueError) as refused:
        run_experiment(config, datasets.moons(), checkpointing=Checkpointing(path, resume=True))
    message = str(refused.value)
    assert "\n" not in message
    assert "optimizer state 0 'inner' has fields ['nu', 'nu_max', 'step'], this run's " in message
