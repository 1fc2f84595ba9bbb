"""The server's handle on one race: ``Race`` starts the race's process
(``race_worker.run_race``), sends it pause, resume, step and stop, and reads what it sends in a
thread, so that training never shares the server's interpreter (nor its GIL) with the event
loop.

Processes come from a fork server (``multiprocessing``'s ``forkserver``: never a plain fork of
the multi-threaded server) that has imported ``PRELOAD`` once, so a race starts in tens of
milliseconds. ``start_fork_server`` starts it early (the server does at startup).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import multiprocessing
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing import forkserver
from multiprocessing.context import ForkServerContext
from typing import Any

from descentlab import threads
from descentlab.web.limits import Limits
from descentlab.web.messages import message_text
from descentlab.web.race_worker import COMMANDS, run_race
from descentlab.web.upload import Upload

PRELOAD = ["numpy", "descentlab.web.race_worker", "descentlab.cli"]
"""What the fork server imports once, for every race's process. ``descentlab.cli``: a process
runs the server's main script again (as ``multiprocessing`` does, under another name), and the
``descentlab`` command's script imports it."""

STOP_WAIT = 1.0
"""Seconds a stopped race's process has to end by itself before it is terminated."""

PROCESS_NAME = "descentlab-race"

_TYPE = re.compile(rb'\{"type":"([a-z]+)"')


def message_type(text: bytes) -> str:
    """The ``type`` of a message from a race's process (its first key, see ``race_worker``)."""
    found = _TYPE.match(text)
    return found.group(1).decode() if found else str(json.loads(text)["type"])


