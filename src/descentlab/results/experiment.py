"""``ExperimentResults``: what ``compare`` and ``train`` return."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from descentlab.datasets import Dataset
from descentlab.experiment import ExperimentConfig, PreparedData, RunOutcome
from descentlab.nn import Network
from descentlab.report.html import format_accuracy
from descentlab.results.display import Record, Table, check_kind, number, pandas_module, shown

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from descentlab.model_file import Model


@dataclass(frozen=True, repr=False, eq=False)
class ExperimentResults:
    """The runs of ``compare`` or ``train`` (``command``): one ``RunOutcome`` per optimizer,
    trained under ``config`` on ``data`` (the splits of ``dataset``).

    ``results["adam"]`` is adam's ``RunOutcome`` (its history, final parameters, accuracies).
    """

    command: str
    config: ExperimentConfig
    dataset: Dataset
    data: PreparedData
    outcomes: tuple[RunOutcome, ...]

    PICTURES = (
        "cost_curves",
        "decision_boundaries",
        "learning_rates",
        "confusion_matrices",
        "weight_paths",
    )
    """What ``plot`` draws: the pictures the command writes, by file name."""

    @property
    def optimizers(self) -> tuple[str, ...]:
        return tuple(outcome.optimizer.name for outcome in self.outcomes)

    @property
    def network(self) -> Network:
        return self.config.network(self.dataset.n_features, self.dataset.n_classes)

    def __getitem__(self, optimizer: str) -> RunOutcome:
        for outcome in self.outcomes:
            if outcome.optimizer.name == optimizer:
                return outcome
        raise KeyError(f"no run of {optimizer!r}; the optimizers: {', '.join(self.optimizers)}")

    def records(self) -> list[Record]:
        """One record per run, under results.json's names; the rows of ``to_pandas``."""
        return [self._record(outcome) for outcome in self.outcomes]

    def _record(self, outcome: RunOutcome) -> Record:
        diverged = outcome.result.diverged_epoch
        record: Record = {
            "optimizer": outcome.optimizer.name,
            "learning_rate": self.config.learning_rate_for(outcome.optimizer.name),
            "status": "finished" if diverged is None else "diverged",
            "epochs": outcome.result.history.epochs,
            "final_cost": outcome.final_cost,
            "train_accuracy": outcome.train_accuracy,
            "train_correct": outcome.train_correct,
            "n_examples": outcome.n_examples,
        }
        record.update(
            (f"{split}_accuracy", accuracy)
            for split, accuracy in outcome.accuracies.items()
            if split != "train"
        )
        record.update(
            oscillation=outcome.oscillation,
            cost_shape=outcome.cost_shape,
            diverged_epoch=diverged,
        )
        if outcome.best_epoch is not None:
            record.update(stopped_epoch=outcome.stopped_epoch, best_epoch=outcome.best_epoch)
        record["seconds"] = outcome.seconds
        return record

    def _headline(self) -> str:
        batch = "full" if self.config.batch_size is None else self.config.batch_size
        return (
            f"{self.command}: {self.dataset.name} ({self.dataset.n_examples} examples), layers "
            f"{list(self.network.layer_sizes)}, {self.config.epochs} epochs, batch {batch}"
        )

    def _table(self) -> Table:
        held_out = [
            split for split in ("validation", "test") if split in self.outcomes[0].accuracies
        ]
        header = [
            "optimizer",
            "train accuracy",
            *(f"{split} accuracy" for split in held_out),
            "final cost",
            "cost shape",
        ]
        rows = []
        for outcome in self.outcomes:
            shape = outcome.cost_shape
            if outcome.result.diverged_epoch is not None:
                shape = f"diverged at epoch {outcome.result.diverged_epoch}"
            rows.append(
                [
                    outcome.optimizer.name,
                    format_accuracy(outcome.train_correct, outcome.n_examples),
                    *(f"{100 * outcome.accuracies[split]:.1f}%" for split in held_out),
                    number(outcome.final_cost, 6),
                    shape,
                ]
            )
        return Table(header, rows, numeric=range(1, len(header) - 1))

    def __repr__(self) -> str:
        return f"<ExperimentResults {self._headline()}>\n{self._table().text()}"

    def _repr_html_(self) -> str:
        return self._table().html(f"ExperimentResults {self._headline()}")

    def plot(self, kind: str = "cost_curves") -> Figure:
        """One of the pictures the command writes (``PICTURES``) as a matplotlib figure."""
        from descentlab.report import plots

        check_kind(kind, self.PICTURES)
        if kind == "cost_curves":
            figure = plots.cost_curves_figure(self.outcomes)
        elif kind == "decision_boundaries":
            figure = plots.decision_boundaries_figure(self.network, self.outcomes, self.data.train)
        elif kind == "learning_rates":
            figure = plots.learning_rates_figure(self.outcomes)
        elif kind == "confusion_matrices":
            figure = plots.confusion_matrices_figure(self.outcomes, self.dataset.classes)
        else:
            if any(outcome.weight_path is None for outcome in self.outcomes):
                raise ValueError("plot('weight_paths') needs runs trained with weight_paths=EVERY")
            from descentlab.report.weight_paths import weight_paths_figure

            figure = weight_paths_figure(self.outcomes)
        return shown(figure)

    def to_pandas(self) -> Any:
        """A DataFrame with one row per run (``records``)."""
        return pandas_module().DataFrame.from_records(self.records())

    def history_frame(self) -> Any:
        """A long DataFrame, one row per run and epoch: optimizer, epoch, cost (the epoch's mean
        cost), learning_rate, and validation_cost and validation_accuracy with a validation
        split."""
        pandas = pandas_module()
        frames = []
        for outcome in self.outcomes:
            costs = outcome.result.history.epoch_costs
            columns: dict[str, Any] = {
                "optimizer": outcome.optimizer.name,
                "epoch": np.arange(len(costs)),
                "cost": costs,
                "learning_rate": outcome.learning_rates[: len(costs)],
            }
            if outcome.validation_costs is not None:
                columns["validation_cost"] = outcome.validation_costs
                columns["validation_accuracy"] = outcome.validation_accuracies
            frames.append(pandas.DataFrame(columns))
        return pandas.concat(frames, ignore_index=True)

    def model(self, optimizer: str | None = None) -> Model:
        """The trained network of ``optimizer`` (the only one, for ``train``) as the model
        ``descentlab train --save`` writes: ``model.predict(X)`` takes examples in rows, raw
        features (its scaling is applied)."""
        from descentlab.runs.model import model_of

        return model_of(self.config, self.dataset, self.data, self._outcome(optimizer))

    def save_model(self, path: str | os.PathLike[str], optimizer: str | None = None) -> Path:
        """Write ``model(optimizer)`` as a model file (.npz) for ``descentlab predict``."""
        from descentlab.runs.model import check_save_path, save_model

        file = Path(path)
        check_save_path(file)
        save_model(file, self.config, self.dataset, self.data, self._outcome(optimizer))
        return file

    def _outcome(self, optimizer: str | None) -> RunOutcome:
        if optimizer is not None:
            return self[optimizer]
        if len(self.outcomes) > 1:
            raise ValueError(
                f"name the optimizer whose model you want: one of {', '.join(self.optimizers)}"
            )
        return self.outcomes[0]

    def save(self, out_dir: str | os.PathLike[str]) -> Path:
        """Write the run folder ``descentlab <command> --out out_dir`` writes (results.json, the
        cost arrays and parameters, the pictures, report.html) into a new or empty folder."""
        from descentlab.runs.folder import claimed, prepare_out_dir
        from descentlab.runs.training import write_run_folder

        folder = prepare_out_dir(Path(out_dir))
        with claimed(folder):
            write_run_folder(
                folder, self.command, self.config, self.dataset, self.outcomes, self.data
            )
        return folder
