from __future__ import annotations

import csv
import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from descentlab import loaders
from descentlab.datasets import Dataset
from descentlab.loaders import load_file, read_features


def write_csv(path: Path, rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as file:
        csv.writer(file).writerows(rows)
    return path


def error_of(path: Path, target: str | None = None) -> str:
    """The message of the ValueError that loading ``path`` raises (checked to be one line)."""
    with pytest.raises(ValueError) as error:
        load_file(path, target)
    message = str(error.value)
    assert message.splitlines() == [message], f"not one line: {message!r}"
    return message


# --- round trips ------------------------------------------------------------------------------


def test_csv_round_trip_with_string_labels(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    names = np.array(["setosa", "virginica", "versicolor", "setosa"] * 5)
    path = write_csv(
        tmp_path / "flowers.csv",
        [["sepal", "petal", "stem", "species"]]
        + [[*map(repr, row.tolist()), name] for row, name in zip(X, names, strict=True)],
    )
    data = load_file(path)
    assert isinstance(data, Dataset) and data.name == "flowers.csv"
    np.testing.assert_array_equal(data.X, X.T)  # repr of a float round-trips exactly
    assert data.classes == ("setosa", "versicolor", "virginica")
    assert [data.classes[i] for i in data.labels] == names.tolist()
    assert data.feature_names == ("sepal", "petal", "stem")
    assert data.Y.shape == (3, 20)
    assert data.params == {"path": str(path), "target": "species"}


def test_csv_target_column_anywhere_and_integer_labels_sorted_numerically(
    tmp_path: Path,
) -> None:
    path = write_csv(
        tmp_path / "d.csv",
        [["a", "label", "b"], [1, 10, 2], [3, 2, 4], [5, 10, 6], [7, -1, 8]],
    )
    data = load_file(path, target="label")
    assert data.classes == (-1, 2, 10)
    assert data.labels.tolist() == [2, 1, 2, 0]
    assert data.X.tolist() == [[1, 3, 5, 7], [2, 4, 6, 8]]
    assert data.feature_names == ("a", "b")


def test_csv_two_integer_classes_give_one_row_of_targets(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", [["x", "y"], [0.5, "1.0"], [1.5, "0"], [2.5, " 1 "]])
    data = load_file(path)
    assert data.classes == (0, 1) and data.Y.tolist() == [[1.0, 0.0, 1.0]]


def test_csv_details_bom_spaces_quotes_blank_lines_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "d.CSV"
    path.write_bytes(
        b'\xef\xbb\xbf "x 1" , x2,class\r\n1, 2 ,a\r\n\r\n"3","4","b, c"\r\n,,\r\n5,6e0,a\r\n'
    )
    data = load_file(path)
    assert data.feature_names == ("x 1", "x2")
    assert data.X.tolist() == [[1, 3, 5], [2, 4, 6]]
    assert data.classes == ("a", "b, c") and data.labels.tolist() == [0, 1, 0]


def test_npz_round_trip(tmp_path: Path) -> None:
    X = np.arange(12.0).reshape(6, 2)
    y = np.array(["no", "yes", "no", "yes", "maybe", "no"])
    np.savez(tmp_path / "d.npz", X=X, y=y)
    data = load_file(tmp_path / "d.npz")
    np.testing.assert_array_equal(data.X, X.T)
    assert data.classes == ("maybe", "no", "yes")
    assert [data.classes[i] for i in data.labels] == y.tolist()
    assert data.feature_names == ("x1", "x2")
    assert data.params == {"path": str(tmp_path / "d.npz"), "target": "y"}


@pytest.mark.parametrize(
    ("labels", "classes"),
    [
        (np.array([3, 1, 3, 1]), (1, 3)),
        (np.array([True, False, True, True]), (0, 1)),
        (np.array([2.0, 0.0, 1.0, 2.0]), (0, 1, 2)),
        (np.array([7, 8, 7, 8], dtype=np.uint8), (7, 8)),
    ],
)
def test_npz_label_dtypes_and_another_target_name(
    tmp_path: Path, labels: np.ndarray, classes: tuple[int, ...]
) -> None:
    np.savez(tmp_path / "d.npz", X=np.ones((4, 1), dtype=np.int32), labels=labels)
    data = load_file(tmp_path / "d.npz", target="labels")
    assert data.classes == classes and all(type(c) is int for c in data.classes)
    assert [data.classes[i] for i in data.labels] == labels.astype(int).tolist()
    assert data.X.dtype == np.float64


def test_npy_pair_with_the_default_sibling_and_an_explicit_labels_file(tmp_path: Path) -> None:
    X = np.arange(10.0).reshape(5, 2)
    y = np.array([0, 1, 0, 1, 1])
    np.save(tmp_path / "data.npy", X)
    np.save(tmp_path / "data_y.npy", y)
    data = load_file(tmp_path / "data.npy")
    np.testing.assert_array_equal(data.X, X.T)
    np.testing.assert_array_equal(data.labels, y)
    assert data.params["target"] == str(tmp_path / "data_y.npy")
    np.save(tmp_path / "other_labels.npy", 1 - y)
    other = load_file(tmp_path / "data.npy", target=str(tmp_path / "other_labels.npy"))
    np.testing.assert_array_equal(other.labels, 1 - y)


# --- every bad file, with its message -------------------------------------------------------

BAD_CSVS = [
    # (file content, target, message after "<path>: ")
    ("", None, "the file is empty"),
    ("  \n\n \n", None, "the file is empty"),
    (",,\n,,\n", None, "the file is empty (no cell holds anything)"),
    ("x1,x2,label\n", None, "the header is there but no data rows follow it"),
    (
        "1,2,0\n3,4,1\n",
        None,
        "row 1 holds only numbers, so the header row naming the columns is missing; "
        "add one (e.g. x1,x2,label)",
    ),
    ("x1,,label\n1,2,a\n", None, "column 2 has no name in the header (row 1)"),
    ("x,x,label\n1,2,a\n", None, "the header names column 'x' twice (row 1)"),
    ("x1,x2,label\n1,2,a\n3,abc,b\n", None, "row 3, column 'x2': 'abc' is not a number"),
    (
        "x1,x2,label\n1,2,a\n3,,b\n",
        None,
        "row 3, column 'x2' is empty; every feature needs a number",
    ),
    (
        "x1,x2,label\n1,2,a\n\n3,nan,b\n",
        None,
        "row 4, column 'x2': 'nan' is not a finite number (NaN or infinite)",
    ),
    (
        "x1,x2,label\n-inf,2,a\n3,4,b\n",
        None,
        "row 2, column 'x1': '-inf' is not a finite number (NaN or infinite)",
    ),
    (
        "x1,x2,label\n1e999,2,a\n3,4,b\n",
        None,
        "row 2, column 'x1': '1e999' is not a finite number (NaN or infinite)",
    ),
    (
        "x1,x2,label\n1,2,a\n3,4,a\n",
        None,
        "every example has the label 'a'; a classifier needs at least 2 classes",
    ),
    (
        "x1,x2,label\n1,2,7\n3,4,7.0\n",
        None,
        "every example has the label 7; a classifier needs at least 2 classes",
    ),
    ("x1,x2,label\n1,2,a\n", "class", "no column 'class'; the columns are: 'x1', 'x2', 'label'"),
    ("x1,x2,label\n1,2,a\n3,4\n", None, "row 3 has 2 cells, the header has 3 columns"),
    ("x1,x2,label\n1,2,a,9\n", None, "row 2 has 4 cells, the header has 3 columns"),
    ("label\na\nb\n", None, "only the target column 'label'; no feature columns"),
    ("x,label\n1,a\n2,\n", None, "row 3, column 'label': the label is empty"),
    (
        "x,label\n1,0\n2,0.5\n",
        None,
        "row 3, column 'label': label '0.5' is a number but not an integer; "
        "class labels must be integers or text",
    ),
    (
        "x,label\n1,0\n2,nan\n",
        None,
        "row 3, column 'label': label 'nan' is a number but not an integer; "
        "class labels must be integers or text",
    ),
    (
        'x1,x2,label\n1,"a\nb",c\n',
        None,
        "row 2, column 'x2': 'a\\nb' is not a number",
    ),
]


@pytest.mark.parametrize(("content", "target", "message"), BAD_CSVS)
def test_bad_csv_files(tmp_path: Path, content: str, target: str | None, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, newline="")
    assert error_of(path, target) == f"{path}: {message}"


def test_csv_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("x,label\n1,caf\xe9\n".encode("latin-1"))
    assert error_of(path) == f"{path}: not UTF-8 text (undecodable byte at offset 13)"


def test_a_long_cell_is_cut_in_the_message(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", [["x", "label"], ["y" * 500, "a"]])
    assert error_of(path) == f"{path}: row 2, column 'x': '{'y' * 40}...' is not a number"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("data.txt", "unsupported file type '.txt'; use one of: .csv, .npz, .npy"),
        ("data", "unsupported file type '(no extension)'; use one of: .csv, .npz, .npy"),
        ("missing.csv", "no such file"),
        ("missing.npz", "no such file"),
    ],
)
def test_missing_files_and_unsupported_types(tmp_path: Path, name: str, message: str) -> None:
    path = tmp_path / name
    if name.startswith("data"):
        path.write_text("x,y\n1,2\n")
    assert error_of(path) == f"{path}: {message}"


def test_a_directory_is_not_a_data_file(tmp_path: Path) -> None:
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    assert error_of(folder) == f"{folder}: is a directory, not a data file; give a regular file"


def save_npz(path: Path, **arrays: np.ndarray) -> Path:
    np.savez(path, allow_pickle=True, **arrays)
    return path


GOOD_X = np.arange(8.0).reshape(4, 2)
GOOD_Y = np.array([0, 1, 0, 1])


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"X": GOOD_X}, "no array named 'y'; it holds: X (expected X and y)"),
        ({"data": GOOD_X, "y": GOOD_Y}, "no array named 'X'; it holds: data, y (expected X and y)"),
        ({"X": GOOD_X, "y": GOOD_Y[:3]}, "X has 4 examples (rows) but y has 3 labels"),
        (
            {"X": GOOD_X[0], "y": GOOD_Y},
            "X must be 2-D, shape (examples, features), got shape (2,)",
        ),
        (
            {"X": GOOD_X, "y": GOOD_Y.reshape(-1, 1)},
            "y must be 1-D, shape (examples,), got (4, 1); flatten it with y.ravel()",
        ),
        ({"X": GOOD_X[:0], "y": GOOD_Y[:0]}, "X has no examples (0 rows)"),
        ({"X": np.ones((4, 0)), "y": GOOD_Y}, "X has no features (0 columns)"),
        (
            {"X": np.where(GOOD_X == 5, np.nan, GOOD_X), "y": GOOD_Y},
            "X[2, 1] is nan; features must be finite",
        ),
        (
            {"X": np.where(GOOD_X == 2, -np.inf, GOOD_X), "y": GOOD_Y},
            "X[1, 0] is -inf; features must be finite",
        ),
        (
            {"X": GOOD_X, "y": np.zeros(4)},
            "every example has the label 0; a classifier needs at least 2 classes",
        ),
        (
            {"X": GOOD_X, "y": np.array([0, 1, 0.5, 1])},
            "y[2] is 0.5, a number but not an integer; class labels must be integers or strings",
        ),
        ({"X": GOOD_X.astype(str), "y": GOOD_Y}, "X must hold numbers, got dtype <U32"),
        ({"X": GOOD_X.astype(complex), "y": GOOD_Y}, "X must hold numbers, got dtype complex128"),
        (
            {"X": GOOD_X, "y": GOOD_Y.astype(bytes)},
            "y must hold integers or strings, got dtype |S21",
        ),
        (
            {"X": GOOD_X.astype(object), "y": GOOD_Y},
            "cannot read array 'X' (it holds Python objects (an object array), which are "
            "refused; save numbers or strings)",
        ),
        (
            {"X": GOOD_X, "y": GOOD_Y.astype(object)},
            "cannot read array 'y' (it holds Python objects (an object array), which are "
            "refused; save numbers or strings)",
        ),
    ],
)
def test_bad_npz_files(tmp_path: Path, arrays: dict[str, np.ndarray], message: str) -> None:
    path = save_npz(tmp_path / "bad.npz", **arrays)
    assert error_of(path) == f"{path}: {message}"


