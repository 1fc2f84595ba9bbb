"""Checkpoints: everything a run needs to continue, in one ``.npz`` written atomically.

A checkpoint holds the parameters of every run of the stack, each optimizer group's state
(with its step count), the epochs done (the shuffle of epoch e is a pure function of the seed
and e, so the epoch is the whole random-number position), the histories so far, the
divergence bookkeeping, the early-stopping monitor's state, the weight paths recorded so far
(``--weight-paths``), and a JSON description of the run (how it was started, its
configuration, and a fingerprint of its data) so that ``descentlab resume`` can rebuild it and
check that it continues the same run. Arrays are stored as plain numeric arrays and the
description as JSON bytes: nothing is pickled, and loading uses ``allow_pickle=False``.

``load`` believes nothing it reads: every key must be there with the right type, every array
the shape the run continuing it expects (the network, the number of runs, the epochs done),
``epochs_done`` within the run's epochs, each optimizer state rebuildable, and the recorded
data and configuration equal to those of the run continuing it; anything else is a one-line
``ValueError`` naming the file and the problem. Format 1 (before the fingerprints) is refused
with one line saying what to do.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from descentlab import npz_archive
from descentlab.atomic import write_bytes_atomic
from descentlab.dataset import Dataset
from descentlab.optim import OptState
from descentlab.train import EpochSnapshot

FORMAT = "descentlab-checkpoint"
FORMAT_VERSION = 2
"""2: the description records the data's fingerprint and the configuration, and the weight
paths are kept (1: neither, so a resume could mix two datasets; refused)."""

CHECKED = ("data", "config", "weight_paths", "runs")
"""The entries of a description that the run continuing a checkpoint must share with it."""


@dataclass(frozen=True)
class Checkpoint:
    snapshot: EpochSnapshot
    monitor: dict[str, np.ndarray | list[int | None]] | None
    description: dict[str, Any]
    weight_path: np.ndarray | None = None
    """With ``--weight-paths``: every snapshot recorded so far, shape (snapshots, K, n_params)."""


@dataclass(frozen=True)
class Expected:
    """The run that continues a checkpoint: what ``load`` checks the file against."""

    n_runs: int
    n_params: int
    epochs: int
    batches_per_epoch: int
    description: Mapping[str, Any] = field(default_factory=dict)
    """The run's own description: its entries named in ``CHECKED`` must equal the file's."""
    monitor: Mapping[str, np.ndarray | list[int | None]] | None = None
    """A fresh early-stopping monitor's ``state()`` (the keys and shapes to expect), or None."""
    weight_path_snapshots: Callable[[int], int] | None = None
    """With weight paths: how many snapshots a run records in its first ``epochs_done`` epochs
    (None: no weight paths)."""


def data_fingerprint(dataset: Dataset) -> dict[str, Any]:
    """What identifies the data a run trains on: where it came from, its size, and the sha256
    of its features, targets, classes and feature names (the bytes training reads)."""
    digest = hashlib.sha256()
    for array in (dataset.X, dataset.Y):
        contiguous = np.ascontiguousarray(array, dtype="<f8")
        digest.update(json.dumps(list(contiguous.shape)).encode())
        digest.update(contiguous.tobytes())
    names = [list(map(str, dataset.classes)), list(dataset.feature_names)]
    digest.update(json.dumps(names).encode())
    path = dataset.params.get("path")
    return {
        "source": f"--data {path}" if isinstance(path, str) else f"dataset {dataset.name}",
        "examples": int(dataset.n_examples),
        "features": int(dataset.n_features),
        "classes": int(dataset.n_classes),
        "sha256": digest.hexdigest(),
    }


def _state_entries(states: list[OptState]) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    layout: list[dict[str, Any]] = []
    arrays: dict[str, np.ndarray] = {}
    for index, state in enumerate(states):
        layout.append(_state_fields(state, f"state{index}", arrays))
    return layout, arrays


