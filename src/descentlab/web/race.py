"""The race view's training: a checked race request, and ``Race``, one stacked training in a
background thread that can be paused, stepped one epoch at a time and stopped.

A race is ``descentlab compare`` (``experiment.run_experiment``, the same stack, the same
initial weights and batch order for every optimizer); its progress hook records each epoch's
costs and, between epochs, waits while paused or raises ``RaceStopped`` to end the thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from descentlab.api.arguments import batch_size_of, hidden_layers_of, load_dataset
from descentlab.datasets import Dataset
from descentlab.experiment import ExperimentConfig, RunOutcome, run_experiment
from descentlab.validation import check_int
from descentlab.web.limits import Limits
from descentlab.web.requests import FieldError, checked, json_object, optimizer_entries

RACE_FIELDS = (
    "dataset", "n_samples", "noise", "data_seed", "hidden_layers", "batch_size", "epochs",
    "seed", "optimizers",
)  # fmt: skip
MIN_RACE_OPTIMIZERS = 2
DEFAULT_LEARNING_RATE = cast(float, ExperimentConfig.learning_rate)
"""An optimizer without a learning rate gets ``descentlab compare``'s default."""
"""A race has at least two optimizers (at most ``Limits.max_optimizers``)."""


@dataclass(frozen=True)
class RaceRequest:
    """A checked race: what ``run_experiment`` trains, on which data."""

    config: ExperimentConfig
    dataset: Dataset


def race_request(body: object, limits: Limits) -> RaceRequest:
    """``body`` (the ``config`` of a start message) as a ``RaceRequest``; ``FieldError`` on
    the first bad field. Absent fields take ``descentlab compare``'s defaults."""
    body = json_object("config", body, RACE_FIELDS)
    names, rates, settings = optimizer_entries(
        body.get("optimizers"),
        command="compare",
        fewest=MIN_RACE_OPTIMIZERS,
        most=limits.max_optimizers,
        default_rate=lambda name: DEFAULT_LEARNING_RATE,
    )
    layers = checked("hidden_layers", hidden_layers_of, body.get("hidden_layers", [5, 2]))
    for index, width in enumerate(layers):
        where = f"hidden_layers[{index}]"
        checked(where, check_int, "hidden layer size", width, minimum=1)
        if width > limits.max_layer_width:
            raise FieldError(where, f"must be at most {limits.max_layer_width}, got {width}")
    batch_size = checked(
        "batch_size", batch_size_of, body.get("batch_size", ExperimentConfig.batch_size)
    )
    if batch_size is not None:
        checked("batch_size", check_int, "batch_size", batch_size, minimum=1)
    epochs = checked(
        "epochs", check_int, "epochs", body.get("epochs", ExperimentConfig.epochs), minimum=1
    )
    if epochs > limits.max_epochs:
        raise FieldError("epochs", f"must be at most {limits.max_epochs}, got {epochs}")
    seed = checked("seed", check_int, "seed", body.get("seed", 0), minimum=0)
    n_samples = body.get("n_samples")
    if n_samples is not None:
        n_samples = checked("n_samples", check_int, "n_samples", n_samples, minimum=1)
        if n_samples > limits.max_examples:
            raise FieldError("n_samples", f"must be at most {limits.max_examples}, got {n_samples}")
    dataset = checked(
        "dataset",
        load_dataset,
        body.get("dataset", "moons"),
        None,
        None,
        n_samples,
        body.get("noise"),
        body.get("data_seed"),
    )
    if dataset.n_examples > limits.max_examples:
        raise FieldError(
            "n_samples", f"must be at most {limits.max_examples}, got {dataset.n_examples}"
        )
    config = checked(
        "config",
        ExperimentConfig,
        optimizers=names,
        learning_rate={name: rates.get(name, DEFAULT_LEARNING_RATE) for name in names},
        hyperparameters=settings,
        batch_size=batch_size,
        epochs=epochs,
        hidden_layers=layers,
        seed=seed,
    )
    return RaceRequest(config, dataset)


class RaceStopped(Exception):
    """Raised by the progress hook between epochs to end a race's thread."""


