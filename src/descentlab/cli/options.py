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
    argument,
    integer_option,
    nonnegative_number,
    parse_batch_size,
    parse_dataset,
    parse_epochs,
    parse_hyperparameter,
    parse_layers,
    parse_optimizers,
)

if TYPE_CHECKING:
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


WRAPPER_SYNTAX = (
    "a wrapper ({wrappers}) is named before the optimizer it wraps, WRAPPER:INNER, e.g. "
    "lookahead:adam or lookahead:sam:adam (see the Optimizers page, 'Wrappers')"
)
"""The one sentence of the help that teaches the wrapper syntax (docs/optimizers.md has the
rest)."""


def wrapper_syntax(command: str) -> str:
    from descentlab import optim

    return WRAPPER_SYNTAX.format(wrappers=", ".join(optim.wrapper_names(command)))


def optimizers(command: str, default: Sequence[str], what: str = "") -> Option:
    """``--optimizers NAME,NAME,...``, of the optimizers ``command`` takes."""
    from descentlab import optim

    return Option(
        "--optimizers",
        f"{what}from: {', '.join(optim.names(command))}; {wrapper_syntax(command)} (default: "
        f"{','.join(default)})",
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


def scheduler(what: str) -> tuple[Option, ...]:
    """``--scheduler`` (a Dask cluster for ``what``) and ``--shared-folder``."""
    from descentlab.cli.arguments import parse_scheduler_option, parse_shared_folder

    return (
        Option(
            "--scheduler",
            f"send {what} to a Dask cluster: local[:N] starts N worker processes here (default: "
            "one per core), tcp://HOST:PORT uses a running 'dask scheduler'; needs the dask "
            "extra, pip install 'descentlab[dask]' (default: none, this machine's processes)",
            parse_scheduler_option,
            metavar="local[:N]|tcp://HOST:PORT",
        ),
        Option(
            "--shared-folder",
            "whether the workers see the run folder (shared storage): auto tests it with a "
            "probe file; yes/no says so (default: %(default)s)",
            parse_shared_folder,
            "auto",
            "auto|yes|no",
        ),
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


def engine() -> Option:
    """``--engine auto|numpy|compiled`` (``descentlab.engines``); unset: DESCENTLAB_ENGINE,
    else auto. ``cli.main`` resolves it and trains the command inside ``engines.using``."""
    from descentlab import engines

    return Option(
        "--engine",
        "what trains the networks: numpy is bit-exact with the course; compiled is the same "
        "loop compiled by numba (agrees within a stated tolerance, faster; needs "
        f"{engines.INSTALL_HINT}); auto is compiled when numba is installed, else numpy; wins "
        f"over the environment variable {engines.ENVIRONMENT_VARIABLE} (default: auto)",
        choices=engines.SETTINGS,
    )


def engine_line(results: Mapping[str, object]) -> str:
    """The one line a command prints about the engine its ``results`` record:
    "engine: numpy", "engine: compiled (numba 0.68.1)", and with optimizers that had no
    compiled update "...; numpy updates for NAME, NAME"."""
    record = results.get("engine")
    if not isinstance(record, Mapping):
        return "engine: not recorded"
    line = f"engine: {record.get('name')}"
    if record.get("numba"):
        line += f" (numba {record['numba']})"
    fallbacks = record.get("numpy_updates")
    if isinstance(fallbacks, list) and fallbacks:
        line += f"; numpy updates for {', '.join(map(str, fallbacks))}"
    return line


def shape() -> tuple[Option, ...]:
    """--epochs, --batch-size, --layers, --blas-threads and --engine, which every command that
    trains networks takes."""
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
            "(docs/benchmarks.md), N uses N; wins over the environment variable "
            f"{threads.ENVIRONMENT_VARIABLE} (default: auto)",
            threads.parse_setting,
            metavar="auto|N",
        ),
        engine(),
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
    """The schedule the "learning-rate schedule" group names (checked by ``ScheduleSpec``; an
    option its schedule does not use is refused by ``check_settings_used``)."""
    from descentlab.schedules import ScheduleSpec, check_settings_used

    spec = ScheduleSpec(
        name=args.schedule,
        decay_rate=args.decay_rate,
        every=args.decay_every,
        unit=args.schedule_unit,
        warmup=args.warmup,
        min_learning_rate=args.min_learning_rate,
    )
    spelled = {"decay_rate": "--decay-rate", "every": "--decay-every", "warmup": "--warmup"}
    return check_settings_used(spec, {**spelled, "min_learning_rate": "--min-learning-rate"})
