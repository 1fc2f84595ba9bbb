"""A benchmark's saved tasks: one JSON file per finished task, so an interrupted benchmark
loses at most the tasks that were running.

The folder (``tasks/`` in the run folder) holds ``benchmark.json``, the benchmark's
``BenchmarkConfig.to_dict()`` written before any task runs, and ``<task key>.json``, one
finished task's ``TaskRecord.to_dict()``, written atomically by whichever process ran it.
A resumed benchmark reads them back and runs only the tasks without a file.

Nothing read back is believed: ``benchmark.json`` must describe exactly the benchmark being
resumed (a problem file edited since the start is refused), and a task file must hold the
record of the task its name says, readable by ``TaskRecord.from_dict``, with one trial per
seed; anything else is one line naming the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from descentlab.atomic import write_text_atomic
from descentlab.benchmark.config import BenchmarkConfig, Task
from descentlab.benchmark.tasks import TaskRecord

__all__ = ["PROTOCOL_FILE", "TaskStore"]

PROTOCOL_FILE = "benchmark.json"


@dataclass(frozen=True)
class TaskStore:
    """The task files of one benchmark in ``folder``; with ``resume``, saved ones count."""

    folder: Path
    resume: bool = False

    def start(self, config: BenchmarkConfig) -> dict[str, TaskRecord]:
        """Claim the folder for ``config``: when resuming, check the recorded protocol and
        return the finished tasks' records by task key; otherwise record the protocol."""
        folder = Path(self.folder)
        protocol = folder / PROTOCOL_FILE
        if self.resume and protocol.exists():
            try:
                recorded = json.loads(protocol.read_text())
            except (OSError, ValueError) as error:
                raise ValueError(
                    f"{protocol}: not a readable benchmark protocol ({error})"
                ) from None
            if not isinstance(recorded, dict) or not config.same_protocol(recorded):
                raise ValueError(
                    f"{protocol}: the benchmark recorded here is not the one being resumed (a "
                    "problem file or a default changed since it started); start a new one"
                )
            return {task.key: self._read(task, config) for task in self._saved(config)}
        folder.mkdir(parents=True, exist_ok=True)
        write_text_atomic(protocol, json.dumps(config.to_dict(), indent=1) + "\n")
        return {}

    def path(self, key: str) -> Path:
        return Path(self.folder) / f"{key}.json"

    def save(self, record: TaskRecord) -> None:
        """Write one finished task's record, atomically."""
        write_text_atomic(self.path(record.key), json.dumps(record.to_dict()) + "\n")

    def _saved(self, config: BenchmarkConfig) -> list[Task]:
        return [task for task in config.tasks if self.path(task.key).exists()]

    def _read(self, task: Task, config: BenchmarkConfig) -> TaskRecord:
        path = self.path(task.key)
        try:
            record = TaskRecord.from_dict(json.loads(path.read_text()))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"{path}: not a readable benchmark task record ({error})") from None
        if record.key != task.key or len(record.trials) != config.seeds:
            raise ValueError(
                f"{path}: holds {record.problem}/{record.optimizer}/{record.kind} with "
                f"{len(record.trials)} trials, not this task's {config.seeds}"
            )
        return record