def test_npz_that_is_not_an_archive(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"hello, world")
    assert error_of(garbage) == (
        f"{garbage}: not a readable .npz archive (not in numpy's format; numpy could only "
        f"unpickle it, which is refused)"
    )
    truncated = tmp_path / "truncated.npz"
    save_npz(tmp_path / "whole.npz", X=GOOD_X, y=GOOD_Y)
    truncated.write_bytes((tmp_path / "whole.npz").read_bytes()[:60])
    assert error_of(truncated).startswith(f"{truncated}: not a readable .npz archive (")
    single = tmp_path / "single.npz"
    with single.open("wb") as file:
        np.save(file, GOOD_X)
    assert error_of(single) == f"{single}: holds a single array, not an .npz archive of X and y"


def test_bad_npy_pairs(tmp_path: Path) -> None:
    data = tmp_path / "data.npy"
    np.save(data, GOOD_X)
    labels = tmp_path / "data_y.npy"
    assert error_of(data) == (
        f"{data}: its labels file {labels} does not exist; save the labels (shape (m,)) there "
        f"or give the labels file as the target"
    )
    np.save(labels, GOOD_Y[:3])
    assert error_of(data) == f"{data}: data.npy has 4 examples (rows) but data_y.npy has 3 labels"
    np.save(labels, GOOD_Y.astype(object), allow_pickle=True)
    assert error_of(data) == (
        f"{labels}: not a readable .npy array (it holds Python objects (an object array), "
        f"which are refused; save numbers or strings)"
    )
    labels.write_bytes(b"\x80\x04not numpy")
    assert error_of(data) == (
        f"{labels}: not a readable .npy array (not in numpy's format; numpy could only "
        f"unpickle it, which is refused)"
    )
    np.savez(labels, y=GOOD_Y)
    (tmp_path / "data_y.npy.npz").rename(labels)
    assert error_of(data) == f"{labels}: holds an .npz archive, not one .npy array"
    np.save(labels, GOOD_Y)
    np.save(data, GOOD_X[:, :, None])
    assert error_of(data) == (
        f"{data}: data.npy must be 2-D, shape (examples, features), got shape (4, 2, 1)"
    )


