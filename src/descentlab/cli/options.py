"""Option groups that several commands share, each declared once (pip's ``cmdoptions``), and
the readers that turn a group's values into the library's objects."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from descentlab.cli.arguments import (
    LearningRates,
    argument,
    decay,
    fraction,
    integer_option,
    nonnegative_number,
    parse_batch_size,
    parse_dataset,
    parse_epochs,
    parse_hyperparameter,
    parse_layers,
    parse_learning_rates,
    parse_optimizers,
    parse_seed,
)

if TYPE_CHECKING:
    from descentlab.datasets import Dataset
    from descentlab.schedules import ScheduleSpec

Group = argparse.ArgumentParser | argparse._ArgumentGroup


def add_optimizers(parser: Group, default: Sequence[str], what: str = "") -> None:
    """``--optimizers NAME,NAME,...``."""
    from descentlab import optim

    parser.add_argument(
        "--optimizers",
        type=argument(parse_optimizers, "optimizers"),
        default=tuple(default),
        metavar="NAME,NAME,...",
        help=f"{what}from: {', '.join(optim.names())} (default: {','.join(default)})",
    )


def add_dataset(group: Group, default: str | None, help_text: str) -> None:
    """``--dataset NAME``, one of ``descentlab.datasets.DATASETS``."""
    group.add_argument(
        "--dataset",
        type=argument(parse_dataset, "dataset"),
        default=default,
        metavar="NAME",
        help=help_text,
    )


def add_output(parser: argparse.ArgumentParser, writes: str, *, progress: bool = True) -> Group:
    """The "output" group: ``--out DIR`` (a new run folder), ``--quiet`` and ``--json``."""
    output = parser.add_argument_group("output")
    output.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help=f"folder for {writes} (default: runs/{parser.prog.split()[-1]}-<time>/)",
    )
    add_quiet(output, progress=progress)
    output.add_argument(
        "--json",
        action="store_true",
        help="print the results document (results.json) on stdout instead of the table",
    )
    return output


def add_quiet(group: Group, *, progress: bool = False) -> None:
    group.add_argument(
        "--quiet",
        action="store_true",
        help="print nothing on success" + (" and show no progress bar" if progress else ""),
    )


def add_checkpoint_every(group: Group, what: str, *, also: str = "") -> None:
    """``--checkpoint-every N``: the epochs between checkpoints of a run that can resume."""
    group.add_argument(
        "--checkpoint-every",
        type=argument(integer_option("checkpoint every", minimum=0), "checkpoint every"),
        default=1000,
        metavar="N",
        help=f"save {what} every N epochs, 0 for never; Ctrl-C always saves{also}; resume "
        "with 'descentlab resume DIR' (default: %(default)s)",
    )


def add_hyperparameter(group: Group, examples: str) -> None:
    """``-H [OPT.]NAME=VALUE``, repeatable (``descentlab.optim.scope_hyperparameters`` says
    which optimizers each setting goes to)."""
    group.add_argument(
        "-H",
        "--hyperparameter",
        type=argument(parse_hyperparameter, "hyperparameter"),
        action="append",
        default=[],
        metavar="[OPT.]NAME=VALUE",
        help=f"any other optimizer keyword, repeatable: {examples}",
    )


def add_shape(group: Group) -> None:
    """--epochs, --batch-size, --layers and --blas-threads, which every command that trains
    networks takes."""
    from descentlab import threads

    group.add_argument(
        "--epochs",
        type=argument(parse_epochs, "epochs"),
        default=10000,
        help="passes over the data (default: %(default)s)",
    )
    group.add_argument(
        "--batch-size",
        type=argument(parse_batch_size, "batch size"),
        default=64,
        metavar="N|full",
        help="examples per mini-batch; 1 is stochastic gradient descent, 'full' is batch "
        "gradient descent (default: %(default)s)",
    )
    group.add_argument(
        "--layers",
        type=argument(parse_layers, "layers"),
        default=(5, 2),
        metavar="H1,H2,...",
        help="hidden layer sizes; the network is [n_x, H1, H2, ..., n_out] (default: 5,2)",
    )
    group.add_argument(
        "--blas-threads",
        type=argument(threads.parse_setting, "blas threads"),
        metavar="auto|N",
        help="BLAS threads while training: auto uses one for matrices too small to gain from "
        "more (see the README), N uses N; wins over the environment variable "
        f"{threads.ENVIRONMENT_VARIABLE} (default: auto)",
    )


def add_schedule(parser: argparse.ArgumentParser) -> None:
    """The "learning-rate schedule" group; ``schedule_of(args)`` reads it."""
    from descentlab.schedules import SCHEDULES, UNITS

    decay_group = parser.add_argument_group("learning-rate schedule")
    decay_group.add_argument(
        "--schedule",
        choices=SCHEDULES,
        default="constant",
        help="how the rate changes from its initial value: inverse-time is "
        "lr0 / (1 + rate * floor(t / every)) (the course's update_lr with --decay-every 1, "
        "schedule_lr_decay with --decay-every 1000); exponential and step multiply by "
        "--decay-rate every --decay-every; cosine decays to --min-learning-rate over the run "
        "(default: constant)",
    )
    decay_group.add_argument(
        "--decay-rate",
        type=argument(nonnegative_number("decay rate"), "decay rate"),
        default=1.0,
        help="the schedule's rate (default: %(default)s)",
    )
    decay_group.add_argument(
        "--decay-every",
        type=argument(integer_option("decay every", minimum=1), "decay every"),
        default=1,
        metavar="N",
        help="units between decays (default: %(default)s)",
    )
    decay_group.add_argument(
        "--schedule-unit",
        choices=UNITS,
        default="epoch",
        help="what t counts: epochs (the new rate applies after each epoch, as the course "
        "does) or optimizer steps (default: %(default)s)",
    )
    decay_group.add_argument(
        "--warmup",
        type=argument(integer_option("warmup", minimum=0), "warmup"),
        default=0,
        metavar="N",
        help="cosine only: units of linear warmup (default: %(default)s)",
    )
    decay_group.add_argument(
        "--min-learning-rate",
        type=argument(nonnegative_number("minimum learning rate"), "minimum learning rate"),
        default=0.0,
        metavar="LR",
        help="cosine only: the rate at the end (default: %(default)s)",
    )


def schedule_of(args: argparse.Namespace) -> ScheduleSpec:
    """The schedule the "learning-rate schedule" group names (checked by ``ScheduleSpec``)."""
    from descentlab.schedules import ScheduleSpec

    return ScheduleSpec(
        name=args.schedule,
        decay_rate=args.decay_rate,
        every=args.decay_every,
        unit=args.schedule_unit,
        warmup=args.warmup,
        min_learning_rate=args.min_learning_rate,
    )


def add_data(parser: argparse.ArgumentParser) -> None:
    """The "data" group: a named dataset or the user's file, splits and precision;
    ``load_data(args)`` reads it."""
    from descentlab.datasets import DATASETS

    data = parser.add_argument_group("data (default: the course's moons)")
    add_dataset(data, None, f"a named dataset: {', '.join(DATASETS)} (default: moons)")
    data.add_argument(
        "--data",
        type=Path,
        metavar="FILE",
        help="your own data: a .csv with a header row, a .npz with arrays X and y, or a .npy "
        "with its labels in <stem>_y.npy (one example per row)",
    )
    data.add_argument(
        "--target",
        metavar="COLUMN",
        help="with --data: the label column of a CSV (default: the last), the label array of "
        "an .npz (default: y), or the labels file of an .npy",
    )
    data.add_argument(
        "--n-samples",
        type=argument(integer_option("n-samples", minimum=2), "n-samples"),
        metavar="N",
        help="examples a synthetic dataset draws (default: the dataset's own, 300)",
    )
    data.add_argument(
        "--noise",
        type=argument(nonnegative_number("noise"), "noise"),
        help="noise of a synthetic dataset (default: the dataset's own; moons 0.2)",
    )
    data.add_argument(
        "--data-seed",
        type=argument(parse_seed, "data seed"),
        metavar="S",
        help="seed of a synthetic dataset (default: the dataset's own; moons 3)",
    )
    data.add_argument(
        "--standardize",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="scale every feature to mean 0 and deviation 1, learned on the training split "
        "(default: on for every dataset but the course's moons)",
    )
    data.add_argument(
        "--validation-fraction",
        type=argument(fraction("validation fraction"), "validation fraction"),
        default=0.0,
        metavar="F",
        help="hold out this fraction, stratified, to measure validation cost and accuracy "
        "every epoch (default: 0)",
    )
    data.add_argument(
        "--test-fraction",
        type=argument(fraction("test fraction"), "test fraction"),
        default=0.0,
        metavar="F",
        help="hold out this fraction, stratified, for a final test accuracy (default: 0)",
    )
    data.add_argument(
        "--early-stopping",
        action="store_true",
        help="stop a run once its validation cost has not improved for --patience epochs and "
        "keep its best epoch's weights (needs --validation-fraction)",
    )
    data.add_argument(
        "--patience",
        type=argument(integer_option("patience", minimum=1), "patience"),
        default=10,
        metavar="N",
        help="epochs without a better validation cost before stopping (default: %(default)s)",
    )
    data.add_argument(
        "--dtype",
        choices=("float64", "float32"),
        default="float64",
        help="precision of training (float32 halves memory and is faster on big data; "
        "default: %(default)s)",
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


def add_training(parser: argparse.ArgumentParser, writes: str) -> None:
    """Every option of ``compare`` and ``train`` but the optimizer choice: training, optimizer
    hyperparameters, schedule, data and output."""
    group = parser.add_argument_group("training (defaults: the published experiment)")
    add_shape(group)
    group.add_argument(
        "--learning-rate",
        type=argument(parse_learning_rates, "learning rate"),
        default=LearningRates(0.0007, {}),
        metavar="LR",
        help="step size, > 0: one number for every optimizer, or per optimizer as "
        "gd=0.1,momentum=0.1,adam=0.01 (a bare number sets the rest) (default: 0.0007)",
    )
    group.add_argument(
        "--seed",
        type=argument(parse_seed, "seed"),
        default=0,
        help="0 is the course's protocol (init RandomState(3), epoch e shuffled with "
        "RandomState(11 + e)); any other value derives both streams from it (default: 0)",
    )
    hyper = parser.add_argument_group("optimizer hyperparameters")
    hyper.add_argument(
        "--beta",
        type=argument(decay("beta"), "beta"),
        help="momentum's averaging coefficient, in [0, 1) (default: 0.9)",
    )
    hyper.add_argument(
        "--beta1",
        type=argument(decay("beta1"), "beta1"),
        help="first-moment coefficient of adam, adamw, nadam, adamax, in [0, 1) (default: 0.9)",
    )
    hyper.add_argument(
        "--beta2",
        type=argument(decay("beta2"), "beta2"),
        help="second-moment coefficient of adam, adamw, nadam, adamax, in [0, 1) (default: 0.999)",
    )
    hyper.add_argument(
        "--epsilon",
        type=argument(nonnegative_number("epsilon"), "epsilon"),
        help="epsilon of every chosen optimizer that has one, >= 0 (default: each "
        "optimizer's own, 1e-8 for adam)",
    )
    add_eps_inside_sqrt(hyper)
    add_hyperparameter(
        hyper,
        "-H momentum=0.9 sets it for every chosen optimizer that has it, -H sgd.nesterov=true "
        "for one; VALUE is a number or true/false (see the README for each optimizer's "
        "keywords)",
    )
    add_schedule(parser)
    add_data(parser)
    output = add_output(parser, writes)
    output.add_argument(
        "--weight-paths",
        type=argument(integer_option("weight paths", minimum=0), "weight paths"),
        default=0,
        metavar="EVERY",
        help="record every run's weights every EVERY epochs and draw their paths projected onto "
        "the two principal directions of all of them (weight_paths.png; 0: off; default: 0)",
    )
    add_checkpoint_every(output, "a checkpoint (checkpoint.npz in the run folder)", also=" one")


def add_eps_inside_sqrt(group: Group) -> None:
    group.add_argument(
        "--eps-inside-sqrt",
        action="store_true",
        help="Adam divides by sqrt(s_hat + epsilon) instead of sqrt(s_hat) + epsilon",
    )
