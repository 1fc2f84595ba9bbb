"""Checkpoints: everything a run needs to continue, in one ``.npz`` written atomically.

A checkpoint holds the parameters of every run of the stack, each optimizer group's state
(with its step count), the epochs done (the shuffle of epoch e is a pure function of the seed
and e, so the epoch is the whole random-number position), the histories so far, the
divergence bookkeeping, the early-stopping monitor's state, and a JSON description of the run
(configuration and dataset) so that ``descentlab resume`` can rebuild it. Arrays are stored as
plain numeric arrays and the description as JSON bytes: nothing is pickled, and loading uses
``allow_pickle=False``.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from descentlab import npz_archive
from descentlab.atomic import write_bytes_atomic
from descentlab.optim import OptState
from descentlab.train import EpochSnapshot

FORMAT = "descentlab-checkpoint"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Checkpoint:
    snapshot: EpochSnapshot
    monitor: dict[str, np.ndarray | list[int | None]] | None
    description: dict[str, Any]


def _state_entries(states: list[OptState]) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    layout: list[dict[str, Any]] = []
    arrays: dict[str, np.ndarray] = {}
    for index, state in enumerate(states):
        fields: dict[str, Any] = {}
        for name, value in zip(state._fields, state, strict=True):
            if isinstance(value, np.ndarray):
                key = f"state{index}.{name}"
                arrays[key] = value
                fields[name] = {"array": key}
            else:
                fields[name] = {"value": None if value is None else _plain(value)}
        layout.append(fields)
    return layout, arrays


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def save(path: Path, checkpoint: Checkpoint) -> None:
    """Write ``checkpoint`` to ``path`` atomically (the previous file stays whole until the
    new one is complete)."""
    snapshot = checkpoint.snapshot
    layout, arrays = _state_entries(snapshot.opt_states)
    arrays.update(
        params=snapshot.params,
        epoch_costs=snapshot.epoch_costs,
        minibatch_costs=snapshot.minibatch_costs,
        reference_costs=snapshot.reference_costs,
    )
    monitor_layout: dict[str, Any] | None = None
    if checkpoint.monitor is not None:
        monitor_layout = {}
        for name, value in checkpoint.monitor.items():
            if isinstance(value, np.ndarray):
                arrays[f"monitor.{name}"] = value
                monitor_layout[name] = {"array": f"monitor.{name}"}
            else:
                monitor_layout[name] = {"value": value}
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "epochs_done": snapshot.epochs_done,
        "diverged_epochs": snapshot.diverged_epochs,
        "states": layout,
        "monitor": monitor_layout,
        "description": checkpoint.description,
    }
    buffer = io.BytesIO()
    header_bytes = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(buffer, header=header_bytes, **arrays)  # type: ignore[arg-type]
    write_bytes_atomic(Path(path), buffer.getvalue())


def load(path: Path, initial_states: list[OptState]) -> Checkpoint:
    """Read a checkpoint; ``initial_states`` (each group's ``optimizer.init(...)``) give the
    state types to rebuild. Raises a one-line ``ValueError`` for an unreadable file."""
    path = Path(path)
    try:
        arrays = npz_archive.read_arrays(path, "checkpoint")
        header = json.loads(arrays.pop("header").tobytes().decode())
    except FileNotFoundError:
        raise ValueError(f"{path}: no checkpoint to resume from") from None
    except Exception as error:  # a damaged file must not become a traceback
        raise ValueError(f"{path}: not a readable checkpoint ({error})") from None
    if header.get("format") != FORMAT or header.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path}: not a descentlab checkpoint of a version this one reads")
    if len(header["states"]) != len(initial_states):
        raise ValueError(f"{path}: the checkpoint's optimizers do not match the run's")
    states = []
    for fields, initial in zip(header["states"], initial_states, strict=True):
        values = {
            name: arrays[entry["array"]] if "array" in entry else entry["value"]
            for name, entry in fields.items()
        }
        states.append(type(initial)(**values))
    monitor = None
    if header["monitor"] is not None:
        monitor = {
            name: arrays[entry["array"]] if "array" in entry else entry["value"]
            for name, entry in header["monitor"].items()
        }
    snapshot = EpochSnapshot(
        epochs_done=int(header["epochs_done"]),
        params=arrays["params"],
        opt_states=states,
        epoch_costs=arrays["epoch_costs"],
        minibatch_costs=arrays["minibatch_costs"],
        diverged_epochs=list(header["diverged_epochs"]),
        reference_costs=arrays["reference_costs"],
    )
    return Checkpoint(snapshot, monitor, header["description"])


def read_description(path: Path) -> dict[str, Any]:
    """Only the run description of a checkpoint (to rebuild its configuration)."""
    try:
        arrays = npz_archive.read_arrays(Path(path), "checkpoint", only=("header",))
        header = json.loads(arrays["header"].tobytes().decode())
    except FileNotFoundError:
        raise ValueError(f"{path}: no checkpoint to resume from") from None
    except Exception as error:
        raise ValueError(f"{path}: not a readable checkpoint ({error})") from None
    description = header.get("description")
    if not isinstance(description, dict):
        raise ValueError(f"{path}: the checkpoint does not describe its run")
    return description
