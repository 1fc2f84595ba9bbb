"""tools/fetch_js.py, offline: the committed uPlot is the pinned version, and the script checks
a tarball's integrity, extracts the right files and tells a stale copy from a fresh one (the
registry is replaced by tarballs built here; nothing is downloaded)."""

from __future__ import annotations

import importlib.util
import io
import tarfile
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "src" / "descentlab" / "web" / "static" / "vendor" / "uplot"


def load_fetch_js() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fetch_js", ROOT / "tools" / "fetch_js.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fetch_js = load_fetch_js()


def tarball(files: dict[str, bytes]) -> bytes:
    """A .tgz holding ``files`` (path inside -> contents), as npm packs them."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            member = tarfile.TarInfo(name)
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


def committed_tarball() -> bytes:
    """A tarball of the committed files at the paths the registry's has them."""
    return tarball(
        {inside: (VENDOR / name).read_bytes() for inside, name in fetch_js.UPLOT_FILES.items()}
    )


def test_the_committed_files_are_the_pinned_version() -> None:
    assert (VENDOR / "README.md").read_text() == fetch_js.readme()
    banner = (VENDOR / "uPlot.iife.min.js").read_text().splitlines()[0]
    assert banner == f"/*! https://github.com/leeoniya/uPlot (v{fetch_js.UPLOT_VERSION}) */"
    assert "MIT License" in (VENDOR / "LICENSE").read_text()


def test_integrity_is_npm_sha512_in_base64() -> None:
    # sha512("abc") from FIPS 180-2, base64-encoded
    assert fetch_js.integrity(b"abc") == (
        "sha512-3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw=="
    )


def test_a_tarball_with_another_integrity_is_refused() -> None:
    with pytest.raises(ValueError, match="expected the pinned sha512-KIMVnG68"):
        fetch_js.vendored_files(committed_tarball())


def test_the_files_are_extracted_with_a_readme(monkeypatch: pytest.MonkeyPatch) -> None:
    data = committed_tarball()
    monkeypatch.setattr(fetch_js, "UPLOT_INTEGRITY", fetch_js.integrity(data))
    files = fetch_js.vendored_files(data)
    assert sorted(files) == ["LICENSE", "README.md", "uPlot.iife.min.js", "uPlot.min.css"]
    assert files["uPlot.min.css"] == (VENDOR / "uPlot.min.css").read_bytes()
    assert fetch_js.differences(files, VENDOR) == ["README.md"]  # it names the new integrity


def test_a_tarball_without_a_file_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    data = tarball({"package/LICENSE": b"MIT"})
    monkeypatch.setattr(fetch_js, "UPLOT_INTEGRITY", fetch_js.integrity(data))
    with pytest.raises(ValueError, match=r"has no file package/dist/uPlot\.iife\.min\.js"):
        fetch_js.vendored_files(data)


def test_check_tells_a_stale_copy_from_a_fresh_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = committed_tarball()
    monkeypatch.setattr(fetch_js, "UPLOT_INTEGRITY", fetch_js.integrity(data))
    monkeypatch.setattr(fetch_js, "download", lambda url: data)
    monkeypatch.setattr(fetch_js, "VENDOR", tmp_path)
    assert fetch_js.main(["--check"]) == 1  # nothing there yet
    assert capsys.readouterr().out.startswith(
        f"differ from uPlot {fetch_js.UPLOT_VERSION}: uPlot.iife.min.js, uPlot.min.css, "
        "LICENSE, README.md in "
    )
    assert fetch_js.main([]) == 0
    assert fetch_js.main(["--check"]) == 0
    (tmp_path / "uPlot.min.css").write_text(".uplot {}")
    assert fetch_js.main(["--check"]) == 1
    assert "differ from uPlot 1.6.32: uPlot.min.css in" in capsys.readouterr().out
