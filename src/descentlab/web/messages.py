"""Websocket messages as JSON text, written outside the event loop.

A boundary map holds tens of thousands of numbers, which ``json.dumps`` writes one float at a
time; ``message_text`` writes its grid straight from the arrays (classes as integers, each
probability, already rounded to 3 decimals, from a table of the 1001 texts it can have), so a
map costs a few milliseconds instead of tens. Every other message is ``json.dumps``'s.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

THOUSANDTHS = tuple(repr(k / 1000) for k in range(1001))
"""The JSON text of every probability with 3 decimals: k / 1000, as ``np.round(p, 3)`` gives
it (rint(p * 1000) / 1000)."""

GRID_ARRAYS = ("classes", "confidence")
"""A boundary grid's per-optimizer arrays (the rest of the grid is a few numbers)."""

COMPACT = (",", ":")


def _numbers(values: np.ndarray, *, thousandths: bool) -> str:
    if thousandths:
        return ",".join([THOUSANDTHS[k] for k in np.rint(values * 1000).astype(int).tolist()])
    return ",".join(map(str, values.tolist()))


def message_text(message: dict[str, Any]) -> str:
    """``message`` as JSON text. A ``boundaries`` message's grid may hold numpy arrays under
    ``classes`` (integers) and ``confidence`` (probabilities rounded to 3 decimals), by
    optimizer; they are written as JSON lists."""
    grid = message.get("grid") if message.get("type") == "boundaries" else None
    if grid is None:
        return json.dumps(message, separators=COMPACT)
    head = json.dumps({k: v for k, v in message.items() if k != "grid"}, separators=COMPACT)
    meta = json.dumps({k: v for k, v in grid.items() if k not in GRID_ARRAYS}, separators=COMPACT)
    arrays = []
    for key in GRID_ARRAYS:
        by_name = ",".join(
            f"{json.dumps(name)}:[{_numbers(np.asarray(values), thousandths=key == 'confidence')}]"
            for name, values in grid[key].items()
        )
        arrays.append(f'"{key}":{{{by_name}}}')
    return f'{head[:-1]},"grid":{meta[:-1]},{",".join(arrays)}}}}}'
