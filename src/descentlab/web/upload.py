"""Uploaded CSV files: kept only inside one temporary folder the application owns (removed when
it shuts down), each under a random token, and read by the reader of ``--data``
(``loaders.load_file``).

A file is stored as ``<folder>/<token>/<name>``: its name is the one the user's file has, so
the dataset a race trains on is named as ``descentlab compare --data <name>`` names it.
"""

from __future__ import annotations

import dataclasses
import secrets
import shutil
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from descentlab.datasets import Dataset
from descentlab.loaders import load_file

MAX_UPLOADS = 64
"""At most this many uploads are kept; a new one beyond them removes the oldest."""

UPLOAD_SUFFIX = ".csv"


class UploadError(ValueError):
    """An upload refused: ``field`` ("name" or "file") says which part, the message why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Upload:
    """An uploaded file: its token, its name, the dataset it holds, and where it is stored
    (a race's process reads it again from there, with ``read_upload``)."""

    token: str
    name: str
    dataset: Dataset
    path: Path

    def summary(self) -> dict[str, object]:
        """The answer to the upload request."""
        return {
            "upload": self.token,
            "name": self.name,
            "n_examples": self.dataset.n_examples,
            "n_features": self.dataset.n_features,
            "n_classes": self.dataset.n_classes,
        }


def checked_name(name: str | None) -> str:
    """``name`` if it is a plain file name ending in .csv (no folder, not hidden), else an
    ``UploadError`` of field "name"."""
    if not name or Path(name).name != name or "\\" in name or name.startswith("."):
        raise UploadError("name", f"must be a plain file name like data.csv, got {name!r}")
    if not name.lower().endswith(UPLOAD_SUFFIX):
        raise UploadError("name", f"must end in {UPLOAD_SUFFIX} (a CSV file), got {name!r}")
    return name


def read_upload(path: Path, name: str) -> Dataset:
    """The dataset of the uploaded file at ``path``, read as ``--data`` reads a file and
    recorded as ``descentlab compare --data <name>`` records it, run in the file's folder;
    a ValueError (the reader's) if it is unreadable."""
    dataset = load_file(path)
    return dataclasses.replace(dataset, params={**dataset.params, "path": name})


class Uploads:
    """The uploads of one application, in a temporary folder made on creation and removed by
    ``close``."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="descentlab-playground-"))
        self._lock = threading.Lock()
        self._uploads: OrderedDict[str, Upload] = OrderedDict()

    def add(self, name: str | None, content: bytes) -> Upload:
        """Store ``content`` as the file ``name`` and read it as ``--data`` reads a file;
        ``UploadError`` naming "name" or "file" (with the reader's message) if refused."""
        name = checked_name(name)
        token = secrets.token_urlsafe(16)
        place = self.folder / token
        place.mkdir()
        path = place / name
        path.write_bytes(content)
        try:
            dataset = read_upload(path, name)
        except ValueError as error:
            shutil.rmtree(place, ignore_errors=True)
            # The reader names the file by its path; the user knows it by its name.
            raise UploadError("file", str(error).replace(str(path), name)) from None
        upload = Upload(token, name, dataset, path)
        with self._lock:
            self._uploads[token] = upload
            while len(self._uploads) > MAX_UPLOADS:
                old, _ = self._uploads.popitem(last=False)
                shutil.rmtree(self.folder / old, ignore_errors=True)
        return upload

    def get(self, token: object) -> Upload | None:
        """The upload of ``token``, or None if there is none."""
        with self._lock:
            return self._uploads.get(token) if isinstance(token, str) else None

    def close(self) -> None:
        """Remove the folder and every upload in it."""
        with self._lock:
            self._uploads.clear()
        shutil.rmtree(self.folder, ignore_errors=True)
