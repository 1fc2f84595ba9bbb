"""Benchmark descentlab against a plain per-run loop written from the course (issue 4).

    python tools/bench.py [--quick] [--epochs N] [--repeat N] [--threads 1|2|both] [--out FILE]
    python tools/bench.py --threads-only [--repeat N]   # part 4 alone, a minute or two
    python tools/bench.py --crossover [--repeat N]      # the scan behind threads.CROSSOVER

Everything is timed in this one process and one invocation, interleaved, so that the ratios
hold on a noisy machine:

1. in process, training only, on the published workload (the course's moons, [2, 5, 2, 1],
   batch 64, learning rate 0.0007, 10000 epochs): the reference loop of
   ``tools/reference_loop.py`` (gd, momentum, adam), descentlab's ``train`` (adam), compare's
   training (``run_experiment``: gd, momentum, adam as one stack) and a sweep of 64 Adam
   learning rates (log-spaced from 1e-4 to 1e-1) as one ``train_stack`` stack; with the
   library's default engine (numpy), and again with the compiled one when numba is installed
   (after one untimed call each, which compiles or loads numba's cache);
2. end to end, as a user waits (a subprocess's wall time from start to exit, imports, plots
   and files included): the reference loop's three runs as a whole process against
   ``descentlab compare --quiet`` (its default engine: the fastest installed) and against it
   with each engine named (``--engine numpy``, and ``--engine compiled`` when numba is
   installed; numba's cache is warmed first, untimed), and one reference Adam run against
   ``descentlab sweep`` of 64 Adam learning rates (skipped with a note while the sweep command
   does not exist); for context, without targets, ``descentlab train --optimizer adam``
   against the same reference run and the sweep again with ``--engine numpy`` and with
   ``--jobs 2``;
3. a FLOP-bound case: 60000 x 784 synthetic inputs, [784, 256, 10] with a softmax output
   (when descentlab has one) and [784, 256, 1] with a sigmoid output, batch 128, one epoch of
   Adam through ``train`` in float64 and float32 (examples per second);
4. descentlab's BLAS thread policy (issue 10) against numpy's default threads, on breast_cancer
   and digits with a (100,) network, on an idle machine and with one core kept busy by a
   process the benchmark starts and stops itself (``tools/bench_threads.py``).

Each time is the best of ``--repeat`` runs. ``--threads both`` (the default) measures parts 1
to 3 with one BLAS thread and with two: in process through threadpoolctl and descentlab's
``threads.blas_threads``, in subprocesses through DESCENTLAB_BLAS_THREADS and
OPENBLAS_NUM_THREADS / OMP_NUM_THREADS / MKL_NUM_THREADS.
The targets are those of issue 4 and are meant for the full 10000-epoch workload; ``--quick``
divides the epochs by 10, where fixed costs (imports, plots) weigh ten times more.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import bench_threads  # tools/ is sys.path[0] when this file is run as a script
import reference_loop

try:
    from threadpoolctl import threadpool_info, threadpool_limits
except ImportError:  # the in-process part then runs with whatever BLAS threads numpy has
    threadpool_info = None
    threadpool_limits = None

TOOLS = Path(__file__).resolve().parent
REPOSITORY = TOOLS.parent

PUBLISHED_EPOCHS = 10000
LAYERS = (2, 5, 2, 1)
LEARNING_RATE = 0.0007
BATCH_SIZE = 64
COURSE_OPTIMIZERS = ("gd", "momentum", "adam")
SWEEP_RUNS = 64
SWEEP_RATES = np.logspace(-4, -1, SWEEP_RUNS)
SWEEP_CLI_ARGS = [
    "--optimizers",
    "adam",
    "--learning-rate",
    f"1e-4..1e-1:log:{SWEEP_RUNS}",
    "--seeds",
    "1",
]
"""One seed per learning rate: 64 runs (``--seeds`` is a count in issue 4's example)."""

TARGET_SINGLE = 3.0
"""descentlab ``train`` (adam) at least this many times faster than the reference adam run."""
TARGET_COMPARE = 4.0
"""compare's training at least this many times faster per run than the reference's three."""
TARGET_SWEEP = 25.0
"""The 64-run sweep at least this many times faster per run than the reference adam run."""
TARGET_E2E_COMPARE = 0.15
"""``descentlab compare`` (its default engine: the fastest installed) at most this fraction of
the reference's three runs, as processes (issue 17; issue 4's was 0.35)."""
TARGET_E2E_COMPARE_NUMPY = 0.35
"""``descentlab compare --engine numpy`` (bit-exact) at most this fraction (issue 4's target)."""
TARGET_E2E_SWEEP = 1.0
"""``descentlab sweep`` of 64 adam runs at most this many reference adam processes (issue 17;
issue 4's was 2.5)."""

FLOP_EXAMPLES = 60000
FLOP_FEATURES = 784
FLOP_HIDDEN = 256
FLOP_BATCH = 128
FLOP_SEED = 20240904
FLOP_CLASSES = 10
BLAS_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def log(message: str) -> None:
    """Progress goes to stderr; the tables go to stdout."""
    print(message, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- the machine


def _first_line(path: str, prefix: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _memory_gib() -> float | None:
    total = _first_line("/proc/meminfo", "MemTotal")  # "24684092 kB"
    return round(int(total.split()[0]) / 2**20, 1) if total else None


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=REPOSITORY, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip()


def blas_runtime() -> list[dict[str, Any]]:
    """The BLAS libraries loaded in this process, as threadpoolctl sees them (else empty)."""
    if threadpool_info is None:
        return []
    return [info for info in threadpool_info() if info.get("user_api") == "blas"]


def current_blas_threads() -> int | None:
    libraries = blas_runtime()
    return int(libraries[0]["num_threads"]) if libraries else None


def machine_info() -> dict[str, Any]:
    import descentlab

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    status = _git("status", "--porcelain")
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_count": os.cpu_count(),
        "cpu_model": _first_line("/proc/cpuinfo", "model name"),
        "memory_gib": _memory_gib(),
        "load_average_at_start": list(os.getloadavg()),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": {
            "name": blas.get("name"),
            "version": blas.get("version"),
            "configuration": blas.get("openblas configuration"),
        },
        "blas_runtime": [
            {
                key: info.get(key)
                for key in ("internal_api", "version", "architecture", "threading_layer")
            }
            | {"default_threads": info.get("num_threads")}
            for info in blas_runtime()
        ],
        "threadpoolctl": threadpool_limits is not None,
        "descentlab": descentlab.__version__,
        "commit": _git("rev-parse", "--short", "HEAD"),
        "worktree_modified": bool(status) if status is not None else None,
    }


def describe_machine(machine: dict[str, Any]) -> list[str]:
    blas = machine["blas"]
    runtime = machine["blas_runtime"]
    lines = [
        f"machine: nproc {machine['nproc']} (cpu_count {machine['cpu_count']}), "
        f"CPU {machine['cpu_model']}, {machine['memory_gib']} GiB memory, load average at start "
        + " ".join(f"{value:.2f}" for value in machine["load_average_at_start"]),
        f"software: Python {machine['python']}, numpy {machine['numpy']}, "
        f"BLAS {blas['name']} {blas['version']} ({blas['configuration']}), "
        f"descentlab {machine['descentlab']} at {machine['commit']}"
        + (" + uncommitted changes" if machine["worktree_modified"] else ""),
    ]
    if runtime:
        first = runtime[0]
        lines.append(
            f"BLAS at run time: {first['internal_api']} {first['version']}, kernel "
            f"{first['architecture']}, {first['threading_layer']}, "
            f"{first['default_threads']} threads by default"
        )
    else:
        lines.append(
            "threadpoolctl is not installed: in-process timings use numpy's default BLAS threads"
        )
    return lines


# ----------------------------------------------------------------------------- timing


@dataclass
class Timing:
    """The samples of one measurement under one BLAS thread setting."""

    label: str
    runs: int
    samples: list[float] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def best(self) -> float:
        return min(self.samples)

    @property
    def per_run(self) -> float:
        return self.best / self.runs

    @property
    def spread(self) -> float:
        """(slowest - fastest) / fastest over the repeats."""
        return (max(self.samples) - self.best) / self.best

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label, "runs": self.runs, "samples": self.samples}
        if self.samples:
            out |= {"best": self.best, "per_run": self.per_run, "spread": self.spread}
        if self.detail:
            out["detail"] = self.detail
        if self.error:
            out["error"] = self.error
        return out


