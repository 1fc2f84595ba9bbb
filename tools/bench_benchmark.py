"""Time ``descentlab benchmark`` on its default suite against issue 15's target (part of
``make bench``).

    python tools/bench_benchmark.py [--jobs N|auto] [--budget N] [--seeds S] [--defaults]

Runs, as a user would, ``descentlab benchmark --suite small --optimizers <the nine classic
optimizers> --budget 20 --seeds 5 --jobs 2 --quiet`` in a subprocess and reports its wall
time (start-up, training, report and pictures included) against the target: under 15
minutes on a 2-core machine. It then prints each problem's share of the time (from the
tasks' own timings in results.json) and the machine's load average before and after, since
a shared machine makes the figure noisy. Each process trains with one BLAS thread (the
benchmark's policy), so two processes use two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLASSICS = "gd,momentum,sgd,rmsprop,adagrad,adam,adamw,nadam,adamax"
TARGET_SECONDS = 15 * 60


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", default="2", help="processes (default: 2)")
    parser.add_argument("--budget", type=int, default=20, help="configurations (default: 20)")
    parser.add_argument("--seeds", type=int, default=5, help="trial seeds (default: 5)")
    parser.add_argument("--defaults", action="store_true", help="add the untuned runs")
    args = parser.parse_args()

    command = shutil.which("descentlab") or str(Path(sys.executable).with_name("descentlab"))
    out = Path(tempfile.mkdtemp(prefix="bench-benchmark-")) / "run"
    argv = [
        command, "benchmark", "--suite", "small", "--optimizers", CLASSICS,
        "--budget", str(args.budget), "--seeds", str(args.seeds), "--jobs", args.jobs,
        "--quiet", "--out", str(out), *(["--defaults"] if args.defaults else []),
    ]  # fmt: skip
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    finished = subprocess.run(argv, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if finished.returncode != 0:
        print(finished.stderr, file=sys.stderr)
        return 1
    results = json.loads((out / "results.json").read_text())
    per_problem: dict[str, float] = {}
    for task in results["tasks"]:
        per_problem[task["problem"]] = per_problem.get(task["problem"], 0.0) + task["seconds"]
    print(f"descentlab benchmark: {' '.join(argv[1:-2])}")
    print(f"  cores: {os.cpu_count()}; load average before {load_before:.2f}, after "
          f"{os.getloadavg()[0]:.2f} (a busy machine inflates the time)")  # fmt: skip
    print(f"  whole process: {seconds:.1f} s (target: under {TARGET_SECONDS} s) -> "
          f"{'met' if seconds < TARGET_SECONDS else 'MISSED'}")  # fmt: skip
    print(f"  tasks: {len(results['tasks'])}, processes: {results['execution']['processes']}")
    for problem, task_seconds in per_problem.items():
        print(f"  {problem:>16}: {task_seconds:7.1f} s of task time")
    shutil.rmtree(out.parent)
    return 0 if seconds < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
