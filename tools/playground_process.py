"""``descentlab playground`` as a separate process on 127.0.0.1 and a free port, for the tools
that drive it (tools/bench_playground.py, tools/screenshots.py); and the chromium they use."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
"""Debian's chromium, driven through Playwright (never ``playwright install``)."""
CHROMIUM_ARGS = [
    "--no-sandbox",  # chromium refuses to run as root with its sandbox
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_playground(env: Mapping[str, str] | None = None) -> Iterator[str]:
    """The playground's address once it answers; stopped with Ctrl-C (SIGINT) on exit.
    ``env`` adds to this process's environment."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "descentlab", "playground", "--port", str(port)],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "api/options", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    process.kill()
                    _, stderr = process.communicate()
                    raise RuntimeError(f"the playground did not start: {stderr}") from None
                time.sleep(0.1)
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=30)
