"""The folder of ``compare`` and ``train``: each optimizer's histories and parameters, the
pictures, report.html, the model file of ``train --save``, then results.json (last,
atomically): a results.json that says "finished" vouches for every other file."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from descentlab.atomic import write_atomic, write_text_atomic
from descentlab.datasets import Dataset
from descentlab.experiment import ExperimentConfig, PreparedData, RunOutcome, prepare_data
from descentlab.history import COST_EVERY
from descentlab.metrics import OSCILLATION_THRESHOLD
from descentlab.runs.folder import write_results
from descentlab.runs.header import (
    dataset_record,
    engine_record,
    finite_or_none,
    results_header,
)
from descentlab.runs.names import (
    CONFUSION_MATRICES_FILE,
    COST_CURVES_FILE,
    DECISION_BOUNDARIES_FILE,
    EPOCH_COSTS_FILE,
    LEARNING_RATES_FILE,
    MINIBATCH_COSTS_FILE,
    PARAMS_FILE,
    REPORT_FILE,
    WEIGHT_PATHS_FILE,
    optimizer_file,
)
from descentlab.train import DIVERGENCE_FACTOR


def run_record(
    outcome: RunOutcome, files: dict[str, str], config: ExperimentConfig
) -> dict[str, object]:
    """One entry of results.json's ``runs`` list."""
    history = outcome.result.history
    hyperparameters = dict(outcome.optimizer.hyperparameters)
    hyperparameters["learning_rate"] = config.learning_rate_for(outcome.optimizer.name)
    return {
        "optimizer": outcome.optimizer.name,
        "hyperparameters": hyperparameters,
        "status": "finished" if outcome.result.diverged_epoch is None else "diverged",
        "diverged_epoch": outcome.result.diverged_epoch,
        "diverged_cause": _divergence_cause(outcome),
        "train_accuracy": outcome.train_accuracy,
        "train_correct": outcome.train_correct,
        "n_examples": outcome.n_examples,
        "final_cost": finite_or_none(outcome.final_cost),
        "epochs": history.epochs,
        "batches_per_epoch": history.batches_per_epoch,
        "cost_every": COST_EVERY,
        "costs": [finite_or_none(float(c)) for c in history.costs_every(COST_EVERY)],
        "learning_rates": [float(r) for r in outcome.learning_rates[::COST_EVERY]],
        "oscillation": finite_or_none(outcome.oscillation),
        "oscillation_threshold": OSCILLATION_THRESHOLD,
        "cost_shape": outcome.cost_shape,
        "seconds": outcome.seconds,
        **_held_out_record(outcome),
        **files,
    }


def _divergence_cause(outcome: RunOutcome) -> str | None:
    epoch = outcome.result.diverged_epoch
    if epoch is None:
        return None
    cost = float(outcome.result.history.epoch_costs[epoch])
    if not math.isfinite(cost):
        return f"the epoch cost became {cost} (NaN or infinite)"
    return f"the epoch cost ({cost:.4g}) rose above {DIVERGENCE_FACTOR:g} times its initial value"


def _held_out_record(outcome: RunOutcome) -> dict[str, object]:
    """Accuracy per split, confusion matrices, validation curves and early stopping."""
    record: dict[str, object] = {
        f"{name}_accuracy": value for name, value in outcome.accuracies.items() if name != "train"
    }
    record["confusion_matrices"] = {
        name: matrix.tolist() for name, matrix in outcome.confusion.items()
    }
    if outcome.validation_costs is not None and outcome.validation_accuracies is not None:
        record["validation_costs"] = [
            finite_or_none(float(c)) for c in outcome.validation_costs[::COST_EVERY]
        ]
        record["validation_accuracies"] = [
            float(a) for a in outcome.validation_accuracies[::COST_EVERY]
        ]
    if outcome.best_epoch is not None:
        record["early_stopping"] = {
            "stopped_epoch": outcome.stopped_epoch,
            "best_epoch": outcome.best_epoch,
            "reason": (
                "patience ran out: no better validation cost since the best epoch"
                if outcome.stopped_epoch is not None
                else "ran every epoch; kept the best validation epoch"
            ),
        }
    return record


def results_dict(
    command: str,
    config: ExperimentConfig,
    dataset: Dataset,
    outcomes: Sequence[RunOutcome],
    files: Sequence[dict[str, str]],
    data: PreparedData | None = None,
) -> dict[str, object]:
    """The whole results.json document (its keys are a contract other tools read)."""
    return {
        **results_header(command),
        "dataset": dataset_record(dataset, data),
        "config": {
            **config.to_dict(),
            "layers": list(config.network(dataset.n_features, dataset.n_classes).layer_sizes),
        },
        "runs": [run_record(o, f, config) for o, f in zip(outcomes, files, strict=True)],
        # One stack trains every run, so the first run's engine is the stack's.
        "engine": engine_record(
            outcomes[0].engine if outcomes else "numpy",
            [name for outcome in outcomes for name in outcome.numpy_updates],
        ),
    }


