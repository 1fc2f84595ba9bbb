"""The thread-policy part of ``make bench`` (issue 10): descentlab's BLAS thread policy
(``descentlab.threads``) against numpy's default threads, on an idle machine and with one core
kept busy by a process that this benchmark starts and stops itself.

    python tools/bench.py --threads-only [--repeat N]   # this part alone (a minute or two)
    python tools/bench.py --crossover [--repeat N]      # the scan behind threads.CROSSOVER

The policy case trains breast_cancer (569 x 30) and digits (1797 x 64) from scikit-learn,
standardised, with a (100,) network, adam at 0.001, 200 epochs, batch 200, through ``train``:
once with numpy's default thread count (``blas_threads(N)``, N the default) and once under the
policy (``blas_threads("auto")``). The crossover scan times one epoch of [256, H, 1] networks
(batch 200, 2000 synthetic examples) with one BLAS thread and with two.

"Idle" is whatever the machine is doing apart from this benchmark: how many cores other
processes kept busy while a case ran (/proc/stat's busy time less this process's own CPU time,
the spinner counted as other) is measured and printed as "others". The busy core is
``python -c "while True: pass"``, killed when the case ends (also on Ctrl-C).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import numpy as np

POLICY_DATASETS = ("breast_cancer", "digits")
POLICY_HIDDEN = (100,)
POLICY_EPOCHS = 200
POLICY_BATCH = 200
POLICY_LEARNING_RATE = 0.001

SCAN_INPUTS = 256
SCAN_HIDDEN = (8, 16, 32, 64, 128, 192, 256, 384, 512, 1024, 2048)
SCAN_BATCH = 200
SCAN_EXAMPLES = 2000
SCAN_EPOCHS = 2

LOADS = ("idle", "one core busy")

Log = Callable[[str], None]


@contextmanager
def busy_core() -> Iterator[None]:
    """A process spinning on one core for the duration of the block."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)  # let it start and reach a core
        yield
    finally:
        spinner.kill()
        spinner.wait()


def loaded(load: str) -> Any:
    return busy_core() if load != "idle" else nullcontext()


def _busy_and_total_ticks() -> tuple[int, int]:
    """All cores' non-idle and total clock ticks from /proc/stat's "cpu" line."""
    with open("/proc/stat", encoding="ascii") as stat:
        ticks = [int(value) for value in stat.readline().split()[1:9]]
    return sum(ticks) - ticks[3] - ticks[4], sum(ticks)


class OtherLoad:
    """Measures how many cores other processes keep busy between ``start`` and ``stop``: the
    busy share of all cores less this process's own CPU time (None without /proc/stat)."""

    def start(self) -> None:
        try:
            self.ticks: tuple[int, int] | None = _busy_and_total_ticks()
        except OSError:
            self.ticks = None
        self.own = time.process_time()
        self.wall = time.perf_counter()

    def stop(self) -> float | None:
        if self.ticks is None:
            return None
        busy, total = _busy_and_total_ticks()
        if total == self.ticks[1]:
            return None
        cores = os.cpu_count() or 1
        all_busy = cores * (busy - self.ticks[0]) / (total - self.ticks[1])
        own = (time.process_time() - self.own) / (time.perf_counter() - self.wall)
        return max(0.0, all_busy - own)


def shown_load(value: float | None) -> str:
    return "?" if value is None else f"{value:.1f}"


def default_threads() -> int:
    """numpy's BLAS thread count when nothing limits it."""
    from threadpoolctl import threadpool_info

    counts = [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]
    return int(counts[0]) if counts else 1


def policy_data(name: str) -> tuple[np.ndarray, np.ndarray]:
    """X (n_features, m) standardised and targets Y of a scikit-learn dataset."""
    from sklearn import datasets as sk_datasets
    from sklearn.preprocessing import StandardScaler

    from descentlab.datasets import encode_labels, targets_from_labels

    X, y = getattr(sk_datasets, f"load_{name}")(return_X_y=True)
    labels, classes = encode_labels(list(y))
    return StandardScaler().fit_transform(X).T, targets_from_labels(labels, len(classes))


def run_policy(repeat: int, log: Log) -> dict[str, Any]:
    """Seconds of each dataset's training with the default threads and under the policy,
    idle and with one core busy (best of ``repeat``, the two settings interleaved)."""
    from descentlab import optim, threads
    from descentlab.nn import Network
    from descentlab.train import train

    default = default_threads()
    settings: dict[str, threads.Setting] = {"default": default, "policy": threads.AUTO}
    cases = {}
    for name in POLICY_DATASETS:
        X, Y = policy_data(name)
        network = Network((X.shape[0], *POLICY_HIDDEN, Y.shape[0]))
        size = threads.product_size(network.layer_sizes, POLICY_BATCH)
        with threads.blas_threads(threads.AUTO):
            chosen = threads.threads_for(size)
        cases[name] = {"X": X, "Y": Y, "network": network, "size": size, "chosen": chosen}
    results: dict[str, Any] = {"default_threads": default, "loads": {}}
    for load in LOADS:
        with loaded(load):
            others = OtherLoad()
            others.start()
            per_case: dict[str, Any] = {}
            for name, case in cases.items():
                samples: dict[str, list[float]] = {key: [] for key in settings}
                params = {}
                for attempt in range(1, repeat + 1):
                    for key, setting in settings.items():
                        with threads.blas_threads(setting):
                            started = time.perf_counter()
                            result = train(
                                case["network"],
                                case["X"],
                                case["Y"],
                                optim.adam(POLICY_LEARNING_RATE),
                                epochs=POLICY_EPOCHS,
                                batch_size=POLICY_BATCH,
                            )
                            seconds = time.perf_counter() - started
                        samples[key].append(seconds)
                        params[key] = result.params
                        log(f"  [{attempt}/{repeat}] {load}, {name}, {key}: {seconds:.2f} s")
                difference = float(np.max(np.abs(params["default"] - params["policy"])))
                per_case[name] = {"samples": samples, "max_param_difference": difference}
            busy = others.stop()
            log(f"  thread policy, {load}: other processes kept {shown_load(busy)} cores busy")
            results["loads"][load] = {"other_busy_cores": busy, "cases": per_case}
    results["cases"] = {
        name: {
            "layers": list(case["network"].layer_sizes),
            "product_size": case["size"],
            "policy_threads": case["chosen"],
        }
        for name, case in cases.items()
    }
    return results


