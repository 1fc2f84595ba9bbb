"""The text tables the commands print: a comparison's runs, a landscape's paths."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from descentlab.experiment import ExperimentConfig
    from descentlab.landscapes import Landscape, Trajectory


def aligned(rows: Sequence[Sequence[str]], right: frozenset[int] = frozenset()) -> str:
    """``rows`` as columns two spaces apart, left-aligned (right-aligned at ``right``)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def format_results_table(results: Mapping[str, object]) -> str:
    """One row per run of a compare or train results document: accuracy per split, final
    cost, oscillation, cost shape (divergence and early stopping) and seconds."""
    runs = results["runs"]
    assert isinstance(runs, list)
    held_out = [name for name in ("validation", "test") if f"{name}_accuracy" in runs[0]]
    header = (
        "optimizer",
        "train accuracy",
        *(f"{name} accuracy" for name in held_out),
        "final cost",
        "oscillation",
        "cost shape",
        "seconds",
    )
    rows = [header]
    for run in runs:
        accuracy = (
            f"{100 * run['train_accuracy']:.1f}% ({run['train_correct']}/{run['n_examples']})"
        )
        extra = [f"{100 * run[f'{name}_accuracy']:.1f}%" for name in held_out]
        final = "n/a" if run["final_cost"] is None else f"{run['final_cost']:.6f}"
        # results.json's null (the cost never decreased): the table says so as it says it of
        # the final cost, not "inf", which no document holds.
        index = "n/a" if run["oscillation"] is None else f"{run['oscillation']:.3f}"
        shape = run["cost_shape"]
        if run["status"] == "diverged":
            shape = f"diverged at epoch {run['diverged_epoch']}"
        stopping = run.get("early_stopping")
        if stopping and stopping["stopped_epoch"] is not None:
            shape += f", stopped at {stopping['stopped_epoch']} (best {stopping['best_epoch']})"
        rows.append(
            (str(run["optimizer"]), accuracy, *extra, final, index, shape, f"{run['seconds']:.1f}")
        )
    return aligned(rows, right=frozenset({2 + len(held_out), 3 + len(held_out), 5 + len(held_out)}))


def describe_training(results: Mapping[str, object]) -> tuple[str, str]:
    """The data and the network of a results document, then its batches and epochs:
    "moons (300 examples), layers [2, 5, 2, 1]" and "batch 64, 10000 epochs"."""
    dataset, config = results["dataset"], results["config"]
    assert isinstance(dataset, Mapping) and isinstance(config, Mapping)
    batch = "full" if config["batch_size"] is None else config["batch_size"]
    return (
        f"{dataset['name']} ({dataset['n_examples']} examples), layers {config['layers']}",
        f"batch {batch}, {config['epochs']} epochs",
    )


def describe_rates(config: ExperimentConfig) -> str:
    """The learning rates and schedule of ``config`` in words: "learning rate 0.0007", or
    per optimizer, then the schedule's settings."""
    if isinstance(config.learning_rate, Mapping):
        rates = "learning rates " + ", ".join(f"{k}={v:g}" for k, v in config.learning_rate.items())
    else:
        rates = f"learning rate {config.learning_rate:g}"
    spec = config.schedule
    if spec.is_constant:
        return rates
    details = ", ".join(
        f"{k.replace('_', ' ')} {v:g}" if isinstance(v, float) else f"{k} {v}"
        for k, v in spec.to_dict().items()
        if k not in ("name", "unit")
    )
    return f"{rates}, {spec.name} schedule per {spec.unit} ({details})"


def format_landscape_table(
    function: Landscape,
    trajectories: Sequence[Trajectory],
    rates: Mapping[str, float],
    tolerance: float,
) -> str:
    """One row per optimizer's path: its rate, where it ended, when it got within
    ``tolerance`` and whether it diverged."""
    from descentlab.report.trajectories import describe_distance

    target = "distance to minimum" if function.has_minimum else "distance to saddle"
    rows = [("optimizer", "learning rate", target, f"steps to {tolerance:g}", "status")]
    for trajectory in trajectories:
        distance = describe_distance(function, trajectory).split(" from ")[0]
        reached = trajectory.steps_to_tolerance
        rows.append(
            (
                trajectory.optimizer,
                f"{rates[trajectory.optimizer]:g}",
                distance if trajectory.status == "finished" else "-",
                "-" if reached is None else str(reached),
                trajectory.status
                if trajectory.status == "finished"
                else f"diverged at step {trajectory.diverged_step}",
            )
        )
    return aligned(rows)
