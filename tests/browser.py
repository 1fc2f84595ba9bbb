"""A real headless browser for the tests: Debian's chromium driven by Playwright's Python
package (never ``playwright install``, which downloads a browser and fails offline).

``requires_chromium`` skips a test module where /usr/bin/chromium is missing, and ``pytest -ra``
(on in pyproject.toml) prints the reason; ``launch_chromium`` starts the browser."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest


def _tools_module(name: str) -> Any:
    """``tools/NAME.py``, imported by path (tools/ is not a package)."""
    path = Path(__file__).resolve().parents[1] / "tools" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The chromium and its flags are the ones the benchmark and the screenshots use.
_chromium = _tools_module("playground_process")
CHROMIUM: Path = _chromium.CHROMIUM
CHROMIUM_ARGS: list[str] = _chromium.CHROMIUM_ARGS

requires_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"no browser at {CHROMIUM}: install Debian's chromium (apt-get install chromium) "
    "to run the browser tests",
)


@contextmanager
def launch_chromium() -> Iterator[Any]:
    """The system chromium, headless, closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@contextmanager
def watched_page(browser: Any, width: int = 1280, height: int = 900) -> Iterator[Any]:
    """A new page of ``browser`` at ``width`` x ``height``; closed on exit, and an error thrown
    by the page's scripts meanwhile fails the test."""
    page = browser.new_page(viewport={"width": width, "height": height})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    page.close()
    assert errors == [], f"the page threw: {errors}"
