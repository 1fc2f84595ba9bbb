"""Model files: a trained network saved as an ``.npz`` archive that loads without pickle.

``save(path, model)`` writes a :class:`Model` (architecture, parameters, label mapping,
feature scaling, optimizer and free-form metadata); ``load(path)`` reads it back, bit for
bit, or refuses the file with one :class:`ModelFileError` (a ``ValueError``) whose one-line
message names the file and what is wrong with it. Nothing in a file is ever executed: arrays
are read with ``allow_pickle=False`` and the header is plain JSON.

The format (``format_version`` 2)
---------------------------------
An uncompressed zip archive written by ``np.savez``, whose members are ``.npy`` arrays, every
one stored (not deflated, bzip2'd or lzma'd):

- ``header.npy``: a 1-D ``uint8`` array holding the UTF-8 bytes of one JSON object (at most
  ``MAX_HEADER_BYTES``; NaN and Infinity are not allowed)::

      {
        "format": "descentlab-model",
        "format_version": 2,
        "descentlab_version": "0.1.0",        # the descentlab that wrote the file
        "layer_sizes": [n_x, n_1, ..., n_L],  # integers >= 1, at least two
        "output": "sigmoid" | "softmax",      # "sigmoid" exactly when n_L == 1
        "dtype": "float32" | "float64",       # the dtype of every W/b array
        "arrays": {"W1": [n_1, n_x], "b1": [n_1, 1], ..., "bL": [n_L, 1]},
        "sha256": "<64 lowercase hex digits>",
        "classes": [...],                     # all strings or all integers, distinct;
                                              # 2 when n_L == 1, else n_L
        "feature_names": [...],               # n_x strings
        "scaling": null | {"mean": [n_x finite numbers],
                           "std": [n_x finite numbers >= 2.2250738585072014e-308]},
        "optimizer": null | {"name": str, "hyperparameters": {...}},
        "metadata": {...}                     # any JSON object (dataset, epochs, created...)
      }

- ``W1.npy``, ``b1.npy``, ..., ``WL.npy``, ``bL.npy``: layer l's weights, shape
  (n_l, n_{l-1}), and biases, shape (n_l, 1), in the header's dtype, all finite. Nothing else
  may be in the archive.

``scaling`` and ``optimizer`` may be left out (read as null) and ``metadata`` too (read as
{}); every other key is required. Keys a reader does not know are ignored.

``sha256`` is the SHA-256 of :func:`canonical_header` (the header without ``sha256`` as
sorted, compact JSON in UTF-8) and a newline, then of the arrays' bytes in the order W1, b1,
W2, b2, ..., WL, bL, each in C order and little-endian (``np.ascontiguousarray(a,
dtype=a.dtype.newbyteorder("<")).tobytes()``), concatenated with nothing in between. So it
covers every value of the file: a changed class name or scaling value breaks it as a changed
weight does. The zip format's own CRC-32 also covers every member.

Before reading any member, ``load`` checks the archive with :mod:`descentlab.npz_archive`
(stored members only, the zip directory's sizes against each other, the file's length and each
``.npy`` header's shape and dtype, the file's size against the available memory), so a file
that lies about its sizes is refused before anything is allocated.

The flat parameter vector of :class:`descentlab.nn.Network` (W1, b1, W2, b2, ... with each W
in C order) is the concatenation of the arrays' ``ravel()``; saving and loading give back the
same bytes.

Scaling: when ``scaling`` is set, the network was trained on ``(x - mean) / std`` per feature
(:class:`descentlab.splits.Standardizer`); :meth:`Model.predict_proba` applies it to raw rows.

Compatibility rule: a file loads when its ``format_version`` is an integer from 1 to
``FORMAT_VERSION`` and its ``descentlab_version`` has the same major version number as the
running descentlab (so any 0.x reads any 0.x file of a supported format version). A newer
``format_version`` is refused with a request to upgrade. Format 1 differs only in its
``sha256``, which covered the arrays alone: it is checked in that meaning, and every header
value is validated as for format 2 (``load`` then ``save`` rewrites a file as format 2).

This module is the format's specification and its only reader and writer; that is why it is
one module, longer than most.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import numbers
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from descentlab import __version__, npz_archive
from descentlab.atomic import write_bytes_atomic
from descentlab.datasets import ClassLabel
from descentlab.nn import Network, predicted_classes
from descentlab.nn import predict_proba as network_predict_proba
from descentlab.splits import Standardizer

FORMAT = "descentlab-model"
"""The header's ``format`` value."""

