"""``descentlab playground``: the browser playground on a local web server."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import fields
from typing import TYPE_CHECKING

from descentlab.cli.arguments import integer, integer_option
from descentlab.cli.options import Option, add
from descentlab.cli.parser import EXIT_USAGE

if TYPE_CHECKING:
    from descentlab.web.limits import Limits

DESCRIPTION = (
    "Serve the playground, a page where optimizers race live on datasets (as descentlab "
    "compare trains them) and on the 2-D functions of descentlab landscape, on this machine "
    "until Ctrl-C (see docs/playground.md). Needs the extra: "
    "pip install 'descentlab[playground]'."
)
INSTALL_HINT = "pip install 'descentlab[playground]'"


def parse_port(text: str) -> int:
    """A TCP port: an integer in 1..65535."""
    port = integer("port", text, 1)
    if port > 65535:
        raise ValueError(f"port must be an integer in 1..65535, got {port}")
    return port


def add_options(parser: argparse.ArgumentParser) -> None:
    add(
        parser,
        Option(
            "--port", "the port to listen on (default: %(default)s)",
            parse_port, 8765, "N",
        ),
        Option(
            "--host",
            "the address to listen on; anything but loopback lets other machines use this "
            "one's CPU (default: %(default)s)",
            str, "127.0.0.1", "H",
        ),
        Option("--open", "open the page in the default browser", action="store_true"),
    )  # fmt: skip
    add(
        parser.add_argument_group("limits (what one page may ask of this machine)"),
        *limit_options(),
    )


def limit_options() -> list[Option]:
    """One option per field of ``web.limits.Limits`` (``max_races`` -> ``--max-races N``),
    its help and smallest value from the field, its default the field's."""
    from descentlab.web.limits import Limits

    return [
        Option(
            f"--{item.name.replace('_', '-')}",
            f"{item.metadata['help']} (default: {item.default})",
            integer_option(item.name.replace("_", " "), item.metadata["minimum"]),
            metavar="N",
        )
        for item in fields(Limits)
    ]


def limits_of(args: argparse.Namespace) -> Limits:
    """The ``Limits`` the options give (the defaults for the rest); ``ValueError`` when they
    contradict each other."""
    from descentlab.web.limits import Limits

    given = {
        item.name: getattr(args, item.name)
        for item in fields(Limits)
        if getattr(args, item.name) is not None
    }
    return Limits(**given)


def run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Check the extra is installed, say where the page is, then serve until Ctrl-C."""
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        print(
            f"descentlab playground: the web libraries are missing: {INSTALL_HINT}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from descentlab.web.server import is_loopback, serve, url_of

    try:
        limits = limits_of(args)
    except ValueError as error:
        print(
            f"descentlab playground: error: {error} (see descentlab playground --help)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if not is_loopback(args.host):
        print(
            f"descentlab playground: warning: listening on {args.host}: anyone who can reach "
            f"port {args.port} can use this machine's CPU",
            file=sys.stderr,
        )
    print(f"descentlab playground: {url_of(args.host, args.port)} (Ctrl-C stops it)", flush=True)
    serve(args.host, args.port, limits, open_browser=args.open)
    return 0