# --- hypothesis: nothing but a one-line ValueError, whatever the file holds ----------------

CELL_TEXT = st.one_of(
    st.sampled_from(["1", "-2.5", "0", "nan", "inf", "1e999", "", " ", "a", "b", "x,y", '"']),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=6),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-3, 3).map(str),
)


def check_loads_or_explains(path: Path, target: str | None = None) -> None:
    try:
        data = load_file(path, target)
    except ValueError as error:
        message = str(error)
        assert message.splitlines() == [message], f"not one line: {message!r}"
        assert message.startswith(f"{path}: ")
    else:
        assert data.n_classes >= 2 and np.isfinite(data.X).all()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.binary(max_size=200))
def test_random_bytes_never_raise_anything_but_a_one_line_value_error(
    tmp_path: Path, content: bytes
) -> None:
    for suffix in (".csv", ".npz", ".npy"):
        path = tmp_path / f"random{suffix}"
        path.write_bytes(content)
        check_loads_or_explains(path)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.lists(CELL_TEXT, min_size=1, max_size=4), min_size=0, max_size=6),
    target=st.one_of(st.none(), CELL_TEXT),
)
def test_random_cells_never_raise_anything_but_a_one_line_value_error(
    tmp_path: Path, rows: list[list[str]], target: str | None
) -> None:
    path = write_csv(tmp_path / "random.csv", rows)  # type: ignore[arg-type]
    check_loads_or_explains(path, target)


