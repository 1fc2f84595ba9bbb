"""The command line's options as data (``Option``), the groups several commands share, each
declared once (pip's ``cmdoptions``), and the readers that turn a group's values into the
library's objects.

Help texts that name optimizers come from the optimizer registry (``descentlab.optim``), so a
new optimizer appears in them without an edit here.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

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


class Option(NamedTuple):
    """One option: its flags, help, and ``parse`` (text -> value, or a one-line
    ``ValueError``), which becomes argparse's ``type``. The other fields are argparse's."""

    flags: str | tuple[str, ...]
    help: str
    parse: Callable[[str], Any] | None = None
    default: Any = None
    metavar: str | None = None
    choices: Sequence[str] | None = None
    action: str | type[argparse.Action] | None = None
    required: bool = False


def add(group: Group, *options: Option) -> None:
    """Declare ``options`` in ``group`` (a parser or one of its groups)."""
    for option in options:
        flags = (option.flags,) if isinstance(option.flags, str) else option.flags
        settings: dict[str, Any] = {"help": option.help}
        if option.parse is not None:
            settings["type"] = argument(option.parse, flags[-1].strip("-").replace("-", " "))
        for key in ("default", "metavar", "choices", "action"):
            if getattr(option, key) is not None:
                settings[key] = getattr(option, key)
        if option.required:
            settings["required"] = True
        group.add_argument(*flags, **settings)


def optimizers(command: str, default: Sequence[str], what: str = "") -> Option:
    """``--optimizers NAME,NAME,...``, of the optimizers ``command`` takes."""
    from descentlab import optim

    return Option(
        "--optimizers",
        f"{what}from: {', '.join(optim.names(command))} (default: {','.join(default)})",
        lambda text: parse_optimizers(text, command),
        tuple(default),
        "NAME,NAME,...",
    )


def dataset(default: str | None, help_text: str) -> Option:
    """``--dataset NAME``, one of ``descentlab.datasets.DATASETS``."""
    return Option("--dataset", help_text, parse_dataset, default, "NAME")


def hyperparameter(examples: str) -> Option:
    """``-H [OPT.]NAME=VALUE``, repeatable (``descentlab.optim.scope_hyperparameters`` says
    which optimizers each setting goes to)."""
    return Option(
        ("-H", "--hyperparameter"),
        f"any other optimizer keyword, repeatable: {examples}",
        parse_hyperparameter,
        [],
        "[OPT.]NAME=VALUE",
        action="append",
    )


def checkpoint_every(what: str, also: str = "") -> Option:
    """``--checkpoint-every N``: the epochs between checkpoints of a run that can resume."""
    return Option(
        "--checkpoint-every",
        f"save {what} every N epochs, 0 for never; Ctrl-C always saves{also}; resume with "
        "'descentlab resume DIR' (default: %(default)s)",
        integer_option("checkpoint every", minimum=0),
        1000,
        "N",
    )


EPS_INSIDE_SQRT = Option(
    "--eps-inside-sqrt",
    "Adam divides by sqrt(s_hat + epsilon) instead of sqrt(s_hat) + epsilon",
    action="store_true",
)


def quiet(progress: bool = False) -> Option:
    bar = " and show no progress bar" if progress else ""
    return Option("--quiet", f"print nothing on success{bar}", action="store_true")


def add_output(parser: argparse.ArgumentParser, writes: str, *, progress: bool = True) -> Group:
    """The "output" group: ``--out DIR`` (a new run folder), ``--quiet`` and ``--json``."""
    command = parser.prog.split()[-1]
    output = parser.add_argument_group("output")
    add(
        output,
        Option(
            "--out", f"folder for {writes} (default: runs/{command}-<time>/)", Path, None, "DIR"
        ),
        quiet(progress),
        Option(
            "--json",
            "print the results document (results.json) on stdout instead of the table",
            action="store_true",
        ),
    )
    return output


def show(
    args: argparse.Namespace, results: Mapping[str, object], summary: Callable[[], str]
) -> None:
    """What a command prints when it succeeds: the results document with --json, nothing with
    --quiet, else ``summary()``."""
    from descentlab.runs import to_json

    if args.json:
        print(to_json(results))
    elif not args.quiet:
        print(summary())


def shape() -> tuple[Option, ...]:
    """--epochs, --batch-size, --layers and --blas-threads, which every command that trains
    networks takes."""
    from descentlab import threads

    return (
        Option("--epochs", "passes over the data (default: %(default)s)", parse_epochs, 10000),
        Option(
            "--batch-size",
            "examples per mini-batch; 1 is stochastic gradient descent, 'full' is batch gradient "
            "descent (default: %(default)s)",
            parse_batch_size,
            64,
            "N|full",
        ),
        Option(
            "--layers",
            "hidden layer sizes; the network is [n_x, H1, H2, ..., n_out] (default: 5,2)",
            parse_layers,
            (5, 2),
            "H1,H2,...",
        ),
        Option(
            "--blas-threads",
            "BLAS threads while training: auto uses one for matrices too small to gain from more "
            "(see the README), N uses N; wins over the environment variable "
            f"{threads.ENVIRONMENT_VARIABLE} (default: auto)",
            threads.parse_setting,
            metavar="auto|N",
        ),
    )


def add_schedule(parser: argparse.ArgumentParser) -> None:
    """The "learning-rate schedule" group; ``schedule_of(args)`` reads it."""
    from descentlab.schedules import SCHEDULES, UNITS

    add(
        parser.add_argument_group("learning-rate schedule"),
        Option(
            "--schedule",
            "how the rate changes from its initial value: inverse-time is "
            "lr0 / (1 + rate * floor(t / every)) (the course's update_lr with --decay-every 1, "
            "schedule_lr_decay with --decay-every 1000); exponential and step multiply by "
            "--decay-rate every --decay-every; cosine decays to --min-learning-rate over the run "
            "(default: constant)",
            default="constant",
            choices=SCHEDULES,
        ),
        Option(
            "--decay-rate",
            "the schedule's rate (default: %(default)s)",
            nonnegative_number("decay rate"),
            1.0,
        ),
        Option(
            "--decay-every",
            "units between decays (default: %(default)s)",
            integer_option("decay every", minimum=1),
            1,
            "N",
        ),
        Option(
            "--schedule-unit",
            "what t counts: epochs (the new rate applies after each epoch, as the course does) or "
            "optimizer steps (default: %(default)s)",
            default="epoch",
            choices=UNITS,
        ),
        Option(
            "--warmup",
            "cosine only: units of linear warmup (default: %(default)s)",
            integer_option("warmup", minimum=0),
            0,
            "N",
        ),
        Option(
            "--min-learning-rate",
            "cosine only: the rate at the end (default: %(default)s)",
            nonnegative_number("minimum learning rate"),
            0.0,
            "LR",
        ),
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


def add_training(parser: argparse.ArgumentParser, command: str) -> None:
    """Every option of ``compare`` and ``train`` but the optimizer choice: training, optimizer
    hyperparameters, schedule, data and output."""
    from descentlab import optim

    adam_family = ", ".join(optim.names_with("beta1", command))
    add(
        parser.add_argument_group("training (defaults: the published experiment)"),
        *shape(),
        Option(
            "--learning-rate",
            "step size, > 0: one number for every optimizer, or per optimizer as "
            "gd=0.1,momentum=0.1,adam=0.01 (a bare number sets the rest) (default: 0.0007)",
            parse_learning_rates,
            LearningRates(0.0007, {}),
            "LR",
        ),
        Option(
            "--seed",
            "0 is the course's protocol (init RandomState(3), epoch e shuffled with "
            "RandomState(11 + e)); any other value derives both streams from it (default: 0)",
            parse_seed,
            0,
        ),
    )
    add(
        parser.add_argument_group("optimizer hyperparameters"),
        Option(
            "--beta", "momentum's averaging coefficient, in [0, 1) (default: 0.9)", decay("beta")
        ),
        Option(
            "--beta1",
            f"first-moment coefficient of {adam_family}, in [0, 1) (default: 0.9)",
            decay("beta1"),
        ),
        Option(
            "--beta2",
            f"second-moment coefficient of {adam_family}, in [0, 1) (default: 0.999)",
            decay("beta2"),
        ),
        Option(
            "--epsilon",
            "epsilon of every chosen optimizer that has one, >= 0 (default: each optimizer's "
            "own, 1e-8 for adam)",
            nonnegative_number("epsilon"),
        ),
        EPS_INSIDE_SQRT,
        hyperparameter(
            "-H momentum=0.9 sets it for every chosen optimizer that has it, -H sgd.nesterov=true "
            "for one; VALUE is a number or true/false (see the README for each optimizer's "
            "keywords)"
        ),
    )
    add_schedule(parser)
    add_data(parser)
    add(
        add_output(parser, "results.json, plots and report.html"),
        Option(
            "--weight-paths",
            "record every run's weights every EVERY epochs and draw their paths projected onto "
            "the two principal directions of all of them (weight_paths.png; 0: off; default: 0)",
            integer_option("weight paths", minimum=0),
            0,
            "EVERY",
        ),
        checkpoint_every("a checkpoint (checkpoint.npz in the run folder)", also=" one"),
    )
