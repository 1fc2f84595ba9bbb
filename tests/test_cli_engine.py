"""``--engine`` as a user meets it: parsing and its one-line refusals, the environment variable,
the default (auto), the engine every process and worker of a command trains with, the
``engine`` record of results.json and the line the commands print, ``resume`` keeping the
run's engine, and a machine without numba.

The suite runs with ``DESCENTLAB_ENGINE=numpy`` (conftest); tests of the default remove it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from conftest import Result, kill_at, results_of, run_cli, run_status
from descentlab import engines

NUMBA_VERSION = metadata.version("numba")

SHORT_COMPARE = ("compare", "--epochs", "30", "--quiet")
SHORT_SWEEP = (
    "sweep", "--optimizers", "gd,adam", "--learning-rate", "0.01,0.1", "--seeds", "2",
    "--epochs", "30", "--quiet",
)  # fmt: skip


def record(name: str, numpy_updates: tuple[str, ...] = ()) -> dict[str, object]:
    """The ``engine`` record results.json holds for ``name`` (numba as installed here)."""
    numba = NUMBA_VERSION if name == engines.COMPILED else None
    return {"name": name, "numba": numba, "numpy_updates": list(numpy_updates)}


@pytest.mark.parametrize("command", ["compare", "train", "sweep", "benchmark"])
def test_help_teaches_the_choice(command: str) -> None:
    shown = run_cli(command, "--help")
    assert shown.returncode == 0
    text = " ".join(shown.stdout.split())
    for words in ("--engine {auto,numpy,compiled}", "numpy is bit-exact with the course",
                  "auto is compiled when numba is installed", "pip install 'descentlab[compiled]'",
                  "DESCENTLAB_ENGINE"):  # fmt: skip
        assert words in text, words


@pytest.mark.parametrize("command", ["compare", "train", "sweep", "benchmark"])
def test_a_bad_engine_is_one_line_and_exit_2(command: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    refused = run_cli(command, "--engine", "fast", "--out", str(out))
    assert refused.returncode == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, refused.stderr
    assert "argument --engine: invalid choice: 'fast'" in lines[0]
    assert "'auto', 'numpy', 'compiled'" in lines[0]
    assert not out.exists()


@pytest.mark.parametrize("command", ["compare", "sweep", "benchmark", "resume"])
def test_a_bad_environment_variable_fails_before_any_work(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESCENTLAB_ENGINE", "turbo")
    out = tmp_path / "out"
    args = [str(out)] if command == "resume" else ["--out", str(out)]
    refused = run_cli(command, *args)
    assert refused.returncode == 2
    assert refused.stderr == (
        f"descentlab {command}: error: DESCENTLAB_ENGINE must be one of auto, numpy, compiled, "
        "got 'turbo'\n"
    )
    assert not out.exists()


@pytest.mark.parametrize("engine", ["numpy", "compiled"])
def test_compare_records_and_prints_the_engine(engine: str, tmp_path: Path) -> None:
    out = tmp_path / "run"
    ran = run_cli("compare", "--epochs", "30", "--engine", engine, "--out", str(out))
    assert ran.returncode == 0, ran.stderr
    assert results_of(out)["engine"] == record(engine)
    line = "engine: numpy" if engine == "numpy" else f"engine: compiled (numba {NUMBA_VERSION})"
    assert line in ran.stdout.splitlines()


def test_quiet_prints_nothing_and_json_holds_the_engine(tmp_path: Path) -> None:
    quiet = run_cli(*SHORT_COMPARE, "--out", str(tmp_path / "quiet"))
    assert (quiet.returncode, quiet.stdout) == (0, "")
    shown = run_cli("compare", "--epochs", "30", "--json", "--out", str(tmp_path / "json"))
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["engine"] == record("numpy")
    assert "engine:" not in shown.stdout.replace('"engine":', "")


def test_the_default_is_auto_compiled_here_where_numba_is_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DESCENTLAB_ENGINE")
    ran = run_cli(*SHORT_COMPARE, "--out", str(tmp_path / "run"))
    assert ran.returncode == 0, ran.stderr
    assert results_of(tmp_path / "run")["engine"] == record("compiled")


def test_the_option_wins_over_the_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESCENTLAB_ENGINE", "compiled")
    assert run_cli(*SHORT_COMPARE, "--out", str(tmp_path / "env")).returncode == 0
    assert results_of(tmp_path / "env")["engine"]["name"] == "compiled"
    ran = run_cli(*SHORT_COMPARE, "--engine", "numpy", "--out", str(tmp_path / "option"))
    assert ran.returncode == 0
    assert results_of(tmp_path / "option")["engine"]["name"] == "numpy"


@pytest.mark.exact
def test_engine_numpy_is_the_suite_default_bit_for_bit(tmp_path: Path) -> None:
    assert run_cli(*SHORT_COMPARE, "--out", str(tmp_path / "default")).returncode == 0
    ran = run_cli(*SHORT_COMPARE, "--engine", "numpy", "--out", str(tmp_path / "numpy"))
    assert ran.returncode == 0
    for name in ("gd", "momentum", "adam"):
        default = (tmp_path / "default" / f"{name}-params.npy").read_bytes()
        assert (tmp_path / "numpy" / f"{name}-params.npy").read_bytes() == default


@pytest.mark.parametrize("engine", ["numpy", "compiled"])
def test_sweep_workers_train_with_the_engine(engine: str, tmp_path: Path) -> None:
    """Two worker processes: the record comes from what the chunks report."""
    out = tmp_path / "sweep"
    ran = run_cli(*SHORT_SWEEP, "--jobs", "2", "--engine", engine, "--out", str(out))
    assert ran.returncode == 0, ran.stderr
    results = results_of(out)
    assert results["execution"]["processes"] == 2
    assert results["engine"] == record(engine)


def test_run_sweep_reports_the_engine_its_worker_processes_used() -> None:
    from descentlab import datasets
    from descentlab.sweep import SweepConfig, run_sweep

    config = SweepConfig(optimizers=("adam",), learning_rate="0.01,0.1", seeds=(0, 1), epochs=5)
    dataset = datasets.load("moons")
    for engine in ("numpy", "compiled"):
        outcome = run_sweep(config, dataset, jobs=2, engine=engine)
        assert (outcome.execution.processes, outcome.engine) == (2, engine)
    with engines.using("compiled"):  # None: the engine configured, as in the command
        assert run_sweep(config, dataset, engine=None).engine == "compiled"
    assert run_sweep(config, dataset).engine == "numpy"  # DESCENTLAB_ENGINE=numpy here


@pytest.mark.parametrize(("engine", "jobs"), [("numpy", "1"), ("compiled", "2")])
def test_benchmark_tasks_train_with_the_engine(
    engine: str, jobs: str, problem_args: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "benchmark"
    ran = run_cli(
        "benchmark", *problem_args, "--optimizers", "adam", "--budget", "2", "--seeds", "2",
        "--engine", engine, "--jobs", jobs, "--out", str(out),
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    results = results_of(out)
    assert results["engine"] == record(engine)
    assert {task["engine"] for task in results["tasks"]} == {engine}
    line = "engine: numpy" if engine == "numpy" else f"engine: compiled (numba {NUMBA_VERSION})"
    assert line in ran.stdout.splitlines()


COMPARE_TO_KILL = (
    "compare", "--epochs", "40", "--checkpoint-every", "10", "--quiet", "--engine", "compiled",
)  # fmt: skip


def test_resume_continues_with_the_engine_the_run_recorded(tmp_path: Path) -> None:
    """Started compiled, killed after its first checkpoint, resumed where DESCENTLAB_ENGINE
    says numpy: it finishes compiled; ``resume --engine numpy`` switches."""
    for name in ("kept", "switched"):
        kill_at("after:checkpoint.npz@1", [*COMPARE_TO_KILL, "--out", name], tmp_path)
        assert run_status(tmp_path / name) == "running"
    assert run_cli("resume", str(tmp_path / "kept")).returncode == 0
    assert results_of(tmp_path / "kept")["engine"] == record("compiled")
    switched = run_cli("resume", "--engine", "numpy", str(tmp_path / "switched"))
    assert switched.returncode == 0, switched.stderr
    assert results_of(tmp_path / "switched")["engine"] == record("numpy")


def test_a_resumed_sweep_keeps_its_engine(tmp_path: Path) -> None:
    kill_at(
        "after:results.json@1", [*SHORT_SWEEP, "--engine", "compiled", "--out", "sweep"], tmp_path
    )
    assert run_status(tmp_path / "sweep") == "running"
    assert results_of(tmp_path / "sweep")["run"]["engine"] == "compiled"
    resumed = run_cli("resume", str(tmp_path / "sweep"))
    assert resumed.returncode == 0, resumed.stderr
    assert results_of(tmp_path / "sweep")["engine"] == record("compiled")


WITHOUT_NUMBA = """
import sys
sys.modules["numba"] = None  # as if numba were not installed
from descentlab import engines
from descentlab.cli import main
assert not engines.compiled_available()
sys.exit(main(sys.argv[1:]))
"""


def without_numba(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_NUMBA, *args],
        capture_output=True, text=True, cwd=cwd, timeout=300,
    )  # fmt: skip


@pytest.mark.parametrize("command", ["compare", "sweep", "benchmark"])
def test_compiled_without_numba_says_how_to_install_it(command: str, tmp_path: Path) -> None:
    refused = without_numba(command, "--engine", "compiled", "--out", "out", cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr == (
        f"descentlab {command}: error: the compiled engine needs numba, which is not "
        "installed: pip install 'descentlab[compiled]'\n"
    )
    assert not (tmp_path / "out").exists()


def test_without_numba_auto_is_numpy_and_a_compiled_run_resumes_with_numpy(
    tmp_path: Path,
) -> None:
    env_free = without_numba(*SHORT_COMPARE, "--engine", "auto", "--out", "auto", cwd=tmp_path)
    assert env_free.returncode == 0, env_free.stderr
    assert results_of(tmp_path / "auto")["engine"] == record("numpy")
    kill_at("after:checkpoint.npz@1", [*COMPARE_TO_KILL, "--out", "run"], tmp_path)
    refused = without_numba("resume", "run", cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr == (
        "descentlab resume: error: the compiled engine needs numba, which is not installed: "
        "pip install 'descentlab[compiled]'; or continue with the numpy engine: descentlab "
        f"resume --engine numpy {tmp_path / 'run'}\n"
    )
    switched = without_numba("resume", "--engine", "numpy", "run", cwd=tmp_path)
    assert switched.returncode == 0, switched.stderr
    assert results_of(tmp_path / "run")["engine"] == record("numpy")


@pytest.mark.parametrize("engine", ["auto", "compiled"])
def test_a_numba_that_fails_to_import_is_one_line_before_any_work(
    engine: str, tmp_path: Path
) -> None:
    # Installed (found) but broken, as a numba built for another numpy is.
    fake = tmp_path / "site" / "numba"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('raise ImportError("built for another numpy")\n')
    environment = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    refused = subprocess.run(
        [sys.executable, "-m", "descentlab", *SHORT_COMPARE, "--engine", engine, "--out", "out"],
        capture_output=True, text=True, cwd=tmp_path, env=environment, timeout=300,
    )  # fmt: skip
    assert refused.returncode == 2
    assert refused.stderr == (
        "descentlab compare: error: the compiled engine could not import numba (built for "
        "another numpy); train with --engine numpy (or DESCENTLAB_ENGINE=numpy), or reinstall "
        "numba\n"
    )
    assert not (tmp_path / "out").exists()


def test_the_python_api_takes_an_engine() -> None:
    from descentlab.api import compare, sweep

    assert compare(epochs=5).outcomes[0].engine == "numpy"  # the library's default
    assert compare(epochs=5, engine="compiled").outcomes[0].engine == "compiled"
    with pytest.raises(ValueError, match="engine must be one of auto, numpy, compiled, got 'x'"):
        compare(epochs=5, engine="x")
    swept = sweep("adam", learning_rate=0.1, seeds=1, epochs=5, engine="compiled")
    assert swept.outcome.engine == "compiled"


def test_a_resumed_benchmark_keeps_its_engine(problem_args: list[str], tmp_path: Path) -> None:
    args = [
        "benchmark", *problem_args, "--optimizers", "adam", "--budget", "2", "--seeds", "2",
        "--quiet", "--engine", "compiled", "--out", "benchmark",
    ]  # fmt: skip
    kill_at("after:results.json@1", args, tmp_path)
    assert results_of(tmp_path / "benchmark")["run"]["engine"] == "compiled"
    resumed = run_cli("resume", str(tmp_path / "benchmark"))
    assert resumed.returncode == 0, resumed.stderr
    results = results_of(tmp_path / "benchmark")
    assert results["engine"] == record("compiled")
    assert {task["engine"] for task in results["tasks"]} == {"compiled"}


def test_a_task_record_saved_before_engines_were_recorded_reads_as_numpy() -> None:
    from descentlab.benchmark.tasks import TaskRecord

    saved = {
        "problem": "tiny-moons", "optimizer": "adam", "kind": "defaults", "tuning": None,
        "trials": [], "seconds": 0.5,
    }  # fmt: skip
    task = TaskRecord.from_dict(saved)
    assert (task.engine, task.numpy_updates) == ("numpy", ())
    assert TaskRecord.from_dict(task.to_dict()) == task


def test_the_record_and_the_line_name_the_numpy_updates() -> None:
    from descentlab.cli.options import engine_line
    from descentlab.runs.header import engine_record

    compiled = engine_record("compiled", ["muon", "lbfgs", "muon"])
    assert compiled == record("compiled", ("lbfgs", "muon"))
    assert engine_line({"engine": compiled}) == (
        f"engine: compiled (numba {NUMBA_VERSION}); numpy updates for lbfgs, muon"
    )
    assert engine_line({"engine": engine_record("numpy")}) == "engine: numpy"


@pytest.mark.cluster
def test_dask_workers_train_with_the_engine_not_their_environment(
    problem_args: list[str], tmp_path: Path
) -> None:
    """Workers of ``--scheduler local:2`` are fresh processes with DESCENTLAB_ENGINE=numpy in
    their environment; the engine the command resolved reaches them all the same."""
    swept = run_cli(
        *SHORT_SWEEP, "--scheduler", "local:2", "--engine", "compiled", "--out", "sweep",
        cwd=tmp_path,
    )  # fmt: skip
    assert swept.returncode == 0, swept.stderr
    results = results_of(tmp_path / "sweep")
    assert results["execution"]["on"] == "cluster workers"
    assert results["engine"] == record("compiled")
    benchmarked = run_cli(
        "benchmark", *problem_args, "--optimizers", "adam", "--budget", "2", "--seeds", "2",
        "--quiet", "--scheduler", "local:2", "--engine", "compiled", "--out", "benchmark",
        cwd=tmp_path,
    )  # fmt: skip
    assert benchmarked.returncode == 0, benchmarked.stderr
    tasks = results_of(tmp_path / "benchmark")["tasks"]
    assert {task["engine"] for task in tasks} == {"compiled"}


@pytest.mark.slow
def test_compare_with_the_compiled_engine_prints_the_published_table(
    published_comparison: tuple[Result, Path], tmp_path: Path
) -> None:
    # The main job with the fastest engine: the same table, to every printed digit, as the
    # numpy engine's (the published numbers: 239/239/282 and the final costs), and the line that
    # names the engine. Only the seconds and the run folder differ.
    exact, _ = published_comparison
    fast = run_cli("compare", "--engine", "compiled", "--out", str(tmp_path / "fast"))
    assert fast.returncode == 0, fast.stderr
    assert "(239/300)" in fast.stdout and "(282/300)" in fast.stdout
    timing = re.compile(r"\d+\.\d s\b|\s+\d+\.\d$")

    def table(printed: str) -> list[str]:
        return [
            timing.sub("", line)
            for line in printed.splitlines()
            if not line.startswith(("wrote", "engine:"))
        ]

    assert table(fast.stdout) == table(exact.stdout)
    assert f"engine: compiled (numba {NUMBA_VERSION})" in fast.stdout.splitlines()
    assert results_of(tmp_path / "fast")["engine"] == record("compiled")
