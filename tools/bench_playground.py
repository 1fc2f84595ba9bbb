"""The playground's speed targets (issue 12), measured against a real server and a real browser.

    python tools/bench_playground.py [--repeat N] [--epochs N] [--no-browser] [--out FILE]

``descentlab playground`` runs as a separate process on 127.0.0.1 and a free port, with one
BLAS thread (DESCENTLAB_BLAS_THREADS and OPENBLAS_NUM_THREADS / OMP_NUM_THREADS = 1) so the
figures do not depend on what else the machine runs at the time. Measured:

1. the race stream, over the websocket (no browser): gd, momentum and adam racing on moons
   (300 points, [2, 5, 2, 1], batch 64): epochs per second per optimizer as they arrive at the
   client, and the time from a ``pause`` message to the server's ``paused``;
2. the landscape's answer: POST /api/landscape for 3 optimizers x 300 steps (rosenbrock), the
   round trip as the page makes it;
3. in the page (Debian's chromium through Playwright, skipped with a note without it): the
   same race's epoch counter on screen, the time from a click on Pause until the counter
   stops changing on screen, and the time from a changed learning rate in the landscape view
   until the new paths are drawn.

Targets: at least 1000 epochs per second per optimizer, Pause on screen within 200 ms, a
landscape redraw within 200 ms. Each figure is the best (for times: the lowest; for rates: the
highest) of ``--repeat`` tries, and the spread (worst / best) is printed beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from playground_process import CHROMIUM, CHROMIUM_ARGS, running_playground  # tools/ is sys.path[0]

RACE_OPTIMIZERS = ("gd", "momentum", "adam")
LANDSCAPE_REQUEST = {
    "function": "rosenbrock",
    "optimizers": [{"name": name} for name in RACE_OPTIMIZERS],
    "steps": 300,
}
EPOCHS_PER_SECOND_TARGET = 1000.0
PAUSE_TARGET_MS = 200.0
REDRAW_TARGET_MS = 200.0


@dataclass
class Figure:
    """One measured figure: the best of the tries, the worst, and the target it answers."""

    name: str
    unit: str
    best: float
    worst: float
    target: float | None = None
    higher_is_better: bool = False

    @property
    def passed(self) -> bool | None:
        if self.target is None:
            return None
        return self.best >= self.target if self.higher_is_better else self.best <= self.target


def figure(name: str, unit: str, values: list[float], target: float | None, higher: bool) -> Figure:
    best, worst = (max(values), min(values)) if higher else (min(values), max(values))
    return Figure(name, unit, best, worst, target, higher)


@contextmanager
def playground() -> Iterator[str]:
    """``descentlab playground`` with one BLAS thread, so the figures do not depend on what
    else the machine runs."""
    one_thread = ("DESCENTLAB_BLAS_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
    with running_playground({name: "1" for name in one_thread}) as url:
        yield url


def race_config(epochs: int) -> dict[str, Any]:
    return {
        "dataset": "moons",
        "hidden_layers": [5, 2],
        "batch_size": 64,
        "epochs": epochs,
        "seed": 0,
        "optimizers": [{"name": name} for name in RACE_OPTIMIZERS],
    }


def race_over_websocket(url: str, epochs: int) -> tuple[float, float]:
    """(epochs per second per optimizer as received, ms from ``pause`` to ``paused``)."""
    from websockets.sync.client import connect

    with connect(url.replace("http://", "ws://") + "ws/race", max_size=None) as websocket:
        websocket.send(json.dumps({"type": "start", "config": race_config(epochs)}))
        first: tuple[float, int] | None = None
        last: tuple[float, int] = (0.0, 0)
        while True:
            message = json.loads(websocket.recv())
            now = time.perf_counter()
            if message["type"] == "error":
                raise RuntimeError(f"the server refused the race: {message}")
            if message["type"] == "progress":
                if first is None:
                    first = (now, message["epoch"])
                last = (now, message["epoch"])
            if message["type"] == "done":
                break
        assert first is not None and last[0] > first[0], "too few progress messages to time"
        rate = (last[1] - first[1]) / (last[0] - first[0])
        # Pause: a fresh long race, paused once it streams.
        websocket.send(json.dumps({"type": "start", "config": race_config(10 * epochs)}))
        while json.loads(websocket.recv())["type"] != "progress":
            pass
        paused_at = time.perf_counter()
        websocket.send(json.dumps({"type": "pause"}))
        while json.loads(websocket.recv())["type"] != "paused":
            pass
        pause_ms = 1000 * (time.perf_counter() - paused_at)
        websocket.send(json.dumps({"type": "reset"}))
    return rate, pause_ms


def landscape_round_trip(url: str) -> float:
    """ms for one POST /api/landscape of 3 optimizers x 300 steps, answer read."""
    body = json.dumps(LANDSCAPE_REQUEST).encode()
    request = urllib.request.Request(
        url + "api/landscape", data=body, headers={"Content-Type": "application/json"}
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as answer:
        document = json.loads(answer.read())
    elapsed = 1000 * (time.perf_counter() - started)
    assert len(document["runs"]) == 3, document
    return elapsed


# The page's measurements run in the page: performance.now() around what the user sees.
RACE_RATE_JS = """async (seconds) => {
  const shown = document.querySelector('[data-epoch]');
  const read = () => Number(shown.dataset.epoch);
  const t0 = performance.now(), e0 = read();
  await new Promise((done) => setTimeout(done, seconds * 1000));
  return (read() - e0) / ((performance.now() - t0) / 1000);
}"""

PAUSE_JS = """async () => {
  const shown = document.querySelector('[data-epoch]');
  let changed = performance.now();
  const watch = new MutationObserver(() => { changed = performance.now(); });
  watch.observe(shown, { attributes: true, childList: true, subtree: true, characterData: true });
  const clicked = performance.now();
  document.querySelector('#race-pause').click();
  await new Promise((done) => setTimeout(done, 1000));
  watch.disconnect();
  return Math.max(0, changed - clicked);
}"""

REDRAW_JS = """async (rate) => {
  const map = document.querySelector('#map');
  const before = Number(map.dataset.drawn || 0);
  const input = document.querySelector('input[name=lr][data-optimizer=adam]');
  const started = performance.now();
  input.value = String(rate);
  input.dispatchEvent(new Event('input', { bubbles: true }));
  while (Number(map.dataset.drawn || 0) === before) {
    await new Promise((done) => requestAnimationFrame(done));
  }
  return performance.now() - started;
}"""


def in_the_page(url: str, epochs: int, repeat: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    found: dict[str, list[float]] = {"rate": [], "pause": [], "redraw": []}
    query = (
        f"?view=race&dataset=moons&optimizers={','.join(RACE_OPTIMIZERS)}"
        f"&batch_size=64&epochs={10 * epochs}&seed=0&hidden=5,2"
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        for _ in range(repeat):
            page.goto(url + query)
            page.wait_for_selector("[data-state=running]", timeout=60_000)
            found["rate"].append(page.evaluate(RACE_RATE_JS, 3))
            found["pause"].append(page.evaluate(PAUSE_JS))
        page.goto(url + "?view=landscape&function=rosenbrock&optimizers=gd,momentum,adam&steps=300")
        page.wait_for_selector("#map[data-drawn]", timeout=60_000)
        for attempt in range(repeat):
            found["redraw"].append(page.evaluate(REDRAW_JS, 0.05 + 0.01 * attempt))
        browser.close()
    return found


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "load_average": os.getloadavg(),
        "blas_threads": 1,
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Measure the playground's speed targets (issue 12) on this machine."
    )
    parser.add_argument("--repeat", type=int, default=3, help="tries per figure (default 3)")
    parser.add_argument(
        "--epochs", type=int, default=5000, help="epochs of the timed race (default 5000)"
    )
    parser.add_argument("--no-browser", action="store_true", help="skip the in-page figures")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.epochs < 100:
        parser.error("--repeat must be >= 1 and --epochs >= 100")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    figures: list[Figure] = []
    notes: list[str] = []
    with playground() as url:
        rates, pauses = zip(
            *(race_over_websocket(url, args.epochs) for _ in range(args.repeat)), strict=True
        )
        figures.append(
            figure(
                "race stream, epochs/s per optimizer (websocket)",
                "epochs/s",
                list(rates),
                EPOCHS_PER_SECOND_TARGET,
                True,
            )
        )
        figures.append(figure("pause → paused (websocket)", "ms", list(pauses), None, False))
        trips = [landscape_round_trip(url) for _ in range(max(5, args.repeat))]
        figures.append(
            figure(
                "landscape answer, 3 optimizers x 300 steps (HTTP)",
                "ms",
                trips,
                REDRAW_TARGET_MS,
                False,
            )
        )
        if args.no_browser:
            notes.append("in-page figures skipped (--no-browser)")
        elif not CHROMIUM.exists():
            notes.append(f"in-page figures skipped: no browser at {CHROMIUM}")
        else:
            found = in_the_page(url, args.epochs, args.repeat)
            figures += [
                figure(
                    "race on screen, epochs/s per optimizer",
                    "epochs/s",
                    found["rate"],
                    EPOCHS_PER_SECOND_TARGET,
                    True,
                ),
                figure("Pause click → counter still", "ms", found["pause"], PAUSE_TARGET_MS, False),
                figure(
                    "landscape: new learning rate → paths drawn",
                    "ms",
                    found["redraw"],
                    REDRAW_TARGET_MS,
                    False,
                ),
            ]
    about = machine()
    print(f"machine: {about}")
    print(f"{'figure':<52} {'best':>10} {'worst':>10}  target")
    for item in figures:
        verdict = "" if item.passed is None else ("PASS" if item.passed else "FAIL")
        target = "" if item.target is None else f"{'>=' if item.higher_is_better else '<='} "
        target += "" if item.target is None else f"{item.target:g} {item.unit} {verdict}"
        print(f"{item.name:<52} {item.best:>10.1f} {item.worst:>10.1f}  {target}")
    for note in notes:
        print(f"note: {note}")
    if args.out is not None:
        record = {"machine": about, "figures": [asdict(item) for item in figures], "notes": notes}
        args.out.write_text(json.dumps(record, indent=2) + "\n")
    return 0 if all(item.passed is not False for item in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
