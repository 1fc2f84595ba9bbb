"""Training time of the two engines (``descentlab.engines``) on issue 17's two workloads.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python tools/bench_engines.py [--epochs N]

- compare: gd, momentum and adam on the course's moons, [2, 5, 2, 1], batches of 64 (3 runs);
- sweep: 64 Adam runs, learning rates logspace(1e-4, 1e-1, 64), one seed.

Each is trained with ``train_stack`` by each engine in a fresh process (so the compiled engine's
first use, numba's import and the loading of its disk cache, is counted apart from training),
after one process that only warms the cache. Wall and CPU seconds are printed: on a shared
machine the CPU seconds are the steadier of the two. Only training is timed, not a command.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = """
import json, sys, time
import numpy as np
from descentlab import course, optim
from descentlab.nn import Network
from descentlab.optim.stack import stacked
from descentlab.train import RunGroup, train_stack

workload, engine, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
X, Y = course.load_dataset()
if workload == "compare":
    groups = [
        RunGroup(optim.gd(0.0007), 1),
        RunGroup(optim.momentum(0.0007, 0.9), 1),
        RunGroup(optim.adam(0.0007), 1),
    ]
else:
    rates = np.logspace(-4, -1, 64)
    groups = [RunGroup(stacked("adam", [{"learning_rate": float(r)} for r in rates]), 64)]
runs = sum(group.size for group in groups)
kwargs = dict(init_seeds=[3] * runs, shuffle_seeds=[10] * runs, batch_size=64, engine=engine)
network = Network((2, 5, 2, 1))
wall, cpu = time.perf_counter(), time.process_time()
train_stack(network, X, Y, groups, epochs=1, **kwargs)
first = (time.perf_counter() - wall, time.process_time() - cpu)
wall, cpu = time.perf_counter(), time.process_time()
result = train_stack(network, X, Y, groups, epochs=epochs, **kwargs)
print(json.dumps({
    "first_use": first,
    "training": (time.perf_counter() - wall, time.process_time() - cpu),
    "engine": result.engine,
}))
"""


def measure(workload: str, engine: str, epochs: int) -> dict[str, object]:
    output = subprocess.run(
        [sys.executable, "-c", CHILD, workload, engine, str(epochs)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    measured: dict[str, object] = json.loads(output)
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10000)
    epochs = parser.parse_args().epochs
    measure("compare", "compiled", 1)  # compiles, or loads, the cached kernels
    for workload in ("compare", "sweep"):
        for engine in ("numpy", "compiled"):
            measured = measure(workload, engine, epochs)
            first_wall = measured["first_use"][0]  # type: ignore[index]
            wall, cpu = measured["training"]  # type: ignore[misc]
            print(
                f"{workload:8s} {measured['engine']:9s} training {wall:6.2f} s wall "
                f"{cpu:6.2f} s CPU; first use {first_wall:5.2f} s wall"
            )


if __name__ == "__main__":
    main()
