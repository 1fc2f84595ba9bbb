"""``descentlab playground``: a real server in a fresh process that Ctrl-C stops cleanly, the
warning off loopback, and the one line that says how to install the extra."""

from __future__ import annotations

import dataclasses
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import free_port, run_cli, start_cli_process, wait_for_page
from descentlab.web import server
from descentlab.web.limits import Limits


def test_serves_the_page_on_loopback_and_stops_cleanly_on_ctrl_c() -> None:
    port = free_port()
    process = start_cli_process("playground", "--port", str(port))
    try:
        status, content_type, body = wait_for_page(f"http://127.0.0.1:{port}/")
    except BaseException:
        process.kill()
        print(process.communicate())
        raise
    assert status == 200 and content_type.startswith("text/html")
    assert "descentlab playground" in body
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130  # as every command's Ctrl-C
    assert stdout == f"descentlab playground: http://127.0.0.1:{port}/ (Ctrl-C stops it)\n"
    assert stderr == "descentlab playground: interrupted\n"


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """``serve`` replaced by a recorder: the command runs in-process and returns at once."""
    calls: list[dict[str, Any]] = []

    def record(host: str, port: int, limits: Limits, *, open_browser: bool = False) -> None:
        calls.append({"host": host, "port": port, "open_browser": open_browser})
        if limits != Limits():
            calls[-1]["limits"] = limits

    monkeypatch.setattr(server, "serve", record)
    return calls


def test_binds_loopback_by_default(served: list[dict[str, Any]]) -> None:
    code, stdout, stderr = run_cli("playground")
    assert code == 0 and stderr == ""
    assert served == [{"host": "127.0.0.1", "port": 8765, "open_browser": False}]
    assert stdout == "descentlab playground: http://127.0.0.1:8765/ (Ctrl-C stops it)\n"


def test_another_host_is_warned_about(served: list[dict[str, Any]]) -> None:
    code, _, stderr = run_cli("playground", "--host", "0.0.0.0", "--port", "9000", "--open")
    assert code == 0
    assert served == [{"host": "0.0.0.0", "port": 9000, "open_browser": True}]
    assert "warning" in stderr and "anyone who can reach port 9000" in stderr


@pytest.mark.parametrize("port", ["0", "65536", "http"])
def test_a_bad_port_is_a_usage_error(port: str) -> None:
    code, _, stderr = run_cli("playground", "--port", port)
    assert code == 2 and "port" in stderr and len(stderr.splitlines()) == 1


def test_every_limit_has_an_option(served: list[dict[str, Any]]) -> None:
    code, _, stderr = run_cli(
        "playground", "--max-races", "2", "--boundary-grid", "40", "--max-upload-bytes", "5000"
    )
    assert code == 0, stderr
    assert served[0]["limits"] == Limits(max_races=2, boundary_grid=40, max_upload_bytes=5000)
    code, help_text, _ = run_cli("playground", "--help")
    assert code == 0
    flat = " ".join(help_text.split())
    for item in dataclasses.fields(Limits):
        flag = "--" + item.name.replace("_", "-")
        assert f"{flag} N {item.metadata['help']} (default: {item.default})" in flat


@pytest.mark.parametrize(
    "args, words",
    [
        (["--max-races", "0"], "max races must be an integer >= 1, got 0"),
        (["--boundary-grid", "1"], "boundary grid must be an integer >= 2, got 1"),
        (["--max-epochs", "many"], "max epochs must be an integer >= 1, got 'many'"),
        (["--min-optimizers", "3", "--max-optimizers", "2"], "max_optimizers must be >="),
    ],
)
def test_a_bad_limit_is_a_usage_error(
    served: list[dict[str, Any]], args: list[str], words: str
) -> None:
    code, _, stderr = run_cli("playground", *args)
    assert code == 2 and words in stderr and len(stderr.splitlines()) == 1, stderr
    assert served == []


@pytest.mark.parametrize("missing", ["starlette", "uvicorn"])
def test_without_the_extra_one_line_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    monkeypatch.setitem(sys.modules, missing, None)  # "import missing" raises ImportError
    code, stdout, stderr = run_cli("playground")
    assert code == 2 and stdout == ""
    assert len(stderr.splitlines()) == 1
    assert "pip install 'descentlab[playground]'" in stderr


@pytest.mark.parametrize(
    ("host", "loopback", "url"),
    [
        ("127.0.0.1", True, "http://127.0.0.1:8765/"),
        ("127.0.1.1", True, "http://127.0.1.1:8765/"),
        ("localhost", True, "http://localhost:8765/"),
        ("::1", True, "http://[::1]:8765/"),
        ("0.0.0.0", False, "http://0.0.0.0:8765/"),
        ("192.168.1.5", False, "http://192.168.1.5:8765/"),
    ],
)
def test_loopback_and_urls(host: str, loopback: bool, url: str) -> None:
    assert server.is_loopback(host) is loopback
    assert server.url_of(host, 8765) == url


def test_open_opens_the_page_once_the_server_listens(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    opened = tmp_path / "opened"
    # webbrowser runs $BROWSER with the URL for %s: here a shell that writes it down.
    monkeypatch.setenv("BROWSER", f'sh -c "echo \\"$1\\" > {opened}" sh %s')
    port = free_port()
    process = start_cli_process("playground", "--port", str(port), "--open")
    try:
        deadline = time.monotonic() + 60
        while not (opened.exists() and opened.read_text()) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    assert opened.read_text() == f"http://127.0.0.1:{port}/\n"
    assert "Traceback" not in stderr


def test_the_guide_lists_every_limit_with_its_default() -> None:
    guide = (Path(__file__).parent.parent / "docs" / "playground.md").read_text()
    rows = {}
    for line in guide.split("## Limits", 1)[1].splitlines():
        if line.startswith("| `--") and " N` |" in line:
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            rows[cells[0].strip("`").removesuffix(" N")] = int(cells[2].split()[0].replace(",", ""))
    assert rows == {
        "--" + item.name.replace("_", "-"): item.default for item in dataclasses.fields(Limits)
    }
