"""descentlab's BLAS thread policy, observed where it acts: threadpoolctl's ``threadpool_info``
read inside training (an epoch callback, or a wrapper around ``train``'s ``blas_threads_for``).

Every test starts from two BLAS threads in force (skipped where BLAS cannot run two), so that a
limit to one is visible, and from an environment without descentlab's or BLAS's variables."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import descentlab.train
from descentlab import datasets, optim, threads
from descentlab.cli import main
from descentlab.nn import Network
from descentlab.sweep import SweepConfig, run_sweep
from descentlab.train import train

COURSE_LAYERS = (2, 5, 2, 1)
COURSE_BATCH = 64


def blas_counts() -> set[int]:
    """The thread count of every BLAS library loaded in this process."""
    return {int(info["num_threads"]) for info in threadpool_info() if info["user_api"] == "blas"}


@pytest.fixture(autouse=True)
def two_threads(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in (threads.ENVIRONMENT_VARIABLE, *threads.BLAS_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    with threadpool_limits(limits=2, user_api="blas"):
        if blas_counts() != {2}:
            pytest.skip(f"BLAS runs {blas_counts()} threads here, not 2")
        yield


def counts_during_training(
    layers: tuple[int, ...], batch: int, epochs: int = 1, m: int | None = None
) -> set[int]:
    """BLAS thread counts seen at the end of every epoch of ``train`` on random data."""
    rng = np.random.default_rng(0)
    m = batch if m is None else m
    X = rng.standard_normal((layers[0], m))
    Y = (rng.random((1, m)) > 0.5).astype(float)
    seen: set[int] = set()
    train(
        Network(layers), X, Y, optim.adam(0.001), epochs=epochs, batch_size=batch,
        on_epoch_end=lambda epoch, cost: seen.update(blas_counts()),
    )  # fmt: skip
    return seen


def big_batch(layers: tuple[int, ...]) -> int:
    """The smallest batch at which ``layers`` reaches the crossover."""
    return math.ceil(threads.CROSSOVER / threads.product_size(layers, 1))


BIG_LAYERS = (100, 100, 1)


def test_product_size_is_the_largest_product_of_a_step() -> None:
    assert threads.product_size(COURSE_LAYERS, COURSE_BATCH) == 5 * 2 * 64
    assert threads.product_size((30, 100, 1), 200) == 30 * 100 * 200
    assert threads.product_size((64, 100, 10), 200) == 64 * 100 * 200


def test_the_course_network_trains_with_one_thread() -> None:
    assert counts_during_training(COURSE_LAYERS, COURSE_BATCH, epochs=2, m=300) == {1}
    assert blas_counts() == {2}  # restored


def test_above_the_crossover_the_default_threads_stay() -> None:
    batch = big_batch(BIG_LAYERS)
    assert threads.product_size(BIG_LAYERS, batch) >= threads.CROSSOVER
    assert threads.product_size(BIG_LAYERS, batch - 1) < threads.CROSSOVER
    assert counts_during_training(BIG_LAYERS, batch) == {2}
    assert counts_during_training(BIG_LAYERS, batch - 1) == {1}


@pytest.mark.parametrize("setting", ["1", "2", " 2 ", "auto", "AUTO"])
def test_the_environment_variable_sets_the_count(
    setting: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(threads.ENVIRONMENT_VARIABLE, setting)
    big = big_batch(BIG_LAYERS)
    expected = {"1": (1, 1), "2": (2, 2)}.get(setting.strip(), (1, 2))  # (small, big)
    assert counts_during_training(COURSE_LAYERS, COURSE_BATCH) == {expected[0]}
    assert counts_during_training(BIG_LAYERS, big) == {expected[1]}


def test_the_argument_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(threads.ENVIRONMENT_VARIABLE, "1")
    with threads.blas_threads(2):
        assert counts_during_training(COURSE_LAYERS, COURSE_BATCH) == {2}
        with threads.blas_threads("auto"):  # the innermost block wins
            assert counts_during_training(COURSE_LAYERS, COURSE_BATCH) == {1}
    with threads.blas_threads(None):  # says nothing: the environment's 1
        assert counts_during_training(BIG_LAYERS, big_batch(BIG_LAYERS)) == {1}


@pytest.mark.parametrize("name", threads.BLAS_VARIABLES)
def test_a_users_blas_variable_is_left_alone_unless_descentlab_is_told(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, "2")  # what the user set; the fixture's 2 threads stand for it
    assert counts_during_training(COURSE_LAYERS, COURSE_BATCH) == {2}
    monkeypatch.setenv(threads.ENVIRONMENT_VARIABLE, "auto")
    assert counts_during_training(COURSE_LAYERS, COURSE_BATCH) == {1}
    monkeypatch.delenv(threads.ENVIRONMENT_VARIABLE)
    with threads.blas_threads("auto"):
        assert counts_during_training(COURSE_LAYERS, COURSE_BATCH) == {1}


BAD_SETTINGS = ["0", "-1", "two", "1.5", "", "²", "auto,2"]


@pytest.mark.parametrize("value", BAD_SETTINGS)
def test_bad_settings_are_one_line_errors_naming_the_value(value: str) -> None:
    message = f"blas threads must be 'auto' or an integer >= 1, got {value!r}"
    with pytest.raises(ValueError) as raised:
        threads.parse_setting(value)
    assert str(raised.value) == message
    with pytest.raises(ValueError, match="blas threads must be"), threads.blas_threads(value):
        pass


@pytest.mark.parametrize("value", [0, -2, True, 1.0, None])
def test_bad_setting_objects_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match=r"must be 'auto' or an integer >= 1, got "):
        threads.parse_setting(value)


def test_a_bad_environment_variable_stops_training_and_names_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(threads.ENVIRONMENT_VARIABLE, "many")
    with pytest.raises(ValueError) as raised:
        counts_during_training(COURSE_LAYERS, COURSE_BATCH)
    assert str(raised.value) == (
        "DESCENTLAB_BLAS_THREADS must be 'auto' or an integer >= 1, got 'many'"
    )
    assert blas_counts() == {2}


def test_the_limit_is_restored_after_an_exception() -> None:
    data = datasets.moons()

    def fail(epoch: int, cost: float) -> None:
        assert blas_counts() == {1}
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        train(Network(COURSE_LAYERS), data.X, data.Y, optim.gd(0.1), epochs=3, on_epoch_end=fail)
    assert blas_counts() == {2}


@pytest.mark.exact
def test_below_the_crossover_the_numbers_do_not_depend_on_the_threads_in_force() -> None:
    # [30, 100, 1] with batch 200 is breast_cancer's shape: large enough for OpenBLAS to split
    # its products over two threads when allowed to, which can change their last bits.
    rng = np.random.default_rng(1)
    X = rng.standard_normal((30, 600))
    Y = (rng.random((1, 600)) > 0.5).astype(float)
    network = Network((30, 100, 1))
    runs = []
    for count in (1, 2):
        with threadpool_limits(limits=count, user_api="blas"):
            runs.append(train(network, X, Y, optim.adam(0.01), epochs=3, batch_size=200))
    assert np.array_equal(runs[0].params, runs[1].params)
    assert np.array_equal(runs[0].history.minibatch_costs, runs[1].history.minibatch_costs)


# ----------------------------------------------------------------------- through train_stack


class Recorder:
    """Wraps ``descentlab.train.blas_threads_for`` and appends the BLAS thread counts in force
    inside it to a file (so that forked sweep workers, which inherit the wrapper, report too)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.real = descentlab.train.blas_threads_for

    def __call__(self, size: int) -> AbstractContextManager[int | None]:
        recorder = self

        class Recording:
            def __enter__(self) -> int | None:
                self.inner = recorder.real(size)
                count = self.inner.__enter__()
                with recorder.path.open("a") as seen:
                    seen.write(f"{sorted(blas_counts())}\n")
                return count

            def __exit__(self, *exc: object) -> bool | None:
                return self.inner.__exit__(*exc)

        return Recording()

    def seen(self) -> list[str]:
        lines = self.path.read_text().splitlines() if self.path.exists() else []
        self.path.unlink(missing_ok=True)
        return lines


