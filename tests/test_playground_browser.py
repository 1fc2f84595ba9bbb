"""The playground's page in a real headless browser: Debian's chromium driven by Playwright's
Python package (never ``playwright install``, which downloads a browser). Without
/usr/bin/chromium these tests are skipped, and ``pytest -ra`` says why."""

from __future__ import annotations

import json
import re
import shlex
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser import launch_chromium, requires_chromium
from conftest import free_port, run_cli, start_cli_process, wait_for_page

pytestmark = requires_chromium


@pytest.fixture(scope="module")
def playground() -> Iterator[str]:
    """``descentlab playground`` on a free port, stopped with Ctrl-C afterwards."""
    port = free_port()
    process = start_cli_process("playground", "--port", str(port))
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_page(url)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launch_chromium() as chromium:
        yield chromium


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    page.close()
    assert errors == []


def drawn(page: Any) -> int:
    return int(page.locator("#map").get_attribute("data-drawn") or 0)


def test_clicking_the_map_moves_the_start_and_redraws_the_paths(playground: str, page: Any) -> None:
    page.goto(playground + "?view=landscape")
    page.wait_for_selector("#map[data-drawn]")
    assert page.locator("#summary tbody tr").count() == 4  # gd, momentum, adam, rmsprop
    before = drawn(page)
    page.locator("#map").click(position={"x": 400, "y": 120})
    page.wait_for_function(f"Number(document.querySelector('#map').dataset.drawn) > {before}")
    x, y = (float(page.input_value(f"#start-{axis}")) for axis in "xy")
    assert 0.5 < x < 2.0 and 1.5 < y < 2.5  # rosenbrock's view: x in [-2.2, 2.2], y in [-1.2, 3.2]
    assert "start=" in page.url
    assert page.locator("#status").inner_text().startswith("rosenbrock: 4 paths")


def test_a_shared_url_reproduces_the_configuration(playground: str, page: Any) -> None:
    page.goto(playground + "?function=quadratic&optimizers=gd,adam&lr.gd=0.05&steps=40")
    page.wait_for_selector("#map[data-drawn]")
    assert page.input_value("#function") == "quadratic"
    checked = page.eval_on_selector_all(
        "input[name=use]:checked", "boxes => boxes.map(b => b.value)"
    )
    assert checked == ["gd", "adam"]
    assert page.input_value("input[data-optimizer=gd]") == "0.05"
    assert page.locator("#summary tbody tr").count() == 2
    assert page.locator("#status").inner_text() == "quadratic: 2 paths of 40 steps"


def test_an_invalid_value_is_refused_next_to_its_field(playground: str, page: Any) -> None:
    page.goto(playground + "?function=quadratic&optimizers=gd,adam")
    page.wait_for_selector("#map[data-drawn]")
    page.fill("input[data-optimizer=adam]", "-1")
    message = page.locator("[data-error-for-optimizer=adam]")
    message.wait_for(state="visible")
    assert "optimizers[1].learning_rate" in message.inner_text()
    assert "> 0" in message.inner_text()
    assert page.get_attribute("input[data-optimizer=adam]", "aria-invalid") == "true"


def test_copy_as_command_and_the_downloads(playground: str, page: Any, tmp_path: Path) -> None:
    page.goto(playground + "?function=quadratic&optimizers=gd,adam&lr.gd=0.05&steps=40")
    page.wait_for_selector("#map[data-drawn]")
    page.click("#copy-command")
    page.wait_for_function("document.querySelector('#share-status').textContent !== ''")
    command = page.input_value("#command")
    copied = page.locator("#share-status").inner_text() == f"copied: {command}"
    assert copied or page.locator("#command").is_visible()  # the clipboard, or the box
    _, name, *args = shlex.split(command)
    code, _, stderr = run_cli(name, *args, "--out", str(tmp_path / "run"))
    assert code == 0, stderr
    written = (tmp_path / "run" / "results.json").read_text()
    runs = json.loads(written)["runs"]
    shown = page.evaluate("state.result.runs")
    assert [{key: run[key] for key in record} for run, record in zip(
        shown, runs, strict=True)] == runs  # fmt: skip
    with page.expect_download() as download:
        page.click("#download-results")
    assert download.value.suggested_filename == "results.json"
    created = re.compile(r'"created": "[^"]*"')
    saved = Path(download.value.path()).read_text()
    assert created.sub("", saved) == created.sub("", written)
    for button, filename in [("#download-map", "quadratic-trajectories.png"),
                             ("#download-loss", "quadratic-loss.png")]:  # fmt: skip
        with page.expect_download() as download:
            page.click(button)
        assert download.value.suggested_filename == filename
        assert Path(download.value.path()).read_bytes().startswith(b"\x89PNG")
