"""The docs' screenshots of the playground, taken in Debian's chromium (``make screenshots``).

    python tools/screenshots.py [--out docs/images]

Starts ``descentlab playground`` on 127.0.0.1 and a free port, opens each view in a 1280 x 900
window, waits until it has drawn, and saves:

- ``playground-race.png``: gd, momentum and adam racing on moons (2000 epochs, to the end);
- ``playground-landscape.png``: four optimizers on rosenbrock.

The files are committed (docs/playground.md and docs/teachers.md show them); CI does not make
them again, so run this after a change to the page and commit what changed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from playground_process import CHROMIUM, CHROMIUM_ARGS, running_playground  # tools/ is sys.path[0]

VIEWS = {
    "playground-race.png": (
        "?view=race&dataset=moons&optimizers=gd,momentum,adam&batch_size=64&epochs=2000&seed=0",
        "[data-state=done]",
    ),
    "playground-landscape.png": (
        "?view=landscape&function=rosenbrock&optimizers=gd,momentum,adam,rmsprop",
        "#map[data-drawn]:not([data-animating])",
    ),
}


def shrink(path: Path) -> None:
    """``path`` as a 256-colour PNG: a third of the size, the same to the eye (the page is
    flat colours and thin lines)."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Take the docs' screenshots of the playground.")
    parser.add_argument(
        "--out", type=Path, default=Path("docs/images"), help="folder (default docs/images)"
    )
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(
            f"screenshots: no browser at {CHROMIUM}; install Debian's chromium "
            "(apt-get install chromium)",
            file=sys.stderr,
        )
        return 2
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with running_playground() as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        for filename, (query, ready) in VIEWS.items():
            page.goto(url + query)
            page.wait_for_selector(ready, timeout=120_000)
            page.wait_for_timeout(500)  # the boundary maps' last frame
            page.screenshot(path=str(args.out / filename))
            shrink(args.out / filename)
            print(f"wrote {args.out / filename}")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