def race_context() -> ForkServerContext:
    """The multiprocessing context of race processes: the fork server, importing ``PRELOAD``."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def start_fork_server() -> None:
    """Start the fork server now (it imports ``PRELOAD`` in its own process, meanwhile), so
    that the first race starts as fast as the next."""
    race_context()
    forkserver.ensure_running()


@dataclass(frozen=True)
class RaceMessage:
    """A message from the race: its ``type`` and JSON ``text`` (to send as it is), or a hold
    (``type`` "held") after ``epoch``."""

    type: str
    text: str = ""
    epoch: int = 0


class Race:
    """One race in its own process, checked again there from plain data: ``config`` (the
    start message's), ``limits``, the ``upload`` it names (its file is read again). ``pause``,
    ``resume``, ``step`` and ``stop`` act at the next epoch's end. ``on_end`` is called once,
    when the process has exited, however it ended; ``on_message`` (in the reader thread)
    whenever messages arrived for ``take``."""

    def __init__(
        self,
        config: object,
        limits: Limits,
        upload: Upload | None = None,
        on_end: Callable[[], None] = lambda: None,
        on_message: Callable[[], None] = lambda: None,
    ) -> None:
        context = race_context()
        self._messages, messages_out = context.Pipe(duplex=False)
        commands_in, self._commands = context.Pipe(duplex=False)
        self._sent = context.RawValue("q", 0)
        shared_upload = (
            None
            if upload is None
            else {"token": upload.token, "name": upload.name, "path": str(upload.path)}
        )
        self.process = context.Process(
            target=run_race,
            name=PROCESS_NAME,
            args=(
                config,
                dataclasses.asdict(limits),
                shared_upload,
                threads.configured(),
                messages_out,
                commands_in,
                self._sent,
            ),
            daemon=True,
        )
        self._child_ends = (messages_out, commands_in)
        self._on_end = on_end
        self._on_message = on_message
        self._condition = threading.Condition()
        self._sending = threading.Lock()
        self._received: list[RaceMessage] = []
        self._held: tuple[int, int] | None = None  # (epoch, commands read) of the last hold
        self._commands_sent = 0
        self._stopping = False
        self._finished = False
        self.results: str | None = None
        """The results message's text, once the race has sent it (before ``done``)."""
        self._reader = threading.Thread(
            target=self._read, name="descentlab-race-reader", daemon=True
        )

    def start(self) -> None:
        """Start the process (waits for the fork server, the first time while it imports)."""
        try:
            self.process.start()
        finally:
            for end in self._child_ends:
                end.close()  # the child has its own: its exit closes the pipes
        self._reader.start()

    def pause(self) -> None:
        self._command("pause")

    def resume(self) -> None:
        self._command("resume")

    def step(self) -> None:
        """Train exactly one more epoch, then wait (pauses a running race first)."""
        self._command("step")

    def stop(self) -> None:
        """Ask the race to end at the next epoch's end (its messages are no longer read)."""
        with self._condition:
            self._stopping = True
        self._command("stop")

    def _command(self, command: str) -> None:
        assert command in COMMANDS
        # Counted before it is sent: a race that sees the count waits for the command, so a
        # full pipe can never leave both sides waiting. Sent without the reader's lock.
        with self._sending:
            if self._commands.closed:
                return
            with self._condition:
                self._commands_sent += 1
                self._sent.value = self._commands_sent
            with contextlib.suppress(OSError):  # the process has ended
                self._commands.send_bytes(command.encode())

    def _current_hold(self) -> int | None:
        held = self._held
        return held[0] if held is not None and held[1] >= self._commands_sent else None

    def held_at(self) -> int | None:
        """The epochs done if the race holds (paused, or after a step) since the last
        command, else None."""
        with self._condition:
            return self._current_hold()

    def wait_held(self, after: int | None = None, timeout: float = 0.25) -> bool:
        """Wait up to ``timeout`` seconds until the race holds at an epoch other than
        ``after`` since the last command (or has ended); whether it did."""

        def held() -> bool:
            epoch = self._current_hold()
            return self._finished or (epoch is not None and epoch != after)

        with self._condition:
            return self._condition.wait_for(held, timeout)

    def wait_message(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds until a message not taken yet is here (or the race
        has ended); whether one is."""
        with self._condition:
            return self._condition.wait_for(lambda: bool(self._received) or self._finished, timeout)

    def take(self) -> tuple[list[RaceMessage], bool]:
        """The messages received since the last call (holds that a later command ended left
        out), and whether the race has ended (its last message is then among them)."""
        with self._condition:
            received, self._received = self._received, []
            finished = self._finished
            current = self._current_hold()
        messages = [
            message for message in received if message.type != "held" or message.epoch == current
        ]
        return messages, finished

    def end(self, wait: float = STOP_WAIT) -> None:
        """Stop the race and wait until its process has exited: ``wait`` seconds for it to
        stop by itself, then terminated (then killed)."""
        self.stop()
        if not self._reader.is_alive() and self.process.pid is None:
            return  # never started
        self._reader.join(wait)
        if self._reader.is_alive():
            self.process.terminate()
            self._reader.join(wait)
        if self._reader.is_alive():
            self.process.kill()
            self._reader.join()

    def _read(self) -> None:
        """The reader thread: keep the messages, until the process exits."""
        last: RaceMessage | None = None
        try:
            while True:
                data = self._messages.recv_bytes()
                kind = message_type(data)
                with self._condition:
                    if kind == "held":
                        held = json.loads(data)
                        self._held = (held["epoch"], held["commands"])
                        self._received.append(RaceMessage("held", epoch=held["epoch"]))
                    elif kind == "results":
                        self.results = data.decode()
                        continue
                    elif kind in ("done", "error"):
                        last = RaceMessage(kind, data.decode())
                        continue
                    else:
                        self._received.append(RaceMessage(kind, data.decode()))
                    self._condition.notify_all()
                self._on_message()
        except (EOFError, OSError):
            pass  # the process has ended
        self.process.join()  # the only join: the reader thread owns the process's end
        self._messages.close()
        with self._sending:
            self._commands.close()
        with self._condition:
            stopping = self._stopping
        if last is None and not stopping:
            last = RaceMessage("error", _crash_text(self.process.exitcode))
        try:
            self._on_end()
        finally:
            with self._condition:
                if last is not None:
                    self._received.append(last)
                self._finished = True
                self._condition.notify_all()
            self._on_message()


def _crash_text(exitcode: Any) -> str:
    return message_text(
        {
            "type": "error",
            "field": None,
            "message": f"the race's process ended unexpectedly (exit code {exitcode})",
        }
    )
