"""The wall time of ``descentlab compare``'s phases without a profiler (issue 17: fixed costs).

    python tools/time_compare.py [--repeat N] [ARGS ...]   # ARGS go to compare

cProfile slows matplotlib's many small Python calls far more than numpy's arithmetic, so
``tools/profile_compare.py`` tells where the time goes but overstates the pictures. This runs
``descentlab compare --quiet --out DIR [ARGS]`` ``--repeat`` times, each in a fresh process
(one BLAS thread) that wraps the phases in timers: matplotlib's import (done first, on its
own), the training (``train_stack``), each picture, the pictures together, report.html's
chart data and the whole run folder, with the process's wall time measured around it. With two
CPUs the decision boundaries are drawn in a forked process (``descentlab.report.drawing``),
whose time this one does not see: its line is then missing, and "the pictures, together"
gives their wall time. It prints each phase's best wall and
CPU time over the repeats (the least disturbed by other work on the machine: on a shared
machine the CPU time, this process's own, varies far less than the wall time) and the best
whole process.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

PHASES = (
    ("descentlab.resume", "train_stack", "training (train_stack)"),
    ("descentlab.report.plots", "plot_cost_curves", "cost_curves.png"),
    ("descentlab.report.plots", "plot_decision_boundaries", "decision_boundaries.png"),
    ("descentlab.report.plots", "plot_confusion_matrices", "confusion_matrices.png"),
    ("descentlab.report.drawing", "draw_pictures", "the pictures, together (wall)"),
    ("descentlab.report.charts", "report_charts", "report.html's chart data"),
    ("descentlab.cli.training", "write_run_folder", "the run folder, all files"),
)
"""(module, function, label): each timed where the command looks it up."""


Seconds = dict[str, tuple[float, float]]
"""Per phase label: (wall seconds, CPU seconds of this process)."""


def timed(function: Callable[..., Any], seconds: Seconds, label: str) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with phase(seconds, label):
            return function(*args, **kwargs)

    return wrapper


@contextlib.contextmanager
def phase(seconds: Seconds, label: str) -> Iterator[None]:
    """Add the wall and CPU time of the block to ``seconds[label]``."""
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        before = seconds.get(label, (0.0, 0.0))
        seconds[label] = (
            before[0] + time.perf_counter() - wall,
            before[1] + time.process_time() - cpu,
        )


def one_run(compare_args: list[str]) -> Seconds:
    """In this process: the imports, then compare with its phases timed."""
    seconds: Seconds = {}
    with phase(seconds, "imports, descentlab's (numpy included)"):
        from descentlab.cli.main import main

        for module_name, _, _ in PHASES:  # what compare imports, and the names to wrap
            importlib.import_module(module_name)
    with phase(seconds, "imports, matplotlib's"):
        for module_name in ("matplotlib.figure", "matplotlib.backends.backend_agg"):
            importlib.import_module(module_name)
    for module_name, name, label in PHASES:
        module = importlib.import_module(module_name)
        setattr(module, name, timed(getattr(module, name), seconds, label))
    out = tempfile.mkdtemp(prefix="time-compare-")
    main(["compare", "--quiet", "--out", os.path.join(out, "run"), *compare_args])
    gc.freeze()  # as the program does (cli.main.console): no scan of the heap at exit
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args, compare_args = parser.parse_known_args()
    if args.one:
        print(json.dumps(one_run(compare_args)))
        return 0
    env = {**os.environ, "DESCENTLAB_BLAS_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    best: dict[str, list[float]] = {}
    walls = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        child = subprocess.run(
            [sys.executable, __file__, "--one", *compare_args],
            check=True, env=env, capture_output=True, text=True,
        )  # fmt: skip
        walls.append(time.perf_counter() - started)
        for label, (wall, cpu) in json.loads(child.stdout.splitlines()[-1]).items():
            kept = best.setdefault(label, [wall, cpu])
            kept[:] = [min(kept[0], wall), min(kept[1], cpu)]
    print(f"descentlab compare --quiet {' '.join(compare_args)}: best of {args.repeat}")
    each = ", ".join(f"{wall:.2f}" for wall in walls)
    print(f"  whole process (wall): {min(walls):.2f} s (each run: {each})")
    print(f"  {'phase':<45} {'wall':>7}   {'CPU':>7}")
    for label, (wall, cpu) in best.items():
        print(f"  {label:<45} {wall:7.3f} s {cpu:7.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
