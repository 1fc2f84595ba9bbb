"""Measure the benchmark suite's epoch budgets and targets (issue 15); a record, not a tuner.

    python tools/benchmark_budgets.py PROBLEM [EPOCHS ...]   # e.g. moons 100 300 1000

For a data problem, prints the mean validation accuracy over seeds 0, 1, 2 of gd,
momentum and adam after each number of epochs, at descentlab's default learning rate 0.0007
and at 9 rates log-spaced from 1e-4 to 1 (one ``train_stack`` stack per optimizer). For the
noisy quadratic, prints the median over seeds 0..4 of the validation ``stochastic_loss`` after
EPOCHS steps at 0.0007 and 7 rates log-spaced from 1e-3 to 1 (inf: diverged). The suite's
budgets and targets in ``descentlab.benchmark.problems`` were read off this output: a tuned
classic optimizer reaches the target within the budget, the default rate does not. Never
change a budget to make the benchmark faster.
"""

from __future__ import annotations

import sys

import numpy as np

from descentlab import landscapes, optim
from descentlab.benchmark.problems import SUITES, Problem, noise_seeds, stochastic_loss
from descentlab.nn import predict_classes
from descentlab.splits import Splits
from descentlab.train import RunGroup, train_stack

DEFAULT_RATE = 0.0007
OPTIMIZERS = ("gd", "momentum", "adam")


def data_problem(problem: Problem, epoch_counts: list[int]) -> None:
    parts = problem.prepare()
    assert isinstance(parts, Splits) and parts.validation is not None
    network = problem.network(parts.train)
    rates = [DEFAULT_RATE, *np.logspace(-4, 0, 9)]
    seeds = [0, 1, 2]
    for name in OPTIMIZERS:
        groups = [
            RunGroup(optim.get(name, learning_rate=np.full((len(seeds), 1), rate)), len(seeds))
            for rate in rates
        ]
        for epochs in epoch_counts:
            result = train_stack(
                network,
                parts.train.X,
                parts.train.Y,
                groups,
                init_seeds=seeds * len(groups),
                shuffle_seeds=seeds * len(groups),
                epochs=epochs,
                batch_size=problem.batch_size,
            )
            predicted = predict_classes(network, result.params, parts.validation.X)
            accuracy = (predicted == parts.validation.labels).mean(axis=-1)
            means = accuracy.reshape(len(rates), len(seeds)).mean(axis=1)
            pairs = zip(rates, means, strict=True)
            cells = " ".join(f"{rate:.0e}:{mean:.3f}" for rate, mean in pairs)
            print(problem.name, name, epochs, cells, flush=True)


def stochastic_problem(problem: Problem, epoch_counts: list[int]) -> None:
    assert problem.landscape is not None
    base = landscapes.get(problem.landscape)
    rates = [DEFAULT_RATE, *np.logspace(-3, 0, 7)]
    for name in OPTIMIZERS:
        for epochs in epoch_counts:
            cells = []
            for rate in rates:
                losses = []
                for seed in range(5):
                    path = landscapes.run_trajectory(
                        problem.noisy_landscape(seed),
                        optim.get(name, learning_rate=rate),
                        base.start,
                        epochs,
                    )
                    validation = noise_seeds(seed).validation
                    loss = stochastic_loss(base, problem.noise_scale, path.final_point, validation)
                    losses.append(float(loss) if path.status == "finished" else np.inf)
                cells.append(f"{rate:.0e}:{np.median(losses):.3g}")
            print(problem.name, name, epochs, " ".join(cells), flush=True)


def main(argv: list[str]) -> None:
    problem = {p.name: p for p in SUITES["small"]}[argv[0]]
    epoch_counts = [int(e) for e in argv[1:]] or [problem.epochs]
    if problem.is_stochastic:
        stochastic_problem(problem, epoch_counts)
    else:
        data_problem(problem, epoch_counts)


if __name__ == "__main__":
    main(sys.argv[1:])
