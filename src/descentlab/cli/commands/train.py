"""``descentlab train``: one optimizer, the same report as ``compare``, and a model file."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from descentlab.cli.arguments import argument, parse_optimizer
from descentlab.cli.options import add_training

DESCRIPTION = "Train one optimizer; writes the same files as compare, with one run."


def add_options(parser: argparse.ArgumentParser) -> None:
    from descentlab import optim

    parser.add_argument(
        "--optimizer",
        type=argument(parse_optimizer, "optimizer"),
        default="adam",
        help=f"one of: {', '.join(optim.names())} (default: %(default)s)",
    )
    add_training(parser, "results.json, plots and report.html")
    parser.add_argument(
        "--save",
        type=Path,
        metavar="MODEL.npz",
        help="write the trained network (with its classes, feature names and scaling) as a "
        "model file for 'descentlab predict'",
    )


def run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    return resume(args, argv, None)


def resume(args: argparse.Namespace, argv: Sequence[str], run_dir: Path | None) -> int:
    from descentlab.cli.training import run_training

    return run_training(args, argv, (args.optimizer,), run_dir)
