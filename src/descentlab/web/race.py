"""The race view's training: ``Race``, one stacked training in a background thread that can be
paused, stepped one epoch at a time and stopped, and what it streams.

A race is ``descentlab compare`` (``experiment.run_experiment``, the same stack, the same
initial weights and batch order for every optimizer). Its observation hook
(``train.EpochDetail``) copies each epoch's costs, draws a decision-boundary map now and then
(at most ``BOUNDARY_RATE`` a second, and whenever the race waits or ends), and, between epochs,
waits while paused or raises ``RaceStopped`` to end the thread. ``Race.update`` hands the
costs since the last call to the session, which turns them into messages.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from descentlab.experiment import RunOutcome, prepare_data, run_experiment
from descentlab.train import EpochDetail
from descentlab.web.boundaries import BoundaryMaps
from descentlab.web.live import RunningOscillation, minibatch_points, oscillation_message
from descentlab.web.race_config import RaceRequest

BOUNDARY_RATE = 2.0
"""At most this many decision-boundary maps a second while a race runs."""

Message = dict[str, Any]


class RaceStopped(Exception):
    """Raised by the observation hook between epochs to end a race's thread."""


@dataclass(frozen=True)
class RaceUpdate:
    """What happened since the last ``Race.update()``.

    ``epoch_costs`` (K, e) and ``minibatch_costs`` (K, e * batches_per_epoch): the e epochs
    trained since then, starting at epoch ``first_epoch``; ``diverged_epochs``: each run's
    divergence epoch so far; ``boundaries``: the newest boundary message not yet handed out;
    ``epochs_done``: epochs trained so far; ``paused``: the thread waits (paused, or after a
    step); ``outcomes``: the measured runs once the race has ended; ``error``: why the thread
    failed, if it did."""

    first_epoch: int
    epoch_costs: np.ndarray
    minibatch_costs: np.ndarray
    diverged_epochs: tuple[int | None, ...]
    boundaries: Message | None
    epochs_done: int
    epochs_per_second: float
    paused: bool
    finished: bool
    outcomes: tuple[RunOutcome, ...] | None = None
    error: str | None = None


class Race:
    """One race training in its own thread. ``pause``, ``resume`` and ``step`` act at the next
    epoch's end; ``stop`` ends the thread there and waits for it. ``on_end`` is called once
    from the thread when it ends, however it ends. ``boundary_grid``: cells per axis of the
    decision-boundary maps."""

    def __init__(
        self,
        request: RaceRequest,
        boundary_grid: int,
        on_end: Callable[[], None] = lambda: None,
    ) -> None:
        self.request = request
        config = request.config
        self.data = prepare_data(config, request.dataset)
        self.names = config.optimizers
        self.batches_per_epoch = config.batches_per_epoch(self.data.train.n_examples)
        network = config.network(self.data.train.n_features, request.dataset.n_classes)
        self.maps = BoundaryMaps(network, request.dataset, self.data, boundary_grid)
        self._on_end = on_end
        self._condition = threading.Condition()
        self._epoch_chunks: list[np.ndarray] = []
        self._minibatch_chunks: list[np.ndarray] = []
        self._streamed = 0
        self._diverged: tuple[int | None, ...] = (None,) * len(self.names)
        self._boundaries: Message | None = None
        self._last_map = -math.inf
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

    def held_at(self) -> int | None:
        """The epochs done if the thread holds (paused or after a step), else None."""
        with self._condition:
            return self._epochs_done if self._waiting else None

    def wait_held(self, after: int | None = None, timeout: float = 0.25) -> bool:
        """Wait up to ``timeout`` seconds until the thread holds at an epoch other than
        ``after`` (or has ended); whether it did."""
        with self._condition:
            return self._condition.wait_for(
                lambda: self._finished or (self._waiting and self._epochs_done != after),
                timeout,
            )

    def stop(self, wait: bool = True) -> None:
        """End the thread at the next epoch's end; with ``wait``, wait for it."""
        with self._condition:
            self._stopped = True
            self._condition.notify_all()
        if wait and self._thread.is_alive():
            self._thread.join()

    def update(self) -> RaceUpdate:
        """The costs since the last call, the newest boundary map, and the race's state."""
        with self._condition:
            epochs, self._epoch_chunks = self._epoch_chunks, []
            batches, self._minibatch_chunks = self._minibatch_chunks, []
            boundaries, self._boundaries = self._boundaries, None
            first, self._streamed = self._streamed, self._streamed + len(epochs)
            seconds = self._seconds
            epochs_done = self._epochs_done
            diverged = self._diverged
            paused, finished = self._waiting, self._finished
            outcomes, error = self._outcomes, self._error
        k = len(self.names)
        return RaceUpdate(
            first_epoch=first,
            epoch_costs=np.stack(epochs, axis=1) if epochs else np.empty((k, 0)),
            minibatch_costs=np.concatenate(batches, axis=1) if batches else np.empty((k, 0)),
            diverged_epochs=diverged,
            boundaries=boundaries,
            epochs_done=epochs_done,
            epochs_per_second=epochs_done / seconds if seconds > 0 else 0.0,
            paused=paused,
            finished=finished,
            outcomes=outcomes,
            error=error,
        )

    def _observe(self, detail: EpochDetail) -> None:
        """After every epoch (in the training thread): keep its costs, draw a map when one is
        due, then wait while paused; ``RaceStopped`` once stopped."""
        now = time.perf_counter()
        epochs_done = detail.epoch + 1
        last = epochs_done == self.request.config.epochs
        with self._condition:
            self._seconds += now - self._since
            self._epoch_chunks.append(detail.epoch_costs.copy())
            self._minibatch_chunks.append(detail.minibatch_costs.copy())
            self._diverged = tuple(detail.diverged_epochs)
            if self._paused and self._steps:
                self._steps -= 1
            will_wait = self._paused and not self._steps and not self._stopped and not last
            stopped = self._stopped
        if not stopped and (will_wait or last or now - self._last_map >= 1 / BOUNDARY_RATE):
            self._last_map = now
            boundaries = self.maps.message(epochs_done, self.names, detail.params)
        else:
            boundaries = None
        with self._condition:
            holds = self._paused and not self._steps and not self._stopped and not last
            if boundaries is None and holds:  # paused since the check above: the hold's map
                boundaries = self.maps.message(epochs_done, self.names, detail.params)
            if boundaries is not None:
                self._boundaries = boundaries
            self._epochs_done = epochs_done
            while self._paused and not self._steps and not self._stopped and not last:
                if not self._waiting:
                    self._waiting = True
                    self._condition.notify_all()  # wait_held
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
                run_experiment(
                    self.request.config,
                    self.request.dataset,
                    data=self.data,
                    on_epoch_detail=self._observe,
                )
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
                self._condition.notify_all()
            self._on_end()


