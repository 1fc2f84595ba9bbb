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
import os
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest
from hypothesis import settings

sys.path.insert(0, str(Path(__file__).parent))

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


# --- run folders and checkpoints, as another process leaves them ------------------------------


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
