"""A run folder: created and proved writable before any work, locked while a process writes
it, its state in results.json's ``status`` ("running", "interrupted", "finished").

``results.json`` is written last and atomically, so a folder whose results.json says
``"status": "finished"`` holds a complete run and nothing else looks like one.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import json
import os
import stat
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from descentlab.atomic import remove_temporaries, write_text_atomic
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


def check_reusable(out_dir: Path, *, resuming: bool = False) -> None:
    """Refuse (``ValueError``, one line naming the folder) ``out_dir`` when it holds a run's
    results.json; ``resuming`` accepts an unfinished run and refuses only a finished one."""
    out_dir = Path(out_dir)
    status = read_status(out_dir)
    if resuming:
        if status == "finished":
            raise ValueError(f"{out_dir}: this run already finished; nothing to resume")
        return
    if not (out_dir / RESULTS_FILE).exists():
        return
    if status in ("running", "interrupted"):
        raise ValueError(
            f"--out {str(out_dir)!r} holds an unfinished run (status {status}); continue it "
            f"with: descentlab resume {out_dir}"
        )
    raise ValueError(
        f"--out {str(out_dir)!r} already holds a run ({RESULTS_FILE}); "
        "choose a new folder or remove it"
    )


def prepare_out_dir(out_dir: Path, *, resuming: bool = False) -> Path:
    """Create ``out_dir`` and prove it is writable, before any training starts.

    Raises ``ValueError`` (one line, naming the folder) when it cannot be created or written,
    or when it already holds a run's results.json (unless ``resuming`` an unfinished one). A
    run whose results.json says "running" may be alive: ``claimed`` decides under the lock
    (the folder is in use, or its process was killed and it can be resumed).
    """
    out_dir = Path(out_dir)
    try:  # the lookups fail too for a name too long
        if read_status(out_dir) != "running":
            check_reusable(out_dir, resuming=resuming)
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ValueError(f"--out {str(out_dir)!r} is not a writable folder: {reason}") from None
    return out_dir


@contextmanager
def claimed(out_dir: Path, *, resuming: bool = False) -> Iterator[Path]:
    """Hold ``out_dir`` (made by ``prepare_out_dir``) for writing, until the ``with`` ends.

    Takes its ``FolderLock`` (``ValueError`` while another process holds it); then, with no
    other process able to write the folder, refuses it if it holds a run (``check_reusable``:
    a run that finished or started in the meantime) and removes the temporary files that a
    writer killed mid-write left (``atomic.remove_temporaries``).
    """
    with FolderLock(out_dir):
        check_reusable(out_dir, resuming=resuming)
        remove_temporaries(Path(out_dir))
        yield Path(out_dir)


class FolderLock:
    """An exclusive claim on a run folder: ``flock`` on ``.descentlab.lock``, held open while
    the claim lasts; the file holds the owner's pid, for the refusal to name.

    The kernel grants the lock to one open file at a time, so of any number of processes (or
    threads) taking it together exactly one succeeds, and the others are refused at once with
    a ``ValueError`` naming the folder and the owner's pid. It drops the lock when its process
    ends, however it ends (SIGKILL included): a lock is never stale and nothing guesses whether
    an owner is alive. The file is removed on release; one left by a killed process is simply
    locked again. Needs ``flock`` (Linux, macOS) on a local file system.

    A process forked while a lock is held does not hold it: the child closes its copy of the
    descriptor at the fork (``os.register_at_fork``), so a command's helper processes (the
    pictures' drawing, a sweep's workers) never keep a folder locked once the command has
    ended, however it ended.
    """

    def __init__(self, out_dir: Path) -> None:
        self.path = Path(out_dir) / LOCK_FILE
        self._fd: int | None = None

    def __enter__(self) -> FolderLock:
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is already held by this FolderLock")
        while True:
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = _owner(fd)
                os.close(fd)
                holder = "another descentlab process" + ("" if owner is None else f" (pid {owner})")
                raise ValueError(
                    f"{self.path.parent}: {holder} is writing to this folder; wait for it to "
                    "end or stop it"
                ) from None
            except OSError as error:
                os.close(fd)
                raise ValueError(
                    f"{self.path.parent}: cannot lock {LOCK_FILE}: {error.strerror or error}"
                ) from None
            if _is_linked_at(fd, self.path):
                break
            # The owner released it (removing the file) between our open and our lock: the
            # lock we hold is on a file no one else will open; lock the one at the path now.
            os.close(fd)
        with contextlib.suppress(OSError):  # the pid only informs a refusal
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        _HELD.add(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _HELD.discard(self)
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            if _is_linked_at(fd, self.path):  # remove it while still holding it
                with contextlib.suppress(OSError):
                    self.path.unlink()
        finally:
            os.close(fd)  # releases the lock

    def _open(self) -> int:
        """The lock file, opened (created if need be); a ``ValueError`` if it cannot be or is
        not a regular file (a symbolic link is never followed)."""
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        try:
            fd = os.open(self.path, flags, 0o644)
        except OSError as error:
            reason = error.strerror or type(error).__name__
            raise ValueError(f"{self.path.parent}: cannot open {LOCK_FILE}: {reason}") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise ValueError(f"{self.path.parent}: {LOCK_FILE} is not a regular file")
        return fd


_HELD: weakref.WeakSet[FolderLock] = weakref.WeakSet()
"""The locks this process holds."""


def _let_go_in_child() -> None:
    """In a forked child: close each held lock's descriptor (the parent's lock stays) and
    forget it, so that the child's copy of a ``FolderLock`` releases nothing."""
    for lock in list(_HELD):
        fd, lock._fd = lock._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
    _HELD.clear()


os.register_at_fork(after_in_child=_let_go_in_child)


def _owner(fd: int) -> int | None:
    """The pid the lock file open at ``fd`` names, or None (not yet written, or garbled)."""
    try:
        return int(os.pread(fd, 32, 0).decode().strip())
    except (OSError, ValueError):
        return None


def _is_linked_at(fd: int, path: Path) -> bool:
    """Whether the file open at ``fd`` is the one ``path`` names now."""
    try:
        there = os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    here = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


class RunFolder:
    """The folder of a run that can be interrupted and resumed (``train``, ``compare``,
    ``sweep``): prepared on creation (``ValueError`` if unusable), ``claimed`` inside ``with``
    (locked, checked again, temporary files of a killed process removed), and
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
        self._held = contextlib.ExitStack()

    @property
    def checkpoint(self) -> Path:
        return self.path / CHECKPOINT_FILE

    def __enter__(self) -> RunFolder:
        self._held.enter_context(claimed(self.path, resuming=self.resuming))
        return self

    def __exit__(self, *exc: object) -> None:
        self._held.close()

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
