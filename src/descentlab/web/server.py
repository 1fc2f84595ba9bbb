"""Run the playground application on uvicorn until Ctrl-C."""

from __future__ import annotations

import threading
import time
import webbrowser

from descentlab.web.limits import Limits

LOOPBACK = ("127.0.0.1", "localhost", "::1")
"""Hosts only this machine can reach."""


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach a server bound to ``host``."""
    return host in LOOPBACK or host.startswith("127.")


def url_of(host: str, port: int) -> str:
    """The address to open in a browser."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve(host: str, port: int, limits: Limits, *, open_browser: bool = False) -> None:
    """Serve the playground on ``host``:``port`` until Ctrl-C; with ``open_browser`` open the
    page in the default browser once the server listens. uvicorn stops on SIGINT and then
    raises it again, so the caller sees ``KeyboardInterrupt``."""
    import uvicorn

    from descentlab.web.app import create_app

    config = uvicorn.Config(
        create_app(limits), host=host, port=port, log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    if open_browser:

        def open_when_started() -> None:
            while not server.started and not server.should_exit:
                time.sleep(0.05)
            if server.started:
                webbrowser.open(url_of(host, port))

        threading.Thread(target=open_when_started, daemon=True).start()
    server.run()
