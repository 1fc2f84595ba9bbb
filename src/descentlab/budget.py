"""What a command will take, estimated before it starts, and the one limit it is checked against.

Every command that trains, draws or expands a grid estimates the memory it will hold at its
peak from its sizes alone (epochs, layer sizes, examples, runs, steps, frames, ...), before
it allocates anything large, writes a run folder or trains. An estimate above
:func:`memory_limit` (the memory this process may still allocate,
``descentlab.memory.available_memory``, which ``ulimit -v`` lowers) is refused with one
``ValueError`` naming the value that weighs most, the estimate and the limit; one that fits
starts, however long it runs (the commands show progress). Work is bounded through memory:
what would run for hours holds what it produces (histories, paths, frames, runs), so sizes
are counted arithmetically (``--seeds 10**12`` or a range of 10^12 values is never
materialised to be refused).

The estimates are upper estimates in bytes, written as sums of named parts so the message can
say which value to lower (docs/limits.md lists them):

- a training run (``training_estimate``): per run, parameters, gradients, the optimizer's
  state and four update temporaries; per batch width, the workspaces of every layer; the data
  and its shuffled copy; the cost histories, epochs x (2 + batches per epoch) floats, and what
  the report keeps of every epoch (``REPORT_BYTES_PER_EPOCH``); recorded weight paths;
- a sweep (``sweep_estimate``): one chunk of runs training at once, plus what every run and
  configuration keeps until results.json is written (``RUN_RECORD_BYTES``,
  ``CONFIGURATION_BYTES``, each run's parameters and its cost every 100 epochs);
- a landscape (``landscape_estimate``): every optimizer's path (``BYTES_PER_STEP`` per step)
  and the animation's frames, which the GIF writer holds until it writes them;
- a schedule's plot (``schedule_estimate``): ``BYTES_PER_SCHEDULE_UNIT`` per unit drawn.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import NamedTuple, Protocol

import numpy as np

from descentlab.memory import available_memory
from descentlab.optim import drive
from descentlab.optim.base import Optimizer

MEMORY_UNKNOWN = 4 * 2**30
"""The limit when the available memory cannot be read (4 GiB)."""

OVERHEAD_BYTES = 256 * 2**20
"""Added to every estimate: the libraries a command imports after the check (matplotlib for
the pictures) and the interpreter's own allocations while it runs."""

FLOAT_BYTES = 8

REPORT_BYTES_PER_EPOCH = 256
"""What the report and the pictures hold per run and epoch besides the histories: the epoch
costs as a list of Python floats for report.html's chart, their JSON text, the learning
rates and the plotted copies (measured: a train of 220000 epochs in full batches peaked 157
bytes per epoch above one of 20000, histories included)."""

RUN_RECORD_BYTES = 16 * 2**10
"""What one run of a sweep keeps until its folder is written, parameters and costs aside:
its record, its result, its row of results.json and of the summaries (measured: about 11 KiB
per run of a one-epoch sweep; 16 KiB as the upper estimate)."""

CONFIGURATION_BYTES = 4 * 2**10
"""What one configuration of a sweep keeps: its settings, hyperparameters and summary."""

BYTES_PER_STEP = 256
"""What one step of one optimizer's landscape path holds: the point as it is recorded, the
stacked path, f and the distance along it, and the plotted copies."""

FRAME_BYTES_PER_PIXEL = 4
"""An animation frame is held as RGBA pixels until the GIF is written."""

BYTES_PER_SCHEDULE_UNIT = 128
"""A drawn schedule holds per unit its rate as a float, in a list and an array, and the
plotted copies."""


class Estimate(NamedTuple):
    """An estimate of ``what`` in bytes, by part: each part's name says which value it grows
    with ("epochs 1000000000") so a refusal can name the one to lower."""

    what: str
    parts: Mapping[str, int]

    @property
    def total(self) -> int:
        return OVERHEAD_BYTES + sum(self.parts.values())

    def largest(self) -> str:
        return max(self.parts, key=lambda name: self.parts[name])


def memory_limit() -> int:
    """The bytes a command may take: ``descentlab.memory.available_memory()`` (what the
    machine has available, lowered by ``ulimit -v``), or ``MEMORY_UNKNOWN`` if not known."""
    available = available_memory()
    return MEMORY_UNKNOWN if available is None else available


def format_bytes(count: int) -> str:
    """``count`` bytes for a person: "512 MiB", "7.5 GiB", "8e+03 TiB"."""
    value = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.3g} {unit}"
        value /= 1024
    return f"{value:.3g} TiB"


