"""Held-out evaluation while a stack trains: validation cost and accuracy every epoch, early
stopping with the best weights restored, and confusion matrices."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from descentlab.datasets import Dataset
from descentlab.losses import cross_entropy_from_label_probability, label_probability
from descentlab.nn import Network, forward, predicted_classes
from descentlab.validation import check_int

__all__ = ["Monitor", "confusion_matrix", "evaluate", "predicted_classes"]


def evaluate(
    network: Network, params: np.ndarray, dataset: Dataset
) -> tuple[np.ndarray, np.ndarray]:
    """Mean cross-entropy and accuracy of every run of ``params`` (K, n_params) on
    ``dataset``: two arrays of shape (K,)."""
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        cache = forward(network, params, dataset.X)
        probability = label_probability(cache.output, dataset.Y)
        terms = cross_entropy_from_label_probability(probability, cache.output_logits, dataset.Y)
    costs = terms[..., 0, :].mean(axis=-1)
    return costs, (predicted_classes(cache.output) == dataset.labels).mean(axis=-1)


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts (C, C): row = true class, column = predicted class."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (labels, predictions), 1)
    return matrix


@dataclass
class Monitor:
    """Watches a stack after every epoch: records each run's validation cost and accuracy and,
    with ``patience``, stops a run once its validation cost has not improved for ``patience``
    epochs, keeping the parameters of its best epoch.

    Use ``monitor.after_epoch`` as ``train_stack``'s ``should_stop``.
    """

    network: Network
    validation: Dataset
    n_runs: int
    epochs: int
    patience: int | None = None
    costs: np.ndarray = field(init=False)
    accuracies: np.ndarray = field(init=False)
    best_epoch: np.ndarray = field(init=False)
    best_params: np.ndarray | None = field(init=False, default=None)
    stopped_epoch: list[int | None] = field(init=False)

    def __post_init__(self) -> None:
        if self.patience is not None:
            self.patience = check_int("patience", self.patience, minimum=1)
        self.costs = np.full((self.n_runs, self.epochs), np.nan)
        self.accuracies = np.full((self.n_runs, self.epochs), np.nan)
        self.best_epoch = np.zeros(self.n_runs, dtype=np.int64)
        self.stopped_epoch = [None] * self.n_runs

    def after_epoch(self, epoch: int, params: np.ndarray) -> bool:
        """Record epoch ``epoch``; True once every run has stopped early."""
        costs, accuracies = evaluate(self.network, params, self.validation)
        self.costs[:, epoch] = costs
        self.accuracies[:, epoch] = accuracies
        if self.patience is None:
            return False
        if self.best_params is None:
            self.best_params = params.copy()
        best_costs = self.costs[np.arange(self.n_runs), self.best_epoch]
        improved = (costs < best_costs) | (epoch == 0)
        for run in np.flatnonzero(improved).tolist():
            if self.stopped_epoch[run] is None:
                self.best_epoch[run] = epoch
                self.best_params[run] = params[run]
        for run in range(self.n_runs):
            waited = epoch - int(self.best_epoch[run])
            if self.stopped_epoch[run] is None and waited >= self.patience:
                self.stopped_epoch[run] = epoch
        return all(stop is not None for stop in self.stopped_epoch)

    def state(self) -> dict[str, np.ndarray | list[int | None]]:
        """What a checkpoint keeps of the monitor."""
        state: dict[str, np.ndarray | list[int | None]] = {
            "costs": self.costs,
            "accuracies": self.accuracies,
            "best_epoch": self.best_epoch,
            "stopped_epoch": list(self.stopped_epoch),
        }
        if self.best_params is not None:
            state["best_params"] = self.best_params
        return state

    def restore(self, state: dict[str, np.ndarray | list[int | None]]) -> None:
        """Continue from ``state()`` of an earlier run."""
        self.costs = np.asarray(state["costs"]).copy()
        self.accuracies = np.asarray(state["accuracies"]).copy()
        self.best_epoch = np.asarray(state["best_epoch"]).copy()
        self.stopped_epoch = list(state["stopped_epoch"])
        best = state.get("best_params")
        self.best_params = None if best is None else np.asarray(best).copy()

    @property
    def all_stopped(self) -> bool:
        return self.patience is not None and all(e is not None for e in self.stopped_epoch)

    def final_params(self, params: np.ndarray) -> np.ndarray:
        """With early stopping, every run's parameters of its best validation epoch (whether
        or not its patience ran out); otherwise ``params`` unchanged."""
        return params if self.best_params is None else self.best_params.copy()
