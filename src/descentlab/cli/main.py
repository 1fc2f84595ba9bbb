"""``descentlab``'s entry point: parse, run the chosen command, turn failures into exit codes.

Every bad argument ends in one line on stderr naming the value and what is allowed, and
exit code 2; no traceback. Ctrl-C exits 130, a closed stdout (``| head``) 141. A command
started with stdout closed (``>&-``) runs and writes its files; if it had anything to print,
one line on stderr says it was lost and it exits 141.
"""

from __future__ import annotations

import gc
import io
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


class LostOutput(io.TextIOBase):
    """``sys.stdout`` when the process started with stdout closed: it counts what would have
    been printed; fd 1 is /dev/null, so no file opened later takes its place."""

    def __init__(self) -> None:
        self.lost = 0

    def write(self, text: str) -> int:
        self.lost += len(text)
        return len(text)

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return 1


def _replace_closed_stdout() -> LostOutput | None:
    """A ``LostOutput`` as ``sys.stdout`` if stdout was closed (Python then sets it to None)."""
    if sys.stdout is not None:
        return None
    devnull = os.open(os.devnull, os.O_WRONLY)
    if devnull != 1:
        os.dup2(devnull, 1)
        os.close(devnull)
    lost = LostOutput()
    sys.stdout = lost
    return lost


def console() -> int:
    """The ``descentlab`` program (its console script and ``python -m descentlab``): ``main``,
    then a quick exit.

    When a command ends, the interpreter's shutdown garbage-collects every object still
    alive; once numba and matplotlib are loaded that scan costs 0.5 to 0.7 s, a tenth of a
    ``compare`` (measured, docs/benchmarks.md). ``gc.freeze`` moves those objects out of the
    collector's sight first: atexit handlers still run and files are still flushed and closed,
    only the pointless last scan is skipped. ``main`` itself leaves the collector alone, for
    programs that call it.
    """
    code = main()
    gc.freeze()
    return code


def main(argv: Sequence[str] | None = None) -> int:
    lost = _replace_closed_stdout()
    if lost is None:
        return _run(argv)
    try:
        code = _run(argv)
    except SystemExit as exit_:  # argparse's --help, --version and usage errors
        if not isinstance(exit_.code, int | None):
            raise
        code = exit_.code or 0
    if lost.lost:
        print(
            f"descentlab: stdout is closed, so {lost.lost} characters of output were lost",
            file=sys.stderr,
        )
        return code or EXIT_BROKEN_PIPE
    return code


def _run(argv: Sequence[str] | None) -> int:
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
        from descentlab import engines, threads

        if hasattr(args, "blas_threads") or args.command == "resume":
            threads.configured()  # a bad DESCENTLAB_BLAS_THREADS fails here, before any work
        engine = None
        if hasattr(args, "engine"):
            # Resolved once, before any work: a bad DESCENTLAB_ENGINE or a compiled engine
            # without numba fails here, and every process of the command trains with it.
            engine = engines.resolve(args.engine, default=engines.AUTO)
            if engine == engines.COMPILED:
                engines.check_importable()  # installed is not enough: it must load
        elif args.command == "resume":
            engines.configured()  # resume trains with the run's engine, but a bad value fails
        with threads.blas_threads(getattr(args, "blas_threads", None)), engines.using(engine):
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