def finite_list(values: np.ndarray) -> list[float | None]:
    """``values`` as a list, each NaN or infinity as None (JSON holds neither)."""
    return [value if math.isfinite(value) else None for value in values.tolist()]


class RaceStream:
    """Turns a race's updates into progress messages: each run's epoch costs, thinned
    mini-batch costs and oscillation so far. A run that diverged streams up to and including
    its divergence epoch, as results.json keeps it."""

    def __init__(self, race: Race) -> None:
        self.race = race
        self.oscillations = [RunningOscillation() for _ in race.names]

    def progress(self, update: RaceUpdate) -> Message | None:
        """The progress message of ``update`` (None if no epoch ran since the last one). Once
        the race has ended, the oscillation is the measured runs' (``RunOutcome.oscillation``,
        which the running sums equal up to rounding)."""
        n_epochs = update.epoch_costs.shape[1]
        if n_epochs == 0:
            return None
        race = self.race
        per_epoch = race.batches_per_epoch
        first = update.first_epoch
        costs: dict[str, list[float | None]] = {}
        minibatch: dict[str, dict[str, list[float | None]]] = {}
        oscillation: dict[str, dict[str, Any]] = {}
        for run, name in enumerate(race.names):
            diverged = update.diverged_epochs[run]
            kept = n_epochs if diverged is None else max(0, min(n_epochs, diverged + 1 - first))
            epoch_costs = update.epoch_costs[run, :kept]
            batch_costs = update.minibatch_costs[run, : kept * per_epoch]
            self.oscillations[run].add(epoch_costs, batch_costs)
            costs[name] = finite_list(epoch_costs)
            minibatch[name] = minibatch_points(batch_costs, first * per_epoch, per_epoch)
            oscillation[name] = self.oscillations[run].message()
        if update.outcomes is not None:
            for name, outcome in zip(race.names, update.outcomes, strict=True):
                oscillation[name] = oscillation_message(outcome.oscillation)
        return {
            "type": "progress",
            "epoch": update.epochs_done,
            "epochs": race.request.config.epochs,
            "epochs_per_second": update.epochs_per_second,
            "first_epoch": first,
            "costs": costs,
            "minibatch": minibatch,
            "oscillation": oscillation,
        }


def results_of(race: Race, outcomes: tuple[RunOutcome, ...]) -> dict[str, dict[str, Any]]:
    """What the page shows of each finished run, by optimizer name."""
    return {
        name: {
            "final_cost": _finite(outcome.final_cost),
            "train_accuracy": outcome.train_accuracy,
            "oscillation": _finite(outcome.oscillation),
            "cost_shape": outcome.cost_shape,
            "diverged_epoch": outcome.result.diverged_epoch,
        }
        for name, outcome in zip(race.names, outcomes, strict=True)
    }


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
