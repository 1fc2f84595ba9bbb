"""One user-facing ``seed`` picks both random streams of a run.

Seed 0 (the default) is the course's protocol: He initialisation from ``RandomState(3)``
and the shuffle of epoch e from ``RandomState(10 + e + 1)``. Any other seed S derives the two
stream seeds from ``numpy.random.SeedSequence(S)``, so different seeds never share an
initialisation or a batch order by construction.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from descentlab.nn import COURSE_INIT_SEED
from descentlab.validation import check_int

COURSE_SHUFFLE_SEED = 10
"""The course's ``model`` starts from ``seed = 10`` and adds 1 before each epoch."""


class RunSeeds(NamedTuple):
    init_seed: int
    """Seed of the legacy RandomState that draws the He initialisation."""
    shuffle_seed: int
    """Epoch e (0-based) shuffles with ``RandomState(shuffle_seed + e + 1)``."""


def run_seeds(seed: int = 0) -> RunSeeds:
    """The initialisation and shuffle seeds for a user-facing ``seed`` (0: the course's)."""
    seed = check_int("seed", seed, minimum=0)
    if seed == 0:
        return RunSeeds(COURSE_INIT_SEED, COURSE_SHUFFLE_SEED)
    init_seed, shuffle_seed = np.random.SeedSequence(seed).generate_state(2)
    return RunSeeds(int(init_seed), int(shuffle_seed))
