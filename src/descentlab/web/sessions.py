"""One websocket's race session: the client's messages in, the messages to send out (as
JSON text).

``RaceSession.handle`` answers start, pause, resume, step, reset and results;
``RaceSession.poll``, called whenever the race's process sent something (``on_message``),
relays it: progress the process coalesced (at most ``race_worker.PROGRESS_RATE`` messages a
second), boundary maps, and the race's pause, end or failure. ``RaceSlots`` counts the races
training at once over all sessions. Nothing here knows the websocket (``web/app.py`` carries
the messages).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, cast

from descentlab.web.limits import Limits
from descentlab.web.messages import message_text
from descentlab.web.race import Race
from descentlab.web.race_config import race_request
from descentlab.web.requests import FieldError
from descentlab.web.upload import Upload

HOLD_WAIT = 0.25
"""Seconds a pause or step waits for the race to hold before answering (else a poll says it)."""

START_WAIT = 1.0
"""Seconds a start waits for the race's "started" (else a poll sends it)."""

MESSAGE_TYPES = ("start", "pause", "resume", "step", "reset", "results")

Message = dict[str, Any]


class RaceSlots:
    """At most ``limit`` races training at once; a race holds its slot until its process has
    exited."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._taken = 0

    def take(self) -> bool:
        with self._lock:
            if self._taken >= self.limit:
                return False
            self._taken += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self._taken -= 1


def error(field: str | None, message: str) -> Message:
    """The message for a refused request: which field (None: not one field), and why."""
    return {"type": "error", "field": field, "message": message}


def error_text(field: str | None, message: str) -> str:
    """``error(field, message)`` as JSON text."""
    return message_text(error(field, message))


class RaceSession:
    """One client's race: at most one race process, stopped by reset, a new start or
    ``close``. Every answer is a message's JSON text. ``on_message`` is called (in another
    thread) whenever the race sent messages: ``poll`` has them."""

    def __init__(
        self,
        limits: Limits,
        slots: RaceSlots,
        uploads: Callable[[object], Upload | None] = lambda token: None,
        on_message: Callable[[], None] = lambda: None,
    ) -> None:
        self.limits = limits
        self.slots = slots
        self.uploads = uploads
        self.on_message = on_message
        self.race: Race | None = None
        self._results: str | None = None  # the last finished race's results message
        self._paused_at: int | None = None

    def handle(self, message: object) -> list[str]:
        """The immediate answers to one client message (may block while a race stops)."""
        if not isinstance(message, Mapping) or message.get("type") not in MESSAGE_TYPES:
            return [error_text("type", f"must be one of: {', '.join(MESSAGE_TYPES)}")]
        kind = message["type"]
        if kind == "start":
            return self._start(message.get("config"))
        if kind == "reset":
            self.close()
            self._results = None
            return [message_text({"type": "reset"})]
        if kind == "results":
            if self._results is None:
                return [error_text(None, "no finished race: results come once a race is done")]
            return [self._results]
        race = self.race
        if race is None:
            return [error_text("type", f"{kind} needs a race: send start first")]
        if kind == "resume":
            race.resume()
            self._paused_at = None
            return []
        if kind == "pause":
            race.pause()
            after = None
        else:
            after = race.held_at()  # a step from a hold ends at the next epoch
            race.step()
        # The page shows a pause (or a step's epoch) as soon as the race holds, not a poll
        # later: wait for it briefly, then answer with what a poll would send.
        race.wait_held(after=after, timeout=HOLD_WAIT)
        return self.poll()

    def _start(self, config: object) -> list[str]:
        try:
            request = race_request(config, self.limits, self.uploads)
        except FieldError as refused:
            return [error_text(refused.field, refused.message)]
        self.close()  # a new start replaces the race
        self._results = None
        if not self.slots.take():
            return [
                error_text(
                    None,
                    f"this server trains at most {self.slots.limit} races at once, and "
                    "that many are training; try again when one ends",
                )
            ]
        token = cast(Mapping[str, object], config).get("upload")
        upload = None if request.upload is None else self.uploads(token)
        try:
            race = Race(
                config, self.limits, upload, on_end=self.slots.give_back, on_message=self.on_message
            )
            race.start()
        except Exception as failure:  # no process: the slot is free again
            self.slots.give_back()
            return [error_text(None, f"the race could not start: {failure}")]
        self.race = race
        # The race's process sends "started": answer with it, not a poll later.
        race.wait_message(START_WAIT)
        return self.poll()

    def poll(self) -> list[str]:
        """The messages since the last poll, in the order the race sent them: progress,
        paused (once per hold), boundary maps, then done or error once."""
        race = self.race
        if race is None:
            return []
        messages, finished = race.take()
        texts: list[str] = []
        for message in messages:
            if message.type != "held":
                texts.append(message.text)
            elif self._paused_at != message.epoch:
                self._paused_at = message.epoch
                texts.append(message_text({"type": "paused", "epoch": message.epoch}))
        if finished:
            self._results = race.results
            self.race = None
            self._paused_at = None
        return texts

    def close(self, wait: bool = True) -> Race | None:
        """Stop the race's process, if any, and forget it; with ``wait``, wait until the
        process has exited (``Race.end``). The race, if there was one (to ``end`` later)."""
        race, self.race = self.race, None
        self._paused_at = None
        if race is not None:
            race.stop()
            if wait:
                race.end()
        return race