def policy_table(results: dict[str, Any]) -> list[str]:
    default = results["default_threads"]
    lines = [
        f"{'dataset':<15}{'layers':<12}{'machine':<15}{'others':>7}"
        f"{f'default ({default} threads)':>22}{'policy':>20}{'default / policy':>18}"
    ]
    for load, measured in results["loads"].items():
        for name, entry in measured["cases"].items():
            case = results["cases"][name]
            chosen = case["policy_threads"]
            best = {key: min(values) for key, values in entry["samples"].items()}
            threads = "default" if chosen is None else chosen
            policy = f"{best['policy']:.2f} s ({threads} thread{'' if chosen == 1 else 's'})"
            lines.append(
                f"{name:<15}{','.join(map(str, case['layers'])):<12}{load:<15}"
                f"{shown_load(measured['other_busy_cores']):>7}{best['default']:>20.2f} s"
                f"{policy:>20}{best['default'] / best['policy']:>17.1f}x"
            )
    differences = {
        name: max(m["cases"][name]["max_param_difference"] for m in results["loads"].values())
        for name in results["cases"]
    }
    lines.append(
        "largest parameter difference, default threads vs policy: "
        + ", ".join(f"{name} {value:.1e}" for name, value in differences.items())
        + " (the thread count can change the last bits of a product; see descentlab.threads)"
    )
    return lines


def run_crossover(repeat: int, log: Log) -> dict[str, Any]:
    """Seconds per epoch of [SCAN_INPUTS, H, 1] with one and two BLAS threads, idle and with
    one core busy (best of ``repeat``, the settings interleaved)."""
    from descentlab import optim, threads
    from descentlab.nn import Network
    from descentlab.train import train

    rng = np.random.default_rng(0)
    X = rng.standard_normal((SCAN_INPUTS, SCAN_EXAMPLES))
    Y = (rng.random((1, SCAN_EXAMPLES)) > 0.5).astype(float)
    results: dict[str, Any] = {"loads": {}}
    for load in LOADS:
        with loaded(load):
            others = OtherLoad()
            others.start()
            rows = []
            for hidden in SCAN_HIDDEN:
                network = Network((SCAN_INPUTS, hidden, 1))
                samples: dict[int, list[float]] = {1: [], 2: []}
                for _ in range(repeat):
                    for count in samples:
                        with threads.blas_threads(count):
                            started = time.perf_counter()
                            train(
                                network, X, Y, optim.adam(0.001),
                                epochs=SCAN_EPOCHS, batch_size=SCAN_BATCH,
                            )  # fmt: skip
                            samples[count].append((time.perf_counter() - started) / SCAN_EPOCHS)
                row = {
                    "layers": list(network.layer_sizes),
                    "product_size": threads.product_size(network.layer_sizes, SCAN_BATCH),
                    "seconds_per_epoch": {str(k): min(v) for k, v in samples.items()},
                }
                log(
                    f"  {load}, H {hidden}: 1 thread {min(samples[1]) * 1e3:.1f} ms, "
                    f"2 threads {min(samples[2]) * 1e3:.1f} ms per epoch"
                )
                rows.append(row)
            busy = others.stop()
            log(f"  crossover scan, {load}: other processes kept {shown_load(busy)} cores busy")
            results["loads"][load] = {"other_busy_cores": busy, "rows": rows}
    return results


def crossover_table(results: dict[str, Any]) -> list[str]:
    lines = [
        f"{'layers':<16}{'size':>12}{'machine':>16}{'others':>7}"
        f"{'1 thread':>12}{'2 threads':>12}{'2 / 1':>8}"
    ]
    for load, measured in results["loads"].items():
        for row in measured["rows"]:
            one, two = row["seconds_per_epoch"]["1"], row["seconds_per_epoch"]["2"]
            lines.append(
                f"{','.join(map(str, row['layers'])):<16}{row['product_size']:>12,}{load:>16}"
                f"{shown_load(measured['other_busy_cores']):>7}"
                f"{one * 1e3:>9.1f} ms{two * 1e3:>9.1f} ms"
                f"{two / one:>8.2f}"
            )
    return lines
