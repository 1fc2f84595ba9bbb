"""One chunk of a sweep: its runs trained as one stack with one ``train_stack`` call (through
the one resume path, ``descentlab.resume``), and what it sends back.

Every chunk trains through ``descentlab.train.train_stack``, the one training loop, so each
run equals training it alone with ``train`` with the same BLAS thread count, whatever the
chunking and the process count. Under the default thread policy a chunk trains with one BLAS
thread (``descentlab.threads.one_thread_per_process``): a sweep's parallelism is its
processes, and a product's last bits can depend on its thread count.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from descentlab.datasets import labels_from_targets
from descentlab.engines import NUMPY, Engine
from descentlab.history import COST_EVERY, History
from descentlab.nn import Network, predict_classes
from descentlab.optim import ScalarOrSchedule
from descentlab.optim.stack import stacked
from descentlab.resume import initial_states, resume_stack, snapshot_of
from descentlab.schedules import ScheduleSpec
from descentlab.seeds import run_seeds
from descentlab.sweep.checkpoints import ChunkSaving
from descentlab.sweep.plan import ChunkPlan, GroupPlan
from descentlab.threads import one_thread_per_process
from descentlab.train import RunGroup, reported_params

RunEpochsCallback = Callable[[int], None]
"""Receives a number of run-epochs just trained (k after each epoch of a k-run stack)."""


@dataclass(frozen=True)
class TrainingJob:
    """What every chunk of a sweep shares: the data, the network and the protocol."""

    layer_sizes: tuple[int, ...]
    X: np.ndarray
    Y: np.ndarray
    epochs: int
    batch_size: int | None
    schedule: ScheduleSpec
    engine: Engine = NUMPY
    """The engine every chunk trains with (resolved in the parent: every process, and every
    worker of a cluster, trains with the same one; ``descentlab.engines``)."""

    def run_group(self, group: GroupPlan) -> RunGroup:
        """One stacked optimizer for the group's runs, each at its own (scheduled) rate."""
        settings = [
            {**run, "learning_rate": self.learning_rate(float(run["learning_rate"]))}
            for run in group.settings
        ]
        return RunGroup(stacked(group.optimizer, settings), len(settings))

    def learning_rate(self, lr0: float) -> ScalarOrSchedule:
        """``lr0``, or the schedule starting from it as a function of the step count."""
        if self.schedule.is_constant:
            return lr0
        return self.schedule.for_optimizer(
            lr0, epochs=self.epochs, batches_per_epoch=self.batches_per_epoch
        )

    @property
    def batches_per_epoch(self) -> int:
        n_examples = self.X.shape[1]
        batch = n_examples if self.batch_size is None else self.batch_size
        return -(-n_examples // batch)


@dataclass(frozen=True)
class ChunkResult:
    """What a chunk sends back: what results.json needs, every cost only when asked."""

    params: np.ndarray
    """(k, n_params): the weights each run's optimizer reports (``train.reported_params``)."""
    final_costs: np.ndarray
    costs: np.ndarray
    """(k, ceil(epochs / COST_EVERY)): the epoch cost at epochs 0, 100, 200, ..."""
    diverged_epochs: list[int | None]
    train_correct: np.ndarray
    histories: list[History] | None = None
    engine: Engine = NUMPY
    """The engine that trained the chunk (``StackResult.engine``)."""
    numpy_updates: tuple[str, ...] = ()
    """Its optimizers the compiled engine updated with numpy (``StackResult.numpy_updates``)."""


def train_chunk(
    job: TrainingJob,
    chunk: ChunkPlan,
    progress: RunEpochsCallback | None = None,
    keep_histories: bool = False,
    saving: ChunkSaving | None = None,
    interrupted: Callable[[], bool] | None = None,
) -> ChunkResult:
    """Train one chunk with one ``train_stack`` call and measure each run's accuracy.

    With ``saving`` the chunk's state goes to its checkpoint file every ``saving.every``
    epochs, when ``interrupted()`` turns True (then ``TrainingInterrupted`` is raised) and when
    it finishes; when resuming, a finished chunk is read back without training and a partial
    one continues from its file, ending exactly as if it had never stopped."""
    network = Network(job.layer_sizes)
    seeds = [run_seeds(seed) for seed in chunk.seeds]
    groups = [job.run_group(group) for group in chunk.groups]
    callback = None
    if progress is not None:
        report = progress

        def callback(epoch: int, costs: np.ndarray) -> None:
            report(costs.shape[0])

    prior = None
    saving_options: dict[str, Any] = {}
    if saving is not None:
        prior = saving.load(
            initial_states(network, groups), network.n_params, job.epochs, job.batches_per_epoch
        )
        saving_options = {
            "checkpoint": saving.save,
            "checkpoint_every": saving.every,
            "interrupted": interrupted,
        }
    # One BLAS thread per process whatever --jobs, so the process count changes no bit.
    with one_thread_per_process():
        stack = resume_stack(
            network, job.X, job.Y, groups, epochs=job.epochs, prior=prior,
            init_seeds=[s.init_seed for s in seeds],
            shuffle_seeds=[s.shuffle_seed for s in seeds],
            batch_size=job.batch_size, on_epoch_end=callback, engine=job.engine,
            **saving_options,
        )  # fmt: skip
    if saving is not None and (prior is None or prior.epochs_done < job.epochs):
        # The finished state, so that a resumed sweep reads this chunk back untrained.
        saving.save(snapshot_of(stack, job.epochs))
    epoch_costs = np.stack([history.epoch_costs for history in stack.histories])
    weights = reported_params(groups, stack.opt_states, stack.params)
    return ChunkResult(
        params=weights,
        final_costs=epoch_costs[:, -1].copy(),
        costs=epoch_costs[:, ::COST_EVERY].copy(),
        diverged_epochs=list(stack.diverged_epochs),
        train_correct=count_correct(network, weights, job.X, job.Y),
        histories=list(stack.histories) if keep_histories else None,
        engine=stack.engine,
        numpy_updates=stack.numpy_updates,
    )


def count_correct(network: Network, params: np.ndarray, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """How many examples each of the K runs of ``params`` (K, n_params) classifies right
    (``nn.predicted_classes``: A > 0.5 for one output, else the most probable class)."""
    with np.errstate(over="ignore", invalid="ignore"):  # a diverged run's parameters are NaN
        predictions = predict_classes(network, params, X)
    return (predictions == labels_from_targets(Y)).sum(axis=-1)
