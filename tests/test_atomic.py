"""Atomic writes (``descentlab.atomic``): the old file or the whole new one, the temporary
files' names, and the removal of those a killed writer left."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

import pytest

from descentlab.atomic import (
    is_temporary,
    remove_temporaries,
    write_atomic,
    write_bytes_atomic,
    write_path_atomic,
)


def test_a_write_replaces_the_file_with_open_s_mode_and_leaves_no_temporary(
    tmp_path: Path,
) -> None:
    seen: list[str] = []

    def write(f: IO[bytes]) -> None:
        seen.extend(name for name in os.listdir(tmp_path) if name != "plain")
        f.write(b"new")

    (tmp_path / "plain").write_bytes(b"")  # the mode open() gives under this umask
    (tmp_path / "data.bin").write_bytes(b"old")
    write_atomic(tmp_path / "data.bin", write)
    assert (tmp_path / "data.bin").read_bytes() == b"new"
    [temporary] = [name for name in seen if name != "data.bin"]
    assert temporary.startswith(".data.bin.") and is_temporary(temporary)
    assert sorted(os.listdir(tmp_path)) == ["data.bin", "plain"]
    plain_mode = (tmp_path / "plain").stat().st_mode
    assert (tmp_path / "data.bin").stat().st_mode == plain_mode


def test_a_failed_write_keeps_the_old_file_and_removes_its_temporary(tmp_path: Path) -> None:
    (tmp_path / "data.bin").write_bytes(b"old")

    def write(f: IO[bytes]) -> None:
        f.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(tmp_path / "data.bin", write)
    assert (tmp_path / "data.bin").read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["data.bin"]


def test_a_path_writer_gets_a_temporary_with_the_file_s_extension(tmp_path: Path) -> None:
    given: list[Path] = []

    def write(temporary: Path) -> None:
        given.append(temporary)
        temporary.write_bytes(b"GIF89a")

    write_path_atomic(tmp_path / "animation.gif", write)
    [temporary] = given
    assert temporary.parent == tmp_path and temporary.suffix == ".gif"
    assert is_temporary(temporary.name)
    assert os.listdir(tmp_path) == ["animation.gif"]
    assert (tmp_path / "animation.gif").read_bytes() == b"GIF89a"


@pytest.mark.parametrize(
    "name, temporary",
    [
        (".checkpoint.npz.0a1b2c3d.tmp", True),
        (".cost_curves.png.9f8e7d6c.tmp", True),
        (".trajectories.gif.00ff00ff.tmp.gif", True),
        (".results.json.k2_x9qzm.tmp", True),  # tempfile.mkstemp's names (earlier versions)
        ("results.json", False),
        (".descentlab.lock", False),
        (".write-test-1234", False),
        (".checkpoint.npz.tmp", False),  # no random part
        ("checkpoint.npz.0a1b2c3d.tmp", False),  # not hidden
        (".checkpoint.npz.0a1b2c3.tmp", False),  # 7 characters
        (".checkpoint.npz.0A1B2C3D.tmp", False),  # upper case
        (".checkpoint.npz.0a1b2c3d.tmp.", False),
        (".checkpoint.npz.0a1b2c3d.tmpx", False),
        ("notes.tmp", False),
    ],
)
def test_is_temporary_knows_exactly_the_names_the_writers_give(name: str, temporary: bool) -> None:
    assert is_temporary(name) is temporary


def test_remove_temporaries_removes_only_the_writers_leftovers(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    outside = tmp_path / "outside.txt"
    outside.write_text("not in the run folder")
    leftovers = [
        run / ".checkpoint.npz.0a1b2c3d.tmp",
        run / ".cost_curves.png.9f8e7d6c.tmp",
        run / ".trajectories.gif.00ff00ff.tmp.gif",
        run / "checkpoints" / ".chunk-0.npz.12345678.tmp",
    ]
    for path in leftovers:
        path.write_bytes(b"half a file")
    kept = {
        run / "results.json": b"{}",
        run / "checkpoint.npz": b"whole",
        run / "notes.tmp": b"the user's",
        run / ".checkpoint.npz.tmp": b"the user's too",
        run / "checkpoints" / "chunk-0.npz": b"whole",
    }
    for path, content in kept.items():
        path.write_bytes(content)
    # Named like a temporary but not a regular file: a link (not followed), a folder.
    (run / ".link.png.abcdef12.tmp").symlink_to(outside)
    (run / ".folder.png.abcdef12.tmp").mkdir()
    (run / "nested" / "deeper").mkdir(parents=True)
    (run / "nested" / "deeper" / ".x.npz.abcdef12.tmp").write_bytes(b"two levels down")
    (tmp_path / "linked").mkdir()
    (tmp_path / "linked" / ".y.npz.abcdef12.tmp").write_bytes(b"behind a link")
    (run / "link-to-folder").symlink_to(tmp_path / "linked")

    removed = remove_temporaries(run)

    assert sorted(removed) == sorted(leftovers)
    assert not any(path.exists() for path in leftovers)
    assert all(path.read_bytes() == content for path, content in kept.items())
    assert (run / ".link.png.abcdef12.tmp").is_symlink() and outside.exists()
    assert (run / ".folder.png.abcdef12.tmp").is_dir()
    assert (run / "nested" / "deeper" / ".x.npz.abcdef12.tmp").exists()
    assert (tmp_path / "linked" / ".y.npz.abcdef12.tmp").exists()
    assert remove_temporaries(run) == []


def test_bytes_written_atomically_read_back(tmp_path: Path) -> None:
    write_bytes_atomic(tmp_path / "a", b"\x00\x01")
    assert (tmp_path / "a").read_bytes() == b"\x00\x01"
