"""What the tests share: ``tests/`` on sys.path (so tests import course_reference, helpers and
this module's helpers: ``from conftest import run_cli``), reproducible property tests, the
command line run in-process or as a process, the published comparison run once, and for the
playground's servers a free port and a wait for their page.

Tests call the command line in-process with ``run_cli`` unless a signal or a fresh process is
the point (SIGKILL, Ctrl-C, a terminal, ``python -m descentlab`` itself): then
``run_cli_process`` or ``start_cli_process``.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.request
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest
from hypothesis import settings

sys.path.insert(0, str(Path(__file__).parent))

# The suite trains with the numpy engine unless a test says otherwise: the exact tests compare
# bits with the course, which only numpy gives (the compiled engine agrees within a tolerance
# and has its own tests). Set at import, so every command and subprocess inherits it; a test
# of the default (auto) path removes it with monkeypatch.delenv.
os.environ["DESCENTLAB_ENGINE"] = "numpy"

# The property tests draw the same examples on every run (CI included), so a failure is
# reproducible; explore further with `pytest --hypothesis-profile=explore`.
settings.register_profile("descentlab", derandomize=True)
settings.register_profile("explore", max_examples=1000)
settings.load_profile("descentlab")

FRUIT = """weight_g,diameter_cm,fruit
150,7.1,apple
120,6.5,apple
170,7.5,apple
140,6.9,apple
130,6.0,orange
180,7.8,orange
160,7.4,orange
200,8.1,orange
10,2.1,plum
35,4.0,plum
40,4.3,plum
28,3.6,plum
"""
"""A user's CSV file: two numeric features and three string labels, four rows each."""


