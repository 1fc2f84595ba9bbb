"""``descentlab resume``: continue an interrupted ``train``, ``compare`` or ``sweep``."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from descentlab.cli.options import Option, add, quiet

DESCRIPTION = (
    "Continue the train, compare, sweep or benchmark run in RUN_DIR from its checkpoints, with the "
    "options it was started with; the result is the same as if it had never stopped."
)


def add_options(parser: argparse.ArgumentParser) -> None:
    from descentlab import engines
    from descentlab.cli.arguments import parse_scheduler_option

    add(
        parser,
        Option("run_dir", "the run's folder", Path, metavar="RUN_DIR"),
        Option(
            "--scheduler",
            "continue on this Dask cluster instead of where the run was started (sweep and "
            "benchmark): local[:N], tcp://HOST:PORT, or none for this machine's processes "
            "(default: as recorded)",
            parse_scheduler_option,
            argparse.SUPPRESS,
            "none|local[:N]|tcp://HOST:PORT",
        ),
        Option(
            "--engine",
            "continue with this engine instead of the one the run recorded (auto: compiled "
            "when numba is installed); the run's numbers then come from two engines (default: "
            "as recorded; a run from before engines existed: numpy)",
            default=argparse.SUPPRESS,
            choices=engines.SETTINGS,
        ),
        quiet(),
    )


def run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Re-run the command recorded in RUN_DIR's checkpoint (a sweep's: in its results.json),
    continuing from its checkpoints."""
    from descentlab import engines, threads
    from descentlab.checkpoint import check_started, read_description
    from descentlab.cli.commands import resumable
    from descentlab.runs import read_results, read_status
    from descentlab.runs.names import CHECKPOINT_FILE, RESULTS_FILE

    run_dir = Path(args.run_dir).resolve()
    status = read_status(run_dir)
    if status is None:
        raise ValueError(f"{run_dir}: not a descentlab run folder (no readable results.json)")
    if status == "finished":
        raise ValueError(f"{run_dir}: this run already finished; nothing to resume")
    checkpoint = run_dir / CHECKPOINT_FILE
    if checkpoint.exists():
        record, description = checkpoint, read_description(checkpoint)
    else:  # killed before its first checkpoint: results.json says how it was started
        started_as = (read_results(run_dir) or {}).get("run")
        record = run_dir / RESULTS_FILE
        description = started_as if isinstance(started_as, dict) else {}
    check_started(record, description)
    started = list(description["argv"])
    original = _parsed(started, record)
    command = resumable(original.command) if original.command is not None else None
    if command is None:
        raise ValueError(
            f"{run_dir}: 'descentlab resume' continues train, compare, sweep and benchmark runs"
        )
    if args.quiet:
        original.quiet = True
    if hasattr(args, "scheduler"):
        if not hasattr(original, "scheduler"):
            raise ValueError(
                f"{run_dir}: --scheduler continues sweep and benchmark runs on a Dask cluster; "
                f"this is a {original.command} run"
            )
        original.scheduler = args.scheduler
        if args.scheduler is not None and hasattr(original, "jobs"):
            original.jobs = 1  # the cluster's workers replace the recorded processes
    try:
        engine = engines.resolve(_engine_of(args, description, record))
    except engines.EngineUnavailable as error:
        raise engines.EngineUnavailable(
            f"{error}; or continue with the numpy engine: descentlab resume --engine numpy "
            f"{run_dir}"
        ) from None
    cwd = os.getcwd()
    try:  # relative paths mean what they meant at the start
        os.chdir(description["cwd"])
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ValueError(
            f"{run_dir}: the run was started in {description['cwd']!r}, which cannot be entered "
            f"now ({reason}); its relative paths mean nothing elsewhere: recreate or restore "
            "that folder, then resume"
        ) from None
    try:
        # As the run was started; a benchmark has no such option (one thread per process).
        with threads.blas_threads(getattr(original, "blas_threads", None)), engines.using(engine):
            return command.resume(original, started, run_dir)
    finally:
        os.chdir(cwd)


def _engine_of(args: argparse.Namespace, description: Mapping[str, Any], where: Path) -> str:
    """The engine a resumed run trains with: ``resume --engine``'s, else the one the run
    recorded when it started (the resolved engine, so that an ``auto`` run does not change
    engine on another machine), else numpy (runs from before engines were recorded)."""
    from descentlab import engines

    if hasattr(args, "engine"):
        return str(args.engine)
    recorded = description.get("engine", engines.NUMPY)
    if recorded not in (engines.NUMPY, engines.COMPILED):
        raise ValueError(
            f"{where}: the run records the engine {recorded!r}, not one of "
            f"{engines.NUMPY}, {engines.COMPILED}"
        )
    return str(recorded)


def _parsed(started: list[str], where: Path) -> argparse.Namespace:
    """The recorded command line ``started``, parsed; a ``ValueError`` naming ``where`` (the
    file that records it) if descentlab does not accept it, rather than argparse's usage."""
    from descentlab.cli.parser import build_parser, command_of

    complaints = io.StringIO()
    try:
        with contextlib.redirect_stderr(complaints):
            original, _ = build_parser(command_of(started)).parse_known_args(started)
    except SystemExit:
        lines = complaints.getvalue().strip().splitlines() or ["not a command line"]
        raise ValueError(
            f"{where}: the command line it records is not one descentlab accepts: {lines[-1]}"
        ) from None
    return original
