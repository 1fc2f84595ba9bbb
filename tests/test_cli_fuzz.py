"""Property-based fuzzing of the command line: any mix of options and values, valid or not,
ends in exit 0 or a one-line error with exit 2, never a traceback, and never leaves a
results.json that claims success unless the run succeeded."""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import run_cli
from descentlab.cli import main

VALUES = [
    "0",
    "-1",
    "1",
    "2",
    "0.5",
    "1e-3",
    "nan",
    "inf",
    "abc",
    "full",
    "5,2",
    "5,,2",
    "gd",
    "adam,gd",
    "moons",
    "xor",
    "digits",
    "gd=0.1",
    "adam=x",
    "1..0:log:3",
    "true",
    "",
]
OPTIONS = [
    "--optimizers",
    "--optimizer",
    "--learning-rate",
    "--batch-size",
    "--layers",
    "--seed",
    "--beta",
    "--beta1",
    "--beta2",
    "--epsilon",
    "-H",
    "--schedule",
    "--decay-rate",
    "--decay-every",
    "--dataset",
    "--n-samples",
    "--noise",
    "--data",
    "--target",
    "--validation-fraction",
    "--test-fraction",
    "--patience",
    "--dtype",
]
FLAGS = [
    "--early-stopping",
    "--standardize",
    "--no-standardize",
    "--eps-inside-sqrt",
    "--json",
]

words = st.one_of(
    st.tuples(st.sampled_from(OPTIONS), st.sampled_from(VALUES)).map(list),
    st.sampled_from(FLAGS).map(lambda flag: [flag]),
    st.text(max_size=6).map(lambda text: [text]),
)


@pytest.mark.slow  # sixty runs, each writing its whole run folder
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(command=st.sampled_from(["compare", "train"]), parts=st.lists(words, max_size=5))
def test_any_arguments_end_cleanly(command: str, parts: list[list[str]], tmp_path: Path) -> None:
    out = tmp_path / f"out-{abs(hash((command, str(parts))))}"
    argv = [command, *(word for part in parts for word in part)]
    # Appended last, these keep every run tiny and inside tmp_path whatever came before.
    argv += ["--epochs", "2", "--n-samples", "40", "--checkpoint-every", "0", "--quiet",
             "--out", str(out)]  # fmt: skip
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse's own exit for usage errors
            code = exit_.code if isinstance(exit_.code, int) else 2
    assert code in (0, 2), (argv, stderr.getvalue())
    results = out / "results.json"
    if code == 0:
        assert json.loads(results.read_text())["status"] == "finished"
    else:
        assert len(stderr.getvalue().strip().splitlines()) == 1, stderr.getvalue()
        assert "Traceback" not in stderr.getvalue()
        if results.exists():
            assert json.loads(results.read_text())["status"] != "finished"


# --- files: any bytes as data, any output path ------------------------------------------------

OUTPUT_PLACES = ["proc", "directory", "missing-folder", "existing", "fresh", "named"]
"""Where an output path points: into /proc (unwritable even for root), at a directory, into a
folder that does not exist, at an existing file, at a fresh file, at a file named by
hypothesis."""


def _output_path(tmp_path: Path, place: str, suffix: str, name: str) -> Path:
    if place == "proc":
        return Path(f"/proc/fuzz{suffix}")
    if place == "directory":
        folder = tmp_path / f"dir{suffix}"
        folder.mkdir(exist_ok=True)
        return folder
    if place == "missing-folder":
        return tmp_path / "missing" / f"out{suffix}"
    if place == "existing":
        existing = tmp_path / f"existing{suffix}"
        existing.write_text("keep me")
        return existing
    if place == "named":
        return tmp_path / f"{name}{suffix}"
    return tmp_path / f"fresh{suffix}"


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz-model")
    model = folder / "model.npz"
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["train", "--epochs", "2", "--quiet", "--out", str(folder / "run"),
                     "--save", str(model)])  # fmt: skip
    assert code == 0
    return model