def _save_npy(path: Path, array: np.ndarray) -> None:
    write_atomic(path, lambda f: np.save(f, array, allow_pickle=False))


def write_run_folder(
    out_dir: Path,
    command: str,
    config: ExperimentConfig,
    dataset: Dataset,
    outcomes: Sequence[RunOutcome],
    data: PreparedData | None = None,
    *,
    model_path: Path | None = None,
    parallel_pictures: bool = False,
) -> dict[str, object]:
    """Write every file of a finished run into ``out_dir``; return the results document.

    Per optimizer: ``<name>-epoch-costs.npy``, ``<name>-minibatch-costs.npy`` and
    ``<name>-params.npy`` (the flat parameter buffer). Then cost_curves.png (with the
    validation cost when there is a validation split), learning_rates.png (with a schedule),
    decision_boundaries.png (2-D data only), confusion_matrices.png, report.html, with
    ``model_path`` the model file of the first run (``train --save``) and, last,
    results.json: a process killed before that last write leaves a run that says "running"
    and that ``descentlab resume`` completes, never a "finished" one missing a file. With
    ``parallel_pictures`` the pictures are drawn on two cores where that pays
    (``report.drawing``; the command line's choice: it forks).
    """
    from descentlab.report.charts import COST_CAPTION, LEARNING_RATE_CAPTION, report_charts
    from descentlab.report.drawing import Picture, draw_pictures
    from descentlab.report.html import render_html
    from descentlab.report.plots import (
        plot_confusion_matrices,
        plot_cost_curves,
        plot_decision_boundaries,
        plot_learning_rates,
    )

    out_dir = Path(out_dir)
    files = []
    for outcome in outcomes:
        name = outcome.optimizer.name
        history = outcome.result.history
        names = {
            "epoch_costs_file": optimizer_file(EPOCH_COSTS_FILE, name),
            "minibatch_costs_file": optimizer_file(MINIBATCH_COSTS_FILE, name),
            "params_file": optimizer_file(PARAMS_FILE, name),
        }
        _save_npy(out_dir / names["epoch_costs_file"], history.epoch_costs)
        _save_npy(out_dir / names["minibatch_costs_file"], history.minibatch_costs)
        _save_npy(out_dir / names["params_file"], outcome.result.params)
        files.append(names)

    data = prepare_data(config, dataset) if data is None else data
    network = config.network(dataset.n_features, dataset.n_classes)
    images = {COST_CAPTION: out_dir / COST_CURVES_FILE}
    # The pictures are drawn after the images are named, the heaviest (the decision boundaries,
    # a forward pass over a grid per optimizer) first: drawing.draw_pictures may fork it off.
    pictures: list[Picture] = [lambda: plot_cost_curves(out_dir / COST_CURVES_FILE, outcomes)]
    if not config.schedule.is_constant:
        images[LEARNING_RATE_CAPTION] = out_dir / LEARNING_RATES_FILE
        pictures.append(lambda: plot_learning_rates(out_dir / LEARNING_RATES_FILE, outcomes))
    if dataset.n_features == 2:
        images["Decision boundaries"] = out_dir / DECISION_BOUNDARIES_FILE
        pictures.insert(
            0,
            lambda: plot_decision_boundaries(
                out_dir / DECISION_BOUNDARIES_FILE, network, outcomes, data.train
            ),
        )
    projection = None
    if all(outcome.weight_path is not None for outcome in outcomes):
        from descentlab.report.weight_paths import plot_weight_paths, project_paths

        images["Weight paths (a projection onto two principal directions)"] = (
            out_dir / WEIGHT_PATHS_FILE
        )
        pictures.append(lambda: plot_weight_paths(out_dir / WEIGHT_PATHS_FILE, outcomes))
        _, explained = project_paths([o.weight_path for o in outcomes])  # type: ignore[misc]
        projection = {
            "file": WEIGHT_PATHS_FILE,
            "snapshots": int(outcomes[0].weight_path.shape[0]),  # type: ignore[union-attr]
            "explained_variance": [float(v) for v in explained],
        }
    images["Confusion matrices"] = out_dir / CONFUSION_MATRICES_FILE
    pictures.append(
        lambda: plot_confusion_matrices(
            out_dir / CONFUSION_MATRICES_FILE, outcomes, dataset.classes
        )
    )
    draw_pictures(pictures, parallel=parallel_pictures)

    results = results_dict(command, config, dataset, outcomes, files, data)
    if projection is not None:
        results["weight_path_projection"] = projection
    charts = report_charts(outcomes, learning_rates=not config.schedule.is_constant)
    write_text_atomic(out_dir / REPORT_FILE, render_html(results, images, charts))
    if model_path is not None:
        from descentlab.runs.model import save_model

        save_model(model_path, config, dataset, data, outcomes[0])
    write_results(out_dir, results)
    return results
