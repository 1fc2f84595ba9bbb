"""One optimizer for a stack of runs whose hyperparameters differ.

Every optimizer's math is elementwise, so a stack of k runs (parameters of shape (k, P)) is
updated by one optimizer built with (k, 1) arrays in place of the numbers that differ between
runs. The boolean switches (``nesterov``, ``amsgrad``, ...) pick code paths, so runs stacked
together must agree on them, and on which numeric settings are exactly zero (a zero weight
decay skips the decay's arithmetic altogether).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np

from descentlab.optim.base import Optimizer, ScalarOrSchedule

Settings = Mapping[str, float | bool | ScalarOrSchedule]


def stack_key(name: str, settings: Settings) -> Hashable:
    """Runs with equal keys can share one stacked optimizer: the same optimizer, the same
    keywords, and the same boolean switches."""
    switches = tuple(
        (key, bool(value)) if isinstance(value, bool | np.bool_) else (key, None)
        for key, value in sorted(settings.items())
    )
    return (name, switches)


def _stacked_rate(rates: Sequence[ScalarOrSchedule]) -> ScalarOrSchedule:
    if not any(callable(rate) for rate in rates):
        values = [float(rate) for rate in rates]  # type: ignore[arg-type]
        return values[0] if len(set(values)) == 1 else np.array(values).reshape(-1, 1)
    if all(rate is rates[0] for rate in rates):
        return rates[0]

    def rate_at(step: int) -> Any:  # a (k, 1) array: one rate per run
        return np.array([rate(step) if callable(rate) else float(rate) for rate in rates]).reshape(
            -1, 1
        )

    return rate_at


def stacked(name: str, settings: Sequence[Settings]) -> Optimizer:
    """The optimizer ``name`` for len(settings) stacked runs: a setting equal in every run
    stays a number, one that differs becomes a (k, 1) array (learning-rate schedules become
    one function returning a (k, 1) array). Raises ``ValueError`` if the runs disagree on
    ``stack_key``."""
    from descentlab.optim import get

    if not settings:
        raise ValueError("stacked() needs the settings of at least one run")
    keys = {stack_key(name, run) for run in settings}
    if len(keys) > 1:
        raise ValueError(
            f"runs of {name!r} with different switches cannot share one optimizer: "
            f"{sorted(map(str, keys))}"
        )
    names = set(settings[0])
    for run in settings:
        if set(run) != names:
            raise ValueError(f"every run of {name!r} must set the same keywords")
    merged: dict[str, float | bool | ScalarOrSchedule] = {}
    for key in names:
        values = [run[key] for run in settings]
        first = values[0]
        if key == "learning_rate":
            merged[key] = _stacked_rate(values)
        elif isinstance(first, bool | np.bool_):
            merged[key] = bool(first)
        elif all(value == first for value in values):
            merged[key] = first
        else:
            merged[key] = np.array(values, dtype=float).reshape(-1, 1)
    return get(name, **merged)
