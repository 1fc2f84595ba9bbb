"""``descentlab landscape``: optimizers moving on a 2-D function."""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence

from descentlab.cli.arguments import (
    LearningRates,
    integer_option,
    nonnegative_number,
    parse_landscape,
    parse_learning_rates,
    parse_seed,
    positive_number,
)
from descentlab.cli.options import Option, add, add_output, hyperparameter, optimizers, show

DESCRIPTION = (
    "Run every optimizer from the same start on a 2-D function, through the same optimizer "
    "code the networks train with, and write trajectories.png, trajectories.gif, loss.png and "
    "results.json. Learning rates, start and steps default to the function's own (see the "
    "table in docs/landscapes.md)."
)


def add_options(parser: argparse.ArgumentParser) -> None:
    from descentlab import landscapes

    # "--start -1.5,2": argparse would take the value for an option; values that begin with
    # "-" and a digit are values here (this parser has no options that look like numbers).
    parser._negative_number_matcher = re.compile(r"^-\.?\d")
    add(
        parser,
        Option(
            "--function",
            f"one of: {', '.join(landscapes.names())} (default: %(default)s)",
            parse_landscape,
            "rosenbrock",
            "NAME",
        ),
        optimizers("landscape", ("gd", "momentum", "adam", "rmsprop")),
        Option(
            "--steps",
            "updates per optimizer, >= 1 (default: the function's own)",
            integer_option("steps", minimum=1),
            metavar="N",
        ),
        Option(
            "--start",
            "the starting point (default: the function's own)",
            landscapes.parse_start,
            metavar="X,Y",
        ),
        Option(
            "--learning-rate",
            "one number for all, or per optimizer gd=0.001,adam=0.05; optimizers not named keep "
            "the function's default rate",
            parse_learning_rates,
            metavar="LR",
        ),
        hyperparameter("-H beta=0.5, -H sgd.nesterov=true"),
        Option(
            "--noise",
            "add N(0, SCALE^2) noise to each gradient coordinate, like a mini-batch gradient "
            "(default: 0, exact gradients)",
            nonnegative_number("noise"),
            0.0,
            "SCALE",
        ),
        Option(
            "--noise-seed",
            "seed of the gradient noise; every optimizer sees the same noise (default: 0)",
            parse_seed,
            0,
            "S",
        ),
        Option(
            "--tolerance",
            "steps to tolerance counts updates until the distance to the minimum is at most TOL "
            "(default: %(default)s)",
            positive_number("tolerance"),
            landscapes.TOLERANCE,
            "TOL",
        ),
        Option(
            "--frames",
            "frames of trajectories.gif, >= 1 (default: %(default)s)",
            integer_option("frames", minimum=1),
            60,
            "N",
        ),
    )
    add_output(parser, "results.json and the pictures", progress=False)


def run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Every optimizer on one 2-D function, then the pictures and results.json."""
    from descentlab import budget, landscapes, optim
    from descentlab.cli.interrupt import shows_progress
    from descentlab.report.tables import format_landscape_table
    from descentlab.runs import claimed, default_out_dir, prepare_out_dir
    from descentlab.runs.landscape import write_landscape_folder
    from descentlab.runs.names import (
        LOSS_FILE,
        RESULTS_FILE,
        TRAJECTORIES_ANIMATION_FILE,
        TRAJECTORIES_FILE,
    )

    function = landscapes.get(args.function)
    names = list(args.optimizers)
    given = args.learning_rate if args.learning_rate is not None else LearningRates(None, {})
    fallback = {
        name: given.default if given.default is not None else
        landscapes.default_learning_rate(function, name)
        for name in names
        if name not in given.per_optimizer  # a rate given needs no default
    }  # fmt: skip
    rates = LearningRates(None, {**fallback, **given.per_optimizer}).resolve(names)
    assert isinstance(rates, dict)
    settings = optim.scope_hyperparameters(args.hyperparameter, names)
    optimizers = [
        optim.get(name, learning_rate=rates[name], **settings.get(name, {})) for name in names
    ]
    landscape = (
        function if args.noise == 0 else landscapes.noisy(function, args.noise, args.noise_seed)
    )
    start = function.start if args.start is None else landscapes.check_start(function, args.start)
    steps = args.steps if args.steps is not None else function.steps
    budget.check(budget.landscape_estimate(len(optimizers), steps, args.frames))
    out_dir = prepare_out_dir(args.out if args.out is not None else default_out_dir("landscape"))
    with claimed(out_dir):
        bar = None
        if shows_progress(args):
            from tqdm import tqdm

            bar = tqdm(total=steps * len(optimizers), unit=" steps", unit_scale=True, leave=False)
        try:
            trajectories = landscapes.run_trajectories(
                landscape,
                optimizers,
                start,
                steps,
                tolerance=args.tolerance,
                progress=None if bar is None else bar.update,
            )
        finally:
            if bar is not None:
                bar.close()
        results = write_landscape_folder(
            out_dir,
            function,
            landscape,
            trajectories,
            start=start,
            steps=steps,
            tolerance=args.tolerance,
            frames=args.frames,
        )

    def summary() -> str:
        noise = (
            "" if args.noise == 0 else f", gradient noise {args.noise:g} (seed {args.noise_seed})"
        )
        files = f"{TRAJECTORIES_FILE}, {TRAJECTORIES_ANIMATION_FILE}, {LOSS_FILE}, {RESULTS_FILE}"
        return "\n".join(
            [
                f"descentlab landscape: {function.name}, {function.formula}, start "
                f"({start[0]:g}, {start[1]:g}), {steps} steps{noise}\n",
                format_landscape_table(function, trajectories, rates, args.tolerance),
                f"\nwrote {out_dir}/: {files}",
            ]
        )

    show(args, results, summary)
    return 0
