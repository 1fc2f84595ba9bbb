"""One websocket's race session: the client's messages in, the messages to send out.

``RaceSession.handle`` answers start, pause, resume, step and reset; ``RaceSession.poll``,
called at most ``MESSAGE_RATE`` times a second, gives the coalesced progress since the last
poll and the race's pause, end or failure. ``RaceSlots`` counts the races training at once over
all sessions. Nothing here knows the websocket (``web/app.py`` carries the messages).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from descentlab.web.limits import Limits
from descentlab.web.race import Race, race_request, results_of
from descentlab.web.requests import FieldError

MESSAGE_RATE = 20
"""At most this many messages a second stream to one client."""

MESSAGE_TYPES = ("start", "pause", "resume", "step", "reset")

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

    def __init__(self, limits: Limits, slots: RaceSlots) -> None:
        self.limits = limits
        self.slots = slots
        self.race: Race | None = None
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
            return [{"type": "reset"}]
        race = self.race
        if race is None:
            return [error("type", f"{kind} needs a race: send start first")]
        if kind == "pause":
            race.pause()
        elif kind == "resume":
            race.resume()
            self._paused_at = None
        else:
            race.step()
        return []

    def _start(self, config: object) -> list[Message]:
        try:
            request = race_request(config, self.limits)
        except FieldError as refused:
            return [error(refused.field, refused.message)]
        self.close()  # a new start replaces the race
        if not self.slots.take():
            return [
                error(
                    None,
                    f"this server trains at most {self.slots.limit} races at once, and "
                    "that many are training; try again when one ends",
                )
            ]
        self.race = Race(request, on_end=self.slots.give_back)
        self.race.start()
        config_ = request.config
        return [
            {
                "type": "started",
                "optimizers": list(config_.optimizers),
                "epochs": config_.epochs,
                "n_examples": request.dataset.n_examples,
            }
        ]

    def poll(self) -> list[Message]:
        """The messages since the last poll: progress (if any epochs ran), then paused, done
        or error once."""
        race = self.race
        if race is None:
            return []
        update = race.update()
        messages: list[Message] = []
        if any(update.costs.values()):
            messages.append(
                {
                    "type": "progress",
                    "epoch": update.epochs_done,
                    "epochs": race.request.config.epochs,
                    "epochs_per_second": update.epochs_per_second,
                    "costs": update.costs,
                }
            )
        if update.finished:
            if update.error is not None:
                messages.append(error(None, update.error))
            elif update.outcomes is not None:
                messages.append(
                    {
                        "type": "done",
                        "epoch": update.epochs_done,
                        "results": results_of(race, update.outcomes),
                    }
                )
            self.race = None
        elif update.paused and self._paused_at != update.epochs_done:
            self._paused_at = update.epochs_done
            messages.append({"type": "paused", "epoch": update.epochs_done})
        return messages

    def close(self, wait: bool = True) -> None:
        """Stop the race's thread, if any; with ``wait``, wait for it to end."""
        race, self.race = self.race, None
        self._paused_at = None
        if race is not None:
            race.stop(wait)
