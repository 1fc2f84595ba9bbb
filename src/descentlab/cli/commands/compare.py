"""``descentlab compare``: several optimizers side by side, one report."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from descentlab.cli.options import add, optimizers
from descentlab.cli.training import add_training, run_training

DESCRIPTION = (
    "Train every optimizer from the same initial weights on the same batches and write "
    "results.json, cost_curves.png, decision_boundaries.png and report.html."
)


def add_options(parser: argparse.ArgumentParser) -> None:
    add(parser, optimizers("compare", ("gd", "momentum", "adam"), "optimizers to compare, "))
    add_training(parser, "compare")


def run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    return resume(args, argv, None)


def resume(args: argparse.Namespace, argv: Sequence[str], run_dir: Path | None) -> int:
    return run_training(args, argv, args.optimizers, run_dir)
