"""Fetch the vendored JavaScript (uPlot) from the npm registry at a pinned version.

The playground's page and report.html draw their charts with uPlot, kept in the repository under
src/descentlab/web/static/vendor/uplot/ so nothing is fetched at run time or in the tests. This
script downloads uPlot's tarball from the npm registry (standard library only), checks it
against the registry's published ``dist.integrity`` (a sha512 pinned below), and writes the
files the page loads, uPlot's license, and a README naming the version, source and integrity.

    python tools/fetch_js.py            # (re)write the vendored files
    python tools/fetch_js.py --check    # exit 1 unless the committed files equal a fresh fetch

To move to another version, change UPLOT_VERSION and UPLOT_INTEGRITY together (the integrity
is ``dist.integrity`` of https://registry.npmjs.org/uplot/<version>) and run the script.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import sys
import tarfile
import urllib.request
from pathlib import Path

UPLOT_VERSION = "1.6.32"
UPLOT_INTEGRITY = (
    "sha512-"
    "KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw=="
)
UPLOT_TARBALL = f"https://registry.npmjs.org/uplot/-/uplot-{UPLOT_VERSION}.tgz"
UPLOT_FILES = {
    "package/dist/uPlot.iife.min.js": "uPlot.iife.min.js",
    "package/dist/uPlot.min.css": "uPlot.min.css",
    "package/LICENSE": "LICENSE",
}
"""Path inside the tarball -> file name in the vendor folder."""
VENDOR = Path(__file__).resolve().parents[1] / "src/descentlab/web/static/vendor/uplot"
README = "README.md"


def integrity(data: bytes) -> str:
    """The npm/Subresource-Integrity string of ``data``: "sha512-" + base64 of its sha512."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def download(url: str) -> bytes:
    """The bytes at ``url``."""
    with urllib.request.urlopen(url, timeout=60) as response:
        return bytes(response.read())


def vendored_files(tarball: bytes) -> dict[str, bytes]:
    """File name in the vendor folder -> contents: the files of UPLOT_FILES, and the README.

    Raises ValueError when the tarball's integrity is not UPLOT_INTEGRITY or a file is missing.
    """
    found = integrity(tarball)
    if found != UPLOT_INTEGRITY:
        raise ValueError(
            f"{UPLOT_TARBALL} has integrity {found}, expected the pinned {UPLOT_INTEGRITY}"
        )
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for member_name, file_name in UPLOT_FILES.items():
            try:
                member = archive.extractfile(member_name)
            except KeyError:
                member = None
            if member is None:
                raise ValueError(f"{UPLOT_TARBALL} has no file {member_name}")
            files[file_name] = member.read()
    files[README] = readme().encode("utf-8")
    return files


def readme() -> str:
    """The vendor folder's README: what these files are and where they came from."""
    names = "\n".join(f"- `{name}` (from `{path}`)" for path, name in UPLOT_FILES.items())
    return (
        f"# uPlot {UPLOT_VERSION}, vendored\n\n"
        "The charts of the playground's page and of report.html are drawn with\n"
        "[uPlot](https://github.com/leeoniya/uPlot) (MIT license, see LICENSE), kept here so\n"
        "nothing is fetched at run time. Written by `python tools/fetch_js.py`; do not edit.\n\n"
        f"- version: {UPLOT_VERSION}\n"
        f"- source: {UPLOT_TARBALL}\n"
        f"- integrity (npm `dist.integrity`): {UPLOT_INTEGRITY}\n\n"
        f"Files:\n\n{names}\n"
    )


def differences(files: dict[str, bytes], folder: Path) -> list[str]:
    """The names in ``files`` whose copy in ``folder`` is missing or different."""
    return [
        name
        for name, data in files.items()
        if not (folder / name).is_file() or (folder / name).read_bytes() != data
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="compare the committed files with a fresh fetch instead of writing them",
    )
    arguments = parser.parse_args(argv)
    files = vendored_files(download(UPLOT_TARBALL))
    if arguments.check:
        stale = differences(files, VENDOR)
        if stale:
            print(f"differ from uPlot {UPLOT_VERSION}: {', '.join(stale)} in {VENDOR}")
            return 1
        print(f"{VENDOR} holds uPlot {UPLOT_VERSION} exactly ({UPLOT_INTEGRITY})")
        return 0
    VENDOR.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (VENDOR / name).write_bytes(data)
    print(f"wrote uPlot {UPLOT_VERSION} into {VENDOR}: {', '.join(files)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
