"""Up-front checks of user-facing arguments, each raising a one-line ``ValueError``.

Every message names the argument, the bad value and what is allowed, so the command line
can print it as it is.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable
from typing import Any

import numpy as np


def _as_float(
    name: str, value: object, allowed: str, ok: Callable[[Any], Any] = lambda x: True
) -> Any:
    """``value`` as a finite float satisfying ``ok``, or, for an array of hyperparameters (one
    per run of a stack), the array as float64 with every entry checked."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "fiu":
            raise ValueError(f"{name} must be {allowed}, got an array of {value.dtype}")
        array = value.astype(np.float64)
        good = np.isfinite(array) & ok(array)
        if not np.all(good):
            raise ValueError(f"{name} must be {allowed}, got {float(array[~good].flat[0])!r}")
        return array
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    result = float(value)
    if not math.isfinite(result) or not ok(result):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return result


def check_int(name: str, value: object, *, minimum: int | None = None) -> int:
    """``value`` as an int; rejects bools, fractional numbers and values below ``minimum``."""
    allowed = "an integer" if minimum is None else f"an integer >= {minimum}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    if isinstance(value, numbers.Integral):
        result = operator.index(value)
    elif float(value).is_integer():
        result = int(float(value))
    else:
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    if minimum is not None and result < minimum:
        raise ValueError(f"{name} must be {allowed}, got {result}")
    return result


def check_epochs(value: object, name: str = "epochs") -> int:
    """A number of epochs to train: an integer >= 1 (the one rule; every entry point that
    trains checks it here)."""
    return check_int(name, value, minimum=1)


def check_positive_float(name: str, value: object) -> float:
    """A finite float > 0 (or an array of them)."""
    return _as_float(name, value, "a finite number > 0", lambda x: x > 0)


def check_nonnegative_float(name: str, value: object) -> float:
    """A finite float >= 0 (or an array of them)."""
    return _as_float(name, value, "a finite number >= 0", lambda x: x >= 0)


def check_decay(name: str, value: object) -> float:
    """An exponential-average coefficient in [0, 1) (or an array of them)."""
    return _as_float(name, value, "a number in [0, 1)", lambda x: (x >= 0) & (x < 1))


def check_unit_interval(name: str, value: object) -> float:
    """A number in [0, 1], both ends allowed (or an array of them)."""
    return _as_float(name, value, "a number in [0, 1]", lambda x: (x >= 0) & (x <= 1))


def check_bool(name: str, value: object) -> bool:
    """``True`` or ``False`` (numpy booleans too); rejects 0, 1, strings and None."""
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_open_interval(name: str, value: object, low: float, high: float) -> float:
    """A number strictly between ``low`` and ``high`` (or an array of them)."""
    return _as_float(
        name, value, f"a number in ({low:g}, {high:g})", lambda x: (x > low) & (x < high)
    )


def check_above(name: str, value: object, bound: float) -> float:
    """A finite number > ``bound`` (or an array of them)."""
    return _as_float(name, value, f"a finite number > {bound:g}", lambda x: x > bound)


def check_at_least(name: str, value: object, bound: float) -> float:
    """A finite number >= ``bound`` (or an array of them)."""
    return _as_float(name, value, f"a finite number >= {bound:g}", lambda x: x >= bound)


def check_at_most(name: str, value: object, bound: float) -> float:
    """A finite number <= ``bound`` (or an array of them)."""
    return _as_float(name, value, f"a finite number <= {bound:g}", lambda x: x <= bound)


def check_count(name: str, value: object, minimum: int = 1) -> Any:
    """An integer >= ``minimum`` (``check_int``), or an array of them (one per run of a stack:
    whole numbers of any numeric dtype, returned as int64)."""
    if isinstance(value, np.ndarray):
        array = _as_float(
            name,
            value,
            f"an integer >= {minimum}",
            lambda x: (x >= minimum) & (np.floor(x) == x),
        )
        return array.astype(np.int64)
    return check_int(name, value, minimum=minimum)


def check_finite_float(name: str, value: object) -> float:
    """Any finite number, of either sign (or an array of them)."""
    return _as_float(name, value, "a finite number")
