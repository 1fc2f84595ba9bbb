"""Property-based fuzzing of the command line: any mix of options and values, valid or not,
ends in exit 0 or a one-line error with exit 2, never a traceback, and never leaves a
results.json that claims success unless the run succeeded."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