def _run(argv: list[str]) -> tuple[int, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 2
    return code, stderr.getvalue()


file_names = st.text(
    st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters="/\\"),
    min_size=1,
    max_size=12,
).filter(lambda name: name not in {".", ".."})


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.binary(max_size=400),
    suffix=st.sampled_from([".csv", ".npz", ".npy"]),
    place=st.sampled_from(OUTPUT_PLACES),
    name=file_names,
)
def test_predict_any_bytes_to_any_output_ends_cleanly(
    model_file: Path, data: bytes, suffix: str, place: str, name: str, tmp_path: Path
) -> None:
    """Whatever the data file holds and wherever the predictions go: exit 0 with the
    predictions written, or one line and exit 2 with the output untouched."""
    with contextlib.suppress(FileExistsError):
        (tmp_path / "case").mkdir()
    folder = tmp_path / "case"
    data_file = folder / f"data{suffix}"
    data_file.write_bytes(data)
    out = _output_path(folder, place, ".csv", name)
    before = out.read_bytes() if out.is_file() else None
    code, stderr = _run(["predict", "--model", str(model_file), "--data", str(data_file),
                         "--out", str(out)])  # fmt: skip
    assert code in (0, 2), stderr
    if code == 0:
        assert before is None and out.read_text().startswith("row,prediction,")
    else:
        assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr, stderr
        assert (out.read_bytes() if out.is_file() else None) == before
    for leftover in folder.iterdir():
        assert not leftover.name.endswith(".tmp"), leftover
    if out.is_file() and before is None:
        out.unlink()


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    place=st.sampled_from(OUTPUT_PLACES),
    suffix=st.sampled_from([".png", ".npz", ".csv", ""]),
    name=file_names,
    option=st.sampled_from(["schedule --out", "train --save"]),
)
def test_any_output_path_is_written_or_refused_before_work(
    place: str, suffix: str, name: str, option: str, tmp_path: Path
) -> None:
    """``schedule --out`` and ``train --save`` at any path: written, or one line, exit 2 and
    for train no run folder begun (the path is refused before training)."""
    folder = tmp_path / f"case-{abs(hash((place, suffix, name, option)))}"
    folder.mkdir(exist_ok=True)
    out = _output_path(folder, place, suffix, name)
    command, flag = option.split()
    run_folder = folder / "run"
    argv = [command, flag, str(out)]
    if command == "train":
        argv += ["--epochs", "1", "--n-samples", "40", "--quiet", "--out", str(run_folder)]
    else:
        argv += ["--length", "20"]
    code, stderr = _run(argv)
    assert code in (0, 2), stderr
    if code == 0:
        assert out.is_file() and out.stat().st_size > 0
    else:
        assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr, stderr
        assert not run_folder.exists(), stderr


# --- every output path of every command: written, or refused before work, nothing else touched ---

NAME_MAX = os.pathconf("/tmp", "PC_NAME_MAX")

OUTPUTS = ["train --out", "train --save", "predict --out", "schedule --out"]
"""Each option that names something a command writes."""

HOSTILE_PLACES = [
    "directory",
    "full-directory",
    "proc",
    "under-a-file",
    "missing-parent",
    "too-long",
    "existing-file",
    "named",
]
"""Where an output path points: an empty directory, a directory holding a file, into /proc
(unwritable even for root), under a regular file (a/b with a a file), into a folder that does
not exist, a name of NAME_MAX + 1 bytes, an existing file, a fresh name drawn by hypothesis
(newlines, unicode, spaces)."""

any_names = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="/\x00"),
    min_size=1,
    max_size=10,
).filter(lambda name: name not in {".", ".."} and len(os.fsencode(name)) < NAME_MAX - 40)