@st.composite
def nearly_valid_tables(draw: st.DrawFn) -> list[list[str]]:
    """A header and rows of the same width, most cells valid (numbers, then a label), some
    replaced by arbitrary text, sometimes a row a cell short or long."""
    width = draw(st.integers(1, 4))
    header = [f"x{i}" for i in range(1, width)] + ["label"]
    for i in range(width):
        if draw(st.integers(0, 7)) == 0:
            header[i] = draw(CELL_TEXT)
    number = st.floats(-10, 10).map(repr)
    label = st.sampled_from(["a", "b", "c", "0", "1", "2"])
    rows = []
    for _ in range(draw(st.integers(1, 8))):
        row = [draw(st.one_of(number, number, number, CELL_TEXT)) for _ in range(width - 1)]
        row.append(draw(st.one_of(label, label, label, CELL_TEXT)))
        if draw(st.integers(0, 9)) == 0:
            row = row[:-1] if draw(st.booleans()) else [*row, "extra"]
        rows.append(row)
    return [header, *rows]


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=nearly_valid_tables(),
    target=st.integers(0, 9).flatmap(
        lambda k: st.none() if k < 6 else st.just("label") if k < 8 else CELL_TEXT
    ),
)
def test_nearly_valid_csvs_load_or_raise_a_one_line_value_error(
    tmp_path: Path, rows: list[list[str]], target: str | None
) -> None:
    path = write_csv(tmp_path / "table.csv", rows)  # type: ignore[arg-type]
    check_loads_or_explains(path, target)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    X=st.lists(st.lists(st.floats(allow_nan=True), min_size=2, max_size=2), max_size=5),
    y=st.lists(st.one_of(st.integers(-2, 2), st.floats(-2, 2)), max_size=5),
)
def test_random_npz_arrays_never_raise_anything_but_a_one_line_value_error(
    tmp_path: Path, X: list[list[float]], y: list[float]
) -> None:
    path = save_npz(tmp_path / "random.npz", X=np.array(X), y=np.array(y))
    check_loads_or_explains(path)


