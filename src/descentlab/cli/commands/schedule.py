"""``descentlab schedule``: a learning-rate schedule's values, and its plot."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from descentlab.cli.arguments import parse_epochs, parse_learning_rate
from descentlab.cli.options import Option, add, add_schedule, schedule_of

DESCRIPTION = (
    "Print a learning-rate schedule's value over a run, and with --out draw it as a PNG; the "
    "same schedules compare and train take."
)


def add_options(parser: argparse.ArgumentParser) -> None:
    add(
        parser,
        Option(
            "--learning-rate",
            "the initial rate lr0, > 0 (default: %(default)s)",
            parse_learning_rate,
            0.1,
            "LR",
        ),
        Option(
            "--length", "how many units to show (default: %(default)s)", parse_epochs, 5000, "N"
        ),
    )
    add_schedule(parser)
    add(parser, Option("--out", "write the plot here", Path, metavar="FILE.png"))


def run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Print the schedule at 11 points of the run (any length, at once); with --out, draw
    every unit once the memory the plot takes fits (``descentlab.budget``)."""
    spec = schedule_of(args)
    out = args.out
    if out is not None and out.suffix.lower() != ".png":
        raise ValueError(f"--out must name a .png file, got {str(out)!r}")
    if out is not None:
        from descentlab import budget
        from descentlab.atomic import check_writable

        check_writable(out, "--out")
        budget.check(budget.schedule_estimate(args.length))
    schedule = spec.build(args.learning_rate, total=args.length)
    shown = sorted({0, args.length - 1, *range(0, args.length, max(args.length // 10, 1))})
    print(f"{spec.name} schedule, lr0 {args.learning_rate:g}, per {spec.unit}")
    print(f"{spec.unit:>8}  learning rate")
    for t in shown:
        print(f"{t:>8}  {schedule(t):.6g}")
    if out is not None:
        import numpy as np

        from descentlab.report.plots import plot_schedule

        rates = np.fromiter((schedule(t) for t in range(args.length)), float, args.length)
        plot_schedule(out, {spec.name: rates}, spec.unit)
        print(f"wrote {out}")
    return 0
