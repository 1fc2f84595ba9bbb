"""The run folder a command writes: results.json, cost histories, pictures, report.html.

``results.json`` is written last and atomically, so a folder whose results.json says
``"status": "finished"`` holds a complete run and nothing else looks like one.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from descentlab import __version__
from descentlab.atomic import write_atomic, write_text_atomic
from descentlab.datasets import Dataset
from descentlab.experiment import ExperimentConfig, PreparedData, RunOutcome, prepare_data
from descentlab.metrics import OSCILLATION_THRESHOLD
from descentlab.train import DIVERGENCE_FACTOR

COST_EVERY = 100
"""results.json keeps the epoch cost every 100 epochs, as the course's ``costs`` list does."""

RESULTS_FILE = "results.json"


def default_out_dir(command: str, root: Path = Path("runs")) -> Path:
    """``runs/<command>-<YYYYmmdd-HHMMSS>``, with a numeric suffix if that already exists."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = root / f"{command}-{stamp}"
    suffix = 2
    while candidate.exists():
        candidate = root / f"{command}-{stamp}-{suffix}"
        suffix += 1
    return candidate


LOCK_FILE = ".descentlab.lock"


def read_status(out_dir: Path) -> str | None:
    """The ``status`` field of ``out_dir``'s results.json, or None without a readable one."""
    try:
        document = json.loads((Path(out_dir) / RESULTS_FILE).read_text())
    except (OSError, ValueError):
        return None
    status = document.get("status") if isinstance(document, dict) else None
    return status if isinstance(status, str) else None


def prepare_out_dir(out_dir: Path, *, resuming: bool = False) -> Path:
    """Create ``out_dir`` and prove it is writable, before any training starts.

    Raises ``ValueError`` (one line, naming the folder) when it cannot be created or written,
    or when it already holds a run's results.json (unless ``resuming`` an unfinished one).
    """
    out_dir = Path(out_dir)
    status = read_status(out_dir)
    if (out_dir / RESULTS_FILE).exists() and not resuming:
        if status in ("running", "interrupted"):
            raise ValueError(
                f"--out {str(out_dir)!r} holds an unfinished run (status {status}); continue it "
                f"with: descentlab resume {out_dir}"
            )
        raise ValueError(
            f"--out {str(out_dir)!r} already holds a run ({RESULTS_FILE}); "
            "choose a new folder or remove it"
        )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ValueError(f"--out {str(out_dir)!r} is not a writable folder: {reason}") from None
    return out_dir


