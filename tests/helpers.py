"""Small helpers shared by the tests."""

from __future__ import annotations

from typing import Any

import numpy as np


def global_random_state() -> tuple[Any, ...]:
    """numpy's whole legacy global RandomState (key, position, cached gaussian), copied, to
    check that code never draws from it."""
    kind, key, position, has_gauss, cached = np.random.get_state()  # noqa: NPY002 (reading it is the point)
    return kind, key.copy(), position, has_gauss, cached


def assert_same_random_state(before: tuple[Any, ...], after: tuple[Any, ...]) -> None:
    assert before[0] == after[0] and before[2:] == after[2:]
    np.testing.assert_array_equal(before[1], after[1])
