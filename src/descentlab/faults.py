"""Test-only fault injection: the process kills itself with SIGKILL (or raises) at a named
phase.

The kill-at-every-phase tests (``tests/test_kill_phases.py``) set ``DESCENTLAB_FAULT`` to a
phase, run a command as a process of its own, and check that ``descentlab resume`` (or running
the command again) ends with the files of a run never killed, in the spirit of SQLite's fault
injection tests rather than by timing a signal. Unset (always, outside those tests) it costs
one comparison with None: the variable is read once, when this module is imported.

``DESCENTLAB_FAULT=PHASE`` kills the process the first time it reaches ``PHASE``, and
``PHASE@N`` the N-th time (N >= 1). Every atomic write (``descentlab.atomic``) of a file named
``NAME`` passes three phases:

- ``before:NAME``: nothing written yet;
- ``written:NAME``: the temporary file is complete, not yet renamed (it is left behind);
- ``after:NAME``: the file is in place.

So ``after:results.json@1`` is right after a run folder says "running", ``before:model.npz``
just before ``train --save`` writes the model, ``written:checkpoint.npz@2`` in the middle of
the second checkpoint. A process reaching its phase prints nothing and exits as SIGKILL
leaves it: the point is what the files say afterwards. ``arm`` sets the same target in a
process already running (a test's forked child), as the variable does at import.

``raise:PHASE`` and ``raise:PHASE@N`` raise ``RuntimeError`` (naming the phase) there instead
of killing the process: a real error rather than a death, e.g. in a Dask worker, where a chunk
that raises is a failed chunk and a killed worker is one to run again
(``tests/test_sweep_cluster.py``; worker processes read the variable when they start).
"""

from __future__ import annotations

import os
import signal

VARIABLE = "DESCENTLAB_FAULT"
RAISE = "raise:"


def _parse(text: str | None) -> tuple[str, int, bool] | None:
    """``[raise:]PHASE`` or ``[raise:]PHASE@N`` as (phase, N, whether to raise); None when
    unset or empty."""
    if not text:
        return None
    raises = text.startswith(RAISE)
    text = text.removeprefix(RAISE)
    phase, _, count = text.rpartition("@")
    if phase and count.isdecimal() and count.isascii() and int(count) >= 1:
        return phase, int(count), raises
    return text, 1, raises


_TARGET = _parse(os.environ.get(VARIABLE))
_seen = 0


def arm(target: str | None) -> None:
    """Kill this process (or raise) at ``target`` (``[raise:]PHASE[@N]``, as
    ``DESCENTLAB_FAULT`` says it; None disarms), counting occurrences from now. Test-only."""
    global _TARGET, _seen
    _TARGET, _seen = _parse(target), 0


def reached(phase: str) -> None:
    """Kill this process (SIGKILL), or raise ``RuntimeError`` in the raise mode, if
    ``DESCENTLAB_FAULT`` names ``phase`` and this is the occurrence it names; otherwise return
    at once."""
    global _seen
    if _TARGET is None or phase != _TARGET[0]:
        return
    _seen += 1
    if _seen == _TARGET[1]:
        if _TARGET[2]:
            raise RuntimeError(f"fault injected at {phase} ({VARIABLE})")
        os.kill(os.getpid(), signal.SIGKILL)
