"""The ``descentlab`` parser: one line per error, and only the chosen command's options.

The top-level parser knows every command's name and summary from the registry
(``descentlab.cli.commands.COMMANDS``); it imports and builds the options of one command only,
the one on the command line, so ``descentlab --help`` loads no command module.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import NoReturn

from descentlab import __version__
from descentlab.cli.commands import COMMANDS, load_command

EXIT_FAILED = 1
"""Work that ran but did not all finish (a benchmark's failed tasks, a lost cluster)."""
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141


def one_line(message: str) -> str:
    """``message`` with every unprintable character (newlines, control characters a user may
    have typed into a value) escaped, so an error stays one line."""
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in message
    )


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints the whole usage block before the message; one line says more.
        self.exit(EXIT_USAGE, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")


def command_of(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names: its first word that is not an option (the top-level
    options, --help and --version, take no value), if that is a command."""
    for word in argv:
        if not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def build_parser(command: str | None = None) -> Parser:
    """The parser of every command's name, with the options of ``command`` only."""
    parser = Parser(
        prog="descentlab",
        description="Train a small neural network with classic optimizers and compare how "
        "each one learns. With no options, 'compare' reproduces the course's published "
        "experiment: moons (300 points, noise 0.2), network [2, 5, 2, 1], learning rate "
        "0.0007, mini-batches of 64, 10000 epochs, gd vs momentum vs adam.",
        epilog="Run 'descentlab COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"descentlab {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name, info in COMMANDS.items():
        subparser = commands.add_parser(name, help=info.summary)
        subparser.set_defaults(subparser=subparser)
        if name == command:
            module = load_command(name)
            subparser.description = module.DESCRIPTION
            module.add_options(subparser)
    return parser