def check(estimate: Estimate, limit: int | None = None) -> int:
    """``estimate.total`` if it is within ``limit`` (default: ``memory_limit()``), else a
    one-line ``ValueError`` naming the largest part's value, the estimate and the limit."""
    limit = memory_limit() if limit is None else limit
    total = estimate.total
    if total > limit:
        raise ValueError(
            f"{estimate.largest()}: {estimate.what} would need about {format_bytes(total)} of "
            f"memory by descentlab's estimate, more than the {format_bytes(limit)} this process "
            "may allocate (docs/limits.md); lower it"
        )
    return total


def batches(n_examples: int, batch_size: int | None) -> tuple[int, int]:
    """(batch width, batches per epoch) of ``n_examples`` in batches of ``batch_size``."""
    width = n_examples if batch_size is None else max(1, min(batch_size, n_examples))
    return width, -(-n_examples // width)


def n_params(layer_sizes: Sequence[int]) -> int:
    """Weights and biases of a network [n_0, n_1, ..., n_L], counted without building it."""
    return sum((n_in + 1) * n_out for n_in, n_out in itertools.pairwise(layer_sizes))


def run_parts(
    layer_sizes: Sequence[int],
    n_examples: int,
    batch_size: int | None,
    epochs: int,
    state_arrays: int,
    *,
    path_every: int = 0,
    report: bool = False,
) -> dict[str, int]:
    """The bytes one run of a stack takes while it trains, by part (see the module docstring):
    ``layers ...`` (parameters, optimizer state, workspaces), ``epochs ...`` (histories, and
    with ``report`` what the report keeps of every epoch), ``examples ...`` (the data and its
    costs), ``weight paths ...``."""
    n_features, n_outputs = layer_sizes[0], layer_sizes[-1]
    params = n_params(layer_sizes)
    width, n_batches = batches(n_examples, batch_size)
    widths = {width, n_examples % width} - {0}
    units = sum(layer_sizes[1:])
    workspaces = sum((3 * FLOAT_BYTES + 1) * units * w for w in (*widths, n_examples))
    costs = FLOAT_BYTES * n_outputs * (2 * n_batches * width + 6 * n_examples)
    data = FLOAT_BYTES * (n_features + n_outputs) * n_examples
    optimizer = FLOAT_BYTES * params * (2 + state_arrays + 4)
    histories = epochs * (FLOAT_BYTES * (2 + n_batches) + (REPORT_BYTES_PER_EPOCH if report else 0))
    parts = {
        _layers(layer_sizes): optimizer + workspaces,
        f"epochs {epochs}": histories,
        f"{n_examples} examples": costs + data,
    }
    if path_every:
        parts[f"weight paths {path_every}"] = FLOAT_BYTES * params * (epochs // path_every + 1)
    return parts


def _layers(layer_sizes: Sequence[int]) -> str:
    return "layers " + ",".join(str(size) for size in layer_sizes[1:-1])


def training_estimate(
    layer_sizes: Sequence[int],
    n_examples: int,
    batch_size: int | None,
    epochs: int,
    state_arrays: Sequence[int],
    *,
    path_every: int = 0,
) -> Estimate:
    """A stack of runs (one per entry of ``state_arrays``: how many parameter-sized arrays
    its optimizer's state holds) training on ``n_examples`` examples: ``compare`` and
    ``train``."""
    parts: dict[str, int] = {}
    for state in state_arrays:
        run = run_parts(
            layer_sizes, n_examples, batch_size, epochs, state, path_every=path_every, report=True
        )
        for name, size in run.items():
            parts[name] = parts.get(name, 0) + size
    return Estimate("the training", parts)


class _Network(Protocol):
    @property
    def layer_sizes(self) -> tuple[int, ...]: ...


class _Experiment(Protocol):
    """What the estimate reads of an ``ExperimentConfig`` (not imported: the configuration
    depends on the datasets, which depend on this module)."""

    @property
    def batch_size(self) -> int | None: ...

    @property
    def epochs(self) -> int: ...

    def network(self, n_features: int, n_classes: int = 2) -> _Network: ...

    def built_optimizers(self, batches_per_epoch: int) -> Sequence[Optimizer]: ...

    def batches_per_epoch(self, n_examples: int) -> int: ...


def experiment_estimate(
    config: _Experiment, n_features: int, n_examples: int, n_classes: int, path_every: int
) -> Estimate:
    """``training_estimate`` of ``compare`` / ``train``: every optimizer of ``config`` one
    run of the stack, on ``n_examples`` examples."""
    layer_sizes = config.network(n_features, n_classes).layer_sizes
    # Built as the run builds them: a schedule counted in steps checks its warmup against them.
    built = config.built_optimizers(config.batches_per_epoch(n_examples))
    states = [state_arrays(optimizer) for optimizer in built]
    return training_estimate(
        layer_sizes, n_examples, config.batch_size, config.epochs, states, path_every=path_every
    )


def state_arrays(optimizer: Optimizer) -> int:
    """How many parameter-sized arrays ``optimizer``'s state holds, rounded up, measured on a
    probe of a thousand parameters: small enough that a huge network allocates nothing here,
    large enough that the numbers a state keeps per run or per history entry (L-BFGS's) count
    for little."""
    probe = 1000
    state = drive.start(optimizer, np.zeros((1, probe)))
    return -(-_array_entries(state) // probe)


def _array_entries(state: object) -> int:
    """The number of array entries in ``state``, the states it wraps included."""
    if isinstance(state, np.ndarray):
        return state.size
    if isinstance(state, tuple):
        return sum(_array_entries(leaf) for leaf in state)
    return 0


def sweep_estimate(
    per_run: Mapping[str, int],
    layer_sizes: Sequence[int],
    epochs: int,
    configurations: int,
    seeds: int,
    stack: int,
    *,
    stack_name: str | None = None,
    jobs: int = 1,
) -> Estimate:
    """A sweep of ``configurations`` x ``seeds`` runs, cut into chunks of at most ``stack``
    runs (and at least ``jobs`` chunks), ``jobs`` of them training at once, each run's
    training taking ``per_run`` (``run_parts``), and each run keeping its parameters and its
    cost every 100 epochs until the folder is written. ``stack_name`` names the stack when the
    user chose it (``max stack N``); every process past the first adds ``WORKER_BYTES``."""
    runs = configurations * seeds
    chunks = max(-(-runs // stack), min(jobs, runs))
    processes = min(jobs, chunks)
    at_once = min(runs, processes * -(-runs // chunks))
    training = {name: at_once * size for name, size in per_run.items()}
    parts = dict(count_estimate(configurations, seeds).parts)
    if stack_name is not None:
        parts[stack_name] = sum(training.values())
    else:
        parts.update(training)
    kept = {
        _layers(layer_sizes): runs * FLOAT_BYTES * n_params(layer_sizes),
        f"epochs {epochs}": runs * FLOAT_BYTES * (epochs // 100 + 1),
    }
    for name, size in kept.items():
        parts[name] = parts.get(name, 0) + size
    if processes > 1:
        parts[f"jobs {jobs}"] = (processes - 1) * WORKER_BYTES
    return Estimate("the sweep", parts)


WORKER_BYTES = 128 * 2**20
"""A sweep's worker process: an interpreter with numpy and descentlab imported."""


def count_estimate(configurations: int, seeds: int) -> Estimate:
    """What a sweep's configurations and runs (each configuration with each seed) keep,
    whatever they train: checked on the counts alone, before a list of them is built."""
    runs = configurations * seeds
    return Estimate(
        "the sweep",
        {
            f"{runs} runs ({configurations} configurations x {seeds} seeds)": runs
            * RUN_RECORD_BYTES,
            f"{configurations} configurations": configurations * CONFIGURATION_BYTES,
        },
    )


FRAME_PIXELS = 300 * 340
"""The largest animation frame: trajectories.gif is 5 inches wide and at most 5.6 high, at
60 dpi (``report.trajectories.GIF_DPI``)."""


def landscape_estimate(
    optimizers: int, steps: int, frames: int, frame_pixels: int = FRAME_PIXELS
) -> Estimate:
    """Paths of ``steps`` steps for ``optimizers`` optimizers, and an animation of ``frames``
    frames of ``frame_pixels`` pixels."""
    return Estimate(
        "the landscape",
        {
            f"steps {steps}": optimizers * (steps + 1) * BYTES_PER_STEP,
            f"frames {frames}": frames * frame_pixels * FRAME_BYTES_PER_PIXEL,
        },
    )


def schedule_estimate(length: int) -> Estimate:
    """A schedule drawn over ``length`` units."""
    return Estimate("the schedule's plot", {f"length {length}": length * BYTES_PER_SCHEDULE_UNIT})


PREDICTION_ROW_BYTES = 256
"""What one predicted row holds besides the network's activations: its label, its
probabilities as Python floats and its line of predictions.csv."""


def prediction_estimate(layer_sizes: Sequence[int], rows: int) -> Estimate:
    """A model of ``layer_sizes`` predicting ``rows`` rows: the scaled features and, for every
    layer, its pre-activations, activations and one temporary, per row."""
    per_row = FLOAT_BYTES * (2 * layer_sizes[0] + 3 * sum(layer_sizes[1:])) + PREDICTION_ROW_BYTES
    return Estimate("the prediction", {f"{rows} rows": rows * per_row})


def dataset_estimate(n_samples: int, n_features: int, copies: int) -> Estimate:
    """A synthetic dataset of ``n_samples`` examples of ``n_features`` features, generated
    through ``copies`` float arrays of that size at once."""
    return Estimate(
        "the dataset", {f"n-samples {n_samples}": copies * FLOAT_BYTES * n_samples * n_features}
    )
