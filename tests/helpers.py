"""Small helpers shared by the tests."""

from __future__ import annotations

import numpy as np


def global_random_state() -> np.ndarray:
    """A copy of numpy's legacy global RandomState key, to check that code never touches it."""
    return np.random.get_state()[1].copy()  # noqa: NPY002 (reading it is the point)
