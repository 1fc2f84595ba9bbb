"""A real headless browser for the tests: Debian's chromium driven by Playwright's Python
package (never ``playwright install``, which downloads a browser and fails offline).

``requires_chromium`` skips a test module where /usr/bin/chromium is missing, and ``pytest -ra``
(on in pyproject.toml) prints the reason; ``launch_chromium`` starts the browser."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # chromium refuses to run as root with its sandbox
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]

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
