"""``descentlab benchmark``: every optimizer tuned on an equal budget, ranked with error bars."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from descentlab.cli import options
from descentlab.cli.arguments import integer_option, parse_jobs, parse_seed
from descentlab.cli.options import Option, add

if TYPE_CHECKING:
    from descentlab.benchmark.config import BenchmarkConfig
    from descentlab.benchmark.runner import BenchmarkIncomplete
    from descentlab.cluster.scheduler import Cluster

DESCRIPTION = (
    "Tune each optimizer on each problem of a suite with the same number of configurations "
    "(--budget), drawn from a documented search space and scored on the validation split "
    "only; re-run each one's best configuration with --seeds fresh seeds on the test split; "
    "rank the optimizers with 95% bootstrap intervals, a pairwise test (Welch + Holm), "
    "epochs to target and performance profiles. Writes results.json (every trial), report.md "
    "and its pictures. The same --seed gives the same results, bit for bit; an interrupted "
    "benchmark continues with 'descentlab resume'. See docs/benchmark.md for the protocol."
)

NO_SUITE = "none"


def add_options(parser: argparse.ArgumentParser) -> None:
    from descentlab.benchmark.problems import SUITES
    from descentlab.benchmark.search_space import DEFAULT_OPTIMIZERS

    problems = parser.add_argument_group("what is benchmarked")
    add(
        problems,
        Option(
            "--suite",
            f"the suite of problems; {NO_SUITE}: only --problem-file ones (default: small)",
            default="small",
            choices=(*SUITES, NO_SUITE),
        ),
        Option(
            "--problems",
            "only these problems of the suite (default: all of them)",
            _names,
            metavar="NAME,NAME,...",
        ),
        Option(
            "--problem-file",
            "add a problem from a TOML or JSON file (fields: docs/benchmark.md), repeatable",
            Path,
            [],
            "FILE",
            action="append",
        ),
        options.optimizers("sweep", DEFAULT_OPTIMIZERS, "optimizers to benchmark, "),
    )
    protocol = parser.add_argument_group("the protocol")
    add(
        protocol,
        Option(
            "--budget",
            "configurations tried per optimizer and problem, the same for every optimizer "
            "(default: %(default)s)",
            integer_option("budget", minimum=1),
            20,
            "N",
        ),
        Option(
            "--seeds",
            "fresh seeds the best configuration re-runs with, measured on the test split; "
            "at least 2 (default: %(default)s)",
            integer_option("seeds", minimum=2),
            5,
            "S",
        ),
        Option(
            "--seed",
            "draws the configurations; the trial seeds are SEED+1..SEED+S (default: %(default)s)",
            parse_seed,
            0,
            "SEED",
        ),
        Option(
            "--defaults",
            "also run every optimizer at its untuned defaults with the same seeds, to show how "
            "much tuning matters",
            action="store_true",
        ),
        options.engine(),
    )
    # Only --scheduler, no --shared-folder: the workers return each task's record and this
    # process saves it, so whether they see the run folder does not matter here.
    add(
        parser.add_argument_group(
            "execution (never changes the results)"
        ).add_mutually_exclusive_group(),
        Option(
            "--jobs",
            "run tasks (one optimizer on one problem) in N processes; auto: one per core that "
            "other processes leave idle (default: 1)",
            parse_jobs,
            1,
            "N|auto",
        ),
        options.scheduler("the tasks (one optimizer on one problem each)")[0],
    )
    options.add_output(parser, "results.json, report.md and its pictures")


def _names(text: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(","))
    if not all(names):
        raise ValueError(f"problem names must be non-empty, got {text!r}")
    return names


def config_of(args: argparse.Namespace) -> BenchmarkConfig:
    """The benchmark the command line asks for; every value checked (``ValueError``)."""
    from descentlab.benchmark.config import BenchmarkConfig

    suite_name = None if args.suite == NO_SUITE else args.suite
    if suite_name is None and args.problems is not None:
        raise ValueError(f"--problems picks problems of a suite; --suite {NO_SUITE} has none")
    if suite_name is None and not args.problem_file:
        raise ValueError(f"--suite {NO_SUITE} needs at least one --problem-file")
    return BenchmarkConfig.from_options(
        suite_name=suite_name,
        only=args.problems,
        problem_files=[str(path) for path in args.problem_file],
        optimizers=args.optimizers,
        budget=args.budget,
        seeds=args.seeds,
        seed=args.seed,
        defaults=args.defaults,
    )


def resolve_jobs(jobs: int | str, n_tasks: int) -> int:
    """``jobs`` as a number of processes; ``"auto"``: one per core other processes leave idle
    (``sweep.busy_cores``), no more than there are tasks."""
    from descentlab.sweep import busy_cores

    if jobs != "auto":
        assert isinstance(jobs, int)
        return jobs
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    idle = (cores or 1) - int(busy_cores() + 0.5)
    return max(1, min(idle, n_tasks))


def run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    return resume(args, argv, None)


def resume(args: argparse.Namespace, argv: Sequence[str], run_dir: Path | None) -> int:
    """Run (or, with ``run_dir``, continue) a benchmark in its folder: lock it, record how it
    was started (``argv``), save each finished task, stop on Ctrl-C (exit 130). On a Dask
    cluster (``--scheduler``, connected before the folder is touched), failed tasks or a lost
    scheduler leave the folder interrupted, one line each on stderr, exit 1: ``descentlab
    resume`` then runs exactly the unfinished tasks."""
    from descentlab.cli.cluster import cluster_of

    config = config_of(args)
    with cluster_of(args, "benchmark") as cluster:
        return _run_in_folder(args, argv, run_dir, config, cluster)


def _run_in_folder(
    args: argparse.Namespace,
    argv: Sequence[str],
    run_dir: Path | None,
    config: BenchmarkConfig,
    cluster: Cluster | None,
) -> int:
    from descentlab import engines
    from descentlab.benchmark.runner import (
        BenchmarkIncomplete,
        BenchmarkInterrupted,
        BenchmarkOutcome,
        run_benchmark,
    )
    from descentlab.benchmark.store import TaskStore
    from descentlab.cli.interrupt import Advance, shows_progress, train_interruptibly
    from descentlab.cli.parser import EXIT_FAILED, EXIT_INTERRUPTED
    from descentlab.runs import RunFolder
    from descentlab.runs.benchmark import write_benchmark_folder
    from descentlab.runs.names import TASKS_DIR

    jobs = resolve_jobs(args.jobs, len(config.tasks))
    engine = engines.resolve()  # the one ``cli.main`` or ``resume`` set, recorded for resume
    folder = RunFolder(
        run_dir if run_dir is not None else args.out,
        "benchmark",
        config.to_dict(),
        {"command": "benchmark", "argv": list(argv), "cwd": os.getcwd(), "engine": engine},
        resuming=run_dir is not None,
    )
    with folder:
        folder.started()
        store = TaskStore(folder.path / TASKS_DIR, resume=run_dir is not None)

        def train(interrupted: Callable[[], bool], advance: Advance | None) -> BenchmarkOutcome:
            on_task = None if advance is None else lambda _: advance(1)
            return run_benchmark(
                config,
                jobs=jobs,
                store=store,
                on_task=on_task,
                interrupted=interrupted,
                cluster=cluster,
                engine=engine,
            )

        bar = None
        if shows_progress(args):
            bar = {"total": len(config.tasks), "unit": " tasks", "desc": "benchmark"}
        try:
            outcome = train_interruptibly(
                "benchmark",
                folder.path,
                train,
                bar=bar,
                on_interrupt=lambda stopped: folder.interrupted(
                    tasks_done=stopped.finished, tasks=stopped.total
                ),
                stopped=BenchmarkInterrupted,
                saved=lambda stopped: (
                    f"interrupted; {stopped.finished} of {stopped.total} tasks finished and saved"
                ),
            )
        except BenchmarkIncomplete as incomplete:
            lost = {"lost": incomplete.lost} if incomplete.lost else {}
            folder.interrupted(
                tasks_done=incomplete.finished,
                tasks=incomplete.total,
                failed=incomplete.failed,
                **lost,
            )
            _tell_incomplete(incomplete, folder.path)
            return EXIT_FAILED
        if outcome is None:
            return EXIT_INTERRUPTED
        results, text = write_benchmark_folder(folder.path, outcome)

    options.show(
        args, results, lambda: f"{text}\n{options.engine_line(results)}\nwrote {folder.path}/"
    )
    return 0


def _tell_incomplete(incomplete: BenchmarkIncomplete, folder: Path) -> None:
    """One line per failed task (its key and error), then what was kept and how to go on."""
    from descentlab.cli.parser import one_line

    for key, error in incomplete.failed.items():
        print(f"descentlab benchmark: task {key} failed: {one_line(error)}", file=sys.stderr)
    print(
        f"descentlab benchmark: {one_line(str(incomplete))} and saved; run the others with: "
        f"descentlab resume {folder}",
        file=sys.stderr,
    )
