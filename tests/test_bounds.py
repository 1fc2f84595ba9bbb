"""Sizes are bounded before anything large is allocated (``descentlab.budget``).

Every size option is run as a fresh process under an address-space limit (RLIMIT_AS): a
refusal that came after the allocation would die of MemoryError (exit 1, a traceback) instead
of refusing in one line, and one that came after the folder was claimed would leave a
results.json behind. A hypothesis fuzz of the size options checks that no value gives anything
but success or a one-line refusal.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import descentlab as dl
from conftest import run_cli, run_python_limited
from descentlab import budget
from descentlab.cli.arguments import parse_seed_list
from descentlab.sweep import SweepConfig

MEMORY_LIMIT = 1024 * 2**20
"""The child's address space: the interpreter, numpy and descentlab fit in it, with room for
a small run, but none of the refused sizes would."""

T = 10**12

LABEL_BEYOND_INT64 = "99999999999999999999"

SIZE_REFUSALS = [
    # (argv after the command's --out, the value the refusal names)
    (["train", "--epochs", str(10**9)], "epochs 1000000000:"),
    (["train", "--epochs", str(T)], f"epochs {T}:"),
    (["compare", "--epochs", "1", "--layers", "100000,100000"], "layers 100000,100000:"),
    (["train", "--epochs", "1", "--n-samples", str(10**11)], f"n-samples {10**11}:"),
    (
        ["train", "--epochs", str(10**7), "--layers", "300,300", "--weight-paths", "1"],
        "weight paths 1:",
    ),
    (["sweep", "--epochs", "1", "--seeds", str(T)], f"x {T} seeds):"),
    (["sweep", "--epochs", "1", "--learning-rate", f"1e-4..1e-1:log:{T}"], "configurations x 3"),
    (["sweep", "--epochs", "1", "--learning-rate", "1e-4..1e-1:log:10000000"], "30000000 conf"),
    (["sweep", "--epochs", "1", "--search", "random", "--samples", str(T)], f"{3 * T} conf"),
    (["sweep", "--epochs", str(10**9)], "epochs 1000000000:"),
    (["sweep", "--epochs", "1", "--layers", "2000,2000", "--max-stack", "1000"], "max stack 1000:"),
    (["sweep", "--epochs", "1", "--jobs", "1000"], "jobs 1000:"),
    (["landscape", "--steps", str(10**8)], "steps 100000000:"),
    (["landscape", "--frames", str(10**5)], "frames 100000:"),
]


def assert_refused(result: object, named: str, out: Path) -> None:
    """Exit 2, one line on stderr naming ``named``, the estimate and the limit; no traceback;
    nothing written to ``out``."""
    returncode, stderr = result.returncode, result.stderr  # type: ignore[attr-defined]
    assert returncode == 2, stderr
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert named in stderr
    assert "would need about" in stderr and "this process may allocate" in stderr, stderr
    assert not out.exists()  # refused before the folder was claimed


@pytest.mark.parametrize(
    ("argv", "named"), SIZE_REFUSALS, ids=[" ".join(argv)[:60] for argv, _ in SIZE_REFUSALS]
)
def test_a_size_that_does_not_fit_is_refused_before_allocating(
    argv: list[str], named: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = run_python_limited(
        ["-m", "descentlab", *argv, "--out", str(out), "--quiet"], MEMORY_LIMIT
    )
    assert_refused(result, named, out)


def test_a_schedule_plot_too_long_is_refused_and_its_table_is_not(tmp_path: Path) -> None:
    out = tmp_path / "rates.png"
    length = str(10**9)
    drawn = run_python_limited(
        ["-m", "descentlab", "schedule", "--length", length, "--out", str(out)], MEMORY_LIMIT
    )
    assert_refused(drawn, f"length {length}:", out)
    printed = run_python_limited(
        ["-m", "descentlab", "schedule", "--length", str(10**15)], MEMORY_LIMIT
    )
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.splitlines()[-1].split()[0] == str(10**15 - 1)


def test_predicting_more_rows_than_fit_is_refused_before_the_forward_pass(
    tmp_path: Path,
) -> None:
    from descentlab import model_file
    from descentlab.nn import Network

    network = Network((2, 4000, 1))  # small on disk, wide in activations
    model = tmp_path / "wide.npz"
    model_file.save(model, model_file.Model(network, np.zeros(network.n_params)))
    data = tmp_path / "rows.csv"
    data.write_text("x1,x2\n" + "0.5,0.25\n" * 20000)
    out = tmp_path / "predictions.csv"
    result = run_python_limited(
        ["-m", "descentlab", "predict", "--model", str(model), "--data", str(data),
         "--out", str(out)],
        MEMORY_LIMIT,
    )  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "20000 rows: the prediction would need about" in result.stderr
    assert not out.exists()
    few = tmp_path / "few.csv"
    few.write_text("x1,x2\n" + "0.5,0.25\n" * 10)
    assert run_cli("predict", "--model", str(model), "--data", str(few), "--out",
                   str(tmp_path / "few-predictions.csv")).returncode == 0  # fmt: skip


def test_a_run_that_fits_starts_under_the_same_limit(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_python_limited(
        ["-m", "descentlab", "train", "--epochs", "20", "--out", str(out), "--quiet"],
        MEMORY_LIMIT,
    )
    assert result.returncode == 0, result.stderr
    assert '"status": "finished"' in (out / "results.json").read_text()


def test_labels_beyond_int64_are_refused_before_training_with_save(tmp_path: Path) -> None:
    data = tmp_path / "big.csv"
    rows = [(1, 2, LABEL_BEYOND_INT64), (2, 3, 1), (3, 1, LABEL_BEYOND_INT64), (0, 0, 1)]
    data.write_text("a,b,label\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows))
    out, model = tmp_path / "out", tmp_path / "model.npz"
    result = run_cli("train", "--epochs", "2", "--data", str(data), "--save", str(model),
                     "--out", str(out), "--quiet")  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert LABEL_BEYOND_INT64 in result.stderr and "int64" in result.stderr
    assert not out.exists() and not model.exists()
    # Without --save the same labels train: only the model file needs int64.
    assert run_cli("train", "--epochs", "2", "--data", str(data), "--out", str(out),
                   "--quiet").returncode == 0  # fmt: skip


def test_labels_that_are_not_text_are_refused_when_read(tmp_path: Path) -> None:
    """A lone surrogate is a str to numpy but no file, picture or model can hold it: refused
    by the reader, before training, rather than failing in the pictures after it."""
    data = tmp_path / "surrogate.npz"
    labels = np.array(["a\ud800", "b"] * 3)
    np.savez(data, X=np.arange(12.0).reshape(6, 2), y=labels)
    out = tmp_path / "out"
    result = run_cli("train", "--epochs", "2", "--data", str(data), "--out", str(out))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "y[0]" in result.stderr and "not Unicode text" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_save_into_a_directory_is_refused_before_training(tmp_path: Path) -> None:
    folder = tmp_path / "model.npz"  # a directory where the model file is expected: root too
    folder.mkdir()
    out = tmp_path / "out"
    result = run_cli("train", "--epochs", "2", "--save", str(folder), "--out", str(out))
    assert result.returncode == 2 and "is a directory" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists() and list(folder.iterdir()) == []


def test_the_estimate_names_its_largest_part_the_total_and_the_limit() -> None:
    estimate = budget.training_estimate((2, 5, 2, 1), 300, 64, 10**6, [2])
    assert estimate.largest() == "epochs 1000000"
    assert estimate.total > 10**6 * 8 * (2 + 5)  # the histories alone
    assert budget.check(estimate, limit=estimate.total) == estimate.total  # fits exactly
    with pytest.raises(ValueError, match=r"^epochs 1000000: the training would need about .* "
                       r"more than the 1 KiB this process may allocate"):  # fmt: skip
        budget.check(estimate, limit=1024)


def test_the_training_estimate_grows_linearly_with_epochs_and_runs() -> None:
    def total(epochs: int, runs: int) -> int:
        parts = budget.training_estimate((2, 5, 2, 1), 300, 64, epochs, [2] * runs).parts
        return sum(parts.values())

    assert total(2000, 1) - total(1000, 1) == total(3000, 1) - total(2000, 1) > 0
    assert total(1000, 3) == 3 * total(1000, 1)


def test_the_memory_limit_is_what_the_address_space_limit_leaves() -> None:
    with mock.patch.object(budget, "available_memory", lambda: None):
        assert budget.memory_limit() == budget.MEMORY_UNKNOWN
    with mock.patch.object(budget, "available_memory", lambda: 12345):
        assert budget.memory_limit() == 12345


def test_a_sweep_is_counted_before_it_is_built() -> None:
    # range(10**15) and a range of 10**15 values: built, either would take petabytes.
    with pytest.raises(ValueError, match=r"x 1000000000000000 seeds\)"):
        SweepConfig(optimizers=("gd",), learning_rate="0.1", seeds=range(10**15))
    with pytest.raises(ValueError, match=r"1000000000000000 configurations"):
        SweepConfig(optimizers=("gd",), learning_rate=f"0.001..1:log:{10**15}", seeds=(0,))
    config = SweepConfig(optimizers=("gd", "adam"), learning_rate="0.001..1:log:4",
                         hyperparameters={"adam.beta1": "0.8,0.9"}, seeds=range(3))  # fmt: skip
    assert config.count() == len(config.configurations) == 4 + 8
    assert config.seeds == (0, 1, 2)  # a range is kept as the tuple it stands for


def test_the_python_api_takes_the_same_checks() -> None:
    with pytest.raises(ValueError, match=f"^epochs {T}: the training"):
        dl.compare(epochs=T)
    with pytest.raises(ValueError, match=f"x {T} seeds"):
        dl.sweep(seeds=T, epochs=1)
    with pytest.raises(ValueError, match=r"^steps 100000000000: the landscape"):
        dl.landscape(steps=10**11)
    with pytest.raises(ValueError, match="n-samples 100000000000000: the dataset"):
        dl.train(n_samples=10**14, epochs=1)


def test_the_estimator_takes_the_same_checks_before_allocating_weights() -> None:
    from descentlab.sklearn import DescentClassifier

    X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    y = np.array([0, 1, 1, 0])
    with pytest.raises(ValueError, match=f"^epochs {T}: the training"):
        DescentClassifier(epochs=T).fit(X, y)
    wide = DescentClassifier(hidden_layer_sizes=(100000, 100000))
    with pytest.raises(ValueError, match=r"^layers 100000,100000: the training"):
        wide.partial_fit(X, y, classes=[0, 1])
    assert not hasattr(wide, "params_")  # refused before the weights were allocated


def test_a_landscape_path_reports_every_step_it_takes() -> None:
    from descentlab import landscapes, optim

    seen: list[int] = []
    function = landscapes.get("rosenbrock")
    steps = landscapes.PROGRESS_EVERY * 2 + 7
    landscapes.run_trajectory(function, optim.get("gd", learning_rate=1e-3), function.start,
                              steps, progress=seen.append)  # fmt: skip
    assert sum(seen) == steps and len(seen) == 3
    diverging = optim.get("gd", learning_rate=10.0)
    seen.clear()
    path = landscapes.run_trajectory(function, diverging, function.start, steps,
                                     progress=seen.append)  # fmt: skip
    assert path.status == "diverged" and sum(seen) == steps


def test_a_million_seeds_are_checked_for_duplicates_in_one_pass() -> None:
    many = ",".join(str(seed) for seed in range(10**5))
    assert len(parse_seed_list(many)) == 10**5
    with pytest.raises(ValueError, match="seed 7 is listed twice"):
        parse_seed_list(many + ",7")
    with mock.patch.object(budget, "memory_limit", lambda: 2**62):
        seeds = (*range(10**6), 5)
        with pytest.raises(ValueError, match="seed 5 is listed twice"):
            SweepConfig(optimizers=("gd",), learning_rate="0.1", seeds=seeds)


# --- the fuzz -------------------------------------------------------------------------------

TINY_LIMIT = budget.OVERHEAD_BYTES + 3 * 2**20
"""The fuzz's memory limit: the fixed overhead and 3 MiB, so a value that fits is small
enough to run in a moment and every larger one is refused."""

FUZZED = [
    # argv with SIZE where the fuzzed value goes, every other size as small as it gets
    "train --epochs SIZE --n-samples 8 --batch-size full --layers 1",
    "train --epochs 1 --n-samples SIZE --layers 1",
    "train --epochs 1 --n-samples 8 --layers SIZE,SIZE",
    "train --epochs 1 --n-samples 8 --batch-size SIZE --layers 1",
    "train --epochs 1 --n-samples 8 --checkpoint-every SIZE --layers 1",
    "sweep --epochs 1 --optimizers gd --learning-rate 0.1 --seeds SIZE --layers 1",
    "sweep --epochs 1 --optimizers gd --learning-rate 0.01..0.1:log:SIZE --seeds 1 --layers 1",
    "sweep --epochs 1 --optimizers gd --search random --samples SIZE --seeds 1 --layers 1 "
    "--max-stack SIZE",
    "landscape --optimizers gd --steps SIZE --frames 1",
    "landscape --optimizers gd --steps 5 --frames SIZE",
    "schedule --length SIZE",
]


def fuzzed_argv(template: str, size: int, folder: Path) -> list[str]:
    """``template`` with ``size`` and an output in ``folder``."""
    args = template.replace("SIZE", str(size)).split()
    if args[0] == "schedule":
        return [*args, "--out", str(folder / "rates.png")]
    return [*args, "--out", str(folder / "out"), "--quiet"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    template=st.sampled_from(FUZZED),
    size=st.one_of(st.integers(0, 10**15), st.integers(0, 2000), st.just(10**15)),
)
def test_fuzz_sizes_succeed_or_are_refused_in_one_line(template: str, size: int) -> None:
    with (
        tempfile.TemporaryDirectory() as folder,
        mock.patch.object(budget, "memory_limit", lambda: TINY_LIMIT),
    ):
        result = run_cli(*fuzzed_argv(template, size, Path(folder)))
        assert result.returncode in (0, 2), result.stderr
        assert "Traceback" not in result.stderr
        if result.returncode == 2:
            assert len(result.stderr.strip().splitlines()) == 1, result.stderr
            assert not (Path(folder) / "out").exists()


@pytest.mark.parametrize("template", FUZZED)
def test_the_fuzz_limit_lets_small_runs_through(template: str, tmp_path: Path) -> None:
    """The fuzz proves something only if a small value runs under its limit."""
    with mock.patch.object(budget, "memory_limit", lambda: TINY_LIMIT):
        result = run_cli(*fuzzed_argv(template, 2, tmp_path))
    assert result.returncode == 0, result.stderr
