"""Ctrl-C and the progress bar around one training call (``compare``, ``train``, ``sweep``).

The first Ctrl-C asks training to stop at the end of the current epoch, after a checkpoint;
training then raises ``TrainingInterrupted``, the run's folder records it, and the command
exits 130 with one line saying how to resume. A second Ctrl-C stops at once
(``KeyboardInterrupt``, which ``main`` turns into exit 130 too).
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from descentlab.train import TrainingInterrupted

T = TypeVar("T")

Advance = Callable[[int], None]
"""Moves the progress bar on by a number of its units."""


class GracefulStop:
    """The SIGINT handler of a training call: ``requested()`` turns True at the first Ctrl-C;
    the second raises ``KeyboardInterrupt``."""

    def __init__(self) -> None:
        self.flag = False

    def requested(self) -> bool:
        return self.flag

    def install(self) -> Any:
        def handle(signum: int, frame: object) -> None:
            if self.flag:
                raise KeyboardInterrupt
            self.flag = True

        return signal.signal(signal.SIGINT, handle)


def shows_progress(args: argparse.Namespace) -> bool:
    """A progress bar only for a person watching a terminal (not with --quiet or --json)."""
    return sys.stdout.isatty() and not args.quiet and not args.json


def train_interruptibly(
    command: str,
    out_dir: Path,
    train: Callable[[Callable[[], bool], Advance | None], T],
    *,
    bar: dict[str, Any] | None,
    on_interrupt: Callable[[Any], None],
    stopped: type[Exception] = TrainingInterrupted,
    saved: Callable[[Any], str] = lambda stopped: (
        f"interrupted after epoch {stopped.epochs_done - 1}; checkpoint saved"
    ),
) -> T | None:
    """``train(interrupted, advance)`` under the Ctrl-C handler, with a tqdm bar of the
    settings ``bar`` (None: no bar; ``advance`` is then None). When training stops at a
    Ctrl-C (raises ``stopped``, ``TrainingInterrupted`` by default): ``on_interrupt`` records
    it, one line on stderr says what was kept (``saved``) and how to resume, and the result
    is None."""
    stop = GracefulStop()
    progress = None
    if bar is not None:
        from tqdm import tqdm

        # No monitor thread (it outlives the bar): the pictures are drawn in a forked process
        # only when this one runs no other thread (report.drawing).
        tqdm.monitor_interval = 0
        progress = tqdm(leave=False, **bar)
    previous = stop.install()
    try:
        return train(stop.requested, None if progress is None else progress.update)
    except stopped as interrupted:
        if progress is not None:
            progress.close()
        on_interrupt(interrupted)
        print(
            f"descentlab {command}: {saved(interrupted)}; resume with: descentlab resume {out_dir}",
            file=sys.stderr,
        )
        return None
    finally:
        signal.signal(signal.SIGINT, previous)
        if progress is not None:
            progress.close()
