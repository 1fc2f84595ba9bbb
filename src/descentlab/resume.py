"""The one resume path: continue a stack from a checkpoint's snapshot as if it had never
stopped.

``resume_stack`` restores the state a snapshot holds (parameters, each optimizer group's state
with its step count, the epoch, the divergence bookkeeping), trains the epochs not yet done
with ``train_stack``, and joins the histories: what it returns, and every snapshot it hands to
``checkpoint``, covers the whole run, the earlier sessions' epochs included. So a run resumed
any number of times ends with the numbers of one never stopped, and each checkpoint is
everything the next resume needs. ``compare``/``train`` (``descentlab.experiment``) and every
chunk of a sweep (``descentlab.sweep.chunk``) continue through it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from descentlab.engines import resolve as resolve_engine
from descentlab.history import History
from descentlab.nn import Network
from descentlab.optim import OptState, drive
from descentlab.optim.layout import Layout
from descentlab.train import EpochSnapshot, RunGroup, StackResult, train_stack


def initial_states(
    network: Network, groups: Sequence[RunGroup], dtype: type[np.floating] = np.float64
) -> list[OptState]:
    """Each group's freshly initialised optimizer state: the types a checkpoint's states are
    rebuilt as (``descentlab.checkpoint.load``)."""
    layout = Layout.of_network(network.layer_sizes)
    return [
        drive.start(group.optimizer, np.zeros((group.size, network.n_params), dtype=dtype), layout)
        for group in groups
    ]


def resume_stack(
    network: Network,
    X: np.ndarray,
    Y: np.ndarray,
    groups: Sequence[RunGroup],
    *,
    epochs: int,
    prior: EpochSnapshot | None,
    finished: bool = False,
    checkpoint: Callable[[EpochSnapshot], None] | None = None,
    **options: Any,
) -> StackResult:
    """``train_stack`` for ``epochs`` epochs in all, continuing ``prior`` (None: from the
    start). With ``prior`` at ``epochs`` already, or ``finished`` (nothing left to train, e.g.
    every run stopped early), nothing is trained and the stack is as ``prior`` left it.
    ``options`` are ``train_stack``'s other keywords."""
    if prior is None:
        return train_stack(network, X, Y, groups, epochs=epochs, checkpoint=checkpoint, **options)
    if finished or prior.epochs_done >= epochs:
        # Nothing trains: the record names the engine in force, the one the run continues with.
        return replace(stack_of(prior), engine=resolve_engine(options.get("engine")))
    whole = None if checkpoint is None else _whole_snapshots(prior, checkpoint)
    stack = train_stack(
        network,
        X,
        Y,
        groups,
        epochs=epochs - prior.epochs_done,
        params=prior.params,
        opt_states=prior.opt_states,
        start_epoch=prior.epochs_done,
        reference_costs=prior.reference_costs,
        diverged_epochs=prior.diverged_epochs,
        checkpoint=whole,
        **options,
    )
    return joined(prior, stack)


def _whole_snapshots(
    prior: EpochSnapshot, checkpoint: Callable[[EpochSnapshot], None]
) -> Callable[[EpochSnapshot], None]:
    """``checkpoint`` receiving, instead of what this session trained, the whole history."""

    def write(snapshot: EpochSnapshot) -> None:
        checkpoint(
            replace(
                snapshot,
                epoch_costs=np.concatenate([prior.epoch_costs, snapshot.epoch_costs], axis=1),
                minibatch_costs=np.concatenate(
                    [prior.minibatch_costs, snapshot.minibatch_costs], axis=1
                ),
            )
        )

    return write


def joined(prior: EpochSnapshot, stack: StackResult) -> StackResult:
    """The histories of ``prior`` followed by those of the session that continued it."""
    histories = [
        History(
            np.concatenate([prior.epoch_costs[run], history.epoch_costs]),
            np.concatenate([prior.minibatch_costs[run], history.minibatch_costs]),
            history.batches_per_epoch,
        )
        for run, history in enumerate(stack.histories)
    ]
    return replace(stack, histories=histories)


def stack_of(snapshot: EpochSnapshot) -> StackResult:
    """A stack as ``snapshot`` left it (its histories are the snapshot's)."""
    batches_per_epoch = snapshot.minibatch_costs.shape[1] // snapshot.epoch_costs.shape[1]
    histories = [
        History(snapshot.epoch_costs[run], snapshot.minibatch_costs[run], batches_per_epoch)
        for run in range(snapshot.params.shape[0])
    ]
    return StackResult(
        snapshot.params, snapshot.opt_states, histories, list(snapshot.diverged_epochs)
    )


def snapshot_of(stack: StackResult, epochs_done: int) -> EpochSnapshot:
    """The snapshot of a whole stack after ``epochs_done`` epochs (every run's history, each
    run's first mini-batch cost as its yardstick of divergence)."""
    minibatch_costs = np.stack([history.minibatch_costs for history in stack.histories])
    return EpochSnapshot(
        epochs_done=epochs_done,
        params=stack.params,
        opt_states=stack.opt_states,
        epoch_costs=np.stack([history.epoch_costs for history in stack.histories]),
        minibatch_costs=minibatch_costs,
        diverged_epochs=list(stack.diverged_epochs),
        reference_costs=minibatch_costs[:, 0].copy(),
    )
