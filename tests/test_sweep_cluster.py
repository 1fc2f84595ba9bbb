"""``descentlab sweep --scheduler``: the chunks on a Dask cluster (a ``LocalCluster`` of worker
processes, and a ``dask scheduler`` with two ``dask worker`` processes, all on 127.0.0.1) end
with every run's numbers equal to the sweep in one process, through a killed worker, a chunk
that raises, Ctrl-C and a lost scheduler.

Each fault waits for the state it means to hit (read from the chunk files or the scheduler)
before it strikes, so none can pass without exercising what it names.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from conftest import (
    checkpoint_epochs_done,
    cli_command,
    dask_processes,
    results_of,
    run_cli,
    run_cli_on_terminal,
    run_status,
    start_cli_process,
    sweep_numbers,
    wait_until,
)
from descentlab import datasets, faults
from descentlab.cluster.scheduler import SchedulerSpec, connect
from descentlab.sweep import RunResult, SweepConfig, SweepOutcome, run_sweep
from descentlab.sweep.checkpoints import SweepCheckpoints

pytestmark = pytest.mark.cluster

EPOCHS = 2000
SWEEP = [
    "sweep", "--optimizers", "gd,adam", "--learning-rate", "1e-3..1e-1:log:3", "--seeds", "2",
    "--epochs", str(EPOCHS), "--max-stack", "3", "--quiet",
]  # fmt: skip
"""12 runs in four chunks of three."""
CHUNKS = 4


def _chunks_saved(out: Path) -> dict[int, int]:
    """The epochs each chunk file of the sweep in ``out`` holds, by chunk index."""
    saved = {}
    for path in (out / "checkpoints").glob("chunk-*.npz"):
        epochs = checkpoint_epochs_done(path)
        if epochs is not None:
            saved[int(path.stem.removeprefix("chunk-"))] = epochs
    return saved


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sweep in one process: the numbers every cluster run must equal."""
    out = tmp_path_factory.mktemp("local") / "sweep"
    result = run_cli(*SWEEP, "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def tcp_cluster() -> Iterator[str]:
    """A ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1, for this module."""
    with dask_processes(2) as (address, _, _):
        yield address


@pytest.mark.exact  # `make test` runs it again on the older kernels, which workers inherit
def test_a_local_cluster_equals_one_process(local_sweep: Path, tmp_path: Path) -> None:
    """``--scheduler local:2``: the same numbers, and results.json says where each chunk ran
    (two workers of this machine's CPU family, sharing the folder); the dashboard's link is
    printed."""
    out = tmp_path / "sweep"
    printing = [arg for arg in SWEEP if arg != "--quiet"]
    result = run_cli(*printing, "--json", "--scheduler", "local:2", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert sweep_numbers(out) == sweep_numbers(local_sweep)
    results = results_of(out)
    cluster = results["cluster"]
    # The dashboard (bokeh comes with the extra) on stderr, the document alone on stdout.
    assert cluster["dashboard"].startswith("http://127.0.0.1:")
    assert result.stderr == f"descentlab sweep: Dask dashboard at {cluster['dashboard']}\n"
    assert json.loads(result.stdout)["cluster"] == cluster
    assert cluster["scheduler"] == "local:2" and cluster["shared_folder"] is True
    assert len(cluster["workers"]) == 2
    assert {tuple(sorted(w["cpu"])) for w in cluster["workers"].values()} == {
        ("baseline", "dispatch")
    }
    assert [chunk["index"] for chunk in cluster["chunks"]] == list(range(CHUNKS))
    assert {chunk["worker"] for chunk in cluster["chunks"]} <= set(cluster["workers"])
    assert results["execution"]["on"] == "cluster workers"
    assert results["execution"]["processes"] == 2
    assert "cluster" not in results_of(local_sweep)


@pytest.mark.parametrize("shared", ["auto", "no"])
def test_dask_worker_processes_equal_one_process(
    shared: str, tcp_cluster: str, local_sweep: Path, tmp_path: Path
) -> None:
    """``--scheduler tcp://...``: the same numbers with the folder shared (detected) or not
    (then this process writes each finished chunk's file from the snapshot it sends back)."""
    out = tmp_path / "sweep"
    result = run_cli(
        *SWEEP, "--scheduler", tcp_cluster, "--shared-folder", shared, "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert sweep_numbers(out) == sweep_numbers(local_sweep)
    cluster = results_of(out)["cluster"]
    assert cluster["scheduler"] == cluster["address"] == tcp_cluster
    assert cluster["shared_folder"] is (shared == "auto")
    assert _chunks_saved(out) == dict.fromkeys(range(CHUNKS), EPOCHS)


def _config() -> SweepConfig:
    return SweepConfig(
        optimizers=("gd", "adam"),
        learning_rate="1e-3..1e-1:log:3",
        seeds=(0, 1),
        epochs=EPOCHS,
    )


def _assert_same_runs(runs: list[RunResult], expected: list[RunResult]) -> None:
    assert len(runs) == len(expected)
    for run, reference in zip(runs, expected, strict=True):
        assert run.status == reference.status
        np.testing.assert_array_equal(run.params, reference.params)
        np.testing.assert_array_equal(run.costs, reference.costs)
        assert run.final_cost == reference.final_cost
        assert run.diverged_epoch == reference.diverged_epoch
        assert run.train_correct == reference.train_correct


@pytest.mark.parametrize("shared_folder", [True, False])
def test_a_worker_killed_mid_sweep(shared_folder: bool, tmp_path: Path) -> None:
    """SIGKILL the worker training a chunk: Dask runs the chunk again and the runs are the
    same. With a shared folder the chunk continues from the checkpoint its worker saved
    (the epochs it started from are recorded); without one it starts over."""
    dataset = datasets.load("moons")
    config = _config()
    expected = run_sweep(config, dataset, max_stack=3)
    checkpoints = SweepCheckpoints(tmp_path / "checkpoints", every=100)
    with connect(SchedulerSpec(local_workers=2)) as cluster:
        outcome: list[SweepOutcome] = []
        errors: list[BaseException] = []
        progress: list[int] = []

        def sweep() -> None:
            try:
                outcome.append(
                    run_sweep(
                        config,
                        dataset,
                        max_stack=3,
                        progress=progress.append,
                        checkpoints=checkpoints,
                        cluster=cluster,
                        shared_folder=shared_folder,
                    )
                )
            except BaseException as error:  # the test's thread reports it
                errors.append(error)

        pids = {address: info["pid"] for address, info in cluster.workers().items()}
        thread = threading.Thread(target=sweep)
        thread.start()
        victim: dict[str, int] = {}

        def chunk_running_to_kill() -> bool:
            saved = _chunks_saved(tmp_path)
            for address, keys in cluster.client.processing().items():
                for key in keys:
                    suffix = str(key).rsplit("-", 1)[1]
                    if not suffix.isdigit():  # the shared data's task, not a chunk
                        continue
                    chunk = int(suffix)
                    started = not shared_folder or 0 < saved.get(chunk, 0) < EPOCHS
                    if address in pids and started:
                        victim.update(chunk=chunk, pid=pids[address], saved=saved.get(chunk, 0))
                        return True
            return False

        wait_until(chunk_running_to_kill, "a chunk training on a worker")
        os.kill(victim["pid"], signal.SIGKILL)
        thread.join(timeout=300)
        assert not thread.is_alive()
    assert errors == []
    [result] = outcome
    _assert_same_runs(result.runs, expected.runs)
    assert result.cluster is not None
    chunks = {chunk["index"]: chunk for chunk in result.cluster["chunks"]}
    assert sorted(chunks) == list(range(CHUNKS))
    rerun = chunks[victim["chunk"]]
    if shared_folder:
        assert rerun["started_from_epoch"] >= victim["saved"] > 0
    else:
        assert rerun["started_from_epoch"] == 0
    assert _chunks_saved(tmp_path) == dict.fromkeys(range(CHUNKS), EPOCHS)
    # Progress comes whole chunks at a time, each once, the rerun one included.
    assert sorted(progress) == [3 * EPOCHS] * CHUNKS


def test_a_failing_chunk_is_reported_and_the_sweep_finishes(
    local_sweep: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chunk whose task raises (``DESCENTLAB_FAULT=raise:...`` in the workers, which read
    it when they start): its runs are "failed" with the error, left out of the summary, one
    line on stderr; the other chunks' runs equal one process's and the sweep finishes."""
    monkeypatch.setenv(faults.VARIABLE, "raise:before:chunk-1.npz")
    out = tmp_path / "sweep"
    result = run_cli(*SWEEP, "--scheduler", "local:2", "--out", str(out))
    assert result.returncode == 0, result.stderr
    error = "RuntimeError: fault injected at before:chunk-1.npz (DESCENTLAB_FAULT)"
    plan = json.loads((out / "checkpoints" / "plan.json").read_text())["chunks"]
    failed_runs = plan[1]
    assert result.stderr.strip().splitlines() == [
        f"descentlab sweep: chunk 1 (runs {','.join(map(str, failed_runs))}) failed: {error}"
    ]
    results = results_of(out)
    assert results["status"] == "finished"
    reference = results_of(local_sweep)
    for index, (run, expected) in enumerate(zip(results["runs"], reference["runs"], strict=True)):
        if index in failed_runs:
            assert run["status"] == "failed" and run["error"] == error
            assert run["final_cost"] is None and run["costs"] == []
        else:
            assert run == expected
    failed = {s["configuration"]: s["failed"] for s in results["summary"]}
    assert sum(failed.values()) == len(failed_runs)
    for summary in results["summary"]:
        assert summary["finished"] == summary["seeds"] - summary["diverged"] - summary["failed"]
    assert [c["index"] for c in results["cluster"]["chunks"]] == [0, 2, 3]


@pytest.mark.parametrize("shared", ["auto", "no"])
def test_ctrl_c_then_resume(shared: str, local_sweep: Path, tmp_path: Path) -> None:
    """SIGINT to ``descentlab sweep --scheduler local:2`` while a chunk is part way (shared
    folder: its file holds part of it; unshared: another chunk's file was written here):
    the tasks stop, the folder says interrupted, exit 130; ``descentlab resume`` (on a new
    local cluster, as recorded) ends with the numbers of one process, and unshared, reads the
    finished chunks back here rather than sending them."""
    out = tmp_path / "sweep"
    process = start_cli_process(
        *SWEEP, "--scheduler", "local:2", "--shared-folder", shared, "--checkpoint-every", "100",
        "--out", str(out),
    )  # fmt: skip

    def part_way() -> bool:
        saved = _chunks_saved(out).values()
        if shared == "auto":
            return any(0 < e < EPOCHS for e in saved)
        return 0 < sum(e == EPOCHS for e in saved) < CHUNKS

    try:
        wait_until(part_way, "a chunk part way", process)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, stderr
    assert f"resume with: descentlab resume {out}" in stderr
    assert run_status(out) == "interrupted"
    saved = _chunks_saved(out)
    assert len(saved) < CHUNKS or any(e < EPOCHS for e in saved.values())
    finished = {chunk for chunk, epochs in saved.items() if epochs == EPOCHS}
    result = run_cli("resume", str(out))
    assert result.returncode == 0, result.stderr
    assert sweep_numbers(out) == sweep_numbers(local_sweep)
    sent = {chunk["index"] for chunk in results_of(out)["cluster"]["chunks"]}
    if shared == "no":
        assert sent == set(range(CHUNKS)) - finished


def test_the_scheduler_lost_then_resume_here(local_sweep: Path, tmp_path: Path) -> None:
    """SIGKILL the ``dask scheduler`` once a chunk has finished and another has not: the sweep
    ends interrupted (exit 1, one line saying how to resume), the finished chunks' files are
    kept, and ``descentlab resume --scheduler none`` finishes it in this process with the
    numbers of one process."""
    out = tmp_path / "sweep"
    with dask_processes(2) as (address, scheduler, workers):
        process = start_cli_process(
            *SWEEP, "--scheduler", address, "--checkpoint-every", "100", "--out", str(out)
        )
        try:
            finished: dict[str, list[int]] = {}

            def some_finished() -> bool:
                done = [i for i, e in _chunks_saved(out).items() if e == EPOCHS]
                finished["chunks"] = done
                return 0 < len(done) < CHUNKS

            wait_until(some_finished, "a finished chunk and an unfinished one", process)
            scheduler.kill()
            _, stderr = process.communicate(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
        assert process.returncode == 1, stderr
        assert len(stderr.strip().splitlines()) == 1, stderr
        [line] = stderr.strip().splitlines()
        assert f"lost the Dask scheduler {address}" in line
        assert f"descentlab resume {out}" in line
        assert run_status(out) == "interrupted"
        saved = _chunks_saved(out)
        assert all(saved[chunk] == EPOCHS for chunk in finished["chunks"])
        # The workers stop on their own (their chunks save first); resume once they are gone.
        wait_until(lambda: all(w.poll() is not None for w in workers), "the workers gone")
    result = run_cli("resume", str(out), "--scheduler", "none")
    assert result.returncode == 0, result.stderr
    assert sweep_numbers(out) == sweep_numbers(local_sweep)
    assert "cluster" not in results_of(out)


def test_the_progress_bar_counts_finished_runs(tmp_path: Path) -> None:
    """On a terminal the bar counts finished runs, a chunk's at a time (tqdm draws at most
    ten times a second, so not necessarily every count)."""
    printing = [arg for arg in SWEEP if arg != "--quiet"]
    out = tmp_path / "sweep"
    code, shown, stderr = run_cli_on_terminal(
        *printing, "--scheduler", "local:2", "--out", str(out)
    )
    assert code == 0, stderr
    counts = {int(n) for n in re.findall(rb"(\d+)/12 \[", stderr)}
    assert counts > {0} and all(n % 3 == 0 for n in counts), stderr  # chunks of three runs
    assert b" runs/s" in stderr and b"run-epochs" not in stderr
    assert b"on 2 cluster workers" in shown


def test_scheduler_and_jobs_together_is_a_usage_error(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    result = run_cli(*SWEEP, "--jobs", "2", "--scheduler", "local:2", "--out", str(out))
    assert result.returncode == 2
    assert "argument --scheduler: not allowed with argument --jobs" in result.stderr
    assert not out.exists()


def test_resume_refuses_a_scheduler_for_a_run_without_one(tmp_path: Path) -> None:
    """A ``train`` run (killed right after its folder says "running") has no ``--scheduler``
    to override: one line, exit 2."""
    out = tmp_path / "train"
    killed = subprocess.run(
        cli_command("train", "--epochs", "5", "--out", str(out), "--quiet"),
        env={**os.environ, faults.VARIABLE: "after:results.json@1"},
        capture_output=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL
    result = run_cli("resume", str(out), "--scheduler", "none")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"descentlab resume: error: {out}: --scheduler continues sweep and benchmark runs on a "
        "Dask cluster; this is a train run"
    ]
    assert run_status(out) == "running"
