"""A sweep's checkpoints: one file per chunk, so an interrupted sweep loses no finished work.

A sweep's checkpoint folder (``checkpoints/`` in its run folder) holds ``plan.json`` (which
runs each chunk trains, written before any training, so a resumed sweep cuts its chunks the
same way whatever ``--jobs`` resolves to) and ``chunk-<i>.npz``: chunk i's
``descentlab.checkpoint`` file, written every ``every`` epochs, when training is interrupted,
and once more when the chunk finishes (then ``epochs_done`` equals the sweep's epochs). Each
file holds the chunk's whole history so far, so a chunk resumed any number of times ends with
the same numbers as one never stopped.
Every file is written atomically; a worker process writes its own chunks' files.

Nothing read back is believed: the plan must be a list of non-empty lists of run indices
covering the sweep's runs, and each chunk file must hold exactly its chunk's runs, of this
sweep's configuration and data (its fingerprint, ``checkpoint.data_fingerprint``), with every
array the shape the chunk needs (``checkpoint.load``); anything else is one line naming the
file.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from descentlab import checkpoint
from descentlab.atomic import write_text_atomic
from descentlab.dataset import Dataset
from descentlab.optim import OptState
from descentlab.sweep.config import SweepConfig
from descentlab.sweep.plan import ChunkPlan, chunks_of
from descentlab.train import EpochSnapshot

PLAN_FILE = "plan.json"


@dataclass(frozen=True)
class SweepCheckpoints:
    """Where and how often a sweep saves its chunks, and whether it continues saved ones.

    ``folder`` receives the plan and the chunk files; ``every`` epochs (0: never on a
    schedule) and whenever ``interrupted()`` turns True at an epoch's end, a chunk's state is
    saved. With ``resume`` finished chunks are read back instead of trained, partial ones
    continue from their files and the others start from scratch.
    """

    folder: Path
    every: int = 0
    interrupted: Callable[[], bool] | None = None
    resume: bool = False
    description: Mapping[str, Any] = field(default_factory=dict)
    """What every chunk file records and is checked against: the sweep's configuration and
    its data's fingerprint (``of_run``)."""

    def of_run(self, config: SweepConfig, dataset: Dataset) -> SweepCheckpoints:
        """These checkpoints for the sweep ``config`` on ``dataset``."""
        description = {
            "config": config.to_dict(),
            "data": checkpoint.data_fingerprint(dataset),
        }
        return dataclasses.replace(self, description=description)

    def plan(self, config: SweepConfig, fresh: Callable[[], list[ChunkPlan]]) -> list[ChunkPlan]:
        """The stored plan when resuming one, else ``fresh()``, stored before it is used."""
        path = Path(self.folder) / PLAN_FILE
        if self.resume and path.exists():
            try:
                parts = json.loads(path.read_text())["chunks"]
            except (OSError, ValueError, KeyError, TypeError) as error:
                raise ValueError(f"{path}: not a readable sweep plan ({error})") from None
            if not isinstance(parts, list) or not all(
                isinstance(part, list)
                and part
                and all(isinstance(i, int) and not isinstance(i, bool) for i in part)
                for part in parts
            ):
                raise ValueError(f"{path}: a sweep plan's chunks must be lists of run indices")
            try:
                return chunks_of(config, parts)
            except ValueError as error:
                raise ValueError(f"{path}: {error}") from None
        chunks = fresh()
        Path(self.folder).mkdir(parents=True, exist_ok=True)
        text = json.dumps({"chunks": [list(chunk.runs) for chunk in chunks]}) + "\n"
        write_text_atomic(path, text)
        return chunks

    def chunk(self, index: int, chunk: ChunkPlan) -> ChunkSaving:
        """What the trainer of chunk ``index`` needs (picklable, for a worker process)."""
        return ChunkSaving(
            Path(self.folder) / f"chunk-{index}.npz",
            self.every,
            self.resume,
            chunk.runs,
            dict(self.description),
        )


@dataclass(frozen=True)
class ChunkSaving:
    """One chunk's checkpoint file, its schedule, and whether to continue it."""

    path: Path
    every: int
    resume: bool
    runs: tuple[int, ...]
    """The chunk's runs: the file must hold these, or it belongs to another plan."""
    sweep: Mapping[str, Any] = field(default_factory=dict)
    """The sweep's configuration and data fingerprint (``SweepCheckpoints.description``)."""

    @property
    def description(self) -> dict[str, Any]:
        """What the chunk's file records of its run."""
        return {"kind": "sweep-chunk", "runs": list(self.runs), **self.sweep}

    def load(
        self, initial_states: list[OptState], n_params: int, epochs: int, batches_per_epoch: int
    ) -> EpochSnapshot | None:
        """The saved state to continue from, or None (not resuming, or nothing saved yet),
        checked against the chunk (its runs, the sweep's configuration and data, a network of
        ``n_params`` parameters, ``epochs`` epochs of ``batches_per_epoch`` mini-batches)."""
        if not self.resume or not self.path.exists():
            return None
        expected = checkpoint.Expected(
            n_runs=len(self.runs),
            n_params=n_params,
            epochs=epochs,
            batches_per_epoch=batches_per_epoch,
            description=self.description,
        )
        return checkpoint.load(self.path, initial_states, expected).snapshot

    def save(self, snapshot: EpochSnapshot) -> None:
        """Write ``snapshot`` (the chunk's whole history so far), atomically."""
        checkpoint.save(self.path, checkpoint.Checkpoint(snapshot, None, self.description))