FORMAT_VERSION = 2
"""The newest ``format_version`` this descentlab writes and reads."""

MAX_HEADER_BYTES = 16 * 1024 * 1024
"""The largest JSON header ``load`` reads (16 MiB)."""

HEADER = "header"
"""The archive member (without ``.npy``) that holds the JSON header."""

_DTYPES: dict[str, np.dtype[Any]] = {
    "float32": np.dtype(np.float32),
    "float64": np.dtype(np.float64),
}
_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with members, an empty zip
_INT64 = np.iinfo(np.int64)
_SMALLEST_STD = float(np.finfo(np.float64).tiny)
"""The smallest scaling std a model accepts: subnormal ones (1e-320) turn every row into inf."""
_ARCHIVE_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
    zlib.error,
    struct.error,
    OverflowError,
    KeyError,
)
"""What zipfile and numpy raise on a truncated, corrupted or unsupported archive (a
``RuntimeError`` is an encrypted member, ``NotImplementedError`` an unknown compression)."""


class ModelFileError(ValueError):
    """A model file that ``load`` refuses; the message is one line and starts with the path."""


@dataclass(frozen=True, eq=False)
class Model:
    """A trained network with everything needed to use it on raw data.

    ``params`` is the flat float32/float64 parameter vector of ``network`` (layout W1, b1, W2,
    b2, ...; see :class:`descentlab.nn.Network`), stored as a read-only copy. ``classes[i]`` is
    the original label of class i (2 labels for a sigmoid output, C for a softmax output of C
    units); left empty it is (0, 1, ..., C-1). ``feature_names`` has one name per input
    feature (left empty: "x1", "x2", ...). ``scaling`` is ``Standardizer.to_dict()`` of the
    scaling the network was trained behind, or None. ``optimizer`` is ``{"name": str,
    "hyperparameters": {...}}`` or None, and ``metadata`` any JSON object; both are
    informational. Every field is checked on construction (``ValueError``), and the JSON
    fields are stored as their JSON round trip.
    """

    network: Network
    params: np.ndarray
    classes: tuple[ClassLabel, ...] = ()
    feature_names: tuple[str, ...] = ()
    scaling: dict[str, list[float]] | None = None
    optimizer: dict[str, Any] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    _scaler: Standardizer | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.network, Network):
            raise ValueError(f"network must be a descentlab.nn.Network, got {self.network!r:.80}")
        network = self.network
        object.__setattr__(self, "params", _checked_params(self.params, network))
        object.__setattr__(self, "classes", _checked_classes(self.classes, network))
        n_x = network.layer_sizes[0]
        object.__setattr__(self, "feature_names", _checked_feature_names(self.feature_names, n_x))
        scaler = None if self.scaling is None else _checked_scaler(self.scaling, n_x)
        object.__setattr__(self, "_scaler", scaler)
        object.__setattr__(self, "scaling", None if scaler is None else scaler.to_dict())
        object.__setattr__(self, "optimizer", _checked_optimizer(self.optimizer))
        object.__setattr__(self, "metadata", _json_object("metadata", self.metadata))

    @property
    def n_features(self) -> int:
        return self.network.layer_sizes[0]

    def predict_proba(self, X_rows: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
        """Probabilities for raw examples ``X_rows`` of shape (n_samples, n_features), one
        example per row as files hold them, scaled by ``scaling`` first: shape (n_samples, 1),
        the probability of ``classes[1]``, for a sigmoid output; (n_samples, C), one column
        per class, for a softmax output."""
        X = self._columns(X_rows)
        if X.shape[1] == 0:
            return np.empty((0, self.network.layer_sizes[-1]), dtype=self.params.dtype)
        return np.ascontiguousarray(self._probabilities(X).T)

    def predict(self, X_rows: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
        """The predicted original labels (``classes`` values), shape (n_samples,), for raw
        rows as in ``predict_proba``: probability > 0.5 picks ``classes[1]`` for a sigmoid
        output, the most probable class for a softmax output."""
        X = self._columns(X_rows)
        labels = np.asarray(self.classes)
        if X.shape[1] == 0:
            return labels[:0]
        return labels[predicted_classes(self._probabilities(X))]

    def _probabilities(self, X: np.ndarray) -> np.ndarray:
        """The network's output for columns ``X``, or ``ValueError`` naming the first row
        whose probabilities are not finite (scaled features beyond the dtype's range)."""
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            proba = network_predict_proba(self.network, self.params, X)
        bad = ~np.isfinite(proba).all(axis=0)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"row {row + 1} (of {X.shape[1]}) gives non-finite probabilities: its features, "
                "scaled by the model, are too large for the network"
            )
        return proba

    def _columns(self, X_rows: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
        """Rows (n_samples, n_features) as the network's input: scaled, in columns, in the
        parameters' dtype."""
        try:
            X = np.asarray(X_rows, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                "X must be an array of numbers, shape (n_samples, n_features)"
            ) from None
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(
                f"X must have shape (n_samples, {self.n_features}), one example per row, "
                f"got {X.shape}"
            )
        if not np.isfinite(X).all():
            raise ValueError("X must hold finite numbers (no NaN or infinity)")
        with np.errstate(over="ignore", invalid="ignore"):
            columns = X.T if self._scaler is None else self._scaler.transform(X.T)
            columns = np.ascontiguousarray(columns, dtype=self.params.dtype)
        bad = ~np.isfinite(columns).all(axis=0)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"row {row + 1} (of {X.shape[1]}): its features scaled by the model's scaling "
                f"(x - mean) / std overflow {self.params.dtype}; the data does not fit the model"
            )
        return columns


def save(path: str | Path, model: Model) -> None:
    """Write ``model`` to ``path`` (exactly that name) in the format above, atomically: a
    reader sees the old file or the complete new one. Raises ``ValueError`` if the file cannot
    be written."""
    if not isinstance(model, Model):
        raise ValueError(f"model must be a descentlab.model_file.Model, got {model!r:.80}")
    path = Path(path)
    arrays = _layer_arrays(model.network, model.params)
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "descentlab_version": __version__,
        "layer_sizes": list(model.network.layer_sizes),
        "output": model.network.output,
        "dtype": model.params.dtype.name,
        "arrays": {name: list(array.shape) for name, array in arrays.items()},
        "sha256": "",
        "classes": list(model.classes),
        "feature_names": list(model.feature_names),
        "scaling": model.scaling,
        "optimizer": model.optimizer,
        "metadata": model.metadata,
    }
    header["sha256"] = _digest(arrays, header)
    text = json.dumps(header, ensure_ascii=False, allow_nan=False, indent=1)
    header_array = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    buffer = io.BytesIO()
    savez: Callable[..., None] = np.savez  # its stub lets ** fill allow_pickle (numpy >= 2.1)
    savez(buffer, **{HEADER: header_array}, **arrays)
    try:
        write_bytes_atomic(path, buffer.getvalue())
    except OSError as error:
        raise ValueError(f"{path}: cannot write it ({error.strerror or error})") from None


