"""Powers of scalar hyperparameters, with exactly the bits of the course's scalar call.

The course computes Adam's bias correction as ``1 - np.power(beta1, t)`` with a Python float
``beta1`` and a Python int ``t``: one scalar call per step. numpy picks its ``power`` kernel at
run time, and on CPUs with AVX-512 the vectorised kernel (an array of exponents) does not always
give the bits of the scalar call: there ``np.power(0.8, 2)`` is ``0.6400000000000001`` while the
same power computed inside an array is ``0.64``, and Python's ``0.9 ** 12`` differs from
``np.power(0.9, 12)``. So every value here *is* that scalar call, ``np.power(float(base), t)``,
made once and memoised: the values never depend on how, or in which order, a table was filled,
and each run of a stack gets the very bits it gets alone. The bits themselves may differ between
CPU families, as the course's own numbers do.

The memo is process-wide, one table per (base, exponent scale) pair, so the 64 runs of a sweep
that share beta1 = 0.9 share one table (8 bytes per step). It caches a pure function only.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Sequence
from typing import Any

import numpy as np

BLOCK = 1024
"""Entries computed at a time when a table grows (a scalar call costs about a microsecond)."""

_tables: dict[tuple[float, float | None], array[float]] = {}
_tables_lock = threading.Lock()


def scalar_power(base: float, t: int, scale: float | None = None) -> float:
    """``np.power(base, t)``, or ``np.power(base, t * scale)`` with ``t * scale`` a Python
    float product, exactly as one scalar numpy call computes it (t >= 1)."""
    return _table(float(base), scale, t)[t - 1]


def _table(base: float, scale: float | None, length: int) -> array[float]:
    """The memo of ``base``'s powers, holding at least t = 1 .. length."""
    key = (base, scale)
    table = _tables.get(key)
    if table is not None and len(table) >= length:
        return table
    with _tables_lock:
        table = _tables.setdefault(key, array("d"))
        if len(table) < length:
            stop = max(length, len(table) + BLOCK)
            table.extend(
                float(np.power(base, t if scale is None else t * scale))
                for t in range(len(table) + 1, stop + 1)
            )
    return table


class Powers:
    """``np.power(base, t)`` (or ``np.power(base, t * scale)``) for t = 1, 2, ..., each value
    the course's scalar call.

    ``base`` and ``scale`` may be numbers or arrays of them, one per run of a stack (shape
    (k, 1)); calling with ``t`` returns a float, or an array of the broadcast shape holding each
    run's own scalar power. Stacked values are kept one block of steps at a time, so memory
    does not grow with the number of steps. A memo only: the optimizer stays a pure function.
    """

    def __init__(self, base: float | np.ndarray, scale: float | np.ndarray | None = None) -> None:
        self.base = base
        self.scale = scale
        self._stacked = np.ndim(base) > 0 or (scale is not None and np.ndim(scale) > 0)
        self._values: Sequence[Any] = ()
        """Powers for t = self._first, self._first + 1, ...: a shared table when unstacked."""
        self._first = 1

    def __call__(self, t: int) -> Any:
        index = t - self._first
        if 0 <= index < len(self._values):
            return self._values[index]
        self._refill(t)
        return self._values[t - self._first]

    def block(self, first: int, count: int) -> np.ndarray:
        """The values for t = first, ..., first + count - 1 (first >= 1) at once, the same bits
        as calling: shape (count,) when unstacked, else (count, *the broadcast shape)."""
        if not self._stacked:
            scale = None if self.scale is None else float(self.scale)
            table = _table(float(self.base), scale, first + count - 1)
            return np.array(table[first - 1 : first - 1 + count], dtype=float)
        pairs, shape = self._pairs()
        tables = {pair: _table(*pair, first + count - 1) for pair in set(pairs)}
        columns = np.array([tables[pair][first - 1 : first - 1 + count] for pair in pairs])
        return columns.T.reshape(count, *shape).copy()

    def _pairs(self) -> tuple[list[tuple[float, float | None]], tuple[int, ...]]:
        """Each run's (base, scale), flattened in the broadcast shape, and that shape."""
        bases = np.asarray(self.base, dtype=float)
        scales = np.asarray(np.nan if self.scale is None else self.scale, dtype=float)
        shape = np.broadcast_shapes(bases.shape, scales.shape)
        pairs = [
            (float(base), None if self.scale is None else float(scale))
            for base, scale in zip(
                np.broadcast_to(bases, shape).flat, np.broadcast_to(scales, shape).flat, strict=True
            )
        ]
        return pairs, shape

    def _refill(self, t: int) -> None:
        if not self._stacked:
            scale = None if self.scale is None else float(self.scale)
            self._values = _table(float(self.base), scale, t)
            self._first = 1
            return
        pairs, shape = self._pairs()
        start = (t - 1) // BLOCK * BLOCK
        stop = start + BLOCK
        tables = {pair: _table(*pair, stop) for pair in set(pairs)}
        columns = np.array([tables[pair][start:stop] for pair in pairs])
        self._values = list(columns.T.reshape(BLOCK, *shape).copy())
        self._first = start + 1
