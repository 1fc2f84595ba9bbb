"""The ``descentlab`` command: a thin shell over the library.

Every bad argument ends in one line on stderr naming the value and what is allowed, and
exit code 2; no traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn, TypeVar

import numpy as np

from descentlab import __version__, optim, threads
from descentlab.schedules import SCHEDULES, UNITS

if TYPE_CHECKING:
    from descentlab.datasets import Dataset
    from descentlab.experiment import Checkpointing, ExperimentConfig, PreparedData
    from descentlab.sweep import SweepConfig
from descentlab.validation import (
    check_decay,
    check_int,
    check_nonnegative_float,
    check_positive_float,
)

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141

T = TypeVar("T")


class UsageError(Exception):
    """A bad command line or argument value: one line for the user, exit code 2."""


def one_line(message: str) -> str:
    """``message`` with every unprintable character (newlines, control characters a user may
    have typed into a value) escaped, so an error stays one line."""
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in message
    )


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints the whole usage block before the message; one line says more.
        self.exit(EXIT_USAGE, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")


def _argument(check: Callable[[str], T], what: str) -> Callable[[str], T]:
    """An argparse ``type=`` that turns a library ``ValueError`` into argparse's message."""

    def parse(text: str) -> T:
        try:
            return check(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    parse.__name__ = what
    return parse


def _number(name: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {text!r}") from None


def integer_option(name: str, minimum: int) -> Callable[[str], int]:
    """A parser of an integer option named ``name`` that must be >= ``minimum``."""
    return lambda text: _integer(name, text, minimum)


def _integer(name: str, text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {text!r}") from None
    return check_int(name, value, minimum=minimum)


def parse_learning_rate(text: str) -> float:
    return check_positive_float("learning rate", _number("learning rate", text))


class LearningRates(NamedTuple):
    """``--learning-rate``: a rate for every optimizer and/or per-optimizer rates."""

    default: float | None
    per_optimizer: dict[str, float]

    def resolve(self, names: Sequence[str]) -> float | dict[str, float]:
        """One number when every optimizer shares it, else a rate for each name."""
        unknown = sorted(set(self.per_optimizer) - set(names))
        if unknown:
            raise ValueError(
                f"--learning-rate names {unknown[0]!r}, which is not among the optimizers "
                f"({', '.join(names)})"
            )
        if not self.per_optimizer:
            assert self.default is not None
            return self.default
        rates = {}
        for name in names:
            rate = self.per_optimizer.get(name, self.default)
            if rate is None:
                raise ValueError(
                    f"--learning-rate gives no rate for {name!r}; add {name}=RATE or one "
                    "number for the rest"
                )
            rates[name] = rate
        return rates


def parse_learning_rates(text: str) -> LearningRates:
    """ "0.1", or "gd=0.1,adam=0.01", or "0.1,adam=0.01" (0.1 for the others)."""
    default = None
    per_optimizer: dict[str, float] = {}
    for part in text.split(","):
        name, equals, value = part.strip().rpartition("=")
        if not equals:
            if default is not None:
                raise ValueError(f"learning rate {text!r} gives more than one default rate")
            default = parse_learning_rate(value)
            continue
        name = parse_optimizer(name)
        if name in per_optimizer:
            raise ValueError(f"learning rate {text!r} names {name!r} twice")
        per_optimizer[name] = check_positive_float(
            f"learning rate of {name}", _number(f"learning rate of {name}", value)
        )
    return LearningRates(default, per_optimizer)


def parse_hyperparameter(text: str) -> tuple[str | None, str, float | bool]:
    """ "[OPTIMIZER.]NAME=VALUE", VALUE a number or true/false: ("sgd", "nesterov", True)."""
    target, equals, value = text.partition("=")
    if not equals or not target.strip() or not value.strip():
        raise ValueError(
            f"hyperparameter must look like NAME=VALUE or OPTIMIZER.NAME=VALUE, got {text!r}"
        )
    optimizer_name, dot, name = target.strip().rpartition(".")
    lowered = value.strip().lower()
    parsed: float | bool
    parsed = lowered == "true" if lowered in ("true", "false") else _number(name, value.strip())
    return (parse_optimizer(optimizer_name) if dot else None), name, parsed


def resolve_hyperparameters(
    settings: Sequence[tuple[str | None, str, float | bool]], names: Sequence[str]
) -> dict[str, dict[str, float | bool]]:
    """Per-optimizer keywords from ``-H`` settings: a scoped one goes to its optimizer, an
    unscoped one to every chosen optimizer that has a keyword of that name."""
    result: dict[str, dict[str, float | bool]] = {}
    for optimizer_name, name, value in settings:
        if name == "learning_rate":
            raise ValueError("set learning rates with --learning-rate, not --hyperparameter")
        targets = [optimizer_name] if optimizer_name is not None else list(names)
        if optimizer_name is not None and optimizer_name not in names:
            raise ValueError(
                f"--hyperparameter {optimizer_name}.{name}: {optimizer_name!r} is not among "
                f"the optimizers ({', '.join(names)})"
            )
        accepting = [t for t in targets if name in optim.hyperparameter_names(t)]
        if not accepting:
            allowed = sorted(
                {k for t in targets for k in optim.hyperparameter_names(t)} - {"learning_rate"}
            )
            raise ValueError(
                f"no chosen optimizer has a hyperparameter {name!r}; allowed: {', '.join(allowed)}"
            )
        for target in accepting:
            result.setdefault(target, {})[name] = value
    return result


def parse_decay(name: str) -> Callable[[str], float]:
    return lambda text: check_decay(name, _number(name, text))


def parse_epsilon(text: str) -> float:
    return check_nonnegative_float("epsilon", _number("epsilon", text))


def parse_epsilon_named(name: str) -> Callable[[str], float]:
    return lambda text: check_nonnegative_float(name, _number(name, text))


def parse_decay_rate(text: str) -> float:
    return check_nonnegative_float("decay rate", _number("decay rate", text))


parse_decay_every = integer_option("decay every", minimum=1)


parse_warmup = integer_option("warmup", minimum=0)


parse_epochs = integer_option("epochs", minimum=1)


parse_seed = integer_option("seed", minimum=0)


def parse_batch_size(text: str) -> int | None:
    """A positive integer, or "full" for one batch of all examples (batch gradient descent)."""
    if text.strip().lower() == "full":
        return None
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"batch size must be a positive integer or 'full', got {text!r}") from None
    if value < 1:
        raise ValueError(f"batch size must be a positive integer or 'full', got {text!r}")
    return value


def parse_layers(text: str) -> tuple[int, ...]:
    """Hidden layer sizes, comma-separated positive integers: "5,2"."""
    parts = [part.strip() for part in text.split(",")]
    if not all(part.isdigit() and int(part) > 0 for part in parts):
        raise ValueError(
            f"layers must be comma-separated positive integers (hidden sizes, e.g. 5,2), "
            f"got {text!r}"
        )
    return tuple(int(part) for part in parts)


def parse_optimizer(text: str) -> str:
    name = text.strip()
    if name not in optim.names():
        raise ValueError(f"unknown optimizer {name!r}; choose from: {', '.join(optim.names())}")
    return name


def parse_optimizers(text: str) -> tuple[str, ...]:
    """Comma-separated optimizer names, each listed once."""
    names = tuple(parse_optimizer(part) for part in text.split(","))
    for name in names:
        if names.count(name) > 1:
            raise ValueError(f"optimizer {name!r} is listed twice in {text!r}")
    return names


def parse_grid_values(name: str, *, positive: bool = False) -> Callable[[str], str]:
    """A sweep option's type: its text, once ``descentlab.sweep.grid.parse_values`` accepts it
    (a number, a list 0.001,0.01 or a range LO..HI:log:N / LO..HI:lin:N)."""

    def check(text: str) -> str:
        from descentlab.sweep.grid import parse_values

        parse_values(text, name, positive=positive)
        return text.strip()

    return check


def parse_learning_rate_grid(text: str) -> str:
    """``sweep --learning-rate``: values for all, or per optimizer (adam=1e-4..1e-1:log:13)."""
    from descentlab.sweep.grid import parse_learning_rates

    parse_learning_rates(text)
    return text.strip()


def parse_hyperparameter_grid(text: str) -> tuple[str, str]:
    """ "[OPTIMIZER.]NAME=VALUES" -> ("adam.beta1", "0.8,0.9"), VALUES checked."""
    target, equals, values = text.partition("=")
    owner, dot, name = target.strip().rpartition(".")
    if not equals or not name or not values.strip() or (dot and not owner):
        raise ValueError(
            f"hyperparameter must look like NAME=VALUES or OPTIMIZER.NAME=VALUES, got {text!r}"
        )
    if dot:
        parse_optimizer(owner)
    return target.strip(), parse_grid_values(name)(values)


def parse_seed_count(text: str) -> tuple[int, ...]:
    """``--seeds N``: seeds 0..N-1 (seed 0 is the course's protocol)."""
    return tuple(range(_integer("seeds", text, minimum=1)))


def parse_seed_list(text: str) -> tuple[int, ...]:
    """``--seed-list 0,5,9``: distinct seeds >= 0."""
    seeds = tuple(_integer("seed", part.strip(), minimum=0) for part in text.split(","))
    for seed in seeds:
        if seeds.count(seed) > 1:
            raise ValueError(f"seed {seed} is listed twice in {text!r}")
    return seeds


def parse_jobs(text: str) -> int | str:
    """A number of processes >= 1, or "auto"."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"jobs must be an integer >= 1 or 'auto', got {text!r}") from None
    if value < 1:
        raise ValueError(f"jobs must be an integer >= 1 or 'auto', got {text!r}")
    return value


def parse_positive_count(name: str) -> Callable[[str], int]:
    return lambda text: _integer(name, text, minimum=1)


def parse_dataset(text: str) -> str:
    """A name from ``descentlab.datasets.DATASETS``."""
    from descentlab.datasets import DATASETS

    name = text.strip()
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose from: {', '.join(DATASETS)}")
    return name


def _add_schedule_options(parser: argparse.ArgumentParser) -> None:
    decay = parser.add_argument_group("learning-rate schedule")
    decay.add_argument(
        "--schedule",
        choices=SCHEDULES,
        default="constant",
        help="how the rate changes from its initial value: inverse-time is "
        "lr0 / (1 + rate * floor(t / every)) (the course's update_lr with --decay-every 1, "
        "schedule_lr_decay with --decay-every 1000); exponential and step multiply by "
        "--decay-rate every --decay-every; cosine decays to --min-learning-rate over the run "
        "(default: constant)",
    )
    decay.add_argument(
        "--decay-rate",
        type=_argument(parse_decay_rate, "decay rate"),
        default=1.0,
        help="the schedule's rate (default: %(default)s)",
    )
    decay.add_argument(
        "--decay-every",
        type=_argument(parse_decay_every, "decay every"),
        default=1,
        metavar="N",
        help="units between decays (default: %(default)s)",
    )
    decay.add_argument(
        "--schedule-unit",
        choices=UNITS,
        default="epoch",
        help="what t counts: epochs (the new rate applies after each epoch, as the course "
        "does) or optimizer steps (default: %(default)s)",
    )
    decay.add_argument(
        "--warmup",
        type=_argument(parse_warmup, "warmup"),
        default=0,
        metavar="N",
        help="cosine only: units of linear warmup (default: %(default)s)",
    )
    decay.add_argument(
        "--min-learning-rate",
        type=_argument(parse_epsilon_named("minimum learning rate"), "minimum learning rate"),
        default=0.0,
        metavar="LR",
        help="cosine only: the rate at the end (default: %(default)s)",
    )


def parse_fraction(name: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = _number(name, text)
        if not 0.0 <= value < 1.0:
            raise ValueError(f"{name} must be a number in [0, 1), got {text!r}")
        return value

    return parse


parse_checkpoint_every = integer_option("checkpoint every", minimum=0)


parse_patience = integer_option("patience", minimum=1)


parse_n_samples = integer_option("n-samples", minimum=2)


def parse_noise(text: str) -> float:
    return check_nonnegative_float("noise", _number("noise", text))


def _add_data_options(parser: argparse.ArgumentParser) -> None:
    from descentlab.datasets import DATASETS

    data = parser.add_argument_group("data (default: the course's moons)")
    data.add_argument(
        "--dataset",
        type=_argument(parse_dataset, "dataset"),
        metavar="NAME",
        help=f"a named dataset: {', '.join(DATASETS)} (default: moons)",
    )
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
        type=_argument(parse_n_samples, "n-samples"),
        metavar="N",
        help="examples a synthetic dataset draws (default: the dataset's own, 300)",
    )
    data.add_argument(
        "--noise",
        type=_argument(parse_noise, "noise"),
        help="noise of a synthetic dataset (default: the dataset's own; moons 0.2)",
    )
    data.add_argument(
        "--data-seed",
        type=_argument(parse_seed, "data seed"),
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
        type=_argument(parse_fraction("validation fraction"), "validation fraction"),
        default=0.0,
        metavar="F",
        help="hold out this fraction, stratified, to measure validation cost and accuracy "
        "every epoch (default: 0)",
    )
    data.add_argument(
        "--test-fraction",
        type=_argument(parse_fraction("test fraction"), "test fraction"),
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
        type=_argument(parse_patience, "patience"),
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
    """The dataset the options name: ``--data FILE`` or ``--dataset NAME`` with its settings."""
    from descentlab import datasets, loaders

    settings = {
        "n_samples": getattr(args, "n_samples", None),
        "noise": getattr(args, "noise", None),
        "seed": getattr(args, "data_seed", None),
    }
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


def _add_shape_options(group: argparse._ArgumentGroup) -> None:
    """--epochs, --batch-size, --layers and --blas-threads, which every command that trains
    networks takes."""
    group.add_argument(
        "--epochs",
        type=_argument(parse_epochs, "epochs"),
        default=10000,
        help="passes over the data (default: %(default)s)",
    )
    group.add_argument(
        "--batch-size",
        type=_argument(parse_batch_size, "batch size"),
        default=64,
        metavar="N|full",
        help="examples per mini-batch; 1 is stochastic gradient descent, 'full' is batch "
        "gradient descent (default: %(default)s)",
    )
    group.add_argument(
        "--layers",
        type=_argument(parse_layers, "layers"),
        default=(5, 2),
        metavar="H1,H2,...",
        help="hidden layer sizes; the network is [n_x, H1, H2, ..., n_out] (default: 5,2)",
    )
    group.add_argument(
        "--blas-threads",
        type=_argument(threads.parse_setting, "blas threads"),
        metavar="auto|N",
        help="BLAS threads while training: auto uses one for matrices too small to gain from "
        "more (see the README), N uses N; wins over the environment variable "
        f"{threads.ENVIRONMENT_VARIABLE} (default: auto)",
    )


def _add_training_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("training (defaults: the published experiment)")
    _add_shape_options(group)
    group.add_argument(
        "--learning-rate",
        type=_argument(parse_learning_rates, "learning rate"),
        default=LearningRates(0.0007, {}),
        metavar="LR",
        help="step size, > 0: one number for every optimizer, or per optimizer as "
        "gd=0.1,momentum=0.1,adam=0.01 (a bare number sets the rest) (default: 0.0007)",
    )
    group.add_argument(
        "--seed",
        type=_argument(parse_seed, "seed"),
        default=0,
        help="0 is the course's protocol (init RandomState(3), epoch e shuffled with "
        "RandomState(11 + e)); any other value derives both streams from it (default: 0)",
    )
    hyper = parser.add_argument_group("optimizer hyperparameters")
    hyper.add_argument(
        "--beta",
        type=_argument(parse_decay("beta"), "beta"),
        help="momentum's averaging coefficient, in [0, 1) (default: 0.9)",
    )
    hyper.add_argument(
        "--beta1",
        type=_argument(parse_decay("beta1"), "beta1"),
        help="first-moment coefficient of adam, adamw, nadam, adamax, in [0, 1) (default: 0.9)",
    )
    hyper.add_argument(
        "--beta2",
        type=_argument(parse_decay("beta2"), "beta2"),
        help="second-moment coefficient of adam, adamw, nadam, adamax, in [0, 1) (default: 0.999)",
    )
    hyper.add_argument(
        "--epsilon",
        type=_argument(parse_epsilon, "epsilon"),
        help="epsilon of every chosen optimizer that has one, >= 0 (default: each "
        "optimizer's own, 1e-8 for adam)",
    )
    hyper.add_argument(
        "--eps-inside-sqrt",
        action="store_true",
        help="Adam divides by sqrt(s_hat + epsilon) instead of sqrt(s_hat) + epsilon",
    )
    hyper.add_argument(
        "-H",
        "--hyperparameter",
        type=_argument(parse_hyperparameter, "hyperparameter"),
        action="append",
        default=[],
        metavar="[OPT.]NAME=VALUE",
        help="any other optimizer keyword, repeatable: -H momentum=0.9 sets it for every "
        "chosen optimizer that has it, -H sgd.nesterov=true for one; VALUE is a number or "
        "true/false (see the README for each optimizer's keywords)",
    )
    _add_schedule_options(parser)
    _add_data_options(parser)
    output = parser.add_argument_group("output")
    output.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="folder for results.json, plots and report.html (default: runs/<command>-<time>/)",
    )
    output.add_argument(
        "--weight-paths",
        type=_argument(parse_checkpoint_every, "weight paths"),
        default=0,
        metavar="EVERY",
        help="record every run's weights every EVERY epochs and draw their paths projected onto "
        "the two principal directions of all of them (weight_paths.png; 0: off; default: 0)",
    )
    output.add_argument(
        "--checkpoint-every",
        type=_argument(parse_checkpoint_every, "checkpoint every"),
        default=1000,
        metavar="N",
        help="save a checkpoint (checkpoint.npz in the run folder) every N epochs, 0 for never; "
        "Ctrl-C always saves one; resume with 'descentlab resume DIR' (default: %(default)s)",
    )
    output.add_argument(
        "--quiet", action="store_true", help="print nothing on success and show no progress bar"
    )
    output.add_argument(
        "--json",
        action="store_true",
        help="print the results document (results.json) on stdout instead of the table",
    )


GRID_VALUES_HELP = "VALUES: 0.01, a list 0.001,0.01,0.1, or a range LO..HI:log:N or LO..HI:lin:N"


def _add_sweep_command(commands: argparse._SubParsersAction[_Parser]) -> None:
    from descentlab.datasets import DATASETS
    from descentlab.sweep.config import SEARCHES

    sweep = commands.add_parser(
        "sweep",
        help="train a grid (or a random sample) of optimizers x hyperparameters x seeds",
        description="Train every configuration with every seed, many runs at once, and print "
        "the mean and standard deviation over seeds of each configuration's final cost and "
        "accuracy, and the best configuration per optimizer. Writes results.json and "
        f"sensitivity.png. {GRID_VALUES_HELP} (N values, both ends included).",
    )
    sweep.add_argument(
        "--optimizers",
        type=_argument(parse_optimizers, "optimizers"),
        default=("gd", "momentum", "adam"),
        metavar="NAME,NAME,...",
        help=f"optimizers to sweep, from: {', '.join(optim.names())} (default: gd,momentum,adam)",
    )
    grid = sweep.add_argument_group("what to sweep (" + GRID_VALUES_HELP + ")")
    grid.add_argument(
        "--learning-rate",
        type=_argument(parse_learning_rate_grid, "learning rate"),
        default="1e-4..1e-1:log:13",
        metavar="VALUES",
        help="learning rates, > 0, for every optimizer, or per optimizer as "
        "adam=1e-4..1e-1:log:13,gd=0.1 (values before the first NAME= go to the optimizers not "
        "named) (default: %(default)s)",
    )
    for name, what in (
        ("beta", "momentum's averaging coefficient"),
        ("beta1", "first-moment coefficient of the Adam family"),
        ("beta2", "second-moment coefficient of the Adam family"),
        ("epsilon", "epsilon of every chosen optimizer that has one"),
    ):
        grid.add_argument(
            f"--{name}",
            type=_argument(parse_grid_values(name), name),
            metavar="VALUES",
            help=f"{what}; the same as -H {name}=VALUES",
        )
    grid.add_argument(
        "--eps-inside-sqrt",
        action="store_true",
        help="Adam divides by sqrt(s_hat + epsilon) instead of sqrt(s_hat) + epsilon",
    )
    grid.add_argument(
        "-H",
        "--hyperparameter",
        type=_argument(parse_hyperparameter_grid, "hyperparameter"),
        action="append",
        default=[],
        metavar="[OPT.]NAME=VALUES",
        help="any optimizer keyword, repeatable: -H beta1=0.8,0.9 sets it for every chosen "
        "optimizer that has it, -H adam.beta1=0.8..0.99:lin:4 for one (which wins); a switch "
        "takes true/false",
    )
    seeds = grid.add_mutually_exclusive_group()
    seeds.add_argument(
        "--seeds",
        type=_argument(parse_seed_count, "seeds"),
        default=(0, 1, 2),
        metavar="N",
        help="train every configuration with seeds 0..N-1; seed 0 is the course's protocol "
        "(default: 3)",
    )
    seeds.add_argument(
        "--seed-list",
        type=_argument(parse_seed_list, "seed list"),
        metavar="S,S,...",
        help="train every configuration with these seeds instead",
    )
    grid.add_argument(
        "--search",
        choices=SEARCHES,
        default="grid",
        help="grid: every combination of the values; random: --samples configurations per "
        "optimizer, each value drawn log-uniformly (log range), uniformly (lin range) or from "
        "the list (default: grid)",
    )
    grid.add_argument(
        "--samples",
        type=_argument(parse_positive_count("samples"), "samples"),
        metavar="N",
        help="random search: configurations per optimizer (default: 20)",
    )
    grid.add_argument(
        "--search-seed",
        type=_argument(parse_seed, "search seed"),
        metavar="S",
        help="random search: the seed of the draws (default: 0)",
    )
    training = sweep.add_argument_group("training (defaults: the published experiment)")
    training.add_argument(
        "--dataset",
        type=_argument(parse_dataset, "dataset"),
        default=next(iter(DATASETS)),
        metavar="NAME",
        help=f"one of: {', '.join(DATASETS)} (default: %(default)s)",
    )
    _add_shape_options(training)
    _add_schedule_options(sweep)
    execution = sweep.add_argument_group("execution (never changes the results)")
    execution.add_argument(
        "--max-stack",
        type=_argument(parse_positive_count("max stack"), "max stack"),
        metavar="N",
        help="at most N runs per stack; larger sweeps are cut into chunks (default: as many "
        "as fit in 512 MiB by the memory estimate)",
    )
    execution.add_argument(
        "--jobs",
        type=_argument(parse_jobs, "jobs"),
        default=1,
        metavar="N|auto",
        help="train chunks in N processes; auto: one per core that other processes leave idle, "
        "when the sweep is big enough to gain from it (default: 1)",
    )
    execution.add_argument(
        "--checkpoint-every",
        type=_argument(parse_checkpoint_every, "checkpoint every"),
        default=1000,
        metavar="N",
        help="save each chunk's state (checkpoints/chunk-<i>.npz in the sweep folder) every N "
        "epochs, 0 for never; Ctrl-C always saves, and so does a chunk that finishes; resume "
        "with 'descentlab resume DIR' (default: %(default)s)",
    )
    output = sweep.add_argument_group("output")
    output.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="folder for results.json and sensitivity.png (default: runs/sweep-<time>/)",
    )
    output.add_argument(
        "--quiet", action="store_true", help="print nothing on success and show no progress bar"
    )
    output.add_argument(
        "--json",
        action="store_true",
        help="print the results document (results.json) on stdout instead of the table",
    )
    sweep.set_defaults(subparser=sweep)


def _add_landscape_command(commands: argparse._SubParsersAction[_Parser]) -> None:
    import re

    from descentlab import landscapes

    landscape = commands.add_parser(
        "landscape",
        help="watch optimizers move on a 2-D function",
        description="Run every optimizer from the same start on a 2-D function, through the "
        "same optimizer code the networks train with, and write trajectories.png, "
        "trajectories.gif, loss.png and results.json. Learning rates, start and steps default "
        "to the function's own (see the README's Landscapes table).",
    )
    # "--start -1.5,2": argparse would take the value for an option; values that begin with
    # "-" and a digit are values here (this parser has no options that look like numbers).
    landscape._negative_number_matcher = re.compile(r"^-\.?\d")
    landscape.add_argument(
        "--function",
        type=_argument(parse_landscape, "function"),
        default="rosenbrock",
        metavar="NAME",
        help=f"one of: {', '.join(landscapes.names())} (default: %(default)s)",
    )
    landscape.add_argument(
        "--optimizers",
        type=_argument(parse_optimizers, "optimizers"),
        default=("gd", "momentum", "adam", "rmsprop"),
        metavar="NAME,NAME,...",
        help=f"from: {', '.join(optim.names())} (default: gd,momentum,adam,rmsprop)",
    )
    landscape.add_argument(
        "--steps",
        type=_argument(parse_positive_count("steps"), "steps"),
        metavar="N",
        help="updates per optimizer, >= 1 (default: the function's own)",
    )
    landscape.add_argument(
        "--start",
        type=_argument(landscapes.parse_start, "start"),
        metavar="X,Y",
        help="the starting point (default: the function's own)",
    )
    landscape.add_argument(
        "--learning-rate",
        type=_argument(parse_learning_rates, "learning rate"),
        metavar="LR",
        help="one number for all, or per optimizer gd=0.001,adam=0.05; optimizers not named "
        "keep the function's default rate",
    )
    landscape.add_argument(
        "-H",
        "--hyperparameter",
        type=_argument(parse_hyperparameter, "hyperparameter"),
        action="append",
        default=[],
        metavar="[OPT.]NAME=VALUE",
        help="any other optimizer keyword, repeatable: -H beta=0.5, -H sgd.nesterov=true",
    )
    landscape.add_argument(
        "--noise",
        type=_argument(parse_noise, "noise"),
        default=0.0,
        metavar="SCALE",
        help="add N(0, SCALE^2) noise to each gradient coordinate, like a mini-batch gradient "
        "(default: 0, exact gradients)",
    )
    landscape.add_argument(
        "--noise-seed",
        type=_argument(parse_seed, "noise seed"),
        default=0,
        metavar="S",
        help="seed of the gradient noise; every optimizer sees the same noise (default: 0)",
    )
    landscape.add_argument(
        "--tolerance",
        type=_argument(parse_learning_rate_like("tolerance"), "tolerance"),
        default=landscapes.TOLERANCE,
        metavar="TOL",
        help="steps to tolerance counts updates until the distance to the minimum is at most "
        "TOL (default: %(default)s)",
    )
    landscape.add_argument(
        "--frames",
        type=_argument(parse_positive_count("frames"), "frames"),
        default=60,
        metavar="N",
        help="frames of trajectories.gif, >= 1 (default: %(default)s)",
    )
    landscape.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="output folder (default: runs/landscape-<YYYYmmdd-HHMMSS>/)",
    )
    landscape.add_argument("--quiet", action="store_true", help="print nothing on success")
    landscape.add_argument(
        "--json", action="store_true", help="print results.json instead of the table"
    )
    landscape.set_defaults(subparser=landscape)


def parse_landscape(text: str) -> str:
    """A name from ``descentlab.landscapes.names()``."""
    from descentlab import landscapes

    return landscapes.get(text.strip()).name


def parse_learning_rate_like(name: str) -> Callable[[str], float]:
    return lambda text: check_positive_float(name, _number(name, text))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="descentlab",
        description="Train a small neural network with classic optimizers and compare how "
        "each one learns. With no options, 'compare' reproduces the course's published "
        "experiment: moons (300 points, noise 0.2), network [2, 5, 2, 1], learning rate "
        "0.0007, mini-batches of 64, 10000 epochs, gd vs momentum vs adam.",
        epilog="Run 'descentlab COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"descentlab {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    compare = commands.add_parser(
        "compare",
        help="train several optimizers side by side and write a report",
        description="Train every optimizer from the same initial weights on the same batches "
        "and write results.json, cost_curves.png, decision_boundaries.png and report.html.",
    )
    compare.add_argument(
        "--optimizers",
        type=_argument(parse_optimizers, "optimizers"),
        default=("gd", "momentum", "adam"),
        metavar="NAME,NAME,...",
        help=f"optimizers to compare, from: {', '.join(optim.names())} (default: gd,momentum,adam)",
    )
    _add_training_options(compare)
    compare.set_defaults(subparser=compare)
    train = commands.add_parser(
        "train",
        help="train one optimizer and write the same report",
        description="Train one optimizer; writes the same files as compare, with one run.",
    )
    train.add_argument(
        "--optimizer",
        type=_argument(parse_optimizer, "optimizer"),
        default="adam",
        help=f"one of: {', '.join(optim.names())} (default: %(default)s)",
    )
    _add_training_options(train)
    train.add_argument(
        "--save",
        type=Path,
        metavar="MODEL.npz",
        help="write the trained network (with its classes, feature names and scaling) as a "
        "model file for 'descentlab predict'",
    )
    train.set_defaults(subparser=train)
    predict = commands.add_parser(
        "predict",
        help="predict with a saved model",
        description="Load a model file written by 'descentlab train --save' and predict every "
        "row of --data; writes the predictions as CSV and, when the file has labels, prints "
        "the accuracy.",
    )
    predict.add_argument("--model", type=Path, required=True, metavar="MODEL.npz")
    predict.add_argument(
        "--data",
        type=Path,
        required=True,
        metavar="FILE",
        help="a .csv with a header row (the model's feature columns, and optionally the label "
        "column), an .npz with X (and y), or an .npy of features",
    )
    predict.add_argument(
        "--target",
        metavar="COLUMN",
        help="the label column of a CSV (default: the column that is not a feature, if any)",
    )
    predict.add_argument(
        "--out",
        type=Path,
        default=Path("predictions.csv"),
        metavar="FILE.csv",
        help="where to write the predictions (refused if it exists; default: %(default)s)",
    )
    predict.set_defaults(subparser=predict)
    schedule = commands.add_parser(
        "schedule",
        help="print (and plot) a learning-rate schedule",
        description="Print a learning-rate schedule's value over a run, and with --out draw it "
        "as a PNG; the same schedules compare and train take.",
    )
    schedule.add_argument(
        "--learning-rate",
        type=_argument(parse_learning_rate, "learning rate"),
        default=0.1,
        metavar="LR",
        help="the initial rate lr0, > 0 (default: %(default)s)",
    )
    schedule.add_argument(
        "--length",
        type=_argument(parse_epochs, "length"),
        default=5000,
        metavar="N",
        help="how many units to show (default: %(default)s)",
    )
    _add_schedule_options(schedule)
    schedule.add_argument("--out", type=Path, metavar="FILE.png", help="write the plot here")
    schedule.set_defaults(subparser=schedule)
    resume = commands.add_parser(
        "resume",
        help="continue an interrupted train, compare or sweep from its last checkpoint",
        description="Continue the train, compare or sweep run in RUN_DIR from its checkpoints, "
        "with the options it was started with; the result is the same as if it had never "
        "stopped.",
    )
    resume.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    resume.add_argument("--quiet", action="store_true", help="print nothing on success")
    resume.set_defaults(subparser=resume)
    _add_sweep_command(commands)
    _add_landscape_command(commands)
    return parser


def _format_table(results: dict[str, object]) -> str:
    runs = results["runs"]
    assert isinstance(runs, list)
    held_out = [name for name in ("validation", "test") if f"{name}_accuracy" in runs[0]]
    header = (
        "optimizer",
        "train accuracy",
        *(f"{name} accuracy" for name in held_out),
        "final cost",
        "oscillation",
        "cost shape",
        "seconds",
    )
    rows = [header]
    for run in runs:
        accuracy = (
            f"{100 * run['train_accuracy']:.1f}% ({run['train_correct']}/{run['n_examples']})"
        )
        extra = [f"{100 * run[f'{name}_accuracy']:.1f}%" for name in held_out]
        final = "n/a" if run["final_cost"] is None else f"{run['final_cost']:.6f}"
        index = "inf" if run["oscillation"] is None else f"{run['oscillation']:.3f}"
        shape = run["cost_shape"]
        if run["status"] == "diverged":
            shape = f"diverged at epoch {run['diverged_epoch']}"
        stopping = run.get("early_stopping")
        if stopping and stopping["stopped_epoch"] is not None:
            shape += f", stopped at {stopping['stopped_epoch']} (best {stopping['best_epoch']})"
        rows.append(
            (run["optimizer"], accuracy, *extra, final, index, shape, f"{run['seconds']:.1f}")
        )
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
    right = {2 + len(held_out), 3 + len(held_out), 5 + len(held_out)}
    lines = []
    for row in rows:
        cells = [
            str(cell).rjust(width) if i in right else str(cell).ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _show_schedule(args: argparse.Namespace) -> int:
    from descentlab.schedules import ScheduleSpec

    spec = ScheduleSpec(
        name=args.schedule,
        decay_rate=args.decay_rate,
        every=args.decay_every,
        unit=args.schedule_unit,
        warmup=args.warmup,
        min_learning_rate=args.min_learning_rate,
    )
    if args.out is not None and Path(args.out).suffix.lower() != ".png":
        raise ValueError(f"--out must name a .png file, got {str(args.out)!r}")
    schedule = spec.build(args.learning_rate, total=args.length)
    rates = [schedule(t) for t in range(args.length)]
    shown = sorted({0, args.length - 1, *range(0, args.length, max(args.length // 10, 1))})
    print(f"{spec.name} schedule, lr0 {args.learning_rate:g}, per {spec.unit}")
    print(f"{spec.unit:>8}  learning rate")
    for t in shown:
        print(f"{t:>8}  {rates[t]:.6g}")
    if args.out is not None:
        import numpy as np

        from descentlab.report.plots import plot_schedule

        out = Path(args.out)
        if not out.parent.is_dir():
            raise ValueError(f"--out {str(out)!r}: folder {str(out.parent)!r} does not exist")
        plot_schedule(out, {spec.name: np.array(rates)}, spec.unit)
        print(f"wrote {out}")
    return 0


def _describe_rates(config: ExperimentConfig) -> str:
    if isinstance(config.learning_rate, Mapping):
        rates = "learning rates " + ", ".join(f"{k}={v:g}" for k, v in config.learning_rate.items())
    else:
        rates = f"learning rate {config.learning_rate:g}"
    spec = config.schedule
    if spec.is_constant:
        return rates
    details = ", ".join(
        f"{k.replace('_', ' ')} {v:g}" if isinstance(v, float) else f"{k} {v}"
        for k, v in spec.to_dict().items()
        if k not in ("name", "unit")
    )
    return f"{rates}, {spec.name} schedule per {spec.unit} ({details})"


def _run_training(
    args: argparse.Namespace, argv: Sequence[str], resume_dir: Path | None = None
) -> int:
    from descentlab.experiment import (
        Checkpointing,
        ExperimentConfig,
        prepare_data,
    )
    from descentlab.run_folder import (
        FolderLock,
        default_out_dir,
        prepare_out_dir,
        write_status,
    )
    from descentlab.schedules import ScheduleSpec

    names = args.optimizers if args.command == "compare" else (args.optimizer,)
    schedule = ScheduleSpec(
        name=args.schedule,
        decay_rate=args.decay_rate,
        every=args.decay_every,
        unit=args.schedule_unit,
        warmup=args.warmup,
        min_learning_rate=args.min_learning_rate,
    )
    config = ExperimentConfig(
        optimizers=names,
        learning_rate=args.learning_rate.resolve(names),
        hyperparameters=resolve_hyperparameters(args.hyperparameter, names),
        schedule=schedule,
        batch_size=args.batch_size,
        epochs=args.epochs,
        hidden_layers=args.layers,
        beta=args.beta,
        beta1=args.beta1,
        beta2=args.beta2,
        epsilon=args.epsilon,
        eps_inside_sqrt=args.eps_inside_sqrt,
        seed=args.seed,
        validation_fraction=args.validation_fraction,
        test_fraction=args.test_fraction,
        standardize=args.standardize,
        early_stopping=args.early_stopping,
        patience=args.patience,
        dtype=args.dtype,
    )
    dataset = load_data(args)
    data = prepare_data(config, dataset)
    _check_save_path(getattr(args, "save", None))
    resuming = resume_dir is not None
    if resume_dir is not None:
        out_dir = prepare_out_dir(resume_dir, resuming=True)
    else:
        out_dir = prepare_out_dir(
            args.out if args.out is not None else default_out_dir(args.command)
        )
    with FolderLock(out_dir):
        description = {"command": args.command, "argv": list(argv), "cwd": os.getcwd()}
        checkpoint_path = out_dir / "checkpoint.npz"
        if not resuming:
            write_status(
                out_dir,
                {"status": "running", "command": args.command, "config": config.to_dict(),
                 "run": description, "resume": f"descentlab resume {out_dir}"},
            )  # fmt: skip
        stop = _GracefulStop()
        checkpointing = Checkpointing(
            path=checkpoint_path,
            every=args.checkpoint_every,
            interrupted=stop.requested,
            description=description,
            # Killed before its first checkpoint, a run starts again from epoch 0.
            resume=resuming and checkpoint_path.exists(),
        )
        return _train_and_report(args, config, dataset, data, out_dir, names, checkpointing, stop)


def _check_save_path(path: Path | None) -> None:
    if path is None:
        return
    if path.suffix != ".npz":
        raise ValueError(f"--save must name a .npz file, got {str(path)!r}")
    if not path.resolve().parent.is_dir():
        raise ValueError(f"--save {str(path)!r}: folder {str(path.parent)!r} does not exist")


def _save_model(
    path: Path, config: ExperimentConfig, dataset: Dataset, data: PreparedData, outcome: Any
) -> None:
    from descentlab import __version__
    from descentlab.model_file import Model, save

    network = config.network(dataset.n_features, dataset.n_classes)
    optimizer = {
        "name": outcome.optimizer.name,
        "hyperparameters": {
            key: value
            for key, value in outcome.optimizer.hyperparameters.items()
            if isinstance(value, bool | int | float | str)
        },
    }
    metadata = {
        "dataset": dataset.name,
        "epochs": int(outcome.result.history.epochs),
        "train_accuracy": float(outcome.train_accuracy),
        "descentlab_version": __version__,
    }
    model = Model(
        network,
        outcome.result.params,
        tuple(dataset.classes),
        tuple(dataset.feature_names),
        data.scaling,
        optimizer,
        metadata,
    )
    save(path, model)


def _predict(args: argparse.Namespace) -> int:
    """``descentlab predict``: predictions of a saved model for every row of a file."""
    from descentlab.atomic import write_text_atomic
    from descentlab.model_file import load
    from descentlab.prediction import read_rows

    if args.out.exists():
        raise ValueError(f"--out {str(args.out)!r} exists; choose another file or remove it")
    if not args.out.resolve().parent.is_dir():
        raise ValueError(f"--out {str(args.out)!r}: its folder does not exist")
    model = load(args.model)
    rows, labels = read_rows(args.data, model.feature_names, args.target)
    probabilities = model.predict_proba(rows)
    predictions = model.predict(rows)
    classes = [str(c) for c in model.classes]
    header = ["row", "prediction"] + (
        [f"probability_{classes[1]}"] if probabilities.shape[1] == 1 else
        [f"probability_{c}" for c in classes]
    )  # fmt: skip
    lines = [",".join(header)]
    for index, (prediction, row) in enumerate(zip(predictions, probabilities, strict=True)):
        lines.append(",".join([str(index + 1), str(prediction), *(f"{p:.6g}" for p in row)]))
    write_text_atomic(args.out, "\n".join(lines) + "\n")
    message = f"predicted {len(predictions)} rows with {args.model}; wrote {args.out}"
    if labels is not None:
        correct = int(np.sum(np.asarray(predictions).astype(str) == np.asarray(labels).astype(str)))
        message += f"; accuracy {100 * correct / len(labels):.1f}% ({correct}/{len(labels)})"
    print(message)
    return 0


def _resume(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """Re-run the command recorded in RUN_DIR's checkpoint (a sweep's: in its results.json),
    continuing from its checkpoints."""
    from descentlab.checkpoint import read_description
    from descentlab.run_folder import read_status

    run_dir = Path(args.run_dir).resolve()
    status = read_status(run_dir)
    if status is None:
        raise ValueError(f"{run_dir}: not a descentlab run folder (no readable results.json)")
    if status == "finished":
        raise ValueError(f"{run_dir}: this run already finished; nothing to resume")
    checkpoint = run_dir / "checkpoint.npz"
    if checkpoint.exists():
        description = read_description(checkpoint)
    else:  # killed before its first checkpoint: results.json says how it was started
        description = json.loads((run_dir / "results.json").read_text()).get("run") or {}
        if not description.get("argv"):
            raise ValueError(f"{run_dir}: no checkpoint and no record of how the run started")
    argv = [str(word) for word in description["argv"]]
    original, _ = parser.parse_known_args(argv)
    if original.command not in ("train", "compare", "sweep"):
        raise ValueError(f"{run_dir}: 'descentlab resume' continues train, compare and sweep runs")
    if args.quiet:
        original.quiet = True
    cwd = os.getcwd()
    os.chdir(description.get("cwd", cwd))  # relative paths mean what they meant at the start
    try:
        with threads.blas_threads(original.blas_threads):  # as the run was started
            if original.command == "sweep":
                return _run_sweep(original, argv, resume_dir=run_dir)
            return _run_training(original, argv, resume_dir=run_dir)
    finally:
        os.chdir(cwd)


class _GracefulStop:
    """The first Ctrl-C asks training to stop at the end of the current epoch (after a
    checkpoint); a second one stops at once."""

    def __init__(self) -> None:
        self.flag = False

    def requested(self) -> bool:
        return self.flag

    def install(self) -> Any:
        def handle(signum: int, frame: object) -> None:
            if self.flag:
                raise KeyboardInterrupt
            self.flag = True

        return signal.signal(signal.SIGINT, handle)


def _train_and_report(
    args: argparse.Namespace,
    config: ExperimentConfig,
    dataset: Dataset,
    data: PreparedData,
    out_dir: Path,
    names: tuple[str, ...],
    checkpointing: Checkpointing,
    stop: _GracefulStop,
) -> int:
    from descentlab.experiment import run_experiment
    from descentlab.run_folder import write_run_folder, write_status
    from descentlab.train import TrainingInterrupted

    show_progress = sys.stdout.isatty() and not args.quiet and not args.json
    bar = None
    progress = None
    if show_progress:
        from tqdm import tqdm

        bar = tqdm(
            total=config.epochs, unit="epoch", leave=False, desc=",".join(names), miniters=50
        )

        def progress(epoch: int, costs: object) -> None:
            assert bar is not None
            bar.update(1)

    previous = stop.install()
    try:
        outcomes = run_experiment(
            config,
            dataset,
            progress,
            data=data,
            checkpointing=checkpointing,
            path_every=args.weight_paths,
        )
    except TrainingInterrupted as interrupted:
        if bar is not None:
            bar.close()
        write_status(
            out_dir,
            {"status": "interrupted", "command": args.command, "config": config.to_dict(),
             "run": checkpointing.description, "epochs_done": interrupted.epochs_done,
             "resume": f"descentlab resume {out_dir}"},
        )  # fmt: skip
        print(
            f"descentlab {args.command}: interrupted after epoch {interrupted.epochs_done - 1}; "
            f"checkpoint saved; resume with: descentlab resume {out_dir}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGINT, previous)
        if bar is not None:
            bar.close()
    results = write_run_folder(out_dir, args.command, config, dataset, outcomes, data)
    if getattr(args, "save", None) is not None:
        _save_model(args.save, config, dataset, data, outcomes[0])
    if args.json:
        print(json.dumps(results, indent=2, allow_nan=False))
    elif not args.quiet:
        layers = results["config"]["layers"]  # type: ignore[index]
        batch = "full" if config.batch_size is None else config.batch_size
        print(
            f"descentlab {args.command}: {dataset.name} ({dataset.n_examples} examples), "
            f"layers {layers}, {_describe_rates(config)}, batch {batch}, "
            f"{config.epochs} epochs\n"
        )
        print(_format_table(results))
        if len(names) > 1:
            total = sum(outcome.seconds for outcome in outcomes)
            print(
                f"\n{len(names)} runs trained together as one stack in {total:.1f} s; "
                "seconds is each run's share"
            )
        print(f"\nwrote {out_dir}/: results.json, report.html, cost_curves.png and more")
    return 0


def _sweep_config(args: argparse.Namespace) -> SweepConfig:
    """The sweep the command line asks for; every value checked (``ValueError`` otherwise)."""
    from descentlab.schedules import ScheduleSpec
    from descentlab.sweep import SweepConfig

    if args.search == "grid" and (args.samples is not None or args.search_seed is not None):
        raise ValueError("--samples and --search-seed go with --search random")
    hyperparameters: dict[str, str] = {}
    given = [(name, getattr(args, name)) for name in ("beta", "beta1", "beta2", "epsilon")]
    given += [("eps_inside_sqrt", "true")] if args.eps_inside_sqrt else []
    for target, values in [*given, *args.hyperparameter]:
        if values is None:
            continue
        if target in hyperparameters:
            raise ValueError(f"hyperparameter {target!r} is given twice")
        hyperparameters[target] = values
    return SweepConfig(
        optimizers=args.optimizers,
        learning_rate=args.learning_rate,
        hyperparameters=hyperparameters,
        seeds=args.seed_list if args.seed_list is not None else args.seeds,
        epochs=args.epochs,
        batch_size=args.batch_size,
        hidden_layers=args.layers,
        schedule=ScheduleSpec(
            name=args.schedule,
            decay_rate=args.decay_rate,
            every=args.decay_every,
            unit=args.schedule_unit,
            warmup=args.warmup,
            min_learning_rate=args.min_learning_rate,
        ),
        search=args.search,
        samples=20 if args.samples is None else args.samples,
        search_seed=0 if args.search_seed is None else args.search_seed,
    )


def _run_sweep(
    args: argparse.Namespace,
    argv: Sequence[str] | None = None,
    resume_dir: Path | None = None,
) -> int:
    """Run (or, with ``resume_dir``, continue) a sweep in its folder: lock it, record how it
    was started (``argv``: the command line; by default this process's, when it is the one
    that ``args`` came from), save chunk checkpoints, stop cleanly on Ctrl-C (exit 130)."""
    import contextlib
    import io

    from descentlab import datasets
    from descentlab.run_folder import FolderLock, default_out_dir, prepare_out_dir, write_status
    from descentlab.sweep import (
        AUTO_MIN_RUN_EPOCHS,
        busy_cores,
        describe_execution,
        format_table,
        resolve_jobs,
        run_sweep,
        summarize,
        write_sweep_folder,
    )
    from descentlab.sweep.checkpoints import CHECKPOINT_DIR, SweepCheckpoints
    from descentlab.sweep.results import SENSITIVITY_FILE
    from descentlab.train import TrainingInterrupted

    config = _sweep_config(args)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    busy = busy_cores() if args.jobs == "auto" else 0.0
    jobs = resolve_jobs(args.jobs, config, cores or 1, busy)
    dataset = datasets.load(args.dataset)
    if resume_dir is not None:
        out_dir = prepare_out_dir(resume_dir, resuming=True)
    else:
        out_dir = prepare_out_dir(args.out if args.out is not None else default_out_dir("sweep"))
    if argv is None:
        # main() does not hand its argv on; this process's command line is the sweep's when it
        # parses to the same options (not so when main() is called with a list): otherwise
        # nothing is recorded, and resume says so rather than guess.
        words = sys.argv[1:]
        options = {k: v for k, v in vars(args).items() if k != "subparser"}
        if words[:1] == ["sweep"]:
            try:
                with contextlib.redirect_stderr(io.StringIO()):
                    again, _ = build_parser().parse_known_args(words)
            except SystemExit:
                again = argparse.Namespace()
            if {k: v for k, v in vars(again).items() if k != "subparser"} == options:
                argv = words
    with FolderLock(out_dir):
        started = {"command": "sweep", "argv": None if argv is None else list(argv)}
        started["cwd"] = os.getcwd()
        status = {"command": "sweep", "config": config.to_dict(), "run": started}
        status["resume"] = f"descentlab resume {out_dir}"
        write_status(out_dir, {"status": "running", **status})
        stop = _GracefulStop()
        checkpoints = SweepCheckpoints(
            out_dir / CHECKPOINT_DIR,
            every=args.checkpoint_every,
            interrupted=stop.requested,
            resume=resume_dir is not None,
        )
        bar = None
        if sys.stdout.isatty() and not args.quiet and not args.json:
            from tqdm import tqdm

            total = len(config.runs) * config.epochs
            bar = tqdm(total=total, unit=" run-epochs", unit_scale=True, leave=False, desc="sweep")
        previous = stop.install()
        try:
            outcome = run_sweep(
                config,
                dataset,
                max_stack=args.max_stack,
                jobs=jobs,
                progress=None if bar is None else bar.update,
                checkpoints=checkpoints,
            )
        except TrainingInterrupted as interrupted:
            if bar is not None:
                bar.close()
            write_status(out_dir, {"status": "interrupted", **status})
            print(
                f"descentlab sweep: interrupted after epoch {interrupted.epochs_done - 1}; "
                f"checkpoint saved; resume with: descentlab resume {out_dir}",
                file=sys.stderr,
            )
            return EXIT_INTERRUPTED
        finally:
            signal.signal(signal.SIGINT, previous)
            if bar is not None:
                bar.close()
        results = write_sweep_folder(out_dir, outcome, dataset)
    if args.json:
        print(json.dumps(results, indent=2, allow_nan=False))
    elif not args.quiet:
        layers = list(config.network(dataset.n_features, dataset.Y.shape[0]).layer_sizes)
        batch = "full" if config.batch_size is None else config.batch_size
        print(
            f"descentlab sweep: {dataset.name} ({dataset.n_examples} examples), layers {layers}, "
            f"batch {batch}, {config.epochs} epochs; {config.search} search: "
            f"{len(config.configurations)} configurations x {len(config.seeds)} seeds = "
            f"{len(config.runs)} runs\n"
        )
        print(format_table(summarize(outcome)))
        print(f"\n{describe_execution(outcome)}")
        if args.jobs == "auto":
            print(
                f"--jobs auto chose {jobs}: {cores} cores, {busy:.1f} kept busy by other "
                f"processes, {len(config.runs) * config.epochs} run-epochs to train (at least "
                f"{AUTO_MIN_RUN_EPOCHS} per process)"
            )
        print(f"wrote {out_dir}/: results.json, {SENSITIVITY_FILE}, {CHECKPOINT_DIR}/")
    return 0


def _run_landscape(args: argparse.Namespace) -> int:
    """``descentlab landscape``: every optimizer on one 2-D function, then the pictures and
    results.json (written last, atomically)."""
    import datetime as _dt

    from descentlab import landscapes
    from descentlab.atomic import write_text_atomic
    from descentlab.report.trajectories import (
        describe_distance,
        plot_loss,
        plot_trajectories,
        save_animation,
    )
    from descentlab.run_folder import RESULTS_FILE, default_out_dir, prepare_out_dir

    function = landscapes.get(args.function)
    names = list(args.optimizers)
    given = args.learning_rate if args.learning_rate is not None else LearningRates(None, {})
    fallback = {
        name: given.default if given.default is not None else
        landscapes.default_learning_rate(function, name)
        for name in names
    }  # fmt: skip
    rates = LearningRates(None, {**fallback, **given.per_optimizer}).resolve(names)
    assert isinstance(rates, dict)
    settings = resolve_hyperparameters(args.hyperparameter, names)
    optimizers = [
        optim.get(name, learning_rate=rates[name], **settings.get(name, {})) for name in names
    ]
    landscape = (
        function if args.noise == 0 else landscapes.noisy(function, args.noise, args.noise_seed)
    )
    start = args.start if args.start is not None else function.start
    steps = args.steps if args.steps is not None else function.steps
    out_dir = prepare_out_dir(args.out if args.out is not None else default_out_dir("landscape"))

    trajectories = landscapes.run_trajectories(
        landscape, optimizers, start, steps, tolerance=args.tolerance
    )
    plot_trajectories(out_dir / "trajectories.png", landscape, trajectories)
    plot_loss(out_dir / "loss.png", landscape, trajectories)
    save_animation(out_dir / "trajectories.gif", landscape, trajectories, args.frames)

    runs = []
    for trajectory in trajectories:
        path_steps, path = landscapes.subsample(trajectory.path)
        runs.append(
            {
                "optimizer": trajectory.optimizer,
                "hyperparameters": dict(trajectory.hyperparameters),
                "status": trajectory.status,
                "diverged_step": trajectory.diverged_step,
                "steps_run": len(trajectory.path) - 1,
                "final_point": [float(v) for v in trajectory.final_point],
                "final_value": trajectory.final_value,
                "distance_to_minimum": trajectory.final_distance,
                "steps_to_tolerance": trajectory.steps_to_tolerance,
                "path_steps": path_steps,
                "path": path.tolist(),
            }
        )
    results = {
        "descentlab_version": __version__,
        "command": "landscape",
        "status": "finished",
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "function": {
            "name": function.name,
            "formula": function.formula,
            "minima": [list(point) for point in function.minima],
            "has_minimum": function.has_minimum,
            "f_min": function.f_min,
            "noise": None if args.noise == 0 else {"scale": args.noise, "seed": args.noise_seed},
        },
        "start": [float(v) for v in start],
        "steps": steps,
        "tolerance": args.tolerance,
        "frames": args.frames,
        "runs": runs,
        "files": ["trajectories.png", "trajectories.gif", "loss.png"],
    }
    document = json.dumps(results, indent=2, allow_nan=False)
    write_text_atomic(out_dir / RESULTS_FILE, document + "\n")
    if args.json:
        print(document)
    elif not args.quiet:
        noise = (
            "" if args.noise == 0 else f", gradient noise {args.noise:g} (seed {args.noise_seed})"
        )
        print(
            f"descentlab landscape: {function.name}, {function.formula}, start "
            f"({start[0]:g}, {start[1]:g}), {steps} steps{noise}\n"
        )
        target = "distance to minimum" if function.has_minimum else "distance to saddle"
        rows = [("optimizer", "learning rate", target, f"steps to {args.tolerance:g}", "status")]
        for trajectory in trajectories:
            distance = describe_distance(function, trajectory).split(" from ")[0]
            reached = trajectory.steps_to_tolerance
            rows.append(
                (
                    trajectory.optimizer,
                    f"{rates[trajectory.optimizer]:g}",
                    distance if trajectory.status == "finished" else "-",
                    "-" if reached is None else str(reached),
                    trajectory.status
                    if trajectory.status == "finished"
                    else f"diverged at step {trajectory.diverged_step}",
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            print(
                "  ".join(
                    cell.ljust(width) for cell, width in zip(row, widths, strict=True)
                ).rstrip()
            )
        print(f"\nwrote {out_dir}/: trajectories.png, trajectories.gif, loss.png, results.json")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        # Report the stray words against the subcommand the user typed, in one line.
        getattr(args, "subparser", parser).error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        if hasattr(args, "blas_threads") or args.command == "resume":
            threads.configured()  # a bad DESCENTLAB_BLAS_THREADS fails here, before any work
        with threads.blas_threads(getattr(args, "blas_threads", None)):
            if args.command == "schedule":
                return _show_schedule(args)
            if args.command == "sweep":
                return _run_sweep(args, argv)
            if args.command == "resume":
                return _resume(parser, args)
            if args.command == "predict":
                return _predict(args)
            if args.command == "landscape":
                return _run_landscape(args)
            return _run_training(args, argv)
    except ValueError as error:
        print(f"descentlab {args.command}: error: {one_line(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"descentlab {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of stdout went away (e.g. `| head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
