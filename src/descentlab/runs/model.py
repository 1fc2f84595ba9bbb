"""The model file ``train --save`` writes: the trained network with what predicting needs
(classes, feature names, the scaling learned on the training split), in
``descentlab.model_file``'s format."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from descentlab import __version__
from descentlab.atomic import check_writable
from descentlab.datasets import Dataset
from descentlab.experiment import ExperimentConfig, PreparedData, RunOutcome
from descentlab.model_file import Model, save


def check_save_path(path: Path | None) -> None:
    """Refuse, before training, a model path that could not be written."""
    if path is None:
        return
    if path.suffix != ".npz":
        raise ValueError(f"--save must name a .npz file, got {str(path)!r}")
    check_writable(path, "--save")


def check_saveable(
    path: Path | None, config: ExperimentConfig, dataset: Dataset, data: PreparedData
) -> None:
    """Refuse, before training, a model ``--save`` could not write: its path
    (``check_save_path``) and every property the model file holds (classes, such as labels
    outside int64, feature names, scaling), checked by the model file's own ``Model`` on the
    untrained network, so the rule is the writer's."""
    if path is None:
        return
    check_save_path(path)
    network = config.network(dataset.n_features, dataset.n_classes)
    try:
        Model(
            network,
            np.zeros(network.n_params),
            tuple(dataset.classes),
            tuple(dataset.feature_names),
            data.scaling,
        )
    except ValueError as error:
        raise ValueError(
            f"--save {str(path)!r}: a model file cannot hold this model: {error}"
        ) from None


def model_of(
    config: ExperimentConfig, dataset: Dataset, data: PreparedData, outcome: RunOutcome
) -> Model:
    """The trained run ``outcome`` as a model: its network and parameters, the dataset's
    classes and feature names, the scaling, the optimizer and how it was trained."""
    optimizer = {
        "name": outcome.optimizer.name,
        "hyperparameters": {
            key: value
            for key, value in outcome.optimizer.hyperparameters.items()
            if isinstance(value, bool | int | float | str)
        },
    }
    metadata = {
        "dataset": dataset.name,
        "epochs": int(outcome.result.history.epochs),
        "train_accuracy": float(outcome.train_accuracy),
        "descentlab_version": __version__,
    }
    return Model(
        config.network(dataset.n_features, dataset.n_classes),
        outcome.result.params,
        tuple(dataset.classes),
        tuple(dataset.feature_names),
        data.scaling,
        optimizer,
        metadata,
    )


def save_model(
    path: Path,
    config: ExperimentConfig,
    dataset: Dataset,
    data: PreparedData,
    outcome: RunOutcome,
) -> None:
    """Write ``model_of(...)`` to ``path`` (atomically, checked, nothing pickled)."""
    save(path, model_of(config, dataset, data, outcome))
