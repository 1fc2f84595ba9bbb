"""Model files: save/load round trips bit for bit, and every malformed file is refused with a
one-line ValueError that names it, without ever unpickling anything."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import (
    FRUIT,
    RawMember,
    deflated_zeros,
    npy_header,
    raw_zip,
    run_cli,
    run_python_limited,
    stored,
)
from descentlab import __version__
from descentlab.model_file import FORMAT_VERSION, Model, ModelFileError, load, save
from descentlab.nn import Network, he_initialization, predict_proba
from descentlab.splits import Standardizer

X_ROWS = np.array([[0.5, -1.0], [2.0, 3.0], [-4.0, 0.25], [10.0, -10.0], [0.0, 0.0]])
SCALING = {"mean": [1.0, -0.5], "std": [2.0, 0.25]}
OPTIMIZER = {"name": "adam", "hyperparameters": {"learning_rate": 0.0007, "b1": 0.9}}
METADATA = {"dataset": "moons", "epochs": 3000, "created": "2025-01-01T00:00:00Z"}


def make_model(
    layer_sizes: tuple[int, ...] = (2, 5, 1),
    dtype: type[np.floating[Any]] = np.float64,
    classes: tuple[str | int, ...] = ("cat", "dog"),
    scaling: dict[str, list[float]] | None = SCALING,
) -> Model:
    network = Network(layer_sizes)
    params = he_initialization(network, seed=7).astype(dtype)
    params += np.linspace(-0.3, 0.3, network.n_params, dtype=dtype)  # nonzero biases too
    return Model(
        network,
        params,
        classes,
        tuple(f"feature {i}" for i in range(layer_sizes[0])),
        scaling,
        OPTIMIZER,
        METADATA,
    )


@pytest.fixture
def model_path(tmp_path: Path) -> Path:
    path = tmp_path / "model.npz"
    save(path, make_model())
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ModelFileError) as info:
        load(path)
    message = str(info.value)
    assert message.splitlines() == [message], f"not one line: {message!r}"
    assert message.startswith(f"{path}: ")
    return message.removeprefix(f"{path}: ")


def contents(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The header and the arrays of a file, read with plain numpy (no descentlab)."""
    with np.load(path, allow_pickle=False) as npz:
        header = json.loads(npz["header"].tobytes().decode("utf-8"))
        arrays = {name: npz[name] for name in npz.files if name != "header"}
    return header, arrays


def digest(
    arrays: dict[str, np.ndarray], names: list[str], header: dict[str, Any] | None = None
) -> str:
    """The format's digest, recomputed as the docs say: with ``header`` (format 2) its
    canonical JSON without ``sha256`` and a newline first, then the arrays' bytes."""
    sha = hashlib.sha256()
    if header is not None:
        body = {key: value for key, value in header.items() if key != "sha256"}
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        sha.update(text.encode("utf-8") + b"\n")
    for name in names:
        sha.update(arrays[name].astype(arrays[name].dtype.newbyteorder("<")).tobytes())
    return sha.hexdigest()


def header_array(header: dict[str, Any] | str) -> np.ndarray:
    text = header if isinstance(header, str) else json.dumps(header)
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def rewrite(
    path: Path,
    header_changes: dict[str, Any] | None = None,
    arrays: dict[str, np.ndarray] | None = None,
    drop: tuple[str, ...] = (),
    redigest: bool = True,
) -> None:
    """Rewrite the model file at ``path`` with ``np.savez``: header keys changed, arrays
    replaced or added, some dropped; the digest recomputed unless ``redigest`` is False."""
    header, old_arrays = contents(path)
    header.update(header_changes or {})
    new_arrays = {**old_arrays, **(arrays or {})}
    for name in drop:
        del new_arrays[name]
    if redigest:
        names = [n for n in header["arrays"] if n in new_arrays]
        version = header["format_version"]
        covers_header = isinstance(version, int) and version >= 2
        header["sha256"] = digest(new_arrays, names, header if covers_header else None)
    np.savez(path, header=header_array(header), **new_arrays)


