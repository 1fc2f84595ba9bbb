"""The wheel: the playground's page ships inside it, and an installed wheel serves it.

The wheel is built by pip from a copy of this checkout's sources (``pip wheel``, which fetches
the build backend pyproject.toml asks for from the configured package index, as ``pip install``
does; the copy keeps a stale ``build/`` out of the wheel) and installed by pip, without its
dependencies, into a fresh virtual environment. That environment borrows the dependencies
(numpy, starlette, uvicorn, ...) from this one through a ``.pth`` file: a plain path line, so
this environment's own ``.pth`` files, among them the editable install of the checkout, are not
read there. The test checks that ``descentlab`` is imported from the fresh environment, then
serves the page from it.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from conftest import free_port, wait_for_page
from test_web_api import referenced_files

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "src" / "descentlab" / "web" / "static"
PAGE = sorted(path.relative_to(STATIC).as_posix() for path in STATIC.rglob("*") if path.is_file())
"""Every file of the page in the checkout (index.html, its scripts, styles, vendored uPlot)."""
SOURCE_FILES = ("pyproject.toml", "README.md", "LICENSE")
"""What the wheel is built from, with src/."""
JUNK = shutil.ignore_patterns("__pycache__", "*.egg-info")


def run(*argv: str | Path, cwd: Path) -> str:
    """Run ``argv`` in ``cwd``; its stdout (stderr shown when it fails)."""
    done = subprocess.run(
        [str(arg) for arg in argv], capture_output=True, text=True, cwd=cwd, timeout=600
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the wheel, the python of a fresh venv with the wheel installed)."""
    where = tmp_path_factory.mktemp("wheel")
    source = where / "source"
    shutil.copytree(ROOT / "src", source / "src", ignore=JUNK)
    for name in SOURCE_FILES:
        shutil.copy2(ROOT / name, source / name)
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", where / "dist",
        source, cwd=where)  # fmt: skip
    (wheel,) = (where / "dist").glob("descentlab-*.whl")
    run(sys.executable, "-m", "venv", "--without-pip", where / "venv", cwd=where)
    python = where / "venv" / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--quiet",
        "--no-index", wheel, cwd=where)  # fmt: skip
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
                    cwd=where).strip())  # fmt: skip
    (site / "borrowed-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return wheel, python


def test_the_wheel_holds_the_page(installed: tuple[Path, Path]) -> None:
    wheel, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    assert len(PAGE) > 10 and "vendor/uplot/LICENSE" in PAGE
    for name in PAGE:
        assert f"descentlab/web/static/{name}" in names


def test_the_installed_wheel_serves_the_page(installed: tuple[Path, Path]) -> None:
    _, python = installed
    venv = python.parent.parent
    imported = run(python, "-c", "import descentlab; print(descentlab.__file__)", cwd=venv)
    assert Path(imported.strip()).is_relative_to(venv)  # the wheel's files, not the checkout
    port = free_port()
    process = subprocess.Popen(
        [python, "-m", "descentlab", "playground", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=venv,
    )
    try:
        status, content_type, page = wait_for_page(f"http://127.0.0.1:{port}/")
        assert status == 200 and content_type.startswith("text/html")
        assert '<canvas id="map"' in page and "Copy as command" in page
        status, content_type, script = wait_for_page(
            f"http://127.0.0.1:{port}/static/playground.js"
        )
        assert status == 200 and "javascript" in content_type
        assert "/api/landscape" in script
        for name in referenced_files(page):  # every script and style the page loads
            status, _, _ = wait_for_page(f"http://127.0.0.1:{port}/static/{name}")
            assert status == 200, name
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
