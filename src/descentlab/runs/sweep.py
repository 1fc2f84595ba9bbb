"""A sweep's folder: sensitivity.png, then results.json (last, atomically)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from descentlab.datasets import Dataset
from descentlab.history import COST_EVERY
from descentlab.runs.folder import write_results
from descentlab.runs.header import (
    dataset_record,
    engine_record,
    finite_or_none,
    results_header,
)
from descentlab.runs.names import SENSITIVITY_FILE
from descentlab.sweep import RunResult, Stats, Summary, SweepOutcome, best_per_optimizer, summarize


def _stats(stats: Stats | None) -> dict[str, float | None] | None:
    return None if stats is None else dataclasses.asdict(stats)


def run_record(run: RunResult) -> dict[str, object]:
    """One entry of results.json's ``runs``: accuracy is null for a diverged run; a failed
    run (its chunk raised on a cluster) has no numbers and its ``error``."""
    finished = run.status == "finished"
    record: dict[str, object] = {
        "optimizer": run.configuration.optimizer,
        "configuration": run.configuration.index,
        "hyperparameters": dict(run.configuration.hyperparameters),
        "seed": run.spec.seed,
        "status": run.status,
        "diverged_epoch": run.diverged_epoch,
        "final_cost": finite_or_none(run.final_cost),
        "train_accuracy": run.train_accuracy if finished else None,
        "train_correct": run.train_correct if finished else None,
        "cost_every": COST_EVERY,
        "costs": [finite_or_none(float(cost)) for cost in run.costs],
    }
    if run.error is not None:
        record["error"] = run.error
    return record


def summary_record(summary: Summary) -> dict[str, object]:
    """One entry of results.json's ``summary`` (and of ``best``)."""
    configuration = summary.configuration
    return {
        "optimizer": configuration.optimizer,
        "configuration": configuration.index,
        "settings": dict(configuration.settings),
        "hyperparameters": dict(configuration.hyperparameters),
        "seeds": summary.seeds,
        "finished": summary.seeds - summary.diverged - summary.failed,
        "diverged": summary.diverged,
        "failed": summary.failed,
        "final_cost": _stats(summary.final_cost),
        "train_accuracy": _stats(summary.train_accuracy),
    }


def results_dict(outcome: SweepOutcome, dataset: Dataset) -> dict[str, object]:
    """The whole results.json document of a sweep (``cluster`` only when it ran on one)."""
    summaries = summarize(outcome)
    execution = outcome.execution
    layers = outcome.config.network(dataset.n_features, dataset.n_classes).layer_sizes
    return {
        **results_header("sweep"),
        "dataset": dataset_record(dataset),
        "config": {**outcome.config.to_dict(), "layers": list(layers)},
        "runs": [run_record(run) for run in outcome.runs],
        "summary": [summary_record(summary) for summary in summaries],
        "best": {
            name: None if best is None else summary_record(best)
            for name, best in best_per_optimizer(summaries).items()
        },
        "execution": {
            "stacks": execution.stacks,
            "processes": execution.processes,
            "seconds": round(execution.seconds, 3),
            "max_stack": execution.max_stack,
            "bytes_per_run": execution.bytes_per_run,
            "on": "cluster workers" if execution.cluster else "processes",
        },
        "engine": engine_record(outcome.engine, outcome.numpy_updates),
        **({} if outcome.cluster is None else {"cluster": dict(outcome.cluster)}),
    }


def write_sweep_folder(out_dir: Path, outcome: SweepOutcome, dataset: Dataset) -> dict[str, object]:
    """Write sensitivity.png, then results.json (last, atomically); return the document."""
    from descentlab.report.sweep_plots import plot_sensitivity

    out_dir = Path(out_dir)
    plot_sensitivity(out_dir / SENSITIVITY_FILE, summarize(outcome))
    results = results_dict(outcome, dataset)
    write_results(out_dir, results)
    return results
