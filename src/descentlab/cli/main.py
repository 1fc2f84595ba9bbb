"""``descentlab``'s entry point: parse, run the chosen command, turn failures into exit codes.

Every bad argument ends in one line on stderr naming the value and what is allowed, and
exit code 2; no traceback. Ctrl-C exits 130, a closed stdout (``| head``) 141.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from descentlab.cli.commands import load_command
from descentlab.cli.parser import (
    EXIT_BROKEN_PIPE,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    build_parser,
    command_of,
    one_line,
)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(command_of(argv))
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        # Report the stray words against the subcommand the user typed, in one line.
        getattr(args, "subparser", parser).error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        from descentlab import threads

        if hasattr(args, "blas_threads") or args.command == "resume":
            threads.configured()  # a bad DESCENTLAB_BLAS_THREADS fails here, before any work
        with threads.blas_threads(getattr(args, "blas_threads", None)):
            return load_command(args.command).run(args, argv)
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