# --- round trips ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "layer_sizes, dtype, classes, scaling",
    [
        ((2, 5, 1), np.float64, ("cat", "dog"), SCALING),
        ((2, 4, 3, 1), np.float32, (-1, 1), None),
        ((2, 6, 3), np.float64, ("setosa", "versicolor", "virginica"), SCALING),
        ((2, 3), np.float32, (10, 20, 30), SCALING),
    ],
)
def test_round_trip_is_bit_identical(
    tmp_path: Path,
    layer_sizes: tuple[int, ...],
    dtype: type[np.floating[Any]],
    classes: tuple[str | int, ...],
    scaling: dict[str, list[float]] | None,
) -> None:
    model = make_model(layer_sizes, dtype, classes, scaling)
    path = tmp_path / "model.npz"
    save(path, model)
    loaded = load(path)
    assert loaded.network == model.network
    assert loaded.params.dtype == model.params.dtype
    assert loaded.params.tobytes() == model.params.tobytes()
    assert loaded.classes == model.classes
    assert [type(label) for label in loaded.classes] == [type(label) for label in classes]
    assert loaded.feature_names == model.feature_names
    assert loaded.scaling == model.scaling
    assert loaded.optimizer == OPTIMIZER
    assert loaded.metadata == METADATA
    assert loaded.predict_proba(X_ROWS).tobytes() == model.predict_proba(X_ROWS).tobytes()
    np.testing.assert_array_equal(loaded.predict(X_ROWS), model.predict(X_ROWS))


def test_predictions_apply_the_scaling_then_map_back_to_the_original_labels(
    model_path: Path,
) -> None:
    model = load(model_path)
    scaler = Standardizer.from_dict(SCALING)
    columns = (X_ROWS - np.array(SCALING["mean"])) / np.array(SCALING["std"])
    np.testing.assert_array_equal(columns.T, scaler.transform(X_ROWS.T))
    expected = predict_proba(model.network, model.params, columns.T).T  # (5, 1)
    probabilities = model.predict_proba(X_ROWS)
    assert probabilities.shape == (5, 1)
    np.testing.assert_array_equal(probabilities, expected)
    unscaled = predict_proba(model.network, model.params, X_ROWS.T).T
    assert not np.array_equal(probabilities, unscaled)
    labels = model.predict(X_ROWS)
    assert labels.tolist() == ["dog" if p > 0.5 else "cat" for p in expected[:, 0]]
    assert set(labels.tolist()) == {"cat", "dog"}  # both classes occur in X_ROWS


def test_softmax_predictions_are_the_most_probable_class(tmp_path: Path) -> None:
    path = tmp_path / "iris.npz"
    save(path, make_model((2, 6, 3), classes=("a", "b", "c")))
    model = load(path)
    probabilities = model.predict_proba(X_ROWS)
    assert probabilities.shape == (5, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert model.predict(X_ROWS).tolist() == ["abc"[i] for i in probabilities.argmax(axis=1)]
    assert model.predict(X_ROWS[:0]).shape == (0,)
    assert model.predict_proba(X_ROWS[:0]).shape == (0, 3)


def test_the_file_is_plain_arrays_and_a_json_header(model_path: Path) -> None:
    with zipfile.ZipFile(model_path) as archive:
        assert sorted(archive.namelist()) == sorted(
            ["header.npy", "W1.npy", "b1.npy", "W2.npy", "b2.npy"]
        )
    header, arrays = contents(model_path)  # allow_pickle=False reads every member
    model = make_model()
    assert header == {
        "format": "descentlab-model",
        "format_version": 2,
        "descentlab_version": __version__,
        "layer_sizes": [2, 5, 1],
        "output": "sigmoid",
        "dtype": "float64",
        "arrays": {"W1": [5, 2], "b1": [5, 1], "W2": [1, 5], "b2": [1, 1]},
        "sha256": digest(arrays, ["W1", "b1", "W2", "b2"], header),
        "classes": ["cat", "dog"],
        "feature_names": ["feature 0", "feature 1"],
        "scaling": SCALING,
        "optimizer": OPTIMIZER,
        "metadata": METADATA,
    }
    flat = np.concatenate([arrays[name].ravel() for name in ["W1", "b1", "W2", "b2"]])
    assert flat.tobytes() == model.params.tobytes()


def test_save_replaces_a_file_atomically_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "model.npz"
    save(path, make_model())
    save(path, make_model((2, 6, 3), classes=("a", "b", "c")))
    assert load(path).network.layer_sizes == (2, 6, 3)
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]


