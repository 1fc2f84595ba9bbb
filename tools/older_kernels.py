"""Print the NPY_DISABLE_CPU_FEATURES value that runs numpy's next older kernel family here.

`make test` runs the bit-exactness tests (marker `exact`) a second time with it, so both
families are exercised wherever the machine has two. Each name is checked by importing numpy
with it disabled in a fresh process, and dropped if numpy rejects it. Prints nothing when this
machine has no dispatch target above numpy's baseline.
"""

from __future__ import annotations

import os
import subprocess
import sys

from descentlab.cpu import newest_targets


def accepted(names: list[str]) -> list[str]:
    """The names numpy accepts in NPY_DISABLE_CPU_FEATURES (it rejects baseline features)."""
    kept = []
    for name in names:
        env = {**os.environ, "NPY_DISABLE_CPU_FEATURES": " ".join([*kept, name])}
        probe = subprocess.run(
            [sys.executable, "-c", "import numpy"], env=env, capture_output=True, check=False
        )
        if probe.returncode == 0:
            kept.append(name)
    return kept


if __name__ == "__main__":
    print(" ".join(accepted(newest_targets())))
