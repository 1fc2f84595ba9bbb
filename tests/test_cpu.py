from __future__ import annotations

import json
import os
import subprocess
import sys

from descentlab import cpu


def test_newest_targets_are_enabled_dispatch_targets_above_the_baseline() -> None:
    described = cpu.describe()
    newest = cpu.newest_targets()
    assert set(newest) <= set(described["dispatch"])
    assert not set(newest) & set(described["baseline"])
    if len(described["dispatch"]) > 1:
        assert described["dispatch"][0] not in newest  # the oldest family stays


def test_disabling_the_newest_targets_runs_an_older_family() -> None:
    newest = cpu.newest_targets()
    env = {**os.environ, "NPY_DISABLE_CPU_FEATURES": " ".join(newest)}
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json; from descentlab import cpu; print(json.dumps(cpu.describe()))",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    older = json.loads(probe.stdout)
    assert older["baseline"] == cpu.describe()["baseline"]
    assert older["dispatch"] == [name for name in cpu.dispatch_targets() if name not in newest]