def test_save_refuses_an_unwritable_path(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "model.npz"
    with pytest.raises(ValueError, match=r"missing/model.npz: cannot write it"):
        save(target, make_model())


@pytest.mark.parametrize(
    "change, message",
    [
        ({"params": np.zeros(3)}, "params must have shape (21,) for layer sizes (2, 5, 1)"),
        ({"params": np.zeros(21, dtype=np.int64)}, "params must be float32 or float64"),
        ({"params": np.full(21, np.nan)}, "params must be finite"),
        ({"classes": ("a", "b", "c")}, "classes must name 2 classes for 1 output unit(s)"),
        ({"classes": ("a", 1)}, "classes must be all strings or all integers"),
        ({"classes": ("a", "a")}, "classes must be distinct"),
        ({"classes": (True, False)}, "classes must be strings or integers"),
        ({"feature_names": ("x",)}, "feature_names must name 2 features, got 1"),
        ({"scaling": {"mean": [0.0], "std": [1.0]}}, "scaling must have 2 features, got 1"),
        ({"scaling": {"mean": [0.0, 0.0], "std": [1.0, 0.0]}}, "std finite numbers > 0"),
        ({"optimizer": {"name": "adam"}}, "optimizer must be None or"),
        ({"metadata": {"when": object()}}, "metadata must be JSON"),
        ({"metadata": {"loss": float("nan")}}, "metadata must be JSON"),
    ],
)
def test_a_model_checks_its_fields(change: dict[str, Any], message: str) -> None:
    fields = {
        "network": Network((2, 5, 1)),
        "params": np.zeros(21),
        "classes": ("cat", "dog"),
        "feature_names": ("a", "b"),
        "scaling": None,
        "optimizer": None,
        "metadata": {},
    }
    with pytest.raises(ValueError) as info:
        Model(**{**fields, **change})
    assert message in str(info.value)


def test_defaults_name_classes_and_features_and_params_are_a_read_only_copy() -> None:
    params = np.zeros(21)
    model = Model(Network((2, 5, 1)), params)
    assert model.classes == (0, 1)
    assert model.feature_names == ("x1", "x2")
    params[0] = 1.0
    assert model.params[0] == 0.0
    with pytest.raises(ValueError, match="read-only"):
        model.params[0] = 1.0


def test_labels_and_names_may_come_as_arrays() -> None:
    model = Model(Network((2, 3)), np.zeros(9), np.array(["a", "b", "c"]), np.array(["u", "v"]))
    assert model.classes == ("a", "b", "c") and type(model.classes[0]) is str
    assert model.feature_names == ("u", "v")
    assert Model(Network((2, 1)), np.zeros(3), np.array([3, 7])).classes == (3, 7)


def test_predict_checks_its_rows(model_path: Path) -> None:
    model = load(model_path)
    with pytest.raises(ValueError, match=r"X must have shape \(n_samples, 2\).*got \(2,\)"):
        model.predict(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="finite"):
        model.predict_proba(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="array of numbers"):
        model.predict([["a", "b"]])


# --- refused files ---------------------------------------------------------------------------


class Boom:
    """Unpickling this creates ``sentinel``: it must never happen."""

    def __init__(self, sentinel: Path) -> None:
        self.sentinel = sentinel

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        return (Path.touch, (self.sentinel,))


def test_a_hand_made_npz_with_an_object_array_is_refused_unopened(
    model_path: Path, tmp_path: Path
) -> None:
    sentinel = tmp_path / "pwned"
    header, _ = contents(model_path)
    hostile = np.array([Boom(sentinel)], dtype=object)
    np.savez(model_path, header=header_array(header), W1=hostile)  # allow_pickle by default
    assert error_of(model_path) == "array 'W1' contains pickled objects; refusing to load it"
    assert not sentinel.exists()
    with np.load(model_path, allow_pickle=True) as npz:  # what load must never do
        npz["W1"]
    assert sentinel.exists()  # so the file really was hostile


def test_an_object_array_among_valid_ones_is_refused_first(model_path: Path) -> None:
    rewrite(model_path, arrays={"extra": np.array([{"a": 1}], dtype=object)})
    assert error_of(model_path) == "array 'extra' contains pickled objects; refusing to load it"


def test_a_pickle_renamed_to_npz_is_not_unpickled(tmp_path: Path) -> None:
    sentinel = tmp_path / "pwned"
    path = tmp_path / "model.npz"
    path.write_bytes(pickle.dumps(Boom(sentinel)))
    assert error_of(path) == (
        "is not a descentlab model file (not an .npz archive: no zip signature)"
    )
    assert not sentinel.exists()


def flip_byte(path: Path, needle: bytes, offset: int = 0) -> None:
    data = bytearray(path.read_bytes())
    index = data.index(needle) + offset
    data[index] ^= 0x01
    path.write_bytes(bytes(data))


def truncate_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def flip_array_byte(path: Path) -> None:
    flip_byte(path, load(path).params[:4].tobytes(), offset=3)


def change_weight_keep_digest(path: Path) -> None:
    _, arrays = contents(path)
    W1 = arrays["W1"].copy()
    W1[0, 0] = np.nextafter(W1[0, 0], np.inf)  # one bit, zip's CRC-32 recomputed
    rewrite(path, arrays={"W1": W1}, redigest=False)


def transpose_w1(path: Path) -> None:
    _, arrays = contents(path)
    rewrite(path, arrays={"W1": arrays["W1"].T.copy()})


def header_only(header: dict[str, Any] | str) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        _, arrays = contents(path)
        np.savez(path, header=header_array(header), **arrays)

    return write


def changed(**header_changes: Any) -> Callable[[Path], None]:
    return lambda path: rewrite(path, header_changes, redigest="sha256" not in header_changes)


def plain_text(path: Path) -> None:
    path.write_text("W1,b1\n1,2\n")


def npy_not_npz(path: Path) -> None:
    with path.open("wb") as f:
        np.save(f, np.zeros(3))


def not_npy_member(path: Path) -> None:
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("notes.txt", "hello")


def string_header(path: Path) -> None:
    header, arrays = contents(path)
    np.savez(path, header=np.array(json.dumps(header)), **arrays)


def nan_weight(path: Path) -> None:
    _, arrays = contents(path)
    W1 = arrays["W1"].copy()
    W1[1, 1] = np.nan
    rewrite(path, arrays={"W1": W1})


def int_arrays(path: Path) -> None:
    _, arrays = contents(path)
    rewrite(path, arrays={"b2": arrays["b2"].astype(np.int64)})


def huge_layers(path: Path) -> None:
    sizes = [100_000, 100_000, 1]
    shapes = {"W1": [100_000, 100_000], "b1": [100_000, 1], "W2": [1, 100_000], "b2": [1, 1]}
    rewrite(path, {"layer_sizes": sizes, "arrays": shapes}, redigest=False)


REFUSED = [
    ("plain text renamed", plain_text, "is not a descentlab model file (not an .npz archive: "),
    ("empty", lambda p: p.write_bytes(b""), "no zip signature"),
    ("a .npy renamed", npy_not_npz, "no zip signature"),
    ("truncated", truncate_half, "is not a valid .npz archive; truncated or corrupted? ("),
    ("array byte flipped", flip_array_byte, "is corrupted: array 'W1' is unreadable (Bad CRC-32"),
    (
        "header byte flipped",
        lambda p: flip_byte(p, b'"cat"', 1),
        "is corrupted: array 'header' is unreadable (Bad CRC-32",
    ),
    (
        "digest mismatch",
        change_weight_keep_digest,
        "is corrupted: the SHA-256 digest of its header and arrays does not match the header",
    ),
    ("not a .npy member", not_npy_member, "holds 'notes.txt', which is not an .npy array"),
    ("no header", lambda p: np.savez(p, W1=np.zeros((5, 2))), "has no header; it is not a "),
    ("header as a string", string_header, "the header must be a 1-D uint8 array of UTF-8 JSON"),
    ("header not JSON", header_only("{not json"), "the header is not valid JSON (Expecting"),
    ("header NaN", header_only('{"x": NaN}'), "the header is not valid JSON (NaN is not allowed)"),
    ("header a list", header_only("[1, 2]"), "the header is not a JSON object"),
    ("header nested deep", header_only("[" * 100_000), "the header is not valid JSON ("),
    (
        "wrong format",
        changed(format="other-model"),
        "is not a descentlab model file (format 'other-model', expected 'descentlab-model')",
    ),
    (
        "future format version",
        changed(format_version=FORMAT_VERSION + 1),
        f"uses model format version {FORMAT_VERSION + 1}, newer than this descentlab "
        f"({__version__}) reads (up to {FORMAT_VERSION}); upgrade descentlab to load it",
    ),
    ("format version 0", changed(format_version=0), "format_version must be an integer >= 1"),
    (
        "another major version",
        changed(descentlab_version="1.0.0"),
        "was written by descentlab 1.0.0, whose major version differs from this descentlab "
        f"({__version__}); it reads files from 0.x only",
    ),
    ("no version", changed(descentlab_version=None), "descentlab_version is not a version"),
    ("bad layer sizes", changed(layer_sizes=[2, 0]), "layer_sizes must be a list of >= 2"),
    (
        "output disagrees",
        changed(output="softmax"),
        "the header's output 'softmax' does not match layer sizes (2, 5, 1), which give 'sigmoid'",
    ),
    ("dtype float16", changed(dtype="float16"), "dtype must be 'float32' or 'float64'"),
    (
        "header arrays disagree",
        changed(arrays={"W1": [5, 2]}),
        "the header's arrays do not match its layer_sizes",
    ),
    ("bad digest text", changed(sha256="xyz"), "sha256 must be 64 lowercase hex digits"),
    ("array missing", lambda p: rewrite(p, drop=("b2",)), "is missing the array 'b2'"),
    (
        "array extra",
        lambda p: rewrite(p, arrays={"W3": np.zeros((1, 1))}),
        "holds an unexpected array 'W3'",
    ),
    (
        "wrong shape",
        transpose_w1,
        "array 'W1' has shape (2, 5), but the layer sizes (2, 5, 1) need (5, 2)",
    ),
    (
        "huge layer sizes in a small file",
        huge_layers,
        "array 'W1' has shape (5, 2), but the layer sizes (100000, 100000, 1) need "
        "(100000, 100000)",
    ),
    ("int array", int_arrays, "array 'b2' has dtype int64, but the header says float64"),
    ("non-finite", nan_weight, "array 'W1' holds non-finite values (NaN or infinity)"),
    (
        "classes count",
        changed(classes=["a", "b", "c"]),
        "the header's classes must name 2 classes for 1 output unit(s), got 3",
    ),
    ("classes not a list", changed(classes="ab"), "the header's classes must be a list"),
    (
        "feature names count",
        changed(feature_names=["a"]),
        "the header's feature_names must name 2 features, got 1",
    ),
    (
        "scaling size",
        changed(scaling={"mean": [0.0], "std": [1.0]}),
        "the header's scaling must have 2 features, got 1",
    ),
    (
        "scaling overflow",
        changed(scaling={"mean": [10**400, 0], "std": [1, 1]}),
        "the header's scaling's mean must be finite numbers",
    ),
]


@pytest.mark.parametrize(
    "make_bad, message", [case[1:] for case in REFUSED], ids=[case[0] for case in REFUSED]
)
def test_load_refuses(model_path: Path, make_bad: Callable[[Path], None], message: str) -> None:
    make_bad(model_path)
    assert message in error_of(model_path)


def test_load_refuses_what_is_not_a_file(tmp_path: Path) -> None:
    assert error_of(tmp_path / "nothing.npz") == "no such file"
    assert error_of(tmp_path / "no-folder" / "model.npz") == "no such file"
    assert error_of(tmp_path) == "is a directory, not a model file"
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    assert error_of(fifo) == "is not a regular file"  # and does not block reading it


def test_a_future_format_is_reported_before_what_it_may_add(model_path: Path) -> None:
    rewrite(model_path, {"format_version": FORMAT_VERSION + 1}, arrays={"W9": np.zeros(1)})
    not_npy_member(model_path)
    assert error_of(model_path).startswith(f"uses model format version {FORMAT_VERSION + 1}")


def test_refusals_are_value_errors_for_the_cli(model_path: Path) -> None:
    truncate_half(model_path)
    with pytest.raises(ValueError, match="truncated or corrupted"):
        load(model_path)


# --- hypothesis: nothing but a one-line ValueError, whatever the bytes ----------------------


@pytest.fixture(scope="module")
def valid_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("valid") / "model.npz"
    save(path, make_model((2, 3, 1)))
    return path.read_bytes()


def loads_or_explains(path: Path, content: bytes) -> Model | None:
    path.write_bytes(content)
    try:
        return load(path)
    except ValueError as error:
        message = str(error)
        assert message.splitlines() == [message], f"not one line: {message!r}"
        assert message.startswith(f"{path}: ")
        return None


FUZZ = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(content=st.binary(max_size=300), zip_start=st.booleans())
def test_random_bytes_are_refused(tmp_path: Path, content: bytes, zip_start: bool) -> None:
    prefix = b"PK\x03\x04" if zip_start else b""
    assert loads_or_explains(tmp_path / "random.npz", prefix + content) is None


@FUZZ
@given(data=st.data())
def test_truncated_files_are_refused(
    tmp_path: Path, valid_bytes: bytes, data: st.DataObject
) -> None:
    cut = data.draw(st.integers(0, len(valid_bytes) - 1))
    assert loads_or_explains(tmp_path / "cut.npz", valid_bytes[:cut]) is None


@FUZZ
@given(data=st.data())
def test_corrupted_files_are_refused_or_load_unchanged(
    tmp_path: Path, valid_bytes: bytes, data: st.DataObject
) -> None:
    """A changed byte in a field nothing checks (a zip timestamp) may still load, but then it
    is the same model."""
    corrupted = bytearray(valid_bytes)
    for _ in range(data.draw(st.integers(1, 3))):
        index = data.draw(st.integers(0, len(valid_bytes) - 1))
        corrupted[index] = data.draw(st.integers(0, 255))
    model = loads_or_explains(tmp_path / "flipped.npz", bytes(corrupted))
    if model is not None:
        original = loads_or_explains(tmp_path / "valid.npz", valid_bytes)
        assert original is not None
        assert model.params.tobytes() == original.params.tobytes()
        assert model.classes == original.classes
        assert model.scaling == original.scaling


# --- hostile files through `descentlab predict`, under a memory limit -------------------------
#
# Each file is built here with zipfile, struct and numpy. The command runs as a fresh process
# whose address space is limited (RLIMIT_AS): a reader that allocated what a lying file
# declares would die of MemoryError (exit 1, a traceback) instead of refusing it in one line.

MEMORY_LIMIT = 768 * 1024**2
"""The child's address-space limit: room for Python, numpy and the CLI, less than any of the
lies below declare (the bomb's first member alone is 1 GiB)."""

FRUIT_FEATURES = ("weight_g", "diameter_cm")
FRUIT_CLASSES = ("apple", "orange", "plum")


def fruit_model() -> Model:
    network = Network((2, 4, 3))
    params = he_initialization(network, seed=3)
    scaling = {"mean": [120.0, 6.0], "std": [50.0, 1.5]}
    return Model(network, params, FRUIT_CLASSES, FRUIT_FEATURES, scaling)


def fruit_header(**changes: Any) -> dict[str, Any]:
    header: dict[str, Any] = {
        "format": "descentlab-model",
        "format_version": FORMAT_VERSION,
        "descentlab_version": __version__,
        "layer_sizes": [2, 4, 3],
        "output": "softmax",
        "dtype": "float64",
        "arrays": {"W1": [4, 2], "b1": [4, 1], "W2": [3, 4], "b2": [3, 1]},
        "sha256": "0" * 64,
        "classes": list(FRUIT_CLASSES),
        "feature_names": list(FRUIT_FEATURES),
        "scaling": None,
    }
    return {**header, **changes}


def stored_header(header: dict[str, Any]) -> RawMember:
    text = json.dumps(header).encode()
    return stored("header.npy", npy_header((len(text),), "|u1") + text)


def zip_bomb(path: Path) -> None:
    """Layer sizes (2, 2^26, 3): W1 (2^26, 2), b1 (2^26, 1), W2 (3, 2^26), b2 (3, 1), all
    zeros, deflated; 6 GiB declared consistently (header, .npy headers, directory) in a few MB."""
    n = 2**26
    shapes = {"W1": (n, 2), "b1": (n, 1), "W2": (3, n), "b2": (3, 1)}
    header = fruit_header(
        layer_sizes=[2, n, 3], arrays={name: list(shape) for name, shape in shapes.items()}
    )
    members = [stored_header(header)]
    for name, shape in shapes.items():
        if name == "b2":
            zeros = np.zeros(shape).tobytes()
            members.append(stored("b2.npy", npy_header(shape) + zeros))
        else:
            members.append(deflated_zeros(shape)._replace(name=f"{name}.npy"))
    path.write_bytes(raw_zip(members))


def recompressed(compression: int) -> Callable[[Path], None]:
    """A valid model file whose members are rewritten with ``compression``."""

    def make(path: Path) -> None:
        with zipfile.ZipFile(path) as archive:
            members = {name: archive.read(name) for name in archive.namelist()}
        with zipfile.ZipFile(path, "w", compression=compression) as archive:
            for name, data in members.items():
                archive.writestr(name, data)

    return make


def lying_w1(
    declared_size: int | None = None, stored_size: int | None = None
) -> Callable[[Path], None]:
    """A valid fruit model whose W1 member's .npy header declares 10^12 rows (of 2 float64: 16
    TB) before its 64 bytes of data; the zip directory gives the member's true size, or
    ``declared_size`` bytes, and ``stored_size`` compressed bytes (default: the same)."""

    def make(path: Path) -> None:
        save(path, fruit_model())
        with zipfile.ZipFile(path) as archive:
            members = [stored(name, archive.read(name)) for name in archive.namelist()]
        w1 = stored("W1.npy", npy_header((10**12, 2)) + np.zeros((4, 2)).tobytes())
        if declared_size is not None:
            w1 = w1._replace(file_size=declared_size, stored_size=stored_size or declared_size)
        path.write_bytes(raw_zip([w1 if m.name == "W1.npy" else m for m in members]))

    return make


def tampered_classes_old_checksum(path: Path) -> None:
    """Swap two class names (every apple predicted as orange) and recompute the digest as
    format 1 defined it (arrays only): format 2's digest covers the header, so it no longer
    matches."""
    header, arrays = contents(path)
    header["classes"] = ["orange", "apple", "plum"]
    header["sha256"] = digest(arrays, ["W1", "b1", "W2", "b2"])
    np.savez(path, header=header_array(header), **arrays)


def with_scaling(std: Any, old_format: bool = False) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        changes: dict[str, Any] = {"scaling": {"mean": [0.0, 0.0], "std": [1.0, std]}}
        if old_format:
            changes["format_version"] = 1
        rewrite(path, changes)

    return make


def nan_scaling(path: Path) -> None:
    header, arrays = contents(path)
    text = json.dumps(header).replace('"std": [50.0, 1.5]', '"std": [NaN, 1.5]')
    assert "NaN" in text
    np.savez(path, header=header_array(text), **arrays)


def npy_named_npz(path: Path) -> None:
    np.save(path.with_suffix(".tmp.npy"), np.zeros((3, 2)))
    path.with_suffix(".tmp.npy").replace(path)


def data_npz_named_npy(path: Path) -> Path:
    target = path.with_suffix(".npy")
    with target.open("wb") as f:
        np.savez(f, X=np.zeros((3, 2)), y=np.zeros(3))
    return target


HOSTILE: list[tuple[str, Callable[[Path], Path | None], str]] = [
    ("zip bomb", zip_bomb, "member 'W1.npy' is compressed (deflate); only stored"),
    ("bzip2 members", recompressed(zipfile.ZIP_BZIP2), "is compressed (bzip2); only stored"),
    ("lzma members", recompressed(zipfile.ZIP_LZMA), "is compressed (lzma); only stored"),
    (
        "10^12 rows declared",
        lying_w1(),
        "is corrupted: array 'W1' declares shape (1000000000000, 2) of float64 "
        "(16000000000000 bytes), but the zip directory gives the member 192 bytes",
    ),
    (
        "directory past the end of the file",
        lying_w1(declared_size=2**32 - 1),
        "is corrupted: member 'W1.npy' declares 4294967295 bytes, past the end of the",
    ),
    (
        "directory sizes disagree",
        lying_w1(declared_size=2**32 - 1, stored_size=192),
        "is corrupted: member 'W1.npy' is stored, but the zip directory gives it 4294967295 "
        "bytes and 192 compressed bytes",
    ),
    (
        "header tampered, old-style checksum",
        tampered_classes_old_checksum,
        "is corrupted: the SHA-256 digest of its header and arrays does not match the header",
    ),
    (
        "scaling std 1e-320",
        with_scaling(1e-320),
        "the header's scaling's std must be >= 2.225e-308 (a normal float64), got 1e-320",
    ),
    (
        "scaling std 1e-320 in a format 1 file",
        with_scaling(1e-320, old_format=True),
        "the header's scaling's std must be >= 2.225e-308 (a normal float64), got 1e-320",
    ),
    ("scaling std 0", with_scaling(0.0), "std finite numbers > 0"),
    ("NaN scaling", nan_scaling, "the header is not valid JSON (NaN is not allowed)"),
    ("infinite scaling", with_scaling(10**400), "scaling's std must be finite numbers"),
    ("an .npy named .npz", npy_named_npz, "not an .npz archive: no zip signature"),
    ("a data .npz named .npy", data_npz_named_npy, "has no header; it is not a descentlab"),
    ("truncated", truncate_half, "is not a valid .npz archive; truncated or corrupted? ("),
]


def predict_in_limited_process(model: Path, data: Path) -> subprocess.CompletedProcess[str]:
    out = data.parent / "predictions.csv"
    args = ["predict", "--model", str(model), "--data", str(data), "--out", str(out)]
    return run_python_limited(["-m", "descentlab", *args], MEMORY_LIMIT)


@pytest.fixture
def fruit_files(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "fruit.csv"
    data.write_text(FRUIT)
    model = tmp_path / "model.npz"
    save(model, fruit_model())
    return model, data


def test_a_valid_model_predicts_under_the_memory_limit(fruit_files: tuple[Path, Path]) -> None:
    """The control: the limit leaves room for a normal prediction."""
    result = predict_in_limited_process(*fruit_files)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("predicted 12 rows with ")


@pytest.mark.parametrize(
    "make_bad, message", [case[1:] for case in HOSTILE], ids=[case[0] for case in HOSTILE]
)
def test_predict_refuses_hostile_model_files_without_allocating(
    fruit_files: tuple[Path, Path], make_bad: Callable[[Path], Path | None], message: str
) -> None:
    model, data = fruit_files
    model = make_bad(model) or model
    result = predict_in_limited_process(model, data)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith(f"descentlab predict: error: {model}: ")
    assert result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr
    assert not (data.parent / "predictions.csv").exists()


def test_predict_refuses_a_directory_or_a_fifo_as_the_model(
    fruit_files: tuple[Path, Path], tmp_path: Path
) -> None:
    _, data = fruit_files
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    for model, problem in [(tmp_path, "is a directory, not a model file"),
                           (fifo, "is not a regular file")]:  # fmt: skip
        result = run_cli("predict", "--model", str(model), "--data", str(data))
        assert (result.returncode, result.stdout) == (2, "")
        assert result.stderr == f"descentlab predict: error: {model}: {problem}\n"


# --- format 1 files still load ----------------------------------------------------------------


def as_format_1(path: Path) -> None:
    """The file format 1 wrote: the same header with format_version 1 and a digest of the
    arrays alone (a descentlab before format 2 wrote exactly this)."""
    header, arrays = contents(path)
    header["format_version"] = 1
    header["sha256"] = digest(arrays, list(header["arrays"]))
    np.savez(path, header=header_array(header), **arrays)


def test_a_format_1_file_loads_with_its_arrays_checksum_checked(model_path: Path) -> None:
    model = load(model_path)
    as_format_1(model_path)
    old = load(model_path)
    assert old.params.tobytes() == model.params.tobytes()
    assert (old.classes, old.scaling) == (model.classes, model.scaling)
    np.testing.assert_array_equal(old.predict_proba(X_ROWS), model.predict_proba(X_ROWS))
    change_weight_keep_digest(model_path)  # format 1's digest still covers the arrays
    assert error_of(model_path) == (
        "is corrupted: the SHA-256 digest of its arrays does not match the header"
    )


def test_saving_a_format_1_model_again_writes_format_2(model_path: Path) -> None:
    as_format_1(model_path)
    save(model_path, load(model_path))
    assert contents(model_path)[0]["format_version"] == 2 == FORMAT_VERSION


def test_predictions_that_overflow_are_refused_not_nan() -> None:
    """A tiny but normal std sends ordinary rows beyond float64: the row is named, no NaN."""
    network = Network((2, 3, 1))
    params = he_initialization(network, seed=1)
    model = Model(network, params, scaling={"mean": [0.0, 0.0], "std": [1e-300, 1.0]})
    with pytest.raises(ValueError, match=r"^row 1 \(of 2\): its features scaled by the model"):
        model.predict([[1e10, 0.0], [0.0, 0.0]])
    with pytest.raises(ValueError, match=r"^row 2 \(of 2\)"):
        model.predict_proba([[0.0, 0.0], [1e10, 0.0]])
    assert model.predict([[0.0, 0.0]]).shape == (1,)
