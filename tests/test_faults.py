"""The test-only fault hook: ``DESCENTLAB_FAULT=PHASE[@N]`` kills the process (SIGKILL) the
N-th time it reaches PHASE, and nothing else happens, whether it is set or not."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from descentlab import faults

REACH_TWICE = (
    "from descentlab import faults\n"
    "faults.reached('after:results.json')\n"
    "print('once', flush=True)\n"
    "faults.reached('before:results.json')\n"
    "faults.reached('after:results.json')\n"
    "print('twice', flush=True)\n"
)


@pytest.mark.parametrize(
    "target, printed, killed",
    [
        (None, "once\ntwice\n", False),
        ("after:results.json", "", True),
        ("after:results.json@1", "", True),
        ("after:results.json@2", "once\n", True),
        ("after:results.json@3", "once\ntwice\n", False),
        ("before:results.json@2", "once\ntwice\n", False),
        ("after:model.npz", "once\ntwice\n", False),
    ],
)
def test_the_variable_kills_the_process_at_its_phase_only(
    target: str | None, printed: str, killed: bool
) -> None:
    env = {key: value for key, value in os.environ.items() if key != faults.VARIABLE}
    if target is not None:
        env[faults.VARIABLE] = target
    result = subprocess.run(
        [sys.executable, "-c", REACH_TWICE], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.stdout == printed
    assert result.returncode == (-signal.SIGKILL if killed else 0), result.stderr


@pytest.mark.parametrize(
    "text, parsed",
    [
        (None, None),
        ("", None),
        ("written:checkpoint.npz", ("written:checkpoint.npz", 1, False)),
        ("written:checkpoint.npz@12", ("written:checkpoint.npz", 12, False)),
        ("after:a@b.npz", ("after:a@b.npz", 1, False)),  # not a count: part of the name
        ("after:x@0", ("after:x@0", 1, False)),
        ("after:x@²", ("after:x@²", 1, False)),
        ("raise:before:chunk-1.npz", ("before:chunk-1.npz", 1, True)),
        ("raise:after:x@3", ("after:x", 3, True)),
    ],
)
def test_targets_are_read_as_phase_count_and_mode(
    text: str | None, parsed: tuple[str, int, bool] | None
) -> None:
    assert faults._parse(text) == parsed


def test_the_raise_mode_raises_at_its_occurrence() -> None:
    """``raise:PHASE@2`` passes the first occurrence and raises a RuntimeError naming the
    phase at the second, in this process (which lives on)."""
    try:
        faults.arm("raise:before:x.npz@2")
        faults.reached("before:x.npz")
        with pytest.raises(RuntimeError, match=r"fault injected at before:x\.npz"):
            faults.reached("before:x.npz")
    finally:
        faults.arm(None)


def test_arm_and_disarm_in_this_process() -> None:
    """``arm(None)`` (the state of every process without the variable) reaches every phase
    without effect; arming a phase this test never reaches changes nothing either."""
    try:
        faults.arm("before:never-written.file")
        faults.reached("before:results.json")
        faults.arm(None)
        for _ in range(3):
            faults.reached("before:never-written.file")
    finally:
        faults.arm(None)