class FolderLock:
    """An exclusive claim on a run folder: ``.descentlab.lock`` holding the owner's pid,
    created with O_EXCL. A lock whose process is gone (killed) is taken over."""

    def __init__(self, out_dir: Path) -> None:
        self.path = Path(out_dir) / LOCK_FILE

    def __enter__(self) -> FolderLock:
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = self._owner()
                if owner is not None and _alive(owner):
                    raise ValueError(
                        f"{self.path.parent}: another descentlab process (pid {owner}) is "
                        "writing to this folder"
                    ) from None
                self.path.unlink(missing_ok=True)  # left by a process that was killed
                continue
            with os.fdopen(fd, "w") as f:
                f.write(str(os.getpid()))
            return self
        raise ValueError(f"{self.path.parent}: could not claim the folder")

    def __exit__(self, *exc: object) -> None:
        self.path.unlink(missing_ok=True)

    def _owner(self) -> int | None:
        try:
            return int(self.path.read_text().strip())
        except (OSError, ValueError):
            return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_status(out_dir: Path, document: dict[str, object]) -> None:
    """Write a results.json that is not (yet) a finished run's, atomically."""
    write_text_atomic(Path(out_dir) / RESULTS_FILE, json.dumps(document, indent=2) + "\n")


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


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
        "final_cost": _finite_or_none(outcome.final_cost),
        "epochs": history.epochs,
        "batches_per_epoch": history.batches_per_epoch,
        "cost_every": COST_EVERY,
        "costs": [_finite_or_none(float(c)) for c in history.costs_every(COST_EVERY)],
        "learning_rates": [float(r) for r in outcome.learning_rates[::COST_EVERY]],
        "oscillation": _finite_or_none(outcome.oscillation),
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
            _finite_or_none(float(c)) for c in outcome.validation_costs[::COST_EVERY]
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
    splits = (
        {}
        if data is None
        else {
            "splits": {name: part.n_examples for name, part in data.named().items()},
            "scaling": data.scaling,
        }
    )
    return {
        "descentlab_version": __version__,
        "command": command,
        "status": "finished",
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "dataset": {
            "name": dataset.name,
            "n_features": dataset.n_features,
            "n_examples": dataset.n_examples,
            "n_classes": dataset.n_classes,
            "classes": list(dataset.classes),
            "feature_names": list(dataset.feature_names),
            **dataset.params,
            **splits,
        },
        "config": {
            **config.to_dict(),
            "layers": list(config.network(dataset.n_features, dataset.n_classes).layer_sizes),
        },
        "runs": [run_record(o, f, config) for o, f in zip(outcomes, files, strict=True)],
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
) -> dict[str, object]:
    """Write every file of a finished run into ``out_dir``; return the results document.

    Per optimizer: ``<name>-epoch-costs.npy``, ``<name>-minibatch-costs.npy`` and
    ``<name>-params.npy`` (the flat parameter buffer). Then cost_curves.png (with the
    validation cost when there is a validation split), learning_rates.png (with a schedule),
    decision_boundaries.png (2-D data only), confusion_matrices.png, report.html and, last,
    results.json.
    """
    from descentlab.report.html import render_html
    from descentlab.report.plots import (
        plot_confusion_matrices,
        plot_cost_curves,
        plot_decision_boundaries,
        plot_learning_rates,
    )

    files = []
    for outcome in outcomes:
        name = outcome.optimizer.name
        history = outcome.result.history
        names = {
            "epoch_costs_file": f"{name}-epoch-costs.npy",
            "minibatch_costs_file": f"{name}-minibatch-costs.npy",
            "params_file": f"{name}-params.npy",
        }
        _save_npy(out_dir / names["epoch_costs_file"], history.epoch_costs)
        _save_npy(out_dir / names["minibatch_costs_file"], history.minibatch_costs)
        _save_npy(out_dir / names["params_file"], outcome.result.params)
        files.append(names)

    data = prepare_data(config, dataset) if data is None else data
    network = config.network(dataset.n_features, dataset.n_classes)
    images = {"Cost per epoch and per mini-batch": out_dir / "cost_curves.png"}
    plot_cost_curves(out_dir / "cost_curves.png", outcomes)
    if not config.schedule.is_constant:
        images["Learning rate per epoch"] = out_dir / "learning_rates.png"
        plot_learning_rates(out_dir / "learning_rates.png", outcomes)
    if dataset.n_features == 2:
        images["Decision boundaries"] = out_dir / "decision_boundaries.png"
        plot_decision_boundaries(out_dir / "decision_boundaries.png", network, outcomes, data.train)
    projection = None
    if all(outcome.weight_path is not None for outcome in outcomes):
        from descentlab.report.weight_paths import plot_weight_paths, project_paths

        images["Weight paths (a projection onto two principal directions)"] = (
            out_dir / "weight_paths.png"
        )
        plot_weight_paths(out_dir / "weight_paths.png", outcomes)
        _, explained = project_paths([o.weight_path for o in outcomes])  # type: ignore[misc]
        projection = {
            "file": "weight_paths.png",
            "snapshots": int(outcomes[0].weight_path.shape[0]),  # type: ignore[union-attr]
            "explained_variance": [float(v) for v in explained],
        }
    images["Confusion matrices"] = out_dir / "confusion_matrices.png"
    plot_confusion_matrices(out_dir / "confusion_matrices.png", outcomes, dataset.classes)

    results = results_dict(command, config, dataset, outcomes, files, data)
    if projection is not None:
        results["weight_path_projection"] = projection
    write_text_atomic(out_dir / "report.html", render_html(results, images))
    write_text_atomic(out_dir / RESULTS_FILE, json.dumps(results, indent=2, allow_nan=False) + "\n")
    return results
