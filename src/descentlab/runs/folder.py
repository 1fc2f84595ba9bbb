"""A run folder: created and proved writable before any work, locked while a process writes
it, its state in results.json's ``status`` ("running", "interrupted", "finished").

``results.json`` is written last and atomically, so a folder whose results.json says
``"status": "finished"`` holds a complete run and nothing else looks like one.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Mapping
from pathlib import Path

from descentlab.atomic import write_text_atomic
from descentlab.runs.names import CHECKPOINT_FILE, LOCK_FILE, RESULTS_FILE


def default_out_dir(command: str, root: Path = Path("runs")) -> Path:
    """``runs/<command>-<YYYYmmdd-HHMMSS>``, with a numeric suffix if that already exists."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = root / f"{command}-{stamp}"
    suffix = 2
    while candidate.exists():
        candidate = root / f"{command}-{stamp}-{suffix}"
        suffix += 1
    return candidate


def read_status(out_dir: Path) -> str | None:
    """The ``status`` field of ``out_dir``'s results.json, or None without a readable one."""
    document = read_results(out_dir)
    status = None if document is None else document.get("status")
    return status if isinstance(status, str) else None


def read_results(out_dir: Path) -> dict[str, object] | None:
    """``out_dir``'s results.json, or None without a readable one."""
    try:
        document = json.loads((Path(out_dir) / RESULTS_FILE).read_text())
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def to_json(document: Mapping[str, object]) -> str:
    """A results document as results.json holds it (and ``--json`` prints it)."""
    return json.dumps(document, indent=2, allow_nan=False)


def write_results(out_dir: Path, document: Mapping[str, object]) -> None:
    """Write ``document`` as ``out_dir``'s results.json, atomically (every results.json is
    written here)."""
    write_text_atomic(Path(out_dir) / RESULTS_FILE, to_json(document) + "\n")


def prepare_out_dir(out_dir: Path, *, resuming: bool = False) -> Path:
    """Create ``out_dir`` and prove it is writable, before any training starts.

    Raises ``ValueError`` (one line, naming the folder) when it cannot be created or written,
    or when it already holds a run's results.json (unless ``resuming`` an unfinished one).
    """
    out_dir = Path(out_dir)
    status = read_status(out_dir)
    if (out_dir / RESULTS_FILE).exists() and not resuming:
        if status in ("running", "interrupted"):
            raise ValueError(
                f"--out {str(out_dir)!r} holds an unfinished run (status {status}); continue it "
                f"with: descentlab resume {out_dir}"
            )
        raise ValueError(
            f"--out {str(out_dir)!r} already holds a run ({RESULTS_FILE}); "
            "choose a new folder or remove it"
        )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ValueError(f"--out {str(out_dir)!r} is not a writable folder: {reason}") from None
    return out_dir


class FolderLock:
    """An exclusive claim on a run folder: ``.descentlab.lock`` holding the owner's pid,
    created with O_EXCL. A lock whose process is gone (killed) is taken over."""

    def __init__(self, out_dir: Path) -> None:
        self.path = Path(out_dir) / LOCK_FILE

    def __enter__(self) -> FolderLock:
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = self._owner()
                if owner is not None and _alive(owner):
                    raise ValueError(
                        f"{self.path.parent}: another descentlab process (pid {owner}) is "
                        "writing to this folder"
                    ) from None
                self.path.unlink(missing_ok=True)  # left by a process that was killed
                continue
            with os.fdopen(fd, "w") as f:
                f.write(str(os.getpid()))
            return self
        raise ValueError(f"{self.path.parent}: could not claim the folder")

    def __exit__(self, *exc: object) -> None:
        self.path.unlink(missing_ok=True)

    def _owner(self) -> int | None:
        try:
            return int(self.path.read_text().strip())
        except (OSError, ValueError):
            return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunFolder:
    """The folder of a run that can be interrupted and resumed (``train``, ``compare``,
    ``sweep``): prepared on creation (``ValueError`` if unusable), locked inside ``with``, and
    its status written by ``started`` and ``interrupted``.

    ``out`` None means a new ``default_out_dir(command)``; ``resuming`` reopens an unfinished
    run's folder. ``run`` records how the run was started (command, argv, cwd), so that
    ``descentlab resume`` can start it again.
    """

    def __init__(
        self,
        out: Path | None,
        command: str,
        config: Mapping[str, object],
        run: Mapping[str, object],
        *,
        resuming: bool = False,
    ) -> None:
        self.path = prepare_out_dir(
            default_out_dir(command) if out is None else out, resuming=resuming
        )
        self.command = command
        self.config = dict(config)
        self.run = dict(run)
        self.resuming = resuming
        self._lock = FolderLock(self.path)

    @property
    def checkpoint(self) -> Path:
        return self.path / CHECKPOINT_FILE

    def __enter__(self) -> RunFolder:
        self._lock.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.__exit__(*exc)

    def status(self, status: str, **details: object) -> dict[str, object]:
        """The results.json of a run that is not (yet) finished."""
        return {
            "status": status,
            "command": self.command,
            "config": self.config,
            "run": self.run,
            **details,
            "resume": f"descentlab resume {self.path}",
        }

    def started(self) -> None:
        """Record the run as running."""
        write_results(self.path, self.status("running"))

    def interrupted(self, **details: object) -> None:
        """Record the run as interrupted (``details``: what to add, e.g. ``epochs_done``)."""
        write_results(self.path, self.status("interrupted", **details))
