"""A sweep's folder: sensitivity.png, then results.json (last, atomically)."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import math
from pathlib import Path

from descentlab import __version__
from descentlab.atomic import write_text_atomic
from descentlab.datasets import Dataset
from descentlab.run_folder import COST_EVERY, RESULTS_FILE
from descentlab.sweep.engine import RunResult, SweepOutcome
from descentlab.sweep.summary import Stats, Summary, best_per_optimizer, summarize

SENSITIVITY_FILE = "sensitivity.png"


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _stats(stats: Stats | None) -> dict[str, float | None] | None:
    return None if stats is None else dataclasses.asdict(stats)


def run_record(run: RunResult) -> dict[str, object]:
    """One entry of results.json's ``runs``: accuracy is null for a diverged run."""
    finished = run.status == "finished"
    return {
        "optimizer": run.configuration.optimizer,
        "configuration": run.configuration.index,
        "hyperparameters": dict(run.configuration.hyperparameters),
        "seed": run.spec.seed,
        "status": run.status,
        "diverged_epoch": run.diverged_epoch,
        "final_cost": _finite_or_none(run.final_cost),
        "train_accuracy": run.train_accuracy if finished else None,
        "train_correct": run.train_correct if finished else None,
        "cost_every": COST_EVERY,
        "costs": [_finite_or_none(float(cost)) for cost in run.costs],
    }


def summary_record(summary: Summary) -> dict[str, object]:
    """One entry of results.json's ``summary`` (and of ``best``)."""
    configuration = summary.configuration
    return {
        "optimizer": configuration.optimizer,
        "configuration": configuration.index,
        "settings": dict(configuration.settings),
        "hyperparameters": dict(configuration.hyperparameters),
        "seeds": summary.seeds,
        "finished": summary.seeds - summary.diverged,
        "diverged": summary.diverged,
        "final_cost": _stats(summary.final_cost),
        "train_accuracy": _stats(summary.train_accuracy),
    }


def results_dict(outcome: SweepOutcome, dataset: Dataset) -> dict[str, object]:
    """The whole results.json document of a sweep."""
    summaries = summarize(outcome)
    execution = outcome.execution
    layers = outcome.config.network(dataset.n_features, dataset.Y.shape[0]).layer_sizes
    return {
        "descentlab_version": __version__,
        "command": "sweep",
        "status": "finished",
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "dataset": {
            "name": dataset.name,
            "n_features": dataset.n_features,
            "n_examples": dataset.n_examples,
            **dataset.params,
        },
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
        },
    }


def write_sweep_folder(out_dir: Path, outcome: SweepOutcome, dataset: Dataset) -> dict[str, object]:
    """Write sensitivity.png, then results.json (last, atomically); return the document."""
    from descentlab.report.sweep_plots import plot_sensitivity

    out_dir = Path(out_dir)
    plot_sensitivity(out_dir / SENSITIVITY_FILE, summarize(outcome))
    results = results_dict(outcome, dataset)
    text = json.dumps(results, indent=2, allow_nan=False) + "\n"
    write_text_atomic(out_dir / RESULTS_FILE, text)
    return results
