"""The race's process: ``run_race`` trains one race (``descentlab compare``'s
``experiment.run_experiment``) and sends what the page sees, as JSON text, to the server.

The server passes only plain data: the start message's ``config``, the limits as a dict, the
uploaded file's token, name and path, and the BLAS thread setting. The config is checked again
here by the same function (``race_config.race_request``) the server checked it with.

Sent, in order: ``started``; ``progress`` at most ``PROGRESS_RATE`` a second (every epoch since
the last one), a ``boundaries`` map at most ``BOUNDARY_RATE`` a second (after the progress of
its epoch); at a hold (paused, or after a step) the progress so far, ``held`` and the hold's
map; at the end the last progress, the last map, ``results`` (the results.json text) and
``done``; ``error`` if the race fails. ``held`` is the server's own:
``{"type": "held", "epoch": E, "commands": N}`` says the race holds after epoch E, having read
N commands. Every message's first key is ``type``.

Commands (pause, resume, step, stop) come from the server over a pipe; a shared counter says how
many were sent, so that between epochs the race reads the pipe only when one is waiting, and
while it holds it waits on the pipe. A server that is gone ends the race: its pipe closes.
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

from descentlab.experiment import prepare_data, run_experiment
from descentlab.threads import Setting, blas_threads
from descentlab.train import EpochDetail
from descentlab.web.boundaries import BoundaryMaps
from descentlab.web.commands import compare_command
from descentlab.web.limits import Limits
from descentlab.web.messages import message_text
from descentlab.web.race_config import RaceRequest, race_request
from descentlab.web.race_results import results_text
from descentlab.web.race_stream import ProgressStream, results_of
from descentlab.web.requests import FieldError
from descentlab.web.upload import Upload, read_upload

PROGRESS_RATE = 20.0
"""At most this many progress messages a second (the server relays each as it comes)."""

BOUNDARY_RATE = 2.0
"""At most this many decision-boundary maps a second while a race runs."""

COMMANDS = ("pause", "resume", "step", "stop")

Message = dict[str, Any]


class Counter(Protocol):
    """A shared integer (``multiprocessing.RawValue("q")``)."""

    value: int


class RaceStopped(Exception):
    """Raised by the observation hook between epochs to end the race."""


@dataclass
class Control:
    """The race's pause state, changed only by the commands it reads: ``pause`` holds at the
    next epoch's end, ``resume`` goes on, ``step`` pauses a running race or trains one more
    epoch of a paused one, ``stop`` ends it at the next epoch's end."""

    paused: bool = False
    steps: int = 0
    stopped: bool = False

    def apply(self, command: str) -> None:
        if command == "pause":
            self.paused, self.steps = True, 0
        elif command == "resume":
            self.paused = False
        elif command == "step":
            if self.paused:
                self.steps += 1
            else:
                self.paused = True
        else:
            self.stopped = True


class Commands:
    """The commands from the server: ``connection`` carries them, ``sent`` counts them."""

    def __init__(self, connection: Connection, sent: Counter) -> None:
        self.connection = connection
        self.sent = sent
        self.read = 0

    def waiting(self) -> bool:
        """Whether the server sent a command not read yet (no system call)."""
        return self.sent.value > self.read

    def next(self) -> str:
        """The next command, waiting for it; ``stop`` once the server has gone."""
        try:
            command = self.connection.recv_bytes().decode()
        except (EOFError, OSError):
            return "stop"
        self.read += 1
        return command


class RaceObserver:
    """The training's hook after every epoch (``run_experiment``'s ``on_epoch_detail``): keeps
    the epoch's costs, sends progress and maps when due, and holds while paused.

    ``epochs_per_second`` counts training time only (not the hook's, nor a hold's)."""

    def __init__(
        self,
        request: RaceRequest,
        maps: BoundaryMaps,
        batches_per_epoch: int,
        commands: Commands,
        send: Callable[[Message], None],
    ) -> None:
        self.names = request.config.optimizers
        self.epochs = request.config.epochs
        self.maps = maps
        self.commands = commands
        self.send = send
        self.control = Control()
        self.stream = ProgressStream(self.names, batches_per_epoch, self.epochs)
        self.last_map: Message | None = None
        self._seconds = 0.0
        self._since = time.perf_counter()
        self._progress_sent = self._since
        self._map_sent = self._since

    @property
    def epochs_per_second(self) -> float:
        done = self.stream.epochs_done
        return done / self._seconds if self._seconds > 0 else 0.0

    def send_progress(self, outcomes: Any = None) -> None:
        message = self.stream.message(self.epochs_per_second, outcomes)
        if message is not None:
            self.send(message)
        self._progress_sent = time.perf_counter()

    def __call__(self, detail: EpochDetail) -> None:
        now = time.perf_counter()
        self._seconds += now - self._since
        self.stream.add(detail)
        epochs_done = detail.epoch + 1
        control = self.control
        while self.commands.waiting():
            control.apply(self.commands.next())
        if control.stopped:
            raise RaceStopped
        if control.paused and control.steps:
            control.steps -= 1  # the step's epoch
        if epochs_done == self.epochs:
            self.last_map = self.maps.message(epochs_done, self.names, detail.params)
        elif control.paused and not control.steps:
            self._hold(epochs_done, detail)
        elif now - self._map_sent >= 1 / BOUNDARY_RATE:
            self.send_progress()  # first: the map's epoch is never ahead of the costs
            self.send(self.maps.message(epochs_done, self.names, detail.params))
            self._map_sent = now
        elif now - self._progress_sent >= 1 / PROGRESS_RATE:
            self.send_progress()
        self._since = time.perf_counter()

    def _hold(self, epochs_done: int, detail: EpochDetail) -> None:
        """Send the progress, ``held`` and the hold's map, then wait for the command that
        ends the hold; ``held`` again after each command that does not."""
        self.send_progress()
        self.send({"type": "held", "epoch": epochs_done, "commands": self.commands.read})
        self.send(self.maps.message(epochs_done, self.names, detail.params))
        self._map_sent = time.perf_counter()
        control = self.control
        while True:
            control.apply(self.commands.next())
            if control.stopped:
                raise RaceStopped
            if not control.paused or control.steps:
                return
            self.send({"type": "held", "epoch": epochs_done, "commands": self.commands.read})