# --- hostile files: refused in one line before anything large is read ------------------------


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def lying_npy(rows: int = 10**12) -> bytes:
    """An .npy whose header declares ``rows`` x 2 float64 but that holds 4 x 2."""
    buffer = io.BytesIO()
    header = {"descr": "<f8", "fortran_order": False, "shape": (rows, 2)}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + GOOD_X.tobytes()


def write_zip(path: Path, compression: int, **members: bytes) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(f"{name}.npy", data)
    return path


def test_every_truncation_of_an_npz_is_one_line(tmp_path: Path) -> None:
    whole = save_npz(tmp_path / "whole.npz", X=GOOD_X, y=GOOD_Y).read_bytes()
    cut = tmp_path / "cut.npz"
    for length in range(len(whole)):
        cut.write_bytes(whole[:length])
        assert error_of(cut).startswith(f"{cut}: ")


def test_a_corrupted_compressed_npz_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "packed.npz"
    np.savez_compressed(path, X=np.zeros((200, 2)), y=np.arange(200) % 2)
    data = bytearray(path.read_bytes())
    start = data.index(b"X.npy") + len("X.npy") + 20  # inside the deflated bytes of X
    data[start : start + 8] = b"\xff" * 8
    path.write_bytes(bytes(data))
    assert error_of(path).startswith(f"{path}: cannot read array 'X' (")


