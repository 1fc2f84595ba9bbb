"""Drawing a run folder's pictures on two cores, where that pays.

The pictures are most of what a command does after training (about 1.5 s of a ``compare``,
the decision boundaries the largest part), and each is drawn on its own. ``draw_pictures``
forks once: the child process draws the first picture while this one draws the others, and
this one waits for the child before going on, so a run folder is exactly what drawing them one
after the other gives (every picture is written atomically, and results.json still comes
last). A child that cannot finish its picture (an error, a full disk, a kill) exits with a
failure and the picture is drawn again here, so that its error, if it has one, is raised here
as it would have been without the child.

Forking is used only where it is safe and pays: on Linux (macOS's system libraries are not
fork-safe), with at least two CPUs this process may run on, and when this process runs no
other Python thread (one holding a lock at the fork would hang the child). The child only
draws and leaves with ``os._exit``: no atexit handler, no flush of this process's buffers. It
holds no folder lock (``runs.folder.FolderLock``) and is killed when this process ends, so a
command killed mid-drawing leaves no process behind to write into its folder.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Sequence

Picture = Callable[[], None]
"""A task that draws one picture and writes it to its file."""


def can_fork() -> bool:
    """Whether a forked process may draw beside this one (see the module docstring)."""
    return (
        sys.platform.startswith("linux")
        and len(os.sched_getaffinity(0)) >= 2
        and threading.active_count() == 1
    )


def draw_pictures(pictures: Sequence[Picture], *, parallel: bool) -> None:
    """Draw every picture; with ``parallel`` and where ``can_fork``, the first in a forked
    child process while this process draws the others. Order them heaviest first."""
    if not parallel or len(pictures) < 2 or not can_fork():
        for picture in pictures:
            picture()
        return
    first, *others = pictures
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    parent = os.getpid()
    with warnings.catch_warnings():
        # Python 3.12 and later warn about forking a process with threads: numpy's BLAS
        # keeps idle ones, which the child, drawing only, never waits for.
        warnings.simplefilter("ignore", DeprecationWarning)
        child = os.fork()
    if child == 0:
        code = 1
        try:
            _end_with(parent)
            first()
            code = 0
        finally:
            os._exit(code)
    try:
        for picture in others:
            picture()
    finally:
        _, status = os.waitpid(child, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        first()


PR_SET_PDEATHSIG = 1
"""Linux's prctl option: the signal this process gets when its parent ends."""


def _end_with(parent: int) -> None:
    """Have the kernel kill this (child) process when ``parent`` ends, so that a command killed
    while drawing leaves nothing behind that still writes into its folder."""
    import ctypes

    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent ended before the request took effect
        os._exit(1)
