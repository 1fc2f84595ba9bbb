"""The compiled engine compiles once: a second process loads its kernels from numba's disk cache
and compiles nothing (issue 17: "compiled once and cached on disk, so a second run pays no
compile time"). Two real processes, the cache in a fresh folder (``NUMBA_CACHE_DIR``), numba's
own cache log (``NUMBA_DEBUG_CACHE``) as the witness."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TRAIN_TWO_EPOCHS = """
from descentlab import course, optim
from descentlab.nn import Network
from descentlab.train import RunGroup, train_stack
X, Y = course.load_dataset()
result = train_stack(
    Network((2, 5, 2, 1)), X, Y, [RunGroup(optim.adam(0.0007), 1)],
    init_seeds=[3], shuffle_seeds=[10], epochs=2, engine="compiled",
)
print("engine", result.engine)
"""


def _train_in_a_process(cache: Path) -> str:
    environment = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "NUMBA_DEBUG_CACHE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", TRAIN_TWO_EPOCHS],
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
        check=True,
    )
    assert "engine compiled" in done.stdout
    return done.stdout


@pytest.mark.slow
def test_a_second_process_loads_the_kernels_from_the_disk_cache(tmp_path: Path) -> None:
    first = _train_in_a_process(tmp_path)
    assert "data saved to" in first  # compiled, and written to the cache
    assert any(tmp_path.rglob("*.nbc")), "no cached machine code in NUMBA_CACHE_DIR"
    second = _train_in_a_process(tmp_path)
    assert "data loaded from" in second
    assert "data saved to" not in second  # nothing compiled again