def test_swapped_extensions(tmp_path: Path) -> None:
    npy_named_npz = tmp_path / "array.npz"
    npy_named_npz.write_bytes(npy_bytes(GOOD_X))
    assert error_of(npy_named_npz) == (
        f"{npy_named_npz}: holds a single array, not an .npz archive of X and y"
    )
    npz_named_npy = tmp_path / "archive.npy"
    npz_named_npy.write_bytes(save_npz(tmp_path / "a.npz", X=GOOD_X, y=GOOD_Y).read_bytes())
    np.save(tmp_path / "archive_y.npy", GOOD_Y)
    assert error_of(npz_named_npy) == f"{npz_named_npy}: holds an .npz archive, not one .npy array"
    csv_named_npz = write_csv(tmp_path / "table.npz", [["x", "label"], [1, "a"]])
    assert error_of(csv_named_npz).startswith(f"{csv_named_npz}: not a readable .npz archive (")
    with pytest.raises(ValueError, match=r"holds a single array, not an \.npz archive of X"):
        read_features(npy_named_npz, ["a", "b"])
    with pytest.raises(ValueError, match=r"holds an \.npz archive, not one \.npy array"):
        read_features(npz_named_npy, ["a", "b"])


def test_lying_npy_headers_are_refused_before_allocating(tmp_path: Path) -> None:
    declared = 10**12 * 2 * 8
    data = tmp_path / "lies.npy"
    data.write_bytes(lying_npy())
    np.save(tmp_path / "lies_y.npy", GOOD_Y)
    assert error_of(data) == (
        f"{data}: its array declares {declared} bytes of data in its header but the file holds "
        f"{GOOD_X.nbytes}; it is truncated or its header is wrong"
    )
    stored = write_zip(
        tmp_path / "stored.npz", zipfile.ZIP_STORED, X=lying_npy(), y=npy_bytes(GOOD_Y)
    )
    assert error_of(stored) == (
        f"{stored}: array 'X' declares {declared} bytes of data in its header but the file "
        f"holds {GOOD_X.nbytes}; it is truncated or its header is wrong"
    )
    packed = write_zip(
        tmp_path / "packed.npz", zipfile.ZIP_DEFLATED, X=lying_npy(), y=npy_bytes(GOOD_Y)
    )
    assert error_of(packed).startswith(
        f"{packed}: array 'X' declares {declared} bytes, more than the "
    )


def test_a_file_over_the_memory_limit_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_csv(tmp_path / "big.csv", [["x", "label"]] + [[i, i % 2] for i in range(100)])
    size = path.stat().st_size
    monkeypatch.setattr(loaders, "available_memory", lambda: 100 * loaders.DATA_COPIES)
    assert loaders.max_data_bytes() == 100
    assert error_of(path) == (
        f"{path}: is {size} bytes, more than the 100 bytes a data file may take here (a "
        f"{loaders.DATA_COPIES}th of the available memory); use a smaller file or free memory"
    )
    monkeypatch.setattr(loaders, "available_memory", lambda: None)
    assert loaders.max_data_bytes() == loaders.MAX_DATA_BYTES_UNKNOWN_MEMORY
    assert load_file(path).X.shape == (1, 100)


@pytest.mark.parametrize("suffix", [".csv", ".npz", ".npy"])
def test_devices_and_directories_are_not_data_files(tmp_path: Path, suffix: str) -> None:
    zero = tmp_path / f"zero{suffix}"
    zero.symlink_to("/dev/zero")
    assert error_of(zero) == f"{zero}: is a character device, not a data file; give a regular file"
    folder = tmp_path / f"folder{suffix}"
    folder.mkdir()
    assert error_of(folder) == (f"{folder}: is a directory, not a data file; give a regular file")
    with pytest.raises(ValueError, match="is a directory, not a data file"):
        read_features(folder, ["x"])


def test_a_labels_file_that_is_a_device_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data.npy"
    np.save(data, GOOD_X)
    labels = tmp_path / "data_y.npy"
    labels.symlink_to("/dev/zero")
    assert error_of(data) == (
        f"{labels}: is a character device, not a data file; give a regular file"
    )


@pytest.mark.skipif(
    os.geteuid() == 0,
    reason="root reads a file whatever its mode; the root-proof unreadable cases are the "
    "directory and device tests above",
)
def test_an_unreadable_file(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "secret.csv", [["x", "label"], [1, "a"], [2, "b"]])
    path.chmod(0)
    assert error_of(path) == f"{path}: cannot read it (Permission denied)"