@pytest.fixture
def recorder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recording = Recorder(tmp_path / "threads-seen.txt")
    monkeypatch.setattr(descentlab.train, "blas_threads_for", recording)
    return recording


def test_the_cli_option_sets_the_count(recorder: Recorder, tmp_path: Path) -> None:
    common = ["train", "--epochs", "2", "--quiet"]
    assert main([*common, "--blas-threads", "2", "--out", str(tmp_path / "a")]) == 0
    assert recorder.seen() == ["[2]"]
    assert main([*common, "--out", str(tmp_path / "b")]) == 0
    assert recorder.seen() == ["[1]"]


@pytest.mark.parametrize("value", ["0", "lots"])
def test_a_bad_cli_option_is_one_line_and_exit_2(
    value: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["train", "--epochs", "1", "--blas-threads", value, "--out", str(tmp_path / "o")])
    assert exited.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert f"blas threads must be 'auto' or an integer >= 1, got {value!r}" in lines[0]
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("command", ["train", "compare", "sweep"])
def test_a_bad_environment_variable_is_one_line_and_exit_2_before_any_work(
    command: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv(threads.ENVIRONMENT_VARIABLE, "0")
    code = main([command, "--epochs", "1", "--out", str(tmp_path / "o")])
    assert code == 2
    assert capsys.readouterr().err.strip() == (
        f"descentlab {command}: error: DESCENTLAB_BLAS_THREADS must be 'auto' or an integer "
        ">= 1, got '0'"
    )
    assert not (tmp_path / "o").exists()


def big_sweep() -> SweepConfig:
    """Two adam runs on moons whose products reach the crossover."""
    batch = 100
    hidden = math.ceil(math.sqrt(threads.CROSSOVER / batch))
    config = SweepConfig(
        optimizers=("adam",), learning_rate="0.001,0.01", seeds=(0,), epochs=1,
        batch_size=batch, hidden_layers=(hidden, hidden),
    )  # fmt: skip
    assert threads.product_size(config.network(2, 1).layer_sizes, batch) >= threads.CROSSOVER
    return config


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_sweep_trains_with_one_thread_per_process(jobs: int, recorder: Recorder) -> None:
    run_sweep(big_sweep(), datasets.moons(), jobs=jobs)
    assert recorder.seen() == ["[1]"] * (2 if jobs == 2 else 1)


def test_an_explicit_setting_reaches_the_sweep_workers(recorder: Recorder) -> None:
    with threads.blas_threads(2):
        run_sweep(big_sweep(), datasets.moons(), jobs=2)
    assert recorder.seen() == ["[2]", "[2]"]


@pytest.mark.exact
def test_above_the_crossover_one_process_or_two_give_the_same_sweep() -> None:
    one = run_sweep(big_sweep(), datasets.moons(), jobs=1)
    two = run_sweep(big_sweep(), datasets.moons(), jobs=2)
    for a, b in zip(one.runs, two.runs, strict=True):
        assert np.array_equal(a.params, b.params)