def _state_fields(state: OptState, prefix: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """One state's fields: ``{"array": key}`` (the array stored under ``key``), ``{"value": v}``,
    or ``{"state": {...}}`` for the state of an optimizer it wraps (lookahead, SAM)."""
    fields: dict[str, Any] = {}
    for name, value in zip(state._fields, state, strict=True):
        if isinstance(value, np.ndarray):
            key = f"{prefix}.{name}"
            arrays[key] = value
            fields[name] = {"array": key}
        elif _is_state(value):
            fields[name] = {"state": _state_fields(value, f"{prefix}.{name}", arrays)}
        else:
            fields[name] = {"value": None if value is None else _plain(value)}
    return fields


def _is_state(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(value, "_fields")


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
    if checkpoint.weight_path is not None:
        arrays["weight_path"] = checkpoint.weight_path
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


def _read(
    path: Path, only: tuple[str, ...] | None = None
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The header (format and version checked) and the arrays of the checkpoint at ``path``."""
    try:
        arrays = npz_archive.read_arrays(path, "checkpoint", only=only)
        header = json.loads(arrays.pop("header").tobytes().decode())
    except FileNotFoundError:
        raise ValueError(f"{path}: no checkpoint to resume from") from None
    except Exception as error:  # a damaged file must not become a traceback
        raise ValueError(f"{path}: not a readable checkpoint ({error})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{path}: not a descentlab checkpoint")
    version = header.get("format_version")
    if version == 1:
        raise ValueError(
            f"{path}: a checkpoint of format 1 (older descentlab), which records neither its data "
            "nor its configuration to check; finish it with the version that wrote it, or start "
            "the run again"
        )
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{path}: checkpoint format version {version!r}, not {FORMAT_VERSION}, the one this "
            "descentlab reads"
        )
    description = header.get("description")
    if not isinstance(description, dict):
        raise ValueError(f"{path}: the checkpoint does not describe its run")
    return header, arrays


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _Reader:
    """``load``'s checks: each failure is one ``ValueError`` naming the file and the problem."""

    def __init__(self, path: Path, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.path = path
        self.header = header
        self.arrays = arrays

    def fail(self, problem: str) -> ValueError:
        return ValueError(f"{self.path}: {problem}")

    def key(self, name: str, kind: type | tuple[type, ...], what: str) -> Any:
        if name not in self.header:
            raise self.fail(f"the checkpoint has no {name!r}")
        value = self.header[name]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise self.fail(f"{name!r} must be {what}, got {type(value).__name__}")
        return value

    def array(self, name: str, shape: tuple[int, ...], what: str) -> np.ndarray:
        if name not in self.arrays:
            raise self.fail(f"the checkpoint has no array {name!r} ({what})")
        array = self.arrays[name]
        if array.dtype.kind != "f":
            raise self.fail(f"{name!r} must hold floating-point numbers, got {array.dtype}")
        if array.shape != shape:
            raise self.fail(
                f"{name!r} has shape {array.shape}, but this run needs {shape} ({what})"
            )
        return array

    def entry(self, entry: Any, template: Any, where: str) -> Any:
        """A state or monitor field (``{"array": key}`` or ``{"value": v}``) like ``template``."""
        if not isinstance(entry, dict) or len(entry) != 1 or not {"array", "value"} & entry.keys():
            raise self.fail(f"{where} is not an array or a value")
        if isinstance(template, np.ndarray):
            key = entry.get("array")
            if not isinstance(key, str) or key not in self.arrays:
                raise self.fail(f"{where} names no array of the checkpoint")
            array = self.arrays[key]
            if array.shape != template.shape or array.dtype.kind != template.dtype.kind:
                raise self.fail(
                    f"{where} has shape {array.shape} ({array.dtype}), but this run needs "
                    f"{template.shape} ({template.dtype})"
                )
            return array
        if "value" not in entry:
            raise self.fail(f"{where} must be a value, not an array")
        value = entry["value"]
        if template is None or isinstance(template, list):
            if template is None and value is None:
                return None
            if isinstance(template, list) and isinstance(value, list):
                if len(value) != len(template) or not all(v is None or _is_int(v) for v in value):
                    raise self.fail(f"{where} must be {len(template)} integers or nulls")
                return value
            raise self.fail(f"{where} must be {template!r}, got {value!r}")
        if isinstance(template, bool | np.bool_):
            if not isinstance(value, bool):
                raise self.fail(f"{where} must be true or false, got {value!r}")
            return value
        if isinstance(template, int | np.integer):
            if not _is_int(value) or value < 0:
                raise self.fail(f"{where} must be an integer >= 0, got {value!r}")
            return value
        if isinstance(template, float | np.floating):
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise self.fail(f"{where} must be a number, got {value!r}")
            return value
        raise self.fail(f"{where} holds a value of a kind this run does not use")

    def number_or_array(self, entry: Any, template: Any, group: tuple[int, ...], where: str) -> Any:
        """A state field that starts as a number and may become one per run (NAdam's
        ``mu_product`` of stacked runs): a number, or an array broadcasting to ``group``."""
        numeric = isinstance(template, float | np.floating)
        if numeric and isinstance(entry, dict) and "array" in entry and group:
            key = entry["array"]
            if not isinstance(key, str) or key not in self.arrays:
                raise self.fail(f"{where} names no array of the checkpoint")
            array = self.arrays[key]
            try:
                fits = np.broadcast_shapes(array.shape, group) == group
            except ValueError:
                fits = False
            if array.dtype.kind != "f" or not fits:
                raise self.fail(
                    f"{where} has shape {array.shape} ({array.dtype}), but this run needs a "
                    f"number or floating-point numbers broadcasting to {group}"
                )
            return array
        return self.entry(entry, template, where)


def _state_values(reader: _Reader, fields: Any, initial: OptState, where: str) -> dict[str, Any]:
    """The field values of a state shaped as ``initial``, read from its checkpoint ``fields``;
    a wrapped optimizer's state (``{"state": {...}}``) is rebuilt the same way, recursively."""
    names = list(initial._fields)
    if not isinstance(fields, dict) or sorted(fields) != sorted(names):
        got = sorted(fields) if isinstance(fields, dict) else fields
        raise reader.fail(f"{where} has fields {got!r}, this run's {names!r}")
    group = next((v.shape for v in initial if isinstance(v, np.ndarray)), ())
    values = {}
    for name in names:
        template, entry = getattr(initial, name), fields[name]
        if _is_state(template):
            if not isinstance(entry, dict) or set(entry) != {"state"}:
                raise reader.fail(f"{where} {name!r} must be the state of a wrapped optimizer")
            inner = _state_values(reader, entry["state"], template, f"{where} {name!r}")
            try:
                values[name] = type(template)(**inner)
            except Exception as error:
                raise reader.fail(f"{where} {name!r} cannot be rebuilt ({error})") from None
        else:
            values[name] = reader.number_or_array(entry, template, group, f"{where} {name!r}")
    return values


def load(path: Path, initial_states: list[OptState], expected: Expected) -> Checkpoint:
    """Read the checkpoint at ``path`` for the run ``expected`` describes, and check it
    against that run; ``initial_states`` (each group's ``optimizer.init(...)``) give the
    state types and shapes to rebuild. Raises a one-line ``ValueError`` for a file that is
    unreadable, inconsistent, or of another run."""
    path = Path(path)
    header, arrays = _read(path)
    check_same_run(path, header["description"], expected.description)
    reader = _Reader(path, header, arrays)
    epochs_done = reader.key("epochs_done", int, "an integer")
    if not 1 <= epochs_done <= expected.epochs:
        raise reader.fail(
            f"epochs_done is {epochs_done}, outside 1..{expected.epochs} (the run's epochs)"
        )
    k, n = expected.n_runs, expected.n_params
    params = reader.array("params", (k, n), f"{k} runs of {n} parameters")
    epoch_costs = reader.array(
        "epoch_costs", (k, epochs_done), f"{k} runs' costs of {epochs_done} epochs"
    )
    batches = epochs_done * expected.batches_per_epoch
    minibatch_costs = reader.array(
        "minibatch_costs", (k, batches), f"{k} runs' costs of {batches} mini-batches"
    )
    reference_costs = reader.array("reference_costs", (k,), f"one cost per run of {k}")
    diverged = reader.key("diverged_epochs", list, "a list")
    if len(diverged) != k or not all(
        e is None or (_is_int(e) and 0 <= e < epochs_done) for e in diverged
    ):
        raise reader.fail(
            f"diverged_epochs must be {k} epochs in 0..{epochs_done - 1} or nulls, got {diverged!r}"
        )
    layout = reader.key("states", list, "a list")
    if len(layout) != len(initial_states):
        raise reader.fail(
            f"the checkpoint holds {len(layout)} optimizer states, this run has "
            f"{len(initial_states)} optimizers"
        )
    states = []
    for index, (fields, initial) in enumerate(zip(layout, initial_states, strict=True)):
        values = _state_values(reader, fields, initial, f"optimizer state {index}")
        steps = epochs_done * expected.batches_per_epoch
        if "step" in values and values["step"] != steps:
            raise reader.fail(
                f"optimizer state {index} has taken {values['step']} steps, but {epochs_done} "
                f"epochs of {expected.batches_per_epoch} mini-batches take {steps}"
            )
        try:
            states.append(type(initial)(**values))
        except Exception as error:
            raise reader.fail(f"optimizer state {index} cannot be rebuilt ({error})") from None
    monitor = _monitor(reader, expected.monitor)
    if monitor is not None:
        _check_monitor_epochs(reader, monitor, epochs_done)
    weight_path = None
    if expected.weight_path_snapshots is not None:
        snapshots = expected.weight_path_snapshots(epochs_done)
        weight_path = reader.array(
            "weight_path", (snapshots, k, n), f"{snapshots} weight snapshots of {k} runs"
        )
    snapshot = EpochSnapshot(
        epochs_done=epochs_done,
        params=params,
        opt_states=states,
        epoch_costs=epoch_costs,
        minibatch_costs=minibatch_costs,
        diverged_epochs=list(diverged),
        reference_costs=reference_costs,
    )
    return Checkpoint(snapshot, monitor, header["description"], weight_path)


def _monitor(
    reader: _Reader, template: Mapping[str, np.ndarray | list[int | None]] | None
) -> dict[str, np.ndarray | list[int | None]] | None:
    """The early-stopping monitor's state, shaped as ``template`` (a fresh monitor's)."""
    layout = reader.header.get("monitor")
    if template is None:
        if layout is not None:
            raise reader.fail("the checkpoint holds a validation monitor this run does not have")
        return None
    if not isinstance(layout, dict) or sorted(layout) != sorted(template):
        got = sorted(layout) if isinstance(layout, dict) else layout
        raise reader.fail(f"the validation monitor holds {got!r}, this run's {sorted(template)!r}")
    return {
        name: reader.entry(layout[name], template[name], f"monitor {name!r}") for name in template
    }


def _check_monitor_epochs(
    reader: _Reader, monitor: Mapping[str, np.ndarray | list[int | None]], epochs_done: int
) -> None:
    """The epochs the early-stopping monitor names (its best and stopping epochs) must be
    epochs already trained."""
    best = monitor.get("best_epoch")
    if isinstance(best, np.ndarray) and (
        best.dtype.kind not in "iu"
        or (best.size and not (0 <= best.min() <= best.max() < epochs_done))
    ):
        raise reader.fail(f"the monitor's best epochs must be epochs in 0..{epochs_done - 1}")
    stopped = monitor.get("stopped_epoch")
    if isinstance(stopped, list) and not all(
        epoch is None or 0 <= epoch < epochs_done for epoch in stopped
    ):
        raise reader.fail(
            f"the monitor's stopping epochs must be epochs in 0..{epochs_done - 1} or nulls"
        )


def _normal(value: Any) -> Any:
    """``value`` as JSON gives it back (tuples as lists), for comparing descriptions."""
    return json.loads(json.dumps(value))


def check_same_run(path: Path, recorded: Mapping[str, Any], current: Mapping[str, Any]) -> None:
    """Refuse (one-line ``ValueError``) a checkpoint whose recorded data or configuration
    (the entries of ``CHECKED`` in ``current``) differ from the run continuing it."""
    for name in CHECKED:
        if name not in current:
            continue
        now = _normal(current[name])
        if name not in recorded:
            raise ValueError(f"{path}: the checkpoint does not record its {name}")
        then = recorded[name]
        if then == now:
            continue
        if name == "data":
            raise ValueError(f"{path}: {_data_change(then, now)}")
        if name == "runs":
            raise ValueError(f"{path}: this checkpoint holds other runs than its chunk")
        raise ValueError(f"{path}: {_config_change(name, then, now)}")


def _data_change(then: Any, now: Mapping[str, Any]) -> str:
    """What changed in the data since a checkpoint recorded ``then``."""
    source = now.get("source", "the data")
    if not isinstance(then, dict):
        return f"the checkpoint's record of its data is damaged; {source} cannot be checked"
    sizes = ("examples", "features", "classes")
    before = ", ".join(f"{then.get(key)} {key}" for key in sizes)
    after = ", ".join(f"{now.get(key)} {key}" for key in sizes)
    if before != after:
        return (
            f"{source} changed since the run started ({before} then, {after} now); "
            "resume with the data it started with, or start a new run"
        )
    return (
        f"{source} changed since the run started (same size, {after}, but other contents: "
        f"sha256 {str(then.get('sha256'))[:12]}... then, {str(now.get('sha256'))[:12]}... now); "
        "resume with the data it started with, or start a new run"
    )


def _config_change(name: str, then: Any, now: Any) -> str:
    """The first setting in which a recorded configuration disagrees with the run's."""
    if isinstance(then, dict) and isinstance(now, dict):
        for key in sorted(set(then) | set(now), key=str):
            if then.get(key) != now.get(key):
                return (
                    f"the checkpoint's {name} has {key} = {then.get(key)!r}, but the command it "
                    f"records gives {key} = {now.get(key)!r}; it is not this run's checkpoint"
                )
    return (
        f"the checkpoint's {name} is {then!r}, but the command it records gives {now!r}; "
        "it is not this run's checkpoint"
    )


def read_description(path: Path) -> dict[str, Any]:
    """Only the run description of a checkpoint (to rebuild its configuration; a command's
    says how it was started, ``check_started``)."""
    path = Path(path)
    header, _ = _read(path, only=("header",))
    description: dict[str, Any] = header["description"]
    return description


def epochs_done(path: Path) -> int | None:
    """The epochs the checkpoint at ``path`` holds (read from its header alone), or None when
    there is no file; a file that is not a checkpoint is one line naming it."""
    path = Path(path)
    if not path.exists():
        return None
    header, _ = _read(path, only=("header",))
    done = header.get("epochs_done")
    if not isinstance(done, int) or isinstance(done, bool) or done < 0:
        raise ValueError(f"{path}: the checkpoint's epochs_done must be a whole number >= 0")
    return int(done)


def check_started(where: Path, description: Mapping[str, Any]) -> None:
    """Refuse (one-line ``ValueError``) a record of how a run started that is not one:
    ``argv`` must be a non-empty list of strings and ``cwd`` a string."""
    argv = description.get("argv")
    if not isinstance(argv, list) or not argv or not all(isinstance(w, str) for w in argv):
        raise ValueError(f"{where}: no record of how the run started (argv: a list of words)")
    if not isinstance(description.get("cwd"), str):
        raise ValueError(f"{where}: no record of the folder the run started in (cwd)")