def load(path: str | Path) -> Model:
    """The model saved at ``path``, or ``ModelFileError`` (a ``ValueError``) naming the file
    and the first thing wrong with it: missing or not a regular file; not an ``.npz``
    archive, or larger than ``npz_archive.max_archive_bytes()``, compressed, lying about its
    sizes, truncated or corrupted; an array that needs pickle; no header, or one that is
    not JSON; another format, a newer format version or another descentlab major version;
    arrays missing, extra, of another shape or dtype than the header says, or not finite; a
    digest that does not match; classes, feature names or scaling that do not fit the
    network."""
    path = Path(path)
    # Our own file object, closed here: np.load leaks the one it opens when the archive is bad.
    with _open_regular_file(path) as f:
        try:
            start = f.read(4)
            f.seek(0)
        except OSError as error:
            raise _refuse(path, f"cannot read it ({error.strerror or error})") from None
        if start not in _ZIP_SIGNATURES:
            raise _refuse(
                path, "is not a descentlab model file (not an .npz archive: no zip signature)"
            )
        size = npz_archive.archive_size(f)
        try:
            npz_archive.check_size(size, "model file")
        except npz_archive.ArchiveError as error:
            raise _refuse(path, str(error)) from None
        try:
            archive = zipfile.ZipFile(f)
        except _ARCHIVE_ERRORS as error:
            raise _refuse(
                path, f"is not a valid .npz archive; truncated or corrupted? ({_reason(error)})"
            ) from None
        with archive:
            return _read_model(path, archive, size)