def _hostile_path(case: Path, place: str, suffix: str, name: str) -> Path:
    paths = {
        "directory": case / "empty",
        "full-directory": case / "full",
        "proc": Path(f"/proc/fuzz{suffix}"),
        "under-a-file": case / "afile" / f"out{suffix}",
        "missing-parent": case / "missing" / f"out{suffix}",
        "too-long": case / ("n" * (NAME_MAX + 1 - len(suffix)) + suffix),
        "existing-file": case / f"existing{suffix}",
        "named": case / f"{name}{suffix}",
    }
    return paths[place]


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(path.relative_to(folder)): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(output=st.sampled_from(OUTPUTS), place=st.sampled_from(HOSTILE_PLACES), name=any_names)
def test_any_output_path_is_written_or_refused_naming_it_and_nothing_else_changes(
    model_file: Path, output: str, place: str, name: str, tmp_path: Path
) -> None:
    """Every command's output at any path: exit 0 with it written, or one line naming the path
    and exit 2 before any work (no run folder begun); never a traceback or exit 1, never a
    temporary file left, and no file that was there before changed (but the output itself,
    which a command may replace)."""
    case = Path(tempfile.mkdtemp(dir=tmp_path))  # hypothesis reuses tmp_path for every example
    (case / "empty").mkdir()
    (case / "full").mkdir()
    (case / "full" / "keep.txt").write_text("keep me")
    (case / "afile").write_text("a file, not a folder")
    command, flag = output.split()
    suffix = {"--save": ".npz", "--out": ".csv" if command == "predict" else ".png"}[flag]
    if command == "train" and flag == "--out":
        suffix = ""
    out = _hostile_path(case, place, suffix, name)
    if place == "existing-file":
        out.write_text("was here")
    data = case / "points.csv"
    data.write_text("x1,x2\n0.5,0.25\n1.0,-0.5\n")
    before = _snapshot(case)
    run_folder = case / "run"
    argv = {
        "train --out": ["train", "--epochs", "1", "--n-samples", "40", "--quiet",
                        "--out", str(out)],
        "train --save": ["train", "--epochs", "1", "--n-samples", "40", "--quiet",
                         "--out", str(run_folder), "--save", str(out)],
        "predict --out": ["predict", "--model", str(model_file), "--data", str(data),
                          "--out", str(out)],
        "schedule --out": ["schedule", "--length", "20", "--out", str(out)],
    }[output]  # fmt: skip
    code, stderr = _run(argv)
    assert code in (0, 2), (argv, stderr)
    if code == 0:
        if output == "train --out":
            assert json.loads((out / "results.json").read_text())["status"] == "finished"
        else:
            assert out.is_file() and out.stat().st_size > 0
    else:
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in stderr, stderr
        assert repr(str(out)) in lines[0] or str(out) in lines[0], lines[0]
        assert not run_folder.exists(), stderr
        if output == "train --out" and place != "too-long" and out.is_dir():
            assert not (out / "results.json").exists(), stderr
    after = _snapshot(case)
    changed = [key for key, value in before.items() if after.get(key) != value]
    assert changed in ([], [str(out.relative_to(case))] if code == 0 and out.is_file() else []), (
        changed,
        stderr,
    )
    assert not [path for path in case.rglob("*") if path.name.endswith(".tmp")]


# --- odd values: float64's limits, other scripts' digits, contradicting schedule options ---------

ODD_VALUES = ["1e308", "-1e308", "5e-324", "1e-320", "²", "5,²", "٣", "\uff11", "1_000", "0x10",
              " 3", "+2", "-0", "1e400", "cosine", "step", "exponential", "10",
              "0.001"]  # fmt: skip
ODD_OPTIONS = ["--learning-rate", "--min-learning-rate", "--warmup", "--decay-rate",
               "--decay-every", "--schedule", "--schedule-unit", "--layers", "--batch-size",
               "--seed", "--noise", "--validation-fraction", "--test-fraction", "--patience",
               "--epochs"]  # fmt: skip

odd_words = st.one_of(
    st.tuples(st.sampled_from(ODD_OPTIONS), st.sampled_from(ODD_VALUES)).map(list),
    st.sampled_from(
        [
            ["--data", "HUGE", "--target", "label"],
            ["--no-standardize"],
            ["--dtype", "float32"],
            ["--early-stopping"],
        ]
    ),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(parts=st.lists(odd_words, min_size=1, max_size=4))
def test_odd_values_end_cleanly_before_any_folder_or_finish(
    parts: list[list[str]], tmp_path: Path
) -> None:
    """Values at float64's limits, digits of other scripts and schedule options that
    contradict each other: exit 0 with a finished run, or one line, exit 2 and no run folder
    begun (every such value is refused before training)."""
    case = Path(tempfile.mkdtemp(dir=tmp_path))
    huge = case / "huge.csv"
    huge.write_text("a,b,label\n" + "".join(
        f"{(1e308, -1e308, 2.0, -1.7e308)[i % 4]},{i % 5},{'xy'[i % 2]}\n" for i in range(24)
    ))  # fmt: skip
    out = case / "run"
    words = [str(huge) if word == "HUGE" else word for part in parts for word in part]
    uses_file = str(huge) in words
    argv = ["train", *words, "--epochs", "1", "--checkpoint-every", "0", "--quiet",
            *([] if uses_file else ["--n-samples", "24"]), "--out", str(out)]  # fmt: skip
    result = run_cli(*argv)  # a RuntimeWarning (numpy's overflow) is an error here
    code, stderr = result.returncode, result.stderr
    assert code in (0, 2), (argv, stderr)
    if code == 0:
        assert stderr == "", stderr
        assert json.loads((out / "results.json").read_text())["status"] == "finished"
    else:
        assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr, stderr
        assert not out.exists(), (argv, stderr)