@contextmanager
def blas_threads(threads: int) -> Iterator[int | None]:
    """Limit this process's BLAS to ``threads``, descentlab's training included (its thread
    policy would otherwise choose); yields the count it actually runs with."""
    from descentlab.threads import blas_threads as descentlab_threads

    if threadpool_limits is None:
        yield current_blas_threads()
        return
    with threadpool_limits(limits=threads, user_api="blas"), descentlab_threads(threads):
        yield current_blas_threads()


def thread_env(threads: int) -> dict[str, str]:
    return os.environ | {name: str(threads) for name in (*BLAS_ENV, "DESCENTLAB_BLAS_THREADS")}


# ----------------------------------------------------------------------------- in process


def in_process_measurements(
    epochs: int,
) -> dict[str, tuple[str, int, Callable[[], dict[str, Any]]]]:
    """key -> (label, runs, train-and-return-details). The data and imports are made here,
    outside the timed calls."""
    from descentlab import datasets, optim
    from descentlab.experiment import ExperimentConfig, run_experiment
    from descentlab.nn import Network
    from descentlab.optim.stack import stacked
    from descentlab.train import RunGroup, train, train_stack

    data = datasets.moons()
    X, Y = data.X, data.Y
    network = Network(LAYERS)

    def reference(name: str) -> Callable[[], dict[str, Any]]:
        def run() -> dict[str, Any]:
            _, costs = reference_loop.model(
                X, Y, list(LAYERS), name, LEARNING_RATE, BATCH_SIZE, num_epochs=epochs
            )
            return {"final_costs": [costs[-1]]}

        return run

    def single() -> dict[str, Any]:
        result = train(
            network, X, Y, optim.adam(LEARNING_RATE), epochs=epochs, batch_size=BATCH_SIZE
        )
        return {"final_costs": [float(result.history.epoch_costs[-1])]}

    def compare() -> dict[str, Any]:
        outcomes = run_experiment(ExperimentConfig(epochs=epochs), data)
        return {"final_costs": [outcome.final_cost for outcome in outcomes]}

    def sweep() -> dict[str, Any]:
        optimizer = stacked("adam", [{"learning_rate": float(rate)} for rate in SWEEP_RATES])
        result = train_stack(
            network,
            X,
            Y,
            [RunGroup(optimizer, SWEEP_RUNS)],
            init_seeds=[3] * SWEEP_RUNS,
            shuffle_seeds=[10] * SWEEP_RUNS,
            epochs=epochs,
            batch_size=BATCH_SIZE,
        )
        costs = [float(history.epoch_costs[-1]) for history in result.histories]
        best = int(np.nanargmin(costs))
        return {
            "diverged": sum(epoch is not None for epoch in result.diverged_epochs),
            "best_learning_rate": float(SWEEP_RATES[best]),
            "best_final_cost": costs[best],
        }

    measurements = {
        "reference_gd": ("reference loop, gd", 1, reference("gd")),
        "reference_momentum": ("reference loop, momentum", 1, reference("momentum")),
        "reference_adam": ("reference loop, adam", 1, reference("adam")),
        "train_adam": ("descentlab train (adam)", 1, single),
        "compare": ("descentlab compare training (3 runs)", 3, compare),
        "sweep64": (f"descentlab {SWEEP_RUNS}-run adam sweep (one stack)", SWEEP_RUNS, sweep),
    }
    if compiled_engine_available():
        # The same calls with the compiled engine (the library's default is numpy).
        for key in COMPILED_VARIANTS:
            label, runs, run = measurements[key]
            measurements[f"{key}_compiled"] = (f"{label}, compiled", runs, compiled(run))
    return measurements


