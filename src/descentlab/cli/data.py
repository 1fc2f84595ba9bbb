"""The "data" options of ``compare`` and ``train`` (a named dataset or the user's file, splits,
precision) and ``load_data``, their reader."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from descentlab.cli.arguments import fraction, integer_option, nonnegative_number, parse_seed
from descentlab.cli.options import Option, add, dataset

if TYPE_CHECKING:
    from descentlab.datasets import Dataset


def add_data(parser: argparse.ArgumentParser) -> None:
    """The "data" group: a named dataset or the user's file, splits and precision;
    ``load_data(args)`` reads it."""
    from descentlab.datasets import DATASETS

    add(
        parser.add_argument_group("data (default: the course's moons)"),
        dataset(None, f"a named dataset: {', '.join(DATASETS)} (default: moons)"),
        Option(
            "--data",
            "your own data: a .csv with a header row, a .npz with arrays X and y, or a .npy with "
            "its labels in <stem>_y.npy (one example per row)",
            Path,
            metavar="FILE",
        ),
        Option(
            "--target",
            "with --data: the label column of a CSV (default: the last), the label array of an "
            ".npz (default: y), or the labels file of an .npy",
            metavar="COLUMN",
        ),
        Option(
            "--n-samples",
            "examples a synthetic dataset draws (default: the dataset's own, 300)",
            integer_option("n-samples", minimum=2),
            metavar="N",
        ),
        Option(
            "--noise",
            "noise of a synthetic dataset (default: the dataset's own; moons 0.2)",
            nonnegative_number("noise"),
        ),
        Option(
            "--data-seed",
            "seed of a synthetic dataset (default: the dataset's own; moons 3)",
            parse_seed,
            metavar="S",
        ),
        Option(
            "--standardize",
            "scale every feature to mean 0 and deviation 1, learned on the training split "
            "(default: on for every dataset but the course's moons)",
            action=argparse.BooleanOptionalAction,
        ),
        Option(
            "--validation-fraction",
            "hold out this fraction, stratified, to measure validation cost and accuracy every "
            "epoch (default: 0)",
            fraction("validation fraction"),
            0.0,
            "F",
        ),
        Option(
            "--test-fraction",
            "hold out this fraction, stratified, for a final test accuracy (default: 0)",
            fraction("test fraction"),
            0.0,
            "F",
        ),
        Option(
            "--early-stopping",
            "stop a run once its validation cost has not improved for --patience epochs and keep "
            "its best epoch's weights (needs --validation-fraction)",
            action="store_true",
        ),
        Option(
            "--patience",
            "epochs without a better validation cost before stopping (default: %(default)s)",
            integer_option("patience", minimum=1),
            10,
            "N",
        ),
        Option(
            "--dtype",
            "precision of training (float32 halves memory and is faster on big data; default: "
            "%(default)s)",
            default="float64",
            choices=("float64", "float32"),
        ),
    )


def load_data(args: argparse.Namespace) -> Dataset:
    """The dataset the "data" group names: ``--data FILE`` or ``--dataset NAME`` with its
    settings."""
    from descentlab import datasets, loaders

    settings = {"n_samples": args.n_samples, "noise": args.noise, "seed": args.data_seed}
    given = {key: value for key, value in settings.items() if value is not None}
    if args.data is not None:
        if args.dataset is not None or given:
            raise ValueError(
                "--data reads your own file; --dataset, --n-samples, --noise and --data-seed "
                "are for named datasets"
            )
        return loaders.load_file(args.data, target=args.target)
    if args.target is not None:
        raise ValueError("--target goes with --data")
    return datasets.load(args.dataset or "moons", **given)