@dataclass(frozen=True)
class RaceUpdate:
    """What happened since the last ``Race.update()``.

    ``costs``: each optimizer's epoch costs since then (in order); ``epochs_done``: epochs
    trained so far; ``paused``: the thread waits (paused, or after a step); ``outcomes``: the
    measured runs once the race has ended; ``error``: why the thread failed, if it did."""

    costs: dict[str, list[float]]
    epochs_done: int
    epochs_per_second: float
    paused: bool
    finished: bool
    outcomes: tuple[RunOutcome, ...] | None = None
    error: str | None = None


class Race:
    """One race training in its own thread. ``pause``, ``resume`` and ``step`` act at the next
    epoch's end; ``stop`` ends the thread there and waits for it. ``on_end`` is called once
    from the thread when it ends, however it ends."""

    def __init__(self, request: RaceRequest, on_end: Callable[[], None] = lambda: None) -> None:
        self.request = request
        self._on_end = on_end
        self._condition = threading.Condition()
        self._pending: list[list[float]] = []
        self._epochs_done = 0
        self._seconds = 0.0
        self._since = 0.0
        self._paused = False
        self._steps = 0
        self._waiting = False
        self._stopped = False
        self._finished = False
        self._outcomes: tuple[RunOutcome, ...] | None = None
        self._error: str | None = None
        self._thread = threading.Thread(target=self._train, name="descentlab-race", daemon=True)

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    def start(self) -> None:
        self._thread.start()

    def pause(self) -> None:
        with self._condition:
            self._paused = True
            self._steps = 0

    def resume(self) -> None:
        with self._condition:
            self._paused = False
            self._condition.notify_all()

    def step(self) -> None:
        """Train exactly one more epoch, then wait (pauses a running race first)."""
        with self._condition:
            if not self._paused:
                self._paused = True
            else:
                self._steps += 1
            self._condition.notify_all()

    def stop(self, wait: bool = True) -> None:
        """End the thread at the next epoch's end; with ``wait``, wait for it."""
        with self._condition:
            self._stopped = True
            self._condition.notify_all()
        if wait and self._thread.is_alive():
            self._thread.join()

    def update(self) -> RaceUpdate:
        """The costs since the last call, and the race's state."""
        with self._condition:
            pending, self._pending = self._pending, []
            by_run = np.array(pending).T.tolist() if pending else [[] for _ in self._names]
            seconds = self._seconds
            return RaceUpdate(
                costs=dict(zip(self._names, by_run, strict=True)),
                epochs_done=self._epochs_done,
                epochs_per_second=self._epochs_done / seconds if seconds > 0 else 0.0,
                paused=self._waiting,
                finished=self._finished,
                outcomes=self._outcomes,
                error=self._error,
            )

    @property
    def _names(self) -> tuple[str, ...]:
        return self.request.config.optimizers

    def _after_epoch(self, epoch: int, costs: np.ndarray) -> None:
        with self._condition:
            now = time.perf_counter()
            self._seconds += now - self._since
            self._pending.append(costs.tolist())
            self._epochs_done = epoch + 1
            if self._paused and self._steps:
                self._steps -= 1
            last = epoch + 1 == self.request.config.epochs
            while self._paused and not self._steps and not self._stopped and not last:
                self._waiting = True
                self._condition.wait()
            self._waiting = False
            if self._stopped:
                raise RaceStopped
            self._since = time.perf_counter()

    def _train(self) -> None:
        outcomes = None
        error = None
        try:
            self._since = time.perf_counter()
            outcomes = tuple(
                run_experiment(self.request.config, self.request.dataset, self._after_epoch)
            )
        except RaceStopped:
            pass
        except Exception as failure:  # the page shows it; the server goes on
            error = f"{type(failure).__name__}: {failure}"
        finally:
            with self._condition:
                self._outcomes = outcomes
                self._error = error
                self._finished = True
            self._on_end()


def results_of(race: Race, outcomes: tuple[RunOutcome, ...]) -> dict[str, dict[str, Any]]:
    """What the page shows of each finished run, by optimizer name."""
    return {
        name: {
            "final_cost": outcome.final_cost,
            "train_accuracy": outcome.train_accuracy,
            "oscillation": outcome.oscillation,
            "cost_shape": outcome.cost_shape,
            "diverged_epoch": outcome.result.diverged_epoch,
        }
        for name, outcome in zip(race.request.config.optimizers, outcomes, strict=True)
    }
