"""Scalar arithmetic once per run of a stack, with the bits each run gets alone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def per_run(function: Callable[..., float], *values: Any) -> Any:
    """``function`` of Python floats, once per run: a float when every value is a number, else
    an array of the values' broadcast shape (one entry per run of a stack, shape (K, 1)), each
    entry the very bits the run gets alone.

    For the per-run scalars that Python computes in the reference (torch's ASGD step size,
    schedule-free's averaging weight): ``x ** y`` of Python floats is C's ``pow``, which numpy's
    vectorised ``np.power`` does not always match bit for bit (see ``optim.powers``).
    """
    if all(np.ndim(value) == 0 for value in values):
        return function(*(float(value) for value in values))
    arrays = np.broadcast_arrays(*(np.asarray(value, dtype=float) for value in values))
    rows = zip(*(array.flat for array in arrays), strict=True)
    results = [function(*(float(v) for v in row)) for row in rows]
    return np.array(results, dtype=float).reshape(arrays[0].shape)