COMPILED_VARIANTS = ("train_adam", "compare", "sweep64")
"""The in-process measurements timed again with the compiled engine when it is installed."""


def compiled_engine_available() -> bool:
    """Whether descentlab has engines and numba is installed (the ``compiled`` extra)."""
    try:
        from descentlab import engines
    except ImportError:
        return False
    return engines.compiled_available()


def compiled(run: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """``run`` with the compiled engine. Its first call compiles (or loads numba's cache), so
    one untimed call of each is made first by ``run_in_process``."""

    def with_engine() -> dict[str, Any]:
        from descentlab import engines

        with engines.using("compiled"):
            return run()

    return with_engine


IN_PROCESS_TARGETS = {
    # key: (reference keys whose mean is the reference's time per run, target speedup)
    "train_adam": (("reference_adam",), TARGET_SINGLE),
    "compare": (tuple(f"reference_{name}" for name in COURSE_OPTIMIZERS), TARGET_COMPARE),
    "sweep64": (("reference_adam",), TARGET_SWEEP),
}
IN_PROCESS_CONTEXT = {
    # the compiled engine's rows: speedups shown against the same references, no target
    f"{key}_compiled": IN_PROCESS_TARGETS[key][0]
    for key in COMPILED_VARIANTS
}


def run_in_process(
    epochs: int, repeat: int, thread_settings: list[int]
) -> tuple[dict[int, dict[str, Timing]], dict[int, int | None]]:
    measurements = in_process_measurements(epochs)
    for key, (label, _, run) in measurements.items():
        if key.endswith("_compiled"):
            log(f"  warming up (numba's compile or its cache, untimed): {label}")
            run()
    timings = {
        threads: {key: Timing(label, runs) for key, (label, runs, _) in measurements.items()}
        for threads in thread_settings
    }
    ran_with: dict[int, int | None] = {}
    for attempt in range(1, repeat + 1):
        for threads in thread_settings:
            with blas_threads(threads) as actual:
                ran_with[threads] = actual
                for key, (label, _, run) in measurements.items():
                    started = time.perf_counter()
                    detail = run()
                    seconds = time.perf_counter() - started
                    timings[threads][key].samples.append(seconds)
                    timings[threads][key].detail = detail
                    log(
                        f"  [{attempt}/{repeat}] in process, {threads} BLAS thread(s): "
                        f"{label}: {seconds:.2f} s"
                    )
    return timings, ran_with


def reference_per_run(timings: dict[str, Timing], keys: tuple[str, ...]) -> float:
    return sum(timings[key].best for key in keys) / len(keys)


def in_process_table(timings: dict[str, Timing], repeat: int) -> list[str]:
    spread = repeat > 1
    header = (
        f"{'measurement':<44}{'runs':>5}{'seconds':>10}{'s/run':>10}"
        f"{'ref s/run':>11}{'speedup/run':>13}{'target':>9}  result"
    )
    if spread:
        header += "   spread"
    lines = [header]
    for key, timing in timings.items():
        row = f"{timing.label:<44}{timing.runs:>5}{timing.best:>10.2f}{timing.per_run:>10.3f}"
        if key in IN_PROCESS_TARGETS:
            keys, target = IN_PROCESS_TARGETS[key]
            reference = reference_per_run(timings, keys)
            speedup = reference / timing.per_run
            verdict = "PASS" if speedup >= target else f"FAIL ({speedup / target - 1:+.0%})"
            row += f"{reference:>11.3f}{speedup:>12.2f}x{'>= ' + f'{target:g}x':>9}  {verdict}"
        elif key in IN_PROCESS_CONTEXT:
            reference = reference_per_run(timings, IN_PROCESS_CONTEXT[key])
            speedup = reference / timing.per_run
            row += f"{reference:>11.3f}{speedup:>12.2f}x{'':>9}  {'':4}"
        else:
            row += f"{'':>11}{'':>13}{'':>9}  {'':4}"
        if spread:
            row += f"   {timing.spread:+.1%}"
        lines.append(row.rstrip())
    return lines


def agreement(timings: dict[str, Timing]) -> str:
    """Check that descentlab and the reference computed the same thing."""
    reference = [
        timings[f"reference_{name}"].detail["final_costs"][0] for name in COURSE_OPTIMIZERS
    ]
    compare = timings["compare"].detail["final_costs"]
    single = timings["train_adam"].detail["final_costs"][0]
    worst = max(
        abs(a - b) for a, b in zip([*reference, reference[2]], [*compare, single], strict=True)
    )
    sweep = timings["sweep64"].detail
    text = (
        "same results: final costs gd/momentum/adam "
        + " / ".join(f"{cost:.6f}" for cost in reference)
        + f" (reference) vs descentlab, largest difference {worst:.1e}; sweep: "
        f"{sweep['diverged']} of {SWEEP_RUNS} runs diverged, lowest final cost "
        f"{sweep['best_final_cost']:.6f} at learning rate {sweep['best_learning_rate']:.2e}"
    )
    if "compare_compiled" in timings:
        compiled = timings["compare_compiled"].detail["final_costs"]
        single = timings["train_adam_compiled"].detail["final_costs"][0]
        worst = max(
            abs(a - b) for a, b in zip([*reference, reference[2]], [*compiled, single], strict=True)
        )
        best = timings["sweep64_compiled"].detail["best_final_cost"]
        text += (
            f"; compiled engine: largest difference from the reference {worst:.1e}, sweep's "
            f"lowest final cost {best:.6f}"
        )
    return text


# ----------------------------------------------------------------------------- end to end


def descentlab_command() -> list[str]:
    beside = Path(sys.executable).parent / "descentlab"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("descentlab")
    return [found] if found else [sys.executable, "-m", "descentlab"]


def shown(argv: list[str]) -> str:
    """A command line as a user would type it (no absolute paths of this machine)."""
    words = []
    for word in argv:
        if word == sys.executable:
            words.append("python")
        elif word.endswith("/descentlab"):
            words.append("descentlab")
        elif word.startswith("/"):
            words.append(os.path.relpath(word))
        else:
            words.append(word)
    return " ".join(words)


def sweep_available(command: list[str]) -> tuple[bool, str, str]:
    """Whether ``descentlab sweep --help`` succeeds; why not; the help text."""
    try:
        done = subprocess.run(
            [*command, "sweep", "--help"], capture_output=True, text=True, timeout=120
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return False, str(error), ""
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip().splitlines()
        return False, message[-1] if message else f"exit code {done.returncode}", ""
    return True, "", done.stdout


def engines_of(command: list[str]) -> list[str]:
    """The engines ``descentlab compare --engine`` takes here: numpy, and compiled when numba is
    installed; none when the option does not exist (before issue 17)."""
    done = subprocess.run([*command, "compare", "--help"], capture_output=True, text=True)
    if "--engine" not in done.stdout:
        return []
    return ["numpy", "compiled"] if compiled_engine_available() else ["numpy"]


def wall_time(argv: list[str], threads: int) -> tuple[float, str | None]:
    """Seconds from starting the process to its exit; an error message if it failed."""
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=thread_env(threads))
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip().splitlines()
        return seconds, f"exit code {done.returncode}: {message[-1] if message else ''}"
    return seconds, None


def runs_in_results(out: Path) -> int | None:
    """How many runs a run folder's results.json lists (None if it cannot tell)."""
    try:
        document = json.loads((out / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    runs = document.get("runs") if isinstance(document, dict) else None
    return len(runs) if isinstance(runs, list) else None


def run_end_to_end(
    epochs: int, repeat: int, thread_settings: list[int], sweep_args: list[str]
) -> tuple[dict[int, dict[str, Timing]], dict[str, Any]]:
    descentlab = descentlab_command()
    reference = [sys.executable, str(TOOLS / "reference_loop.py"), "--epochs", str(epochs)]
    # compare and train run with their defaults when the workload is the published one.
    with_epochs = [] if epochs == PUBLISHED_EPOCHS else ["--epochs", str(epochs)]
    has_sweep, why_not, sweep_help = sweep_available(descentlab)
    commands: dict[str, tuple[str, int, list[str]]] = {
        "reference_3": (
            "reference loop: gd, momentum, adam",
            3,
            [*reference, "--optimizers", ",".join(COURSE_OPTIMIZERS)],
        ),
        "compare": (
            "descentlab compare --quiet",
            3,
            [*descentlab, "compare", "--quiet", *with_epochs],
        ),
        "reference_1": ("reference loop: adam", 1, [*reference, "--optimizers", "adam"]),
        "train": (
            "descentlab train --optimizer adam --quiet",
            1,
            [*descentlab, "train", "--optimizer", "adam", "--quiet", *with_epochs],
        ),
    }
    sweep_argv = [*descentlab, "sweep", *sweep_args, "--epochs", str(epochs), "--quiet"]
    engines = engines_of(descentlab)
    for engine in engines:  # compare with each engine, named (the default is the fastest)
        commands[f"compare_{engine}"] = (
            f"descentlab compare --quiet --engine {engine}",
            3,
            [*descentlab, "compare", "--quiet", "--engine", engine, *with_epochs],
        )
    if has_sweep:
        commands["sweep"] = (f"descentlab sweep ({SWEEP_RUNS} adam)", SWEEP_RUNS, sweep_argv)
        if "numpy" in engines:
            commands["sweep_numpy"] = (
                f"descentlab sweep ({SWEEP_RUNS} adam) --engine numpy",
                SWEEP_RUNS,
                [*sweep_argv, "--engine", "numpy"],
            )
        if "--jobs" in sweep_help:  # context: the same sweep on both cores
            commands["sweep_jobs"] = (
                f"descentlab sweep ({SWEEP_RUNS} adam) --jobs 2",
                SWEEP_RUNS,
                [*sweep_argv, "--jobs", "2"],
            )
    timings = {
        threads: {key: Timing(label, runs) for key, (label, runs, _) in commands.items()}
        for threads in thread_settings
    }
    with tempfile.TemporaryDirectory(prefix="descentlab-bench-") as scratch:
        if "compiled" in engines:
            # numba compiles once and caches on disk: the timed processes find the cache, as
            # every run after a user's first does.
            log("  warming up numba's cache (untimed): descentlab compare --epochs 2")
            warm_up = [*descentlab, "compare", "--quiet", "--epochs", "2", "--engine", "compiled"]
            wall_time([*warm_up, "--out", str(Path(scratch) / "warm-up")], thread_settings[0])
        for attempt in range(1, repeat + 1):
            for threads in thread_settings:
                for key, (label, _, argv) in commands.items():
                    timing = timings[threads][key]
                    if timing.error:
                        continue
                    out = Path(scratch) / f"{key}-{threads}-{attempt}"
                    writes = not key.startswith("reference")
                    seconds, error = wall_time(
                        [*argv, "--out", str(out)] if writes else argv, threads
                    )
                    if error:
                        timing.error = error
                        log(f"  end to end, {threads} thread(s): {label}: FAILED, {error}")
                        continue
                    timing.samples.append(seconds)
                    if writes:
                        timing.detail["runs_in_results"] = runs_in_results(out)
                    log(
                        f"  [{attempt}/{repeat}] end to end, {threads} BLAS thread(s): "
                        f"{label}: {seconds:.2f} s"
                    )
    info = {
        "commands": {key: argv for key, (_, _, argv) in commands.items()},
        "sweep_available": has_sweep,
        "sweep_unavailable_reason": None if has_sweep else why_not,
        "sweep_command": sweep_argv,
    }
    return timings, info


E2E_RATIOS: dict[str, tuple[str, float | None]] = {
    # key: (reference key, largest allowed ratio of wall times, or None: shown for context)
    "compare": ("reference_3", TARGET_E2E_COMPARE),
    "compare_numpy": ("reference_3", TARGET_E2E_COMPARE_NUMPY),
    "compare_compiled": ("reference_3", None),
    "train": ("reference_1", None),
    "sweep": ("reference_1", TARGET_E2E_SWEEP),
    "sweep_numpy": ("reference_1", None),
    "sweep_jobs": ("reference_1", None),
}


def end_to_end_table(timings: dict[str, Timing], info: dict[str, Any], repeat: int) -> list[str]:
    lines = [
        f"{'process (wall time, start to exit)':<44}{'seconds':>10}{'vs ref':>10}"
        f"{'target':>10}  result" + ("   spread" if repeat > 1 else "")
    ]
    for key, timing in timings.items():
        if timing.error:
            lines.append(f"{timing.label:<44}  failed: {timing.error}")
            continue
        row = f"{timing.label:<44}{timing.best:>10.2f}"
        if key in E2E_RATIOS:
            reference_key, target = E2E_RATIOS[key]
            reference = timings[reference_key]
            if reference.error:
                row += "  (no reference time)"
            else:
                ratio = timing.best / reference.best
                row += f"{ratio:>9.2f}x"
                if target is None:
                    row += f"{'':>10}  {'':4}"
                else:
                    verdict = "PASS" if ratio <= target else f"FAIL ({ratio / target - 1:+.0%})"
                    row += f"{'<= ' + f'{target:g}x':>10}  {verdict}"
        else:
            row += f"{'':>10}{'':>10}  {'':4}"
        if repeat > 1:
            row += f"   {timing.spread:+.1%}"
        runs = timing.detail.get("runs_in_results")
        if runs is not None and runs != timing.runs:
            row += f"   (results.json lists {runs} runs, expected {timing.runs})"
        lines.append(row.rstrip())
    if not info["sweep_available"]:
        lines.append(
            f"{f'descentlab sweep ({SWEEP_RUNS} adam)':<44}  not available: "
            f"`descentlab sweep --help` failed ({info['sweep_unavailable_reason']})"
        )
    return lines


# ----------------------------------------------------------------------------- FLOP-bound


def flop_cases() -> dict[str, int]:
    """Output name -> output units: [784, 256, 10] softmax (issue 4's case) when descentlab's
    network has a softmax output, and [784, 256, 1] sigmoid (the binary case) always."""
    from descentlab.nn import Network

    cases = {"sigmoid": 1}
    network = Network((FLOP_FEATURES, FLOP_HIDDEN, FLOP_CLASSES))
    if getattr(network, "output", None) == "softmax":
        cases["softmax"] = FLOP_CLASSES
    return cases


def flop_data(n_outputs: int) -> tuple[np.ndarray, np.ndarray]:
    """60000 x 784 standard normal inputs (float64) labelled by a random linear teacher:
    binary labels (1, m) for one output, one-hot labels (C, m) for C outputs."""
    rng = np.random.default_rng(FLOP_SEED)
    X = rng.standard_normal((FLOP_FEATURES, FLOP_EXAMPLES))
    if n_outputs == 1:
        teacher = rng.standard_normal(FLOP_FEATURES)
        return X, (teacher @ X > 0).astype(np.float64)[np.newaxis]
    teacher = rng.standard_normal((n_outputs, FLOP_FEATURES))
    classes = np.argmax(teacher @ X, axis=0)
    return X, (np.arange(n_outputs)[:, np.newaxis] == classes).astype(np.float64)


def flops_per_example(n_outputs: int) -> int:
    """Matrix-product FLOPs (2 per multiply-add) per example: forward W1 x and W2 a1, backward
    dW2, dA1 = W2^T dZ2 and dW1 (no dX is needed)."""
    first = FLOP_HIDDEN * FLOP_FEATURES
    second = n_outputs * FLOP_HIDDEN
    return 2 * (first + second) + 2 * (second + second) + 2 * first


def blas_floor(X: np.ndarray) -> float:
    """Seconds for the epoch's two big products alone (W1 X_b and dZ1 X_b^T per batch, on
    consecutive columns) into preallocated outputs: the first layer's BLAS work of one epoch
    with no other overhead."""
    rng = np.random.default_rng(0)
    W = rng.standard_normal((FLOP_HIDDEN, FLOP_FEATURES)).astype(X.dtype)
    dZ = rng.standard_normal((FLOP_HIDDEN, FLOP_BATCH)).astype(X.dtype)
    Z = np.empty((FLOP_HIDDEN, FLOP_BATCH), X.dtype)
    dW = np.empty_like(W)
    started = time.perf_counter()
    for start in range(0, FLOP_EXAMPLES - FLOP_BATCH + 1, FLOP_BATCH):
        batch = X[:, start : start + FLOP_BATCH]
        np.matmul(W, batch, out=Z)
        np.matmul(dZ, batch.T, out=dW)
    return time.perf_counter() - started


def run_flop_bound(repeat: int, thread_settings: list[int]) -> dict[int, dict[str, dict[str, Any]]]:
    """threads -> "output dtype" -> samples and rates. The float32 copy of the inputs is made
    outside the timed call (and the float64 inputs are reused), so about 0.6 GB is alive."""
    from descentlab import optim
    from descentlab.nn import Network
    from descentlab.train import train

    cases = flop_cases()
    results: dict[int, dict[str, dict[str, Any]]] = {threads: {} for threads in thread_settings}
    for output, n_outputs in cases.items():
        X64, Y = flop_data(n_outputs)
        inputs = {"float64": X64, "float32": X64.astype(np.float32)}
        network = Network((FLOP_FEATURES, FLOP_HIDDEN, n_outputs))
        for threads in thread_settings:
            for dtype_name in inputs:
                results[threads][f"{output} {dtype_name}"] = {
                    "layers": list(network.layer_sizes),
                    "dtype": dtype_name,
                    "flops_per_example": flops_per_example(n_outputs),
                    "train": [],
                    "blas_floor": [],
                }
        for attempt in range(1, repeat + 1):
            for threads in thread_settings:
                with blas_threads(threads):
                    for dtype_name, X in inputs.items():
                        entry = results[threads][f"{output} {dtype_name}"]
                        started = time.perf_counter()
                        train(
                            network,
                            X,
                            Y,
                            optim.adam(0.001),
                            epochs=1,
                            batch_size=FLOP_BATCH,
                            dtype=np.float32 if dtype_name == "float32" else np.float64,
                        )
                        seconds = time.perf_counter() - started
                        floor = blas_floor(X)
                        entry["train"].append(seconds)
                        entry["blas_floor"].append(floor)
                        log(
                            f"  [{attempt}/{repeat}] FLOP-bound, {threads} BLAS thread(s), "
                            f"{output} {dtype_name}: {seconds:.2f} s "
                            f"(the big products alone {floor:.2f} s)"
                        )
        del X64, inputs
    for per_case in results.values():
        for entry in per_case.values():
            best = min(entry["train"])
            entry["best"] = best
            entry["examples_per_second"] = FLOP_EXAMPLES / best
            entry["gflops"] = entry["flops_per_example"] * FLOP_EXAMPLES / best / 1e9
            entry["blas_share"] = min(entry["blas_floor"]) / best
    return results


def flop_table(results: dict[int, dict[str, dict[str, Any]]]) -> list[str]:
    lines = [
        f"{'network':<22}{'dtype':<9}{'BLAS threads':>13}{'seconds':>10}{'examples/s':>13}"
        f"{'GFLOP/s':>10}{'first-layer products alone':>29}"
    ]
    for threads, per_case in results.items():
        for name, entry in per_case.items():
            output = name.split()[0]
            layers = ",".join(map(str, entry["layers"]))
            floor = min(entry["blas_floor"])
            lines.append(
                f"{f'[{layers}] {output}':<22}{entry['dtype']:<9}{threads:>13}"
                f"{entry['best']:>10.2f}"
                f"{entry['examples_per_second']:>13,.0f}{entry['gflops']:>10.1f}"
                f"{floor:>19.2f} s ({entry['blas_share']:.0%})"
            )
    return lines


# ----------------------------------------------------------------------------- the report


def thread_finding(
    in_process: dict[int, dict[str, Timing]],
    end_to_end: dict[int, dict[str, Timing]],
    flop: dict[int, dict[str, dict[str, Any]]],
) -> list[str]:
    """How much slower two BLAS threads are than one (> 1: two threads slower)."""
    if 1 not in in_process or 2 not in in_process:
        return []
    lines = [
        "one vs two BLAS threads (seconds with 2 / seconds with 1; above 1 means 2 is slower):"
    ]
    for key, timing in in_process[1].items():
        other = in_process[2][key]
        lines.append(f"  in process  {timing.label:<44}{other.best / timing.best:>6.2f}")
    for key, timing in end_to_end[1].items():
        other = end_to_end[2][key]
        if timing.samples and other.samples:
            lines.append(f"  end to end  {timing.label:<44}{other.best / timing.best:>6.2f}")
    for name, entry in flop[1].items():
        lines.append(
            f"  FLOP-bound  {name + ', one epoch':<44}{flop[2][name]['best'] / entry['best']:>6.2f}"
        )
    return lines


def targets_summary(
    in_process: dict[int, dict[str, Timing]], end_to_end: dict[int, dict[str, Timing]]
) -> tuple[list[str], list[dict[str, Any]]]:
    lines = ["targets (issue 4; end to end: issue 17):"]
    records = []
    for threads, timings in in_process.items():
        for key, (keys, target) in IN_PROCESS_TARGETS.items():
            speedup = reference_per_run(timings, keys) / timings[key].per_run
            passed = speedup >= target
            records.append(
                {
                    "threads": threads,
                    "target": f"{key} speedup per run >= {target}",
                    "value": speedup,
                    "pass": passed,
                }
            )
            lines.append(
                f"  {threads} thread(s)  {timings[key].label:<44} {speedup:6.2f}x  "
                f"(>= {target:g}x)  {'PASS' if passed else 'FAIL'}"
            )
    for threads, timings in end_to_end.items():
        for key, (reference_key, target) in E2E_RATIOS.items():
            if target is None or key not in timings:
                continue
            if timings[key].error or timings[reference_key].error:
                continue
            ratio = timings[key].best / timings[reference_key].best
            passed = ratio <= target
            records.append(
                {
                    "threads": threads,
                    "target": f"end-to-end {key} wall ratio <= {target}",
                    "value": ratio,
                    "pass": passed,
                }
            )
            lines.append(
                f"  {threads} thread(s)  end to end: {timings[key].label:<32} {ratio:6.2f}x  "
                f"(<= {target:g}x)  {'PASS' if passed else 'FAIL'}"
            )
    return lines, records


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="tools/bench.py", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument(
        "--epochs", type=int, default=PUBLISHED_EPOCHS, help="epochs of the moons workload"
    )
    parser.add_argument(
        "--quick", action="store_true", help="divide the epochs by 10 (for trying the script)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="report the best of N (default 1)")
    parser.add_argument(
        "--threads",
        choices=("1", "2", "both"),
        default="both",
        help="BLAS threads to measure with (default both: one and two)",
    )
    parser.add_argument("--out", type=Path, help="also write the measurements as JSON here")
    parser.add_argument(
        "--threads-only",
        action="store_true",
        help="run only the thread-policy part (4): default threads vs descentlab's policy, "
        "idle and with one core busy",
    )
    parser.add_argument(
        "--crossover",
        action="store_true",
        help="run only the scan behind descentlab.threads.CROSSOVER: one epoch of [256, H, 1] "
        "with one and two BLAS threads, idle and with one core busy",
    )
    parser.add_argument(
        "--sweep-args",
        default=" ".join(SWEEP_CLI_ARGS),
        help="the grid arguments given to `descentlab sweep` (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.repeat < 1:
        parser.error("--epochs and --repeat must be >= 1")
    return args


def thread_policy_part(repeat: int, emit: Callable[..., None]) -> dict[str, Any]:
    """Part 4: default threads against descentlab's thread policy, idle and loaded."""
    log("thread policy: default threads vs descentlab's policy, idle and with one core busy ...")
    results = bench_threads.run_policy(repeat, log)
    emit(
        "",
        f"THREAD POLICY: {', '.join(bench_threads.POLICY_DATASETS)} (scikit-learn, "
        f"standardised), hidden {list(bench_threads.POLICY_HIDDEN)}, adam "
        f"{bench_threads.POLICY_LEARNING_RATE}, {bench_threads.POLICY_EPOCHS} epochs, batch "
        f"{bench_threads.POLICY_BATCH}, through train; best of {repeat}; others: cores that "
        "other processes kept busy meanwhile (the benchmark's spinner included)",
        *bench_threads.policy_table(results),
    )
    return results


def crossover_part(repeat: int, emit: Callable[..., None]) -> dict[str, Any]:
    log("crossover scan: one and two BLAS threads by network size ...")
    results = bench_threads.run_crossover(repeat, log)
    emit(
        "",
        f"CROSSOVER SCAN: one epoch of [{bench_threads.SCAN_INPUTS}, H, 1], batch "
        f"{bench_threads.SCAN_BATCH}, {bench_threads.SCAN_EXAMPLES} examples, adam, best of "
        f"{repeat}; size = multiply-adds of the largest product of a step",
        *bench_threads.crossover_table(results),
    )
    return results


def write_json(path: Path, document: dict[str, Any], emit: Callable[..., None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    emit(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    epochs = max(1, args.epochs // 10) if args.quick else args.epochs
    thread_settings = [1, 2] if args.threads == "both" else [int(args.threads)]
    machine = machine_info()
    out: list[str] = []

    def emit(*lines: str) -> None:
        for line in lines:
            print(line, flush=True)
            out.append(line)

    if args.threads_only or args.crossover:
        emit("descentlab benchmark (tools/bench.py): BLAS threads", *describe_machine(machine))
        parts: dict[str, Any] = {}
        if args.threads_only:
            parts["thread_policy"] = thread_policy_part(args.repeat, emit)
        if args.crossover:
            parts["crossover"] = crossover_part(args.repeat, emit)
        if args.out:
            command = ["tools/bench.py", *(sys.argv[1:] if argv is None else argv)]
            document = {"command": command, "repeat": args.repeat, "machine": machine}
            write_json(args.out, document | parts | {"printed": out}, emit)
        return 0

    emit(
        "descentlab benchmark (tools/bench.py): "
        f"moons (300 examples), layers {list(LAYERS)}, batch {BATCH_SIZE}, "
        f"learning rate {LEARNING_RATE}, {epochs} epochs, best of {args.repeat}",
        *describe_machine(machine),
    )
    if args.quick:
        emit(
            f"--quick: {epochs} epochs instead of {args.epochs}; the targets are meant for "
            f"{PUBLISHED_EPOCHS} epochs (fixed costs weigh more here, end to end especially)"
        )
    elif epochs != PUBLISHED_EPOCHS:
        emit(f"note: {epochs} epochs, not the published {PUBLISHED_EPOCHS}")

    log("in process (training only) ...")
    in_process, ran_with = run_in_process(epochs, args.repeat, thread_settings)
    log("end to end (whole processes) ...")
    end_to_end, e2e_info = run_end_to_end(
        epochs, args.repeat, thread_settings, args.sweep_args.split()
    )
    log("FLOP-bound case ...")
    flop = run_flop_bound(args.repeat, thread_settings)

    emit("", "IN PROCESS, training only (speedup/run = reference s/run / s/run)")
    for threads in thread_settings:
        emit(
            "",
            f"BLAS threads: {threads} requested, {ran_with[threads]} in use"
            if ran_with[threads] is not None
            else f"BLAS threads: {threads} requested (threadpoolctl missing: numpy's default)",
            *in_process_table(in_process[threads], args.repeat),
        )
    emit("", agreement(in_process[thread_settings[0]]))

    emit(
        "",
        "END TO END, as a user waits (subprocess wall time, interpreter start to exit: imports, "
        "training, plots and files)",
        *(
            f"  {shown(argv)}" + ("" if key.startswith("reference") else " --out TMP")
            for key, argv in e2e_info["commands"].items()
        ),
        "  (the reference process draws no plot and imports no scikit-learn: the cheapest "
        "course-style script)",
    )
    if not e2e_info["sweep_available"]:
        emit(f"  (would run: {shown(e2e_info['sweep_command'])} --out TMP)")
    for threads in thread_settings:
        emit(
            "",
            f"BLAS threads: {threads} ({'/'.join(BLAS_ENV)}={threads})",
            *end_to_end_table(end_to_end[threads], e2e_info, args.repeat),
        )

    emit(
        "",
        f"FLOP-BOUND: synthetic {FLOP_EXAMPLES} x {FLOP_FEATURES} inputs, one epoch of adam "
        f"via train, batch {FLOP_BATCH}; [{FLOP_FEATURES}, {FLOP_HIDDEN}, {FLOP_CLASSES}] "
        f"softmax ({flops_per_example(FLOP_CLASSES) / 1e6:.2f} MFLOP per example) and "
        f"[{FLOP_FEATURES}, {FLOP_HIDDEN}, 1] sigmoid ({flops_per_example(1) / 1e6:.2f})",
        *flop_table(flop),
    )

    thread_policy = thread_policy_part(args.repeat, emit)

    summary, records = targets_summary(in_process, end_to_end)
    emit("", *summary)
    finding = thread_finding(in_process, end_to_end, flop)
    if finding:
        emit("", *finding)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    emit("", f"peak memory of this process: {peak:,.0f} MiB")

    if args.out:
        document = {
            "command": ["tools/bench.py", *(sys.argv[1:] if argv is None else argv)],
            "epochs": epochs,
            "repeat": args.repeat,
            "machine": machine,
            "in_process": {
                str(threads): {
                    "blas_threads_in_use": ran_with[threads],
                    "timings": {key: timing.to_dict() for key, timing in timings.items()},
                }
                for threads, timings in in_process.items()
            },
            "end_to_end": {
                "info": e2e_info,
                "timings": {
                    str(threads): {key: timing.to_dict() for key, timing in timings.items()}
                    for threads, timings in end_to_end.items()
                },
            },
            "flop_bound": {
                "examples": FLOP_EXAMPLES,
                "batch_size": FLOP_BATCH,
                "results": {str(threads): per_dtype for threads, per_dtype in flop.items()},
            },
            "thread_policy": thread_policy,
            "targets": records,
            "peak_memory_mib": peak,
            "printed": out,
        }
        write_json(args.out, document, emit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
