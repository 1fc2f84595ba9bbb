"""``SweepResults``: what ``sweep`` returns."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from descentlab.datasets import Dataset
from descentlab.history import COST_EVERY
from descentlab.results.display import Record, Table, check_kind, pandas_module, shown

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from descentlab.sweep.engine import RunResult, SweepOutcome
    from descentlab.sweep.summary import Stats, Summary


@dataclass(frozen=True, repr=False, eq=False)
class SweepResults:
    """A sweep's runs (``outcome.runs``: one per configuration and seed) on ``dataset``."""

    outcome: SweepOutcome
    dataset: Dataset

    PICTURES = ("sensitivity",)

    @property
    def config(self) -> Any:
        """The ``SweepConfig``."""
        return self.outcome.config

    @property
    def runs(self) -> list[RunResult]:
        return self.outcome.runs

    @cached_property
    def summaries(self) -> list[Summary]:
        """Per configuration, its statistics over seeds (``sweep.summary.summarize``)."""
        from descentlab.sweep.summary import summarize

        return summarize(self.outcome)

    @cached_property
    def best(self) -> dict[str, Summary | None]:
        """Per optimizer, its best configuration (``sweep.summary.best_per_optimizer``)."""
        from descentlab.sweep.summary import best_per_optimizer

        return best_per_optimizer(self.summaries)

    def records(self) -> list[Record]:
        """One record per run: optimizer, configuration, seed, the values swept, status,
        diverged_epoch, final_cost, and train_accuracy and train_correct (None if diverged)."""
        records = []
        for run in self.runs:
            finished = run.status == "finished"
            records.append(
                {
                    "optimizer": run.configuration.optimizer,
                    "configuration": run.configuration.index,
                    "seed": run.spec.seed,
                    **run.configuration.settings,
                    "status": run.status,
                    "diverged_epoch": run.diverged_epoch,
                    "final_cost": run.final_cost,
                    "train_accuracy": run.train_accuracy if finished else None,
                    "train_correct": run.train_correct if finished else None,
                }
            )
        return records

    def summary_records(self) -> list[Record]:
        """One record per configuration: its values, how many seeds finished and diverged,
        and mean, std, min and max of the final cost and train accuracy over the others."""
        records = []
        for summary in self.summaries:
            record: Record = {
                "optimizer": summary.configuration.optimizer,
                "configuration": summary.configuration.index,
                **summary.configuration.settings,
                "seeds": summary.seeds,
                "diverged": summary.diverged,
            }
            for name in ("final_cost", "train_accuracy"):
                stats: Stats | None = getattr(summary, name)
                for field in ("mean", "std", "min", "max"):
                    record[f"{name}_{field}"] = None if stats is None else getattr(stats, field)
            records.append(record)
        return records

    def _headline(self) -> str:
        config = self.config
        layers = config.network(self.dataset.n_features, self.dataset.n_classes).layer_sizes
        batch = "full" if config.batch_size is None else config.batch_size
        return (
            f"sweep: {self.dataset.name} ({self.dataset.n_examples} examples), layers "
            f"{list(layers)}, {config.epochs} epochs, batch {batch}; {config.search} search, "
            f"{len(config.configurations)} configurations x {len(config.seeds)} seeds"
        )

    def _table(self, summaries: Sequence[Summary | None], names: Sequence[str]) -> Table:
        # The sweep table's own cell formats, so both tables read alike.
        from descentlab.sweep.summary import _mean_std, format_settings

        header = ["optimizer", "hyperparameters", "final cost", "train accuracy", "diverged"]
        rows = []
        for name, summary in zip(names, summaries, strict=True):
            if summary is None:
                rows.append([name, "every run diverged", "", "", ""])
                continue
            rows.append(
                [
                    name,
                    format_settings(summary.configuration.settings),
                    _mean_std(summary.final_cost, 1.0, 4),
                    _mean_std(summary.train_accuracy, 100.0, 1, "%"),
                    f"{summary.diverged}/{summary.seeds}",
                ]
            )
        return Table(header, rows, numeric=range(2, 5))

    def _best_table(self) -> Table:
        return self._table(list(self.best.values()), list(self.best))

    def __repr__(self) -> str:
        return (
            f"<SweepResults {self._headline()}>\nbest per optimizer (lowest mean final cost):\n"
            f"{self._best_table().text()}"
        )

    def _repr_html_(self) -> str:
        every = self._table(self.summaries, [s.configuration.optimizer for s in self.summaries])
        return (
            self._best_table().html(f"SweepResults {self._headline()}: best per optimizer")
            + "\n<details><summary>every configuration</summary>\n"
            + every.html("mean ± standard deviation over seeds; diverged runs left out")
            + "\n</details>"
        )

    def plot(self, kind: str = "sensitivity") -> Figure:
        """The final cost against the learning rate, per optimizer (sensitivity.png)."""
        from descentlab.report.sweep_plots import sensitivity_figure

        check_kind(kind, self.PICTURES)
        return shown(sensitivity_figure(self.summaries))

    def to_pandas(self) -> Any:
        """A DataFrame with one row per run (``records``)."""
        return pandas_module().DataFrame.from_records(self.records())

    def summary_frame(self) -> Any:
        """A DataFrame with one row per configuration (``summary_records``)."""
        return pandas_module().DataFrame.from_records(self.summary_records())

    def history_frame(self) -> Any:
        """A long DataFrame: optimizer, configuration, seed, epoch, cost, for the epochs whose
        cost results.json keeps (0, 100, 200, ...)."""
        pandas = pandas_module()
        frames = [
            pandas.DataFrame(
                {
                    "optimizer": run.configuration.optimizer,
                    "configuration": run.configuration.index,
                    "seed": run.spec.seed,
                    "epoch": np.arange(len(run.costs)) * COST_EVERY,
                    "cost": run.costs,
                }
            )
            for run in self.runs
        ]
        return pandas.concat(frames, ignore_index=True)

    def save(self, out_dir: str | os.PathLike[str]) -> Path:
        """Write the folder ``descentlab sweep --out out_dir`` writes (sensitivity.png, then
        results.json) into a new or empty folder."""
        from descentlab.runs.folder import claimed, prepare_out_dir
        from descentlab.runs.sweep import write_sweep_folder

        folder = prepare_out_dir(Path(out_dir))
        with claimed(folder):
            write_sweep_folder(folder, self.outcome, self.dataset)
        return folder
