"""What ``compare`` and ``train`` share: the experiment the options describe, its run folder,
and the printout."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from descentlab import checkpoint, engines, optim
from descentlab.atomic import remove_temporaries_of
from descentlab.checkpoint import check_same_run
from descentlab.cli.arguments import (
    LearningRates,
    decay,
    integer_option,
    nonnegative_number,
    parse_learning_rates,
    parse_seed,
)
from descentlab.cli.data import add_data, load_data
from descentlab.cli.interrupt import Advance, shows_progress, train_interruptibly
from descentlab.cli.options import (
    EPS_INSIDE_SQRT,
    Option,
    add,
    add_output,
    add_schedule,
    checkpoint_every,
    engine_line,
    hyperparameter,
    schedule_of,
    shape,
    show,
)
from descentlab.cli.parser import EXIT_INTERRUPTED
from descentlab.datasets import Dataset
from descentlab.experiment import (
    Checkpointing,
    ExperimentConfig,
    PreparedData,
    RunOutcome,
    prepare_data,
    run_experiment,
)
from descentlab.report.tables import describe_rates, describe_training, format_results_table
from descentlab.runs import RunFolder, read_results
from descentlab.runs.model import check_save_path
from descentlab.runs.names import COST_CURVES_FILE, REPORT_FILE, RESULTS_FILE
from descentlab.runs.training import write_run_folder
from descentlab.train import TrainingInterrupted


def add_training(parser: argparse.ArgumentParser, command: str) -> None:
    """Every option of ``compare`` and ``train`` but the optimizer choice: training, optimizer
    hyperparameters, schedule, data and output."""
    from descentlab import optim

    adam_family = ", ".join(optim.names_with("beta1", command))
    add(
        parser.add_argument_group("training (defaults: the published experiment)"),
        *shape(),
        Option(
            "--learning-rate",
            "step size, > 0: one number for every optimizer, or per optimizer as "
            "gd=0.1,momentum=0.1,adam=0.01 (a bare number sets the rest) (default: 0.0007)",
            parse_learning_rates,
            LearningRates(0.0007, {}),
            "LR",
        ),
        Option(
            "--seed",
            "0 is the course's protocol (init RandomState(3), epoch e shuffled with "
            "RandomState(11 + e)); any other value derives both streams from it (default: 0)",
            parse_seed,
            0,
        ),
    )
    add(
        parser.add_argument_group("optimizer hyperparameters"),
        Option(
            "--beta", "momentum's averaging coefficient, in [0, 1) (default: 0.9)", decay("beta")
        ),
        Option(
            "--beta1",
            f"first-moment coefficient of {adam_family}, in [0, 1) (default: 0.9)",
            decay("beta1"),
        ),
        Option(
            "--beta2",
            f"second-moment coefficient of {adam_family}, in [0, 1) (default: 0.999)",
            decay("beta2"),
        ),
        Option(
            "--epsilon",
            "epsilon of every chosen optimizer that has one, >= 0 (default: each optimizer's "
            "own, 1e-8 for adam)",
            nonnegative_number("epsilon"),
        ),
        EPS_INSIDE_SQRT,
        hyperparameter(
            "-H momentum=0.9 sets it for every chosen optimizer that has it, -H sgd.nesterov=true "
            "for one, -H lookahead:adam.beta1=0.8 for a wrapper chain's (its inner's or its "
            "own); VALUE is a number or true/false (docs/optimizers.md lists each optimizer's "
            "keywords)"
        ),
    )
    add_schedule(parser)
    add_data(parser)
    add(
        add_output(parser, "results.json, plots and report.html"),
        Option(
            "--weight-paths",
            "record every run's weights every EVERY epochs and draw their paths projected onto "
            "the two principal directions of all of them (weight_paths.png; 0: off; default: 0)",
            integer_option("weight paths", minimum=0),
            0,
            "EVERY",
        ),
        checkpoint_every("a checkpoint (checkpoint.npz in the run folder)", also=" one"),
    )


def config_of(args: argparse.Namespace, names: tuple[str, ...]) -> ExperimentConfig:
    """The experiment the options describe, training the optimizers ``names``."""
    return ExperimentConfig(
        optimizers=names,
        learning_rate=args.learning_rate.resolve(names),
        hyperparameters=optim.scope_hyperparameters(args.hyperparameter, names),
        schedule=schedule_of(args),
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


def run_training(
    args: argparse.Namespace,
    argv: Sequence[str],
    names: tuple[str, ...],
    resume_dir: Path | None = None,
) -> int:
    """Train ``names`` as the options say (continuing the run in ``resume_dir``), write the
    run folder and print the table; exit 130 when Ctrl-C stops it."""
    config = config_of(args, names)
    dataset = load_data(args)
    data = prepare_data(config, dataset)
    save = getattr(args, "save", None)
    check_save_path(save)
    check_before_claiming(args, config, dataset, data)
    resuming = resume_dir is not None
    fingerprint = checkpoint.data_fingerprint(dataset)
    # The engine in force (``cli.main`` or ``resume`` set it), recorded for ``resume``.
    started = {"command": args.command, "argv": list(argv), "cwd": os.getcwd()}
    folder = RunFolder(
        resume_dir if resuming else args.out,
        args.command,
        config.to_dict(),
        {**started, "data": fingerprint, "engine": engines.resolve()},
        resuming=resuming,
    )
    with folder:
        if not resuming:
            folder.started()
        # Killed before its first checkpoint, a run starts again from epoch 0, on the data it
        # started with (the checkpoint's record is checked by ``checkpoint.load``).
        resume = resuming and folder.checkpoint.exists()
        if resuming and save is not None:  # what a process killed writing the model left
            remove_temporaries_of(save)
        if resuming and not resume:
            recorded = (read_results(folder.path) or {}).get("run")
            if isinstance(recorded, dict) and "data" in recorded:
                check_same_run(folder.path / RESULTS_FILE, recorded, {"data": fingerprint})

        def train(interrupted: Callable[[], bool], advance: Advance | None) -> list[RunOutcome]:
            return run_experiment(
                config,
                dataset,
                None if advance is None else lambda epoch, costs: advance(1),
                data=data,
                checkpointing=Checkpointing(
                    folder.checkpoint, args.checkpoint_every, interrupted, folder.run, resume
                ),
                path_every=args.weight_paths,
            )

        def record(interrupted: TrainingInterrupted) -> None:
            folder.interrupted(epochs_done=interrupted.epochs_done)

        bar = None
        if shows_progress(args):
            bar = {"total": config.epochs, "unit": "epoch", "desc": ",".join(names), "miniters": 50}
        outcomes = train_interruptibly(
            args.command, folder.path, train, bar=bar, on_interrupt=record
        )
        if outcomes is None:
            return EXIT_INTERRUPTED
        # The model is written before results.json says "finished" (write_run_folder).
        results = write_run_folder(
            folder.path, args.command, config, dataset, outcomes, data, model_path=save,
            parallel_pictures=True,
        )  # fmt: skip

    def summary() -> str:
        data, batches = describe_training(results)
        lines = [
            f"descentlab {args.command}: {data}, {describe_rates(config)}, {batches}\n",
            format_results_table(results),
        ]
        if len(names) > 1:
            total = sum(outcome.seconds for outcome in outcomes)
            lines.append(
                f"\n{len(names)} runs trained together as one stack in {total:.1f} s; "
                "seconds is each run's share"
            )
        files = f"{RESULTS_FILE}, {REPORT_FILE}, {COST_CURVES_FILE} and more"
        return "\n".join([*lines, f"\n{engine_line(results)}", f"wrote {folder.path}/: {files}"])

    show(args, results, summary)
    return 0


def check_before_claiming(
    args: argparse.Namespace, config: ExperimentConfig, dataset: Dataset, data: PreparedData
) -> None:
    """What must hold before the run folder is claimed, so that a refusal leaves nothing
    behind: the memory estimate (``descentlab.budget``) and, with ``--save``, every property
    the model file will hold (``runs.model.check_saveable``)."""
    from descentlab import budget
    from descentlab.runs.model import check_saveable

    budget.check(
        budget.experiment_estimate(
            config, dataset.n_features, dataset.n_examples, dataset.n_classes, args.weight_paths
        )
    )
    check_saveable(getattr(args, "save", None), config, dataset, data)