def _error(field: str | None, message: str) -> Message:
    return {"type": "error", "field": field, "message": message}


def _started(request: RaceRequest, maps: BoundaryMaps, batches_per_epoch: int) -> Message:
    return {
        "type": "started",
        "optimizers": list(request.config.optimizers),
        "epochs": request.config.epochs,
        "n_examples": request.dataset.n_examples,
        "n_classes": request.dataset.n_classes,
        "batches_per_epoch": batches_per_epoch,
        "command": compare_command(request),
        "points": maps.points(request.dataset),
        "view": None if maps.view is None else {"x": list(maps.view[0]), "y": list(maps.view[1])},
    }


def checked_request(
    config: object, limits: dict[str, int], upload: dict[str, str] | None
) -> RaceRequest:
    """The race's ``config`` checked as the server checked it (``race_request``), with the
    uploaded file (``{"token", "name", "path"}``) read again from its path."""

    def find(token: object) -> Upload | None:
        if upload is None or token != upload["token"]:
            return None
        path = Path(upload["path"])
        return Upload(upload["token"], upload["name"], read_upload(path, upload["name"]), path)

    return race_request(config, Limits(**limits), find)


def train_race(
    config: object,
    limits: dict[str, int],
    upload: dict[str, str] | None,
    commands: Commands,
    send: Callable[[Message], None],
) -> None:
    """Check, train and stream one race (see the module's docstring); an exception of the
    training becomes an ``error`` message."""
    try:
        request = checked_request(config, limits, upload)
    except FieldError as refused:
        send(_error(refused.field, refused.message))
        return
    data = prepare_data(request.config, request.dataset)
    batches_per_epoch = request.config.batches_per_epoch(data.train.n_examples)
    network = request.config.network(data.train.n_features, request.dataset.n_classes)
    maps = BoundaryMaps(network, request.dataset, data, limits["boundary_grid"])
    send(_started(request, maps, batches_per_epoch))
    observer = RaceObserver(request, maps, batches_per_epoch, commands, send)
    try:
        outcomes = run_experiment(
            request.config, request.dataset, data=data, on_epoch_detail=observer
        )
    except RaceStopped:
        return
    except (BrokenPipeError, ConnectionResetError):
        raise
    except Exception as failure:  # the page shows it; the server goes on
        send(_error(None, f"{type(failure).__name__}: {failure}"))
        return
    observer.send_progress(outcomes)
    if observer.last_map is not None:
        send(observer.last_map)
    send({"type": "results", "text": results_text(request, data, outcomes)})
    send(
        {
            "type": "done",
            "epoch": observer.stream.epochs_done,
            "results": results_of(request.config.optimizers, outcomes),
        }
    )


def run_race(
    config: object,
    limits: dict[str, int],
    upload: dict[str, str] | None,
    blas: Setting | None,
    messages: Connection,
    commands: Connection,
    sent: Counter,
) -> None:
    """The race process's entry point: ``train_race`` under the server's BLAS setting, its
    messages sent as JSON text on ``messages``, commands read from ``commands`` (``sent``
    counts them). Ctrl-C is the server's to handle: it ends this process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def send(message: Message) -> None:
        messages.send_bytes(message_text(message).encode())

    try:
        with blas_threads(blas):
            train_race(config, limits, upload, Commands(commands, sent), send)
    except (BrokenPipeError, ConnectionResetError, EOFError):
        pass  # the server has gone: nobody to tell
    except Exception as failure:
        with contextlib.suppress(OSError):
            send(_error(None, f"{type(failure).__name__}: {failure}"))
    finally:
        messages.close()
        commands.close()