def _refuse(path: Path, what: str) -> ModelFileError:
    return ModelFileError(f"{path}: {what}")


def _unreadable(path: Path, name: str, error: BaseException) -> ModelFileError:
    what = "the header" if name == HEADER else f"array {name!r}"
    return _refuse(path, f"is corrupted: {what} is unreadable ({_reason(error)})")


def _reason(error: BaseException) -> str:
    """An exception's message on one short line (numpy's can span several)."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _open_regular_file(path: Path) -> BinaryIO:
    """``path`` opened for reading, if it is an existing regular file (not a folder or a pipe
    that would block)."""
    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise _refuse(path, "is a directory, not a model file")
        if not stat.S_ISREG(mode):
            raise _refuse(path, "is not a regular file")
        return path.open("rb")
    except (FileNotFoundError, NotADirectoryError):
        raise _refuse(path, "no such file") from None
    except OSError as error:
        raise _refuse(path, f"cannot read it ({error.strerror or error})") from None


def _read_model(path: Path, archive: zipfile.ZipFile, size: int) -> Model:
    try:
        members = npz_archive.scan(archive, size)
    except npz_archive.ArchiveError as error:
        raise _refuse(path, str(error)) from None
    except _ARCHIVE_ERRORS as error:
        raise _refuse(path, f"is corrupted ({_reason(error)})") from None
    header = _read_header(path, archive, members)
    _check_compatible(path, header)
    network = _header_network(path, header)
    dtype = _header_dtype(path, header)
    expected = _layer_shapes(network)
    _check_header_arrays(path, header, expected)
    digest = header.get("sha256")
    if not (isinstance(digest, str) and re.fullmatch(r"[0-9a-f]{64}", digest)):
        raise _refuse(path, "the header's sha256 must be 64 lowercase hex digits")
    _check_members(path, members, expected, dtype, network)
    arrays = {name: _read_array(path, archive, name, dtype) for name in expected}
    version = header["format_version"]
    try:
        actual = _digest(arrays, header if version >= 2 else None)
    except ValueError as error:
        raise _refuse(path, f"the header cannot be checked ({_reason(error)})") from None
    if actual != digest:
        covered = "header and arrays" if version >= 2 else "arrays"
        raise _refuse(
            path, f"is corrupted: the SHA-256 digest of its {covered} does not match the header"
        )
    params = np.empty(network.n_params, dtype=dtype)
    for index, (W, b) in enumerate(network.layers(params), start=1):
        W[...] = arrays[f"W{index}"]
        b[...] = arrays[f"b{index}"]
    classes = header.get("classes")
    feature_names = header.get("feature_names")
    if not isinstance(classes, list):
        raise _refuse(path, "the header's classes must be a list")
    if not isinstance(feature_names, list):
        raise _refuse(path, "the header's feature_names must be a list")
    try:
        return Model(
            network,
            params,
            tuple(classes),
            tuple(feature_names),
            scaling=header.get("scaling"),
            optimizer=header.get("optimizer"),
            metadata=header.get("metadata", {}),
        )
    except ValueError as error:
        raise _refuse(path, f"the header's {_reason(error)}") from None


def _read_member(path: Path, archive: zipfile.ZipFile, name: str) -> np.ndarray:
    """Member ``name``'s whole bytes (so zip's CRC-32 is checked) as one ``.npy`` array."""
    try:
        raw = archive.read(f"{name}.npy")
        array = np.load(io.BytesIO(raw), allow_pickle=False)
    except _ARCHIVE_ERRORS as error:
        if "allow_pickle" in str(error):
            what = f"array {name!r} contains pickled objects; refusing to load it"
            raise _refuse(path, what) from None
        raise _unreadable(path, name, error) from None
    if not isinstance(array, np.ndarray):  # pragma: no cover (the member's header was .npy)
        raise _refuse(path, f"array {name!r} is not an .npy array")
    return array


def _read_header(
    path: Path, archive: zipfile.ZipFile, members: dict[str, npz_archive.Member | None]
) -> dict[str, Any]:
    member = members.get(f"{HEADER}.npy")
    if member is None:
        raise _refuse(path, "has no header; it is not a descentlab model file")
    if member.dtype != np.uint8 or len(member.shape) != 1:
        raise _refuse(path, "the header must be a 1-D uint8 array of UTF-8 JSON")
    if member.shape[0] > MAX_HEADER_BYTES:
        raise _refuse(path, f"the header is larger than {MAX_HEADER_BYTES} bytes")
    raw = _read_member(path, archive, HEADER)

    def refuse_constant(name: str) -> None:
        raise ValueError(f"{name} is not allowed")

    try:
        header = json.loads(raw.tobytes().decode("utf-8"), parse_constant=refuse_constant)
    except (ValueError, RecursionError) as error:
        raise _refuse(path, f"the header is not valid JSON ({_reason(error)})") from None
    if not isinstance(header, dict):
        raise _refuse(path, "the header is not a JSON object")
    return header


def _check_compatible(path: Path, header: dict[str, Any]) -> None:
    """The compatibility rule of the module docstring."""
    if header.get("format") != FORMAT:
        raise _refuse(
            path,
            f"is not a descentlab model file (format {header.get('format')!r:.40}, "
            f"expected {FORMAT!r})",
        )
    version = header.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _refuse(
            path, f"the header's format_version must be an integer >= 1, got {version!r:.40}"
        )
    if version > FORMAT_VERSION:
        raise _refuse(
            path,
            f"uses model format version {version}, newer than this descentlab ({__version__}) "
            f"reads (up to {FORMAT_VERSION}); upgrade descentlab to load it",
        )
    written_by = header.get("descentlab_version")
    match = re.match(r"(\d{1,9})\.", written_by) if isinstance(written_by, str) else None
    if match is None:
        raise _refuse(
            path, f"the header's descentlab_version is not a version, got {written_by!r:.40}"
        )
    if int(match[1]) != _major(__version__):
        raise _refuse(
            path,
            f"was written by descentlab {written_by:.40}, whose major version differs from this "
            f"descentlab ({__version__}); it reads files from {_major(__version__)}.x only",
        )


def _major(version: str) -> int:
    return int(version.split(".", 1)[0])


def _header_network(path: Path, header: dict[str, Any]) -> Network:
    sizes = header.get("layer_sizes")
    if not (
        isinstance(sizes, list)
        and len(sizes) >= 2
        and all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in sizes)
    ):
        raise _refuse(
            path,
            f"the header's layer_sizes must be a list of >= 2 integers >= 1, got {sizes!r:.80}",
        )
    network = Network(tuple(sizes))
    if header.get("output") != network.output:
        raise _refuse(
            path,
            f"the header's output {header.get('output')!r:.40} does not match layer sizes "
            f"{network.layer_sizes}, which give {network.output!r}",
        )
    return network


def _header_dtype(path: Path, header: dict[str, Any]) -> np.dtype[Any]:
    name = header.get("dtype")
    if not isinstance(name, str) or name not in _DTYPES:
        raise _refuse(path, f"the header's dtype must be 'float32' or 'float64', got {name!r:.40}")
    return _DTYPES[name]


def _check_header_arrays(
    path: Path, header: dict[str, Any], expected: dict[str, tuple[int, ...]]
) -> None:
    declared = header.get("arrays")
    if not isinstance(declared, dict) or declared != {
        name: list(shape) for name, shape in expected.items()
    }:
        raise _refuse(path, "the header's arrays do not match its layer_sizes")


def _check_members(
    path: Path,
    members: dict[str, npz_archive.Member | None],
    expected: dict[str, tuple[int, ...]],
    dtype: np.dtype[Any],
    network: Network,
) -> None:
    """The archive holds exactly the header and the expected arrays, each of the expected
    shape and dtype, and is big enough to hold them (so no huge allocation on a lie)."""
    for filename, member in members.items():
        if member is None:
            raise _refuse(path, f"holds {filename!r}, which is not an .npy array")
    for name in expected:
        if f"{name}.npy" not in members:
            raise _refuse(path, f"is missing the array {name!r}")
    for filename in members:
        name = filename.removesuffix(".npy")
        if name != HEADER and name not in expected:
            raise _refuse(path, f"holds an unexpected array {name!r}")
    for name, shape in expected.items():
        member = members[f"{name}.npy"]
        assert member is not None  # every member is checked above
        if member.shape != shape:
            raise _refuse(
                path,
                f"array {name!r} has shape {member.shape}, but the layer sizes "
                f"{network.layer_sizes} need {shape}",
            )
        if member.dtype.kind != "f" or member.dtype.itemsize != dtype.itemsize:
            raise _refuse(
                path, f"array {name!r} has dtype {member.dtype}, but the header says {dtype.name}"
            )


def _read_array(
    path: Path, archive: zipfile.ZipFile, name: str, dtype: np.dtype[Any]
) -> np.ndarray:
    array = _read_member(path, archive, name)
    if array.dtype.kind != "f" or array.dtype.itemsize != dtype.itemsize:  # pragma: no cover
        raise _refuse(
            path, f"array {name!r} has dtype {array.dtype}, but the header says {dtype.name}"
        )
    if not np.isfinite(array).all():
        raise _refuse(path, f"array {name!r} holds non-finite values (NaN or infinity)")
    return array.astype(dtype, copy=False)


def _layer_arrays(network: Network, params: np.ndarray) -> dict[str, np.ndarray]:
    """``{"W1": W1, "b1": b1, ...}``: the layers of ``params`` as contiguous arrays."""
    arrays: dict[str, np.ndarray] = {}
    for index, (W, b) in enumerate(network.layers(params), start=1):
        arrays[f"W{index}"] = np.ascontiguousarray(W)
        arrays[f"b{index}"] = np.ascontiguousarray(b)
    return arrays


def _layer_shapes(network: Network) -> dict[str, tuple[int, ...]]:
    """``{"W1": (n_1, n_x), "b1": (n_1, 1), ...}``, without allocating anything."""
    shapes: dict[str, tuple[int, ...]] = {}
    sizes = network.layer_sizes
    for index in range(1, len(sizes)):
        shapes[f"W{index}"] = (sizes[index], sizes[index - 1])
        shapes[f"b{index}"] = (sizes[index], 1)
    return shapes


def _digest(arrays: Mapping[str, np.ndarray], header: Mapping[str, Any] | None = None) -> str:
    """SHA-256 over ``canonical_header(header)`` and a newline (format 2; left out with
    ``header=None``, format 1), then the arrays' C-order little-endian bytes, in the
    mapping's order."""
    sha = hashlib.sha256()
    if header is not None:
        sha.update(canonical_header(header) + b"\n")
    for array in arrays.values():
        sha.update(np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes())
    return sha.hexdigest()


