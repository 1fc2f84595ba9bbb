"""The bounds every ``.npz`` reader checks before reading (``npz_archive``), through the
checkpoint reader; the model-file reader's cases are in test_model_file.py."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from conftest import deflated_zeros, npy_header, raw_zip, run_python_limited, stored
from descentlab import checkpoint, datasets, npz_archive
from descentlab.experiment import Checkpointing, ExperimentConfig, run_experiment

MEMORY_LIMIT = 768 * 1024**2


@pytest.fixture(scope="module")
def real_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("checkpoint") / "checkpoint.npz"
    config = ExperimentConfig(epochs=3, optimizers=("adam",))
    run_experiment(config, datasets.moons(), checkpointing=Checkpointing(path, every=1))
    return path.read_bytes()


def bomb(path: Path) -> None:
    """A checkpoint-shaped archive: a JSON header and 1 GiB of deflated zeros as params."""
    text = json.dumps({"format": "descentlab-checkpoint", "format_version": 1}).encode()
    header = stored("header.npy", npy_header((len(text),), "|u1") + text)
    params = deflated_zeros((2**27,))._replace(name="params.npy")
    path.write_bytes(raw_zip([header, params]))


def recompressed(content: bytes, path: Path, compression: int) -> None:
    path.write_bytes(content)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_a_real_checkpoint_passes(real_checkpoint: bytes, tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.npz"
    path.write_bytes(real_checkpoint)
    assert isinstance(checkpoint.read_description(path), dict)
    arrays = npz_archive.read_arrays(path, "checkpoint")
    assert {"header", "params"} <= set(arrays)


@pytest.mark.parametrize(
    "compression, method",
    [(zipfile.ZIP_DEFLATED, "deflate"), (zipfile.ZIP_BZIP2, "bzip2"), (zipfile.ZIP_LZMA, "lzma")],
)
def test_compressed_checkpoints_are_refused(
    real_checkpoint: bytes, tmp_path: Path, compression: int, method: str
) -> None:
    path = tmp_path / "checkpoint.npz"
    recompressed(real_checkpoint, path, compression)
    expected = checkpoint.Expected(n_runs=1, n_params=17, epochs=3, batches_per_epoch=5)
    for read in (checkpoint.read_description, lambda p: checkpoint.load(p, [], expected)):
        with pytest.raises(ValueError) as info:
            read(path)
        assert str(info.value).startswith(f"{path}: not a readable checkpoint (member ")
        assert f"is compressed ({method}); only stored (uncompressed) members" in str(info.value)


def test_a_checkpoint_zip_bomb_is_refused_without_inflating_it(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.npz"
    bomb(path)
    code = (
        "import sys; from pathlib import Path; from descentlab import checkpoint\n"
        "try:\n    checkpoint.read_description(Path(sys.argv[1]))\n"
        "except ValueError as error:\n    print(error)\n"
    )
    result = run_python_limited(["-c", code, str(path)], MEMORY_LIMIT)
    assert result.returncode == 0, result.stderr
    assert "member 'params.npy' is compressed (deflate)" in result.stdout


def test_a_lying_npy_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.npz"
    text = b"{}"
    members = [
        stored("header.npy", npy_header((len(text),), "|u1") + text),
        stored("params.npy", npy_header((10**12,)) + bytes(8)),
    ]
    path.write_bytes(raw_zip(members))
    with pytest.raises(ValueError, match=r"array 'params' declares shape \(1000000000000,\)"):
        checkpoint.read_description(path)


def test_an_archive_over_the_memory_limit_is_refused_unread(tmp_path: Path) -> None:
    """A (sparse) 300 MB file under a 768 MiB address-space limit: over a quarter of it."""
    path = tmp_path / "big.npz"
    with path.open("wb") as f:
        f.write(b"PK\x03\x04")
        f.truncate(300 * 1024**2)
    code = (
        "import sys; from pathlib import Path; from descentlab import npz_archive\n"
        "print(npz_archive.max_archive_bytes())\n"
        "try:\n    npz_archive.read_arrays(Path(sys.argv[1]), 'checkpoint')\n"
        "except ValueError as error:\n    print(error)\n"
    )
    result = run_python_limited(["-c", code, str(path)], MEMORY_LIMIT)
    assert result.returncode == 0, result.stderr
    limit, message = result.stdout.splitlines()
    assert int(limit) <= MEMORY_LIMIT // npz_archive.LOAD_COPIES
    assert message.startswith(f"is 314572800 bytes, more than the {limit} bytes a checkpoint")


def test_what_is_not_an_archive_is_refused(tmp_path: Path) -> None:
    with pytest.raises(npz_archive.ArchiveError, match="is a directory"):
        npz_archive.read_arrays(tmp_path, "checkpoint")
    npy = tmp_path / "array.npz"
    np.save(npy.with_suffix(".npy"), np.zeros(3))
    npy.with_suffix(".npy").replace(npy)
    with pytest.raises(npz_archive.ArchiveError, match="no zip signature"):
        npz_archive.read_arrays(npy, "checkpoint")
    with pytest.raises(FileNotFoundError):
        npz_archive.read_arrays(tmp_path / "none.npz", "checkpoint")
