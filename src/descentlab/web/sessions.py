"""One websocket's race session: the client's messages in, the messages to send out.

``RaceSession.handle`` answers start, pause, resume, step, reset and results;
``RaceSession.poll``, called at most ``MESSAGE_RATE`` times a second, gives the coalesced
progress since the last poll, the newest boundary map, and the race's pause, end or failure.
``RaceSlots`` counts the races training at once over all sessions. Nothing here knows the
websocket (``web/app.py`` carries the messages).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from descentlab.experiment import RunOutcome
from descentlab.web.commands import compare_command
from descentlab.web.limits import Limits
from descentlab.web.race import Race, RaceStream, results_of
from descentlab.web.race_config import race_request
from descentlab.web.race_results import results_text
from descentlab.web.requests import FieldError
from descentlab.web.upload import Upload

MESSAGE_RATE = 20
"""At most this many messages a second stream to one client."""

HOLD_WAIT = 0.25
"""Seconds a pause or step waits for the race to hold before answering (else a poll says it)."""

MESSAGE_TYPES = ("start", "pause", "resume", "step", "reset", "results")

Message = dict[str, Any]


class RaceSlots:
    """At most ``limit`` races training at once; a race holds its slot until its thread ends."""

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


class RaceSession:
    """One client's race: at most one training thread, stopped by reset, a new start or
    ``close``."""

    def __init__(
        self,
        limits: Limits,
        slots: RaceSlots,
        uploads: Callable[[object], Upload | None] = lambda token: None,
    ) -> None:
        self.limits = limits
        self.slots = slots
        self.uploads = uploads
        self.race: Race | None = None
        self._stream: RaceStream | None = None
        self._finished: tuple[Race, tuple[RunOutcome, ...]] | None = None
        self._paused_at: int | None = None

    def handle(self, message: object) -> list[Message]:
        """The immediate answers to one client message (may block while a race stops)."""
        if not isinstance(message, Mapping) or message.get("type") not in MESSAGE_TYPES:
            return [error("type", f"must be one of: {', '.join(MESSAGE_TYPES)}")]
        kind = message["type"]
        if kind == "start":
            return self._start(message.get("config"))
        if kind == "reset":
            self.close()
            self._finished = None
            return [{"type": "reset"}]
        if kind == "results":
            return [self._results()]
        race = self.race
        if race is None:
            return [error("type", f"{kind} needs a race: send start first")]
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
        # The page shows a pause (or a step's epoch) as soon as the thread holds, not a poll
        # later: wait for it briefly, then answer with what a poll would send.
        race.wait_held(after=after, timeout=HOLD_WAIT)
        return self.poll()

    def _results(self) -> Message:
        if self._finished is None:
            return error(None, "no finished race: results come once a race is done")
        race, outcomes = self._finished
        return {"type": "results", "text": results_text(race.request, race.data, outcomes)}

    def _start(self, config: object) -> list[Message]:
        try:
            request = race_request(config, self.limits, self.uploads)
        except FieldError as refused:
            return [error(refused.field, refused.message)]
        self.close()  # a new start replaces the race
        self._finished = None
        if not self.slots.take():
            return [
                error(
                    None,
                    f"this server trains at most {self.slots.limit} races at once, and "
                    "that many are training; try again when one ends",
                )
            ]
        try:
            race = Race(request, self.limits.boundary_grid, on_end=self.slots.give_back)
        except BaseException:
            self.slots.give_back()
            raise
        self.race = race
        self._stream = RaceStream(race)
        race.start()
        return [
            {
                "type": "started",
                "optimizers": list(race.names),
                "epochs": request.config.epochs,
                "n_examples": request.dataset.n_examples,
                "n_classes": request.dataset.n_classes,
                "batches_per_epoch": race.batches_per_epoch,
                "command": compare_command(request),
                "points": race.maps.points(request.dataset),
                "view": None
                if race.maps.view is None
                else {"x": list(race.maps.view[0]), "y": list(race.maps.view[1])},
            }
        ]

    def poll(self) -> list[Message]:
        """The messages since the last poll: progress (if any epochs ran), paused (once per
        hold), the newest boundary map (if one was drawn), then done or error once."""
        race, stream = self.race, self._stream
        if race is None or stream is None:
            return []
        update = race.update()
        messages: list[Message] = []
        progress = stream.progress(update)
        if progress is not None:
            messages.append(progress)
        if update.boundaries is not None:
            messages.append(update.boundaries)
        if update.finished:
            if update.error is not None:
                messages.append(error(None, update.error))
            elif update.outcomes is not None:
                self._finished = (race, update.outcomes)
                messages.append(
                    {
                        "type": "done",
                        "epoch": update.epochs_done,
                        "results": results_of(race, update.outcomes),
                    }
                )
            self.race = None
            self._stream = None
        elif update.paused and self._paused_at != update.epochs_done:
            self._paused_at = update.epochs_done
            # Before the map: the page shows the pause without waiting for the map's bytes.
            messages.insert(
                1 if progress is not None else 0, {"type": "paused", "epoch": update.epochs_done}
            )
        return messages

    def close(self, wait: bool = True) -> None:
        """Stop the race's thread, if any; with ``wait``, wait for it to end."""
        race, self.race = self.race, None
        self._stream = None
        self._paused_at = None
        if race is not None:
            race.stop(wait)
