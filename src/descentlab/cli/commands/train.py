"""``descentlab train``: one optimizer, the same report as ``compare``, and a model file."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from descentlab.cli.arguments import parse_optimizer
from descentlab.cli.options import Option, add, wrapper_syntax
from descentlab.cli.training import add_training, run_training

DESCRIPTION = "Train one optimizer; writes the same files as compare, with one run."


def add_options(parser: argparse.ArgumentParser) -> None:
    from descentlab import optim

    add(
        parser,
        Option(
            "--optimizer",
            f"one of: {', '.join(optim.names('train'))}; {wrapper_syntax('train')} (default: "
            "%(default)s)",
            lambda text: parse_optimizer(text, "train"),
            "adam",
        ),
    )
    add_training(parser, "train")
    add(
        parser,
        Option(
            "--save",
            "write the trained network (with its classes, feature names and scaling) as a model "
            "file for 'descentlab predict'",
            Path,
            metavar="MODEL.npz",
        ),
    )


def run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    return resume(args, argv, None)


def resume(args: argparse.Namespace, argv: Sequence[str], run_dir: Path | None) -> int:
    return run_training(args, argv, (args.optimizer,), run_dir)
