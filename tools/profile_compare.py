"""Where ``descentlab compare``'s wall time goes, end to end (issue 17: measure first).

    python tools/profile_compare.py [--repeat N] [ARGS ...]   # ARGS go to compare

Runs ``python -m cProfile -m descentlab compare --quiet --out DIR [ARGS]`` in a fresh process
``--repeat`` times (each in a new temporary folder, with one BLAS thread: the default policy
for this network) and prints, for the run with the shortest profiled time, the share of each
phase of the command: start-up and imports (matplotlib's apart), the data, the training
(``train_stack``, its checkpoints included), each picture, report.html, results.json and the
arrays, with the whole process's wall time (measured around the process, so it includes the
interpreter's start and cProfile's own cost: the profiled figures run about 10 to 20 % slow,
their shares are what to read). The phases nest, so the shares add up to more than 100 %: the
imports include matplotlib's, made when the first picture is drawn, and "the run folder"
holds every picture.
"""

from __future__ import annotations

import argparse
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PHASES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "imports (every module import, cumulative)",
        (("<frozen importlib._bootstrap>", "_find_and_load"),),
    ),
    (
        "of which matplotlib's (package, figure, Agg)",
        (
            ("matplotlib/__init__.py", "<module>"),
            ("matplotlib/figure.py", "<module>"),
            ("matplotlib/backends/backend_agg.py", "<module>"),
        ),
    ),
    ("the data (load and split)", (("experiment.py", "prepare_data"),)),
    ("training (train_stack)", (("train.py", "train_stack"),)),
    ("checkpoints (every save, inside training)", (("checkpoint.py", "save"),)),
    ("cost_curves.png", (("plots.py", "plot_cost_curves"),)),
    ("decision_boundaries.png", (("plots.py", "plot_decision_boundaries"),)),
    ("confusion_matrices.png", (("plots.py", "plot_confusion_matrices"),)),
    ("report.html (charts and page)", (("html.py", "render_html"),)),
    ("report.html charts' data", (("charts.py", "report_charts"),)),
    ("arrays (.npy files)", (("training.py", "_save_npy"),)),
    ("results.json", (("folder.py", "write_results"),)),
    ("the run folder, all files", (("training.py", "write_run_folder"),)),
)
"""Each phase: its label and the functions (file suffix, name) whose cumulative times it adds
(matplotlib's three imports happen one after the other, none inside another)."""


def cumulative(stats: pstats.Stats, filename: str, function: str) -> float:
    """The largest cumulative time of a function matching (file suffix, name): for a
    recursive one (imports) the outermost call's."""
    best = 0.0
    for (file, _, name), (_, _, _, cumtime, _) in stats.stats.items():
        if name == function and file.endswith(filename):
            best = max(best, cumtime)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args, compare_args = parser.parse_known_args()
    runs = []
    for _ in range(args.repeat):
        folder = Path(tempfile.mkdtemp(prefix="profile-compare-"))
        profile = folder / "compare.prof"
        argv = [
            sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "descentlab", "compare",
            "--quiet", "--out", str(folder / "run"), *compare_args,
        ]  # fmt: skip
        env = {**os.environ, "DESCENTLAB_BLAS_THREADS": "1"}
        started = time.perf_counter()
        subprocess.run(argv, check=True, env=env)
        wall = time.perf_counter() - started
        stats = pstats.Stats(str(profile))
        runs.append((stats.total_tt, wall, stats))
    total, wall, stats = min(runs, key=lambda run: run[0])
    print(f"descentlab compare --quiet {' '.join(compare_args)}: best of {args.repeat}")
    print(f"  whole process (wall, under cProfile): {wall:.2f} s; profiled: {total:.2f} s")
    for label, functions in PHASES:
        seconds = sum(cumulative(stats, filename, function) for filename, function in functions)
        print(f"  {label:<45} {seconds:7.3f} s  {100 * seconds / total:5.1f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
