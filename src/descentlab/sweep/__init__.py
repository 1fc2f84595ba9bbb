"""Sweeps: optimizer x hyperparameters x seeds, many runs trained at once.

``grid``     the values one hyperparameter takes (``0.01``, ``0.001,0.01``, ``1e-4..1e-1:log:13``)
``config``   ``SweepConfig``: its configurations (grid or random search) and seeds
``plan``     packing the runs into as few stacks as memory allows
``engine``   ``run_sweep``: the chunks trained, in this process or a pool, runs in order
``chunk``    one chunk: one stack through ``train_stack`` (and the one resume path)
``pool``     worker processes, Ctrl-C across them, and ``--jobs auto``
``on_cluster``  the chunks as tasks of a Dask cluster (``--scheduler``), failed chunks apart
``checkpoints``  ``SweepCheckpoints``: the stored plan and one checkpoint file per chunk (resume)
``summary``  statistics over seeds (diverged runs counted, never averaged in) and the table

    config = SweepConfig(optimizers=("adam",), learning_rate="1e-4..1e-1:log:13", seeds=(0, 1))
    outcome = run_sweep(config, datasets.moons())
    print(format_table(summarize(outcome)))
"""

from descentlab.sweep.checkpoints import SweepCheckpoints
from descentlab.sweep.config import Configuration, RunSpec, SweepConfig
from descentlab.sweep.engine import Execution, RunResult, SweepOutcome, run_sweep
from descentlab.sweep.grid import Axis, Range, parse_learning_rates, parse_values
from descentlab.sweep.plan import bytes_per_run, default_max_stack, plan_chunks
from descentlab.sweep.pool import AUTO_MIN_RUN_EPOCHS, busy_cores, resolve_jobs
from descentlab.sweep.summary import (
    Stats,
    Summary,
    best_per_optimizer,
    describe_execution,
    format_table,
    summarize,
)

__all__ = [
    "AUTO_MIN_RUN_EPOCHS",
    "Axis",
    "Configuration",
    "Execution",
    "Range",
    "RunResult",
    "RunSpec",
    "Stats",
    "Summary",
    "SweepCheckpoints",
    "SweepConfig",
    "SweepOutcome",
    "best_per_optimizer",
    "busy_cores",
    "bytes_per_run",
    "default_max_stack",
    "describe_execution",
    "format_table",
    "parse_learning_rates",
    "parse_values",
    "plan_chunks",
    "resolve_jobs",
    "run_sweep",
    "summarize",
]
