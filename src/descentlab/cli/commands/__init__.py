"""The registry of ``descentlab`` commands, as pip's ``commands_dict``: name -> (module,
summary). A command's module is imported only when that command runs (or shows its help).

A command module defines ``DESCRIPTION`` (its ``--help`` text), ``add_options(parser)`` and
``run(args, argv) -> exit code``; one that ``descentlab resume`` continues also defines
``resume(args, argv, run_dir) -> exit code``. Adding a command is one module and one line here.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple, Protocol, cast

if TYPE_CHECKING:
    from pathlib import Path


class CommandInfo(NamedTuple):
    module: str
    summary: str


COMMANDS: dict[str, CommandInfo] = {
    "compare": CommandInfo(
        "descentlab.cli.commands.compare",
        "train several optimizers side by side and write a report",
    ),
    "train": CommandInfo(
        "descentlab.cli.commands.train", "train one optimizer and write the same report"
    ),
    "predict": CommandInfo("descentlab.cli.commands.predict", "predict with a saved model"),
    "schedule": CommandInfo(
        "descentlab.cli.commands.schedule", "print (and plot) a learning-rate schedule"
    ),
    "resume": CommandInfo(
        "descentlab.cli.commands.resume",
        "continue an interrupted train, compare, sweep or benchmark from where it stopped",
    ),
    "sweep": CommandInfo(
        "descentlab.cli.commands.sweep",
        "train a grid (or a random sample) of optimizers x hyperparameters x seeds",
    ),
    "benchmark": CommandInfo(
        "descentlab.cli.commands.benchmark",
        "tune every optimizer on an equal budget and rank them with error bars",
    ),
    "landscape": CommandInfo(
        "descentlab.cli.commands.landscape", "watch optimizers move on a 2-D function"
    ),
    "playground": CommandInfo(
        "descentlab.cli.commands.playground", "race the optimizers live in a browser page"
    ),
}


class Command(Protocol):
    """What a command module provides."""

    DESCRIPTION: str

    def add_options(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace, argv: Sequence[str]) -> int: ...


class ResumableCommand(Command, Protocol):
    """A command whose interrupted runs ``descentlab resume`` continues."""

    def resume(self, args: argparse.Namespace, argv: Sequence[str], run_dir: Path) -> int: ...


def load_command(name: str) -> Command:
    """The module of command ``name`` (imported now, on first use)."""
    return cast(Command, importlib.import_module(COMMANDS[name].module))


def resumable(name: str) -> ResumableCommand | None:
    """The module of command ``name`` if ``descentlab resume`` continues its runs."""
    module = load_command(name) if name in COMMANDS else None
    return cast(ResumableCommand, module) if hasattr(module, "resume") else None