class Result(NamedTuple):
    """What a command did: its exit code and everything it printed (the names of
    ``subprocess.CompletedProcess``'s fields)."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, cwd: Path | None = None) -> Result:
    """``descentlab ARGS`` in this process: ``main(list(args))`` with stdout and stderr
    captured, argparse's ``SystemExit`` turned into its exit code, and ``cwd`` the working
    directory meanwhile (restored after; ``descentlab resume`` changes it too).

    Warnings behave as in a fresh ``python -m descentlab`` with
    ``PYTHONWARNINGS=error::RuntimeWarning``: a RuntimeWarning (numpy's overflow, say) is an
    error, one Python shows by default is written to the captured stderr, and deprecations
    are not (``stderr == ""`` means the same as for a process)."""
    from descentlab.cli import main

    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.ExitStack() as stack:
        stack.enter_context(contextlib.chdir(os.getcwd() if cwd is None else cwd))
        caught = stack.enter_context(warnings.catch_warnings(record=True))
        warnings.resetwarnings()  # Python's own defaults, then the process's -W option
        warnings.simplefilter("default")
        for ignored in (DeprecationWarning, PendingDeprecationWarning, ImportWarning):
            warnings.simplefilter("ignore", ignored)
        warnings.simplefilter("ignore", ResourceWarning)
        warnings.simplefilter("error", RuntimeWarning)
        stack.enter_context(contextlib.redirect_stdout(stdout))
        stack.enter_context(contextlib.redirect_stderr(stderr))
        try:
            code = main(list(args))
        except SystemExit as exit_:  # argparse's exits: usage errors, --help, --version
            if exit_.code is None or isinstance(exit_.code, int):
                code = exit_.code or 0
            else:
                print(exit_.code, file=sys.stderr)
                code = 1
        for warning in caught:
            stderr.write(
                warnings.formatwarning(
                    warning.message, warning.category, warning.filename, warning.lineno
                )
            )
    return Result(code, stdout.getvalue(), stderr.getvalue())


def cli_command(*args: str) -> list[str]:
    """The argv of ``python -m descentlab ARGS`` with this interpreter."""
    return [sys.executable, "-m", "descentlab", *args]


def run_cli_process(
    *args: str, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``python -m descentlab ARGS`` as a fresh process (RuntimeWarnings are errors), for the
    tests whose point is a process: the entry point itself, a terminal, a pipe."""
    return subprocess.run(
        cli_command(*args),
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        env={**os.environ, "PYTHONWARNINGS": "error::RuntimeWarning"},
    )


def run_cli_on_terminal(*args: str, timeout: float = 120) -> tuple[int, bytes, bytes]:
    """``python -m descentlab ARGS`` as a fresh process whose stdout is a terminal (a pty)
    and stderr a pipe: its exit code, what the terminal showed, and its stderr."""
    import pty

    primary, secondary = pty.openpty()
    try:
        process = subprocess.run(
            cli_command(*args), stdout=secondary, stderr=subprocess.PIPE, timeout=timeout
        )
    finally:
        os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the terminal closed: everything was read
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(primary)
    return process.returncode, b"".join(chunks), process.stderr


def start_cli_process(*args: str) -> subprocess.Popen[str]:
    """``python -m descentlab ARGS`` started in the background, to be signalled (SIGKILL,
    SIGINT) and then waited for (``communicate``)."""
    return subprocess.Popen(
        cli_command(*args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "error::RuntimeWarning"},
    )


def run_python_limited(
    args: list[str], memory_limit: int, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` as a fresh process whose address space is limited to ``memory_limit``
    bytes (RLIMIT_AS, one BLAS thread): a refusal that must come before any large allocation
    is proven by the process refusing instead of dying of MemoryError."""

    def limit_memory() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))

    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        preexec_fn=limit_memory,
        timeout=timeout,
        env={
            **os.environ,
            "PYTHONWARNINGS": "error::RuntimeWarning",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
        },
    )


# --- benchmark problems -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def problem_args(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """``benchmark`` arguments of the tiny problems alone (``TINY_PROBLEM_FILES``, written to a
    folder of the module): ``--suite none --problem-file A --problem-file B``."""
    from benchmark_records import TINY_PROBLEM_FILES

    folder = tmp_path_factory.mktemp("problems")
    args = ["--suite", "none"]
    for name, text in TINY_PROBLEM_FILES.items():
        (folder / name).write_text(text)
        args += ["--problem-file", str(folder / name)]
    return args


# --- a real browser ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium, headless, one per test module (``browser.launch_chromium``); modules
    that use it are marked ``browser.requires_chromium``."""
    from browser import launch_chromium

    with launch_chromium() as chromium:
        yield chromium


# --- run folders and checkpoints, as another process leaves them ------------------------------


def results_of(folder: Path) -> dict[str, Any]:
    """``folder/results.json``, which must be a JSON object."""
    document = json.loads((folder / "results.json").read_text())
    assert isinstance(document, dict)
    return document


def sweep_numbers(folder: Path) -> list[dict[str, Any]]:
    """What must not depend on how a finished sweep ran (processes, a cluster, interruptions):
    every run's record, and the summary."""
    results = results_of(folder)
    assert results["status"] == "finished"
    return [*results["runs"], *results["summary"]]


def tasks_without_timings(folder: Path) -> list[dict[str, Any]]:
    """A finished benchmark's task records without the seconds each took."""
    return [
        {k: v for k, v in task.items() if k != "seconds"} for task in results_of(folder)["tasks"]
    ]


def run_status(folder: Path) -> str | None:
    """The ``status`` of ``folder/results.json`` ("running", "interrupted", "finished"), or
    None while there is no readable one (it is written atomically, so a half file never
    shows)."""
    try:
        return str(json.loads((folder / "results.json").read_text()).get("status"))
    except (OSError, ValueError):
        return None


def checkpoint_epochs_done(path: Path) -> int | None:
    """The epochs a checkpoint file holds (its header's ``epochs_done``), or None while there
    is no readable one."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            header: dict[str, Any] = json.loads(archive["header"].tobytes().decode())
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    return int(header["epochs_done"])


def wait_until(
    condition: Callable[[], bool],
    what: str,
    process: subprocess.Popen[str] | None = None,
    timeout: float = 120,
) -> None:
    """Poll ``condition()`` until it is true; fail (naming ``what``) after ``timeout`` seconds
    or when ``process`` ended first (then the state waited for can no longer come)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            _, stderr = process.communicate()
            pytest.fail(f"the process ended (exit {process.returncode}) before {what}: {stderr}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} after {timeout} s")
        time.sleep(0.005)


# --- the published comparison, once per session ---------------------------------------------


@pytest.fixture(scope="session")
def published_comparison(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, Path]:
    """``descentlab compare`` with its defaults (the published experiment: 10000 epochs, tens
    of seconds), run once per test session: what it printed, and its run folder."""
    out = tmp_path_factory.mktemp("compare") / "published"
    result = run_cli("compare", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return result, out


@contextlib.contextmanager
def dask_processes(
    workers: int = 2, cwd: Path | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes], list[subprocess.Popen[bytes]]]]:
    """A ``dask scheduler`` and ``workers`` ``dask worker`` processes (no nanny, one thread
    each, no dashboard) on 127.0.0.1 at a free port, ready: the scheduler's address, its
    process and the workers' processes. The workers run in ``cwd`` (their scratch space there
    too) when given. Every process is ended (SIGKILL if need be) and waited for on exit."""
    dask = str(Path(sys.executable).parent / "dask")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    quiet: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen(
        [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], **quiet
    )
    started = [scheduler]
    try:
        for _ in range(workers):
            worker = [dask, "worker", address, "--nthreads", "1", "--no-nanny", "--host"]
            worker += ["127.0.0.1", "--no-dashboard", "--death-timeout", "30"]
            if cwd is not None:
                worker += ["--local-directory", str(cwd)]
            started.append(subprocess.Popen(worker, cwd=cwd, **quiet))
        import distributed

        with distributed.Client(address, timeout=60) as client:
            client.wait_for_workers(workers, timeout=60)
        yield address, scheduler, started[1:]
    finally:
        for process in started:
            if process.poll() is None:
                process.terminate()
        for process in started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (for a server under test)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_page(url: str, timeout: float = 60.0) -> tuple[int, str, str]:
    """GET ``url`` once the server answers: status, content type and body."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                body = answer.read().decode()
                return answer.status, answer.headers["content-type"], body
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


# --- hostile archives: zip files written byte by byte -----------------------------------------


def npy_header(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    """The bytes of a .npy header (magic included) declaring ``shape`` of ``descr``."""
    buffer = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


class RawMember(NamedTuple):
    name: str
    method: int  # zipfile.ZIP_STORED or ZIP_DEFLATED
    data: bytes  # as stored in the archive (compressed for ZIP_DEFLATED)
    file_size: int  # the uncompressed size the directory declares
    crc: int = 0
    stored_size: int | None = None  # the compressed size it declares (default: len(data))


def raw_zip(members: list[RawMember]) -> bytes:
    """A zip archive written byte by byte (so its directory may declare anything): local
    headers with the data, the central directory, the end record."""
    body, directory = bytearray(), bytearray()
    for member in members:
        name = member.name.encode()
        stored_size = len(member.data) if member.stored_size is None else member.stored_size
        sizes = (member.crc, stored_size, member.file_size)
        directory += struct.pack(
            "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, member.method, 0, 0, *sizes,
            len(name), 0, 0, 0, 0, 0, len(body),
        ) + name  # fmt: skip
        body += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, member.method, 0, 0, *sizes,
                            len(name), 0) + name + member.data  # fmt: skip
    end = struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(directory), len(body), 0
    )
    return bytes(body + directory + end)


def deflated_zeros(shape: tuple[int, ...]) -> RawMember:
    """A deflated .npy member of float64 zeros of ``shape``, honest in its sizes: the stream
    is one block of 1 MiB of zeros repeated (each block ends with a full flush, so the copies
    are identical), about 1000 times smaller than what it inflates to. The CRC is left 0: a
    reader that got as far as checking it would already have inflated everything."""
    prefix = npy_header(shape)
    n_bytes = math.prod(shape) * 8
    chunk = 1024**2
    assert n_bytes % chunk == 0
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(bytes(chunk)) + compressor.flush(zlib.Z_FULL_FLUSH)
    stream = head + block * (n_bytes // chunk) + compressor.flush()
    return RawMember("", zipfile.ZIP_DEFLATED, stream, len(prefix) + n_bytes)


def stored(name: str, data: bytes) -> RawMember:
    return RawMember(name, zipfile.ZIP_STORED, data, len(data), zlib.crc32(data))


def kill_at(phase: str, args: Sequence[str], cwd: Path) -> None:
    """Run ``descentlab ARGS`` in ``cwd`` in a forked child of this process that kills itself
    (SIGKILL) at ``phase`` (``descentlab.faults``: ``faults.arm``, as ``DESCENTLAB_FAULT``
    arms a fresh process; the library is imported already, so a case pays no start-up), and
    assert that it died there."""
    from descentlab import faults
    from descentlab.cli import main

    cwd.mkdir(parents=True, exist_ok=True)
    pid = os.fork()
    if pid == 0:  # the child: never returns to pytest
        try:
            os.chdir(cwd)
            quiet = os.open(os.devnull, os.O_WRONLY)
            os.dup2(quiet, 1)
            os.dup2(quiet, 2)
            faults.arm(phase)
            main(list(args))
        finally:
            os._exit(3)  # the phase was never reached
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (phase, status)