def canonical_header(header: Mapping[str, Any]) -> bytes:
    """The bytes of ``header`` that the format-2 digest covers: every key but ``sha256``, as
    ``json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    allow_nan=False)`` in UTF-8. The same JSON values give the same bytes however the file
    spaced, ordered or escaped them; ``ValueError`` for a number out of float range."""
    body = {key: value for key, value in header.items() if key != "sha256"}
    text = json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def _checked_params(params: object, network: Network) -> np.ndarray:
    array = np.asarray(params)
    if array.dtype not in _DTYPES.values():
        raise ValueError(f"params must be float32 or float64, got {array.dtype}")
    if array.shape != (network.n_params,):
        raise ValueError(
            f"params must have shape ({network.n_params},) for layer sizes "
            f"{network.layer_sizes}, got {array.shape}"
        )
    if not np.isfinite(array).all():
        raise ValueError("params must be finite (no NaN or infinity)")
    array = np.array(array, dtype=array.dtype.newbyteorder("="), copy=True)
    array.flags.writeable = False
    return array


def _checked_classes(classes: object, network: Network) -> tuple[ClassLabel, ...]:
    n_outputs = network.layer_sizes[-1]
    n_classes = 2 if n_outputs == 1 else n_outputs
    if not isinstance(classes, Iterable) or isinstance(classes, str | bytes | Mapping):
        raise ValueError(f"classes must be a sequence of labels, got {classes!r:.80}")
    classes = list(classes)
    if len(classes) == 0:
        return tuple(range(n_classes))
    labels: list[ClassLabel] = []
    for label in classes:
        if isinstance(label, bool | np.bool_):
            raise ValueError(f"classes must be strings or integers, got {label!r}")
        if isinstance(label, str | np.str_):
            labels.append(str(label))
        elif isinstance(label, numbers.Integral):
            value = int(label)
            if not _INT64.min <= value <= _INT64.max:
                raise ValueError(
                    f"classes must be integers in the int64 range [{_INT64.min}, {_INT64.max}], "
                    f"got {value}"
                )
            labels.append(value)
        else:
            raise ValueError(f"classes must be strings or integers, got {label!r:.40}")
    if len({type(label) for label in labels}) > 1:
        raise ValueError("classes must be all strings or all integers, not a mix")
    if len(set(labels)) != len(labels):
        raise ValueError(f"classes must be distinct, got {tuple(labels)!r:.80}")
    if len(labels) != n_classes:
        raise ValueError(
            f"classes must name {n_classes} classes for {n_outputs} output unit(s), "
            f"got {len(labels)}"
        )
    return tuple(labels)


