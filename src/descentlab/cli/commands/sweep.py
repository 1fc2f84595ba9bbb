"""``descentlab sweep``: a grid (or a random sample) of optimizers x hyperparameters x seeds."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from descentlab.cli import options
from descentlab.cli.arguments import (
    integer_option,
    parse_grid_values,
    parse_hyperparameter_grid,
    parse_jobs,
    parse_learning_rate_grid,
    parse_seed,
    parse_seed_count,
    parse_seed_list,
)
from descentlab.cli.options import Option, add

if TYPE_CHECKING:
    from descentlab.cluster.scheduler import Cluster
    from descentlab.datasets import Dataset
    from descentlab.sweep import SweepConfig, SweepOutcome

GRID_VALUES_HELP = "VALUES: 0.01, a list 0.001,0.01,0.1, or a range LO..HI:log:N or LO..HI:lin:N"

DESCRIPTION = (
    "Train every configuration with every seed, many runs at once, and print the mean and "
    "standard deviation over seeds of each configuration's final cost and accuracy, and the "
    "best configuration per optimizer. Writes results.json and sensitivity.png. "
    f"{GRID_VALUES_HELP} (N values, both ends included)."
)


def add_options(parser: argparse.ArgumentParser) -> None:
    from descentlab.datasets import DATASETS
    from descentlab.sweep.config import SEARCHES

    add(parser, options.optimizers("sweep", ("gd", "momentum", "adam"), "optimizers to sweep, "))
    grid = parser.add_argument_group("what to sweep (" + GRID_VALUES_HELP + ")")
    add(
        grid,
        Option(
            "--learning-rate",
            "learning rates, > 0, for every optimizer, or per optimizer as "
            "adam=1e-4..1e-1:log:13,gd=0.1 (values before the first NAME= go to the optimizers "
            "not named) (default: %(default)s)",
            parse_learning_rate_grid,
            "1e-4..1e-1:log:13",
            "VALUES",
        ),
        *(
            Option(
                f"--{name}",
                f"{what}; the same as -H {name}=VALUES",
                parse_grid_values(name),
                metavar="VALUES",
            )
            for name, what in (
                ("beta", "momentum's averaging coefficient"),
                ("beta1", "first-moment coefficient of the Adam family"),
                ("beta2", "second-moment coefficient of the Adam family"),
                ("epsilon", "epsilon of every chosen optimizer that has one"),
            )
        ),
        options.EPS_INSIDE_SQRT,
        Option(
            ("-H", "--hyperparameter"),
            "any optimizer keyword, repeatable: -H beta1=0.8,0.9 sets it for every chosen "
            "optimizer that has it, -H adam.beta1=0.8..0.99:lin:4 for one (which wins); a switch "
            "takes true/false",
            parse_hyperparameter_grid,
            [],
            "[OPT.]NAME=VALUES",
            action="append",
        ),
    )
    add(
        grid.add_mutually_exclusive_group(),
        Option(
            "--seeds",
            "train every configuration with seeds 0..N-1; seed 0 is the course's protocol "
            "(default: 3)",
            parse_seed_count,
            (0, 1, 2),
            "N",
        ),
        Option(
            "--seed-list",
            "train every configuration with these seeds instead",
            parse_seed_list,
            metavar="S,S,...",
        ),
    )
    add(
        grid,
        Option(
            "--search",
            "grid: every combination of the values; random: --samples configurations per "
            "optimizer, each value drawn log-uniformly (log range), uniformly (lin range) or from "
            "the list (default: grid)",
            default="grid",
            choices=SEARCHES,
        ),
        Option(
            "--samples",
            "random search: configurations per optimizer (default: 20)",
            integer_option("samples", minimum=1),
            metavar="N",
        ),
        Option(
            "--search-seed",
            "random search: the seed of the draws (default: 0)",
            parse_seed,
            metavar="S",
        ),
    )
    add(
        parser.add_argument_group("training (defaults: the published experiment)"),
        options.dataset(
            next(iter(DATASETS)), f"one of: {', '.join(DATASETS)} (default: %(default)s)"
        ),
        *options.shape(),
    )
    options.add_schedule(parser)
    execution = parser.add_argument_group("execution (never changes the results)")
    add(
        execution,
        Option(
            "--max-stack",
            "at most N runs per stack; larger sweeps are cut into chunks (default: as many as "
            "fit in 512 MiB by the memory estimate)",
            integer_option("max stack", minimum=1),
            metavar="N",
        ),
    )
    scheduler, shared_folder = options.scheduler("the sweep's chunks")
    add(
        execution.add_mutually_exclusive_group(),
        Option(
            "--jobs",
            "train chunks in N processes; auto: one per core that other processes leave idle, "
            "when the sweep is big enough to gain from it (default: 1)",
            parse_jobs,
            1,
            "N|auto",
        ),
        scheduler,
    )
    add(
        execution,
        shared_folder,
        options.checkpoint_every(
            "each chunk's state (checkpoints/chunk-<i>.npz in the sweep folder)",
            also=", and so does a chunk that finishes",
        ),
    )
    options.add_output(parser, "results.json and sensitivity.png")


def config_of(args: argparse.Namespace) -> SweepConfig:
    """The sweep the command line asks for; every value checked (``ValueError`` otherwise)."""
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
        schedule=options.schedule_of(args),
        search=args.search,
        samples=20 if args.samples is None else args.samples,
        search_seed=0 if args.search_seed is None else args.search_seed,
    )


def run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    return resume(args, argv, None)


def resume(args: argparse.Namespace, argv: Sequence[str], run_dir: Path | None) -> int:
    """Run (or, with ``run_dir``, continue) a sweep in its folder: lock it, record how it was
    started (``argv``), save chunk checkpoints, stop cleanly on Ctrl-C (exit 130). With
    ``--scheduler`` the chunks go to a Dask cluster; losing its scheduler leaves the folder
    interrupted (exit 1)."""
    from descentlab import datasets
    from descentlab.cli.cluster import cluster_of
    from descentlab.sweep import busy_cores, resolve_jobs
    from descentlab.sweep.plan import check_sweep

    config = config_of(args)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    busy = busy_cores() if args.jobs == "auto" else 0.0
    jobs = resolve_jobs(args.jobs, config, cores or 1, busy)
    dataset = datasets.load(args.dataset)
    config.check_schedule(dataset.n_examples)  # a schedule in steps, before the folder starts
    # The memory estimate, before the folder is claimed: a refusal leaves nothing behind.
    check_sweep(
        config, dataset.n_features, dataset.n_examples, dataset.n_classes, args.max_stack, jobs
    )
    with cluster_of(args, "sweep") as cluster:
        return _in_folder(args, argv, run_dir, config, dataset, jobs, cores, busy, cluster)


def _in_folder(
    args: argparse.Namespace,
    argv: Sequence[str],
    run_dir: Path | None,
    config: SweepConfig,
    dataset: Dataset,
    jobs: int,
    cores: int | None,
    busy: float,
    cluster: Cluster | None,
) -> int:
    """The sweep in its folder, once the cluster (if any) is connected."""
    from descentlab import engines
    from descentlab.cli.interrupt import Advance, shows_progress, train_interruptibly
    from descentlab.cli.parser import EXIT_INTERRUPTED
    from descentlab.cluster.tasks import ClusterLost
    from descentlab.report.tables import describe_training
    from descentlab.runs import RunFolder
    from descentlab.runs.names import CHECKPOINT_DIR, RESULTS_FILE, SENSITIVITY_FILE
    from descentlab.runs.sweep import write_sweep_folder
    from descentlab.sweep import (
        AUTO_MIN_RUN_EPOCHS,
        SweepCheckpoints,
        describe_execution,
        format_table,
        run_sweep,
        summarize,
    )

    engine = engines.resolve()
    folder = RunFolder(
        run_dir if run_dir is not None else args.out,
        "sweep",
        config.to_dict(),
        # The engine in force (``cli.main`` or ``resume`` set it), recorded for ``resume``.
        {"command": "sweep", "argv": list(argv), "cwd": os.getcwd(), "engine": engine},
        resuming=run_dir is not None,
    )
    with folder:
        folder.started()
        shared = False
        if cluster is not None:
            from descentlab.cluster.record import resolve_shared_folder

            shared = resolve_shared_folder(cluster, folder.path, args.shared_folder)

        def train(interrupted: Callable[[], bool], advance: Advance | None) -> SweepOutcome:
            checkpoints = SweepCheckpoints(
                folder.path / CHECKPOINT_DIR,
                every=args.checkpoint_every,
                interrupted=interrupted,
                resume=run_dir is not None,
            )
            return run_sweep(
                config,
                dataset,
                max_stack=args.max_stack,
                jobs=jobs,
                progress=advance,
                checkpoints=checkpoints,
                cluster=cluster,
                shared_folder=shared,
                engine=engine,
            )

        bar = None
        training: Callable[[Callable[[], bool], Advance | None], SweepOutcome] = train
        if shows_progress(args) and cluster is not None:  # chunks finish whole on a cluster
            bar = {"total": len(config.runs), "unit": " runs", "desc": "sweep"}
            training = _counting_runs(train, config.epochs)
        elif shows_progress(args):
            total = len(config.runs) * config.epochs
            bar = {"total": total, "unit": " run-epochs", "unit_scale": True, "desc": "sweep"}
        saved: dict[str, Any] = {}
        if cluster is not None:
            kept = " and the running ones' checkpoints" if shared else ""
            saved["saved"] = lambda _: f"interrupted; the finished chunks{kept} are saved"
        try:
            outcome = train_interruptibly(
                "sweep",
                folder.path,
                training,
                bar=bar,
                on_interrupt=lambda _: folder.interrupted(),
                **saved,
            )
        except ClusterLost as lost:
            folder.interrupted()
            print(
                f"descentlab sweep: lost the Dask scheduler {args.scheduler} ({lost}); the "
                f"finished chunks are kept: continue with 'descentlab resume {folder.path}' "
                "(--scheduler none finishes it here)",
                file=sys.stderr,
            )
            return 1
        if outcome is None:
            return EXIT_INTERRUPTED
        results = write_sweep_folder(folder.path, outcome, dataset)
    for failure in outcome.failures:
        runs = ",".join(str(run) for run in failure.runs)
        print(
            f"descentlab sweep: chunk {failure.index} (runs {runs}) failed: {failure.error}",
            file=sys.stderr,
        )

    def summary() -> str:
        data, batches = describe_training(results)
        lines = [
            f"descentlab sweep: {data}, {batches}; {config.search} search: "
            f"{len(config.configurations)} configurations x {len(config.seeds)} seeds = "
            f"{len(config.runs)} runs\n",
            format_table(summarize(outcome)),
            f"\n{describe_execution(outcome)}",
        ]
        if args.jobs == "auto":
            lines.append(
                f"--jobs auto chose {jobs}: {cores} cores, {busy:.1f} kept busy by other "
                f"processes, {len(config.runs) * config.epochs} run-epochs to train (at least "
                f"{AUTO_MIN_RUN_EPOCHS} per process)"
            )
        files = f"{RESULTS_FILE}, {SENSITIVITY_FILE}, {CHECKPOINT_DIR}/"
        return "\n".join([*lines, options.engine_line(results), f"wrote {folder.path}/: {files}"])

    options.show(args, results, summary)
    return 0


def _counting_runs(
    train: Callable[[Callable[[], bool], Callable[[int], None] | None], SweepOutcome],
    epochs: int,
) -> Callable[[Callable[[], bool], Callable[[int], None] | None], SweepOutcome]:
    """``train`` with its progress in finished runs rather than run-epochs."""

    def counting(interrupted: Callable[[], bool], advance: Callable[[int], None] | None) -> Any:
        if advance is None:
            return train(interrupted, None)
        forward = advance
        return train(interrupted, lambda run_epochs: forward(run_epochs // epochs))

    return counting
