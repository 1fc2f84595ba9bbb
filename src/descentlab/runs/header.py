"""What every finished results.json begins with, and the dataset block train, compare and
sweep share."""

from __future__ import annotations

import datetime as _dt
import math

from descentlab import __version__
from descentlab.datasets import Dataset
from descentlab.experiment import PreparedData


def results_header(command: str) -> dict[str, object]:
    """The first keys of a finished run's results.json."""
    return {
        "descentlab_version": __version__,
        "command": command,
        "status": "finished",
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }


def dataset_record(dataset: Dataset, data: PreparedData | None = None) -> dict[str, object]:
    """results.json's ``dataset``: its size, classes and features, how it was made, and with
    ``data`` the split sizes and the scaling learned on the training split."""
    splits = (
        {}
        if data is None
        else {
            "splits": {name: part.n_examples for name, part in data.named().items()},
            "scaling": data.scaling,
        }
    )
    return {
        "name": dataset.name,
        "n_features": dataset.n_features,
        "n_examples": dataset.n_examples,
        "n_classes": dataset.n_classes,
        "classes": list(dataset.classes),
        "feature_names": list(dataset.feature_names),
        **dataset.params,
        **splits,
    }


def finite_or_none(value: float) -> float | None:
    """JSON has no NaN or infinity: such a value is recorded as null."""
    return value if math.isfinite(value) else None
