"""What every finished results.json begins with, and the dataset block train, compare and
sweep share."""

from __future__ import annotations

import datetime as _dt
import math
import sys
from collections.abc import Iterable

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


def engine_record(engine: str, numpy_updates: Iterable[str] = ()) -> dict[str, object]:
    """results.json's ``engine``: ``name``, the engine that trained (``descentlab.engines``:
    "numpy" or "compiled"); ``numba``, the version of numba that compiled it (null for the
    numpy engine, or when numba's version cannot be read); ``numpy_updates``, the optimizers
    (sorted names) the compiled engine updated with their numpy update (empty for numpy)."""
    return {
        "name": engine,
        "numba": _numba_version() if engine == "compiled" else None,
        "numpy_updates": sorted(set(numpy_updates)),
    }


def _numba_version() -> str | None:
    loaded = getattr(sys.modules.get("numba"), "__version__", None)
    if isinstance(loaded, str):  # the compiled engine ran in this process
        return loaded
    # Else the installed package's metadata (17 ms): importing numba would cost 300 ms.
    from importlib import metadata

    try:
        return metadata.version("numba")
    except metadata.PackageNotFoundError:
        return None


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