def _checked_feature_names(names: object, n_features: int) -> tuple[str, ...]:
    if not isinstance(names, Iterable) or isinstance(names, str | bytes | Mapping):
        raise ValueError(f"feature_names must be a sequence of strings, got {names!r:.80}")
    names = list(names)
    if len(names) == 0:
        return tuple(f"x{index}" for index in range(1, n_features + 1))
    if not all(isinstance(name, str | np.str_) for name in names):
        raise ValueError("feature_names must be strings")
    if len(names) != n_features:
        raise ValueError(f"feature_names must name {n_features} features, got {len(names)}")
    return tuple(str(name) for name in names)


def _checked_scaler(scaling: object, n_features: int) -> Standardizer:
    if not (isinstance(scaling, Mapping) and set(scaling) == {"mean", "std"}):
        raise ValueError(
            f"scaling must be None or {{'mean': [...], 'std': [...]}}, got {scaling!r:.80}"
        )
    for key in ("mean", "std"):
        values = scaling[key]
        if not (
            isinstance(values, Sequence)
            and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values)
        ):
            raise ValueError(f"scaling's {key} must be a list of numbers")
        try:
            if not all(math.isfinite(float(v)) for v in values):
                raise ValueError(f"scaling's {key} must be finite numbers")
        except OverflowError:
            raise ValueError(f"scaling's {key} must be finite numbers") from None
    scaler = Standardizer.from_dict({"mean": list(scaling["mean"]), "std": list(scaling["std"])})
    if scaler.n_features != n_features:
        raise ValueError(f"scaling must have {n_features} features, got {scaler.n_features}")
    tiny = scaler.std < _SMALLEST_STD
    if tiny.any():
        index = int(np.flatnonzero(tiny)[0])
        raise ValueError(
            f"scaling's std must be >= {_SMALLEST_STD:.4g} (a normal float64), got "
            f"{float(scaler.std[index, 0])!r} for feature {index + 1}"
        )
    return scaler


def _checked_optimizer(optimizer: object) -> dict[str, Any] | None:
    if optimizer is None:
        return None
    record = _json_object("optimizer", optimizer)
    if set(record) != {"name", "hyperparameters"} or not isinstance(record["name"], str):
        raise ValueError(
            "optimizer must be None or {'name': str, 'hyperparameters': {...}}, "
            f"got {optimizer!r:.80}"
        )
    if not isinstance(record["hyperparameters"], dict):
        raise ValueError("optimizer's hyperparameters must be a mapping")
    return record


def _json_object(what: str, value: object) -> dict[str, Any]:
    """``value``'s JSON round trip, which must be an object; ValueError if it has no JSON form."""
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} must be a mapping, got {value!r:.80}")
    try:
        text = json.dumps(dict(value), allow_nan=False)
    except (TypeError, ValueError, RecursionError) as error:
        raise ValueError(
            f"{what} must be JSON (strings, finite numbers, lists, mappings): {error}"
        ) from None
    result: dict[str, Any] = json.loads(text)
    return result
