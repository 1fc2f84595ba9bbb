"""Packing a sweep's runs into stacks: as few ``train_stack`` calls as memory allows.

Runs whose optimizers can share one stacked optimizer (equal ``optim.stack.stack_key``: the
same optimizer, switches and zero pattern; numbers may differ) form one group of a stack, and
runs of every seed share a stack (each run keeps its own initialisation and batch order). A
stack larger than ``max_stack`` runs is cut into chunks of near-equal size; the default
``max_stack`` keeps a chunk within ``MEMORY_BUDGET`` by ``bytes_per_run``'s estimate.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from descentlab import budget, optim
from descentlab.optim.stack import stack_key
from descentlab.sweep.config import SweepConfig
from descentlab.sweep.grid import Value
from descentlab.validation import check_int

MEMORY_BUDGET = 512 * 2**20
"""Bytes one chunk may take by ``bytes_per_run``'s estimate: sets the default ``max_stack``."""


@dataclass(frozen=True)
class GroupPlan:
    """Consecutive runs of a chunk that share one stacked optimizer."""

    optimizer: str
    settings: tuple[Mapping[str, Value], ...]
    """One per run: its learning rate (the initial one) and the hyperparameters given."""


@dataclass(frozen=True)
class ChunkPlan:
    """One ``train_stack`` call: which runs of the sweep, in which groups, with which seeds."""

    runs: tuple[int, ...]
    """Indices into ``SweepConfig.runs``, in stack order."""
    groups: tuple[GroupPlan, ...]
    seeds: tuple[int, ...]
    """The user-facing seed of each run, in stack order."""


def bytes_per_run(config: SweepConfig, n_features: int, n_examples: int, n_classes: int = 2) -> int:
    """An upper estimate, in bytes, of the memory one run of a stack takes while it trains
    (``descentlab.budget.run_parts``, the one estimate of a training run).

    In floats of 8 bytes, per run: parameters, gradients, the largest optimizer state of the
    sweep (measured from ``init``) and four update temporaries, each n_params; per batch size,
    and for the accuracy pass over all m examples after training, the workspaces Z, A and dZ,
    each (n_l, width) for every layer l (and a 1-byte mask); the epoch's logits and outputs
    and six (1, m) rows for its cost; a private shuffled copy of the data; the cost histories,
    epochs x (2 + batches per epoch), and what the report keeps per epoch.
    """
    return sum(run_parts_of(config, n_features, n_examples, n_classes).values())


def run_parts_of(
    config: SweepConfig, n_features: int, n_examples: int, n_classes: int = 2
) -> dict[str, int]:
    """``bytes_per_run`` by part (``budget.run_parts``)."""
    layer_sizes = config.network(n_features, n_classes).layer_sizes
    state = max(_state_arrays(c.optimizer, c.settings) for c in config.configurations)
    return budget.run_parts(layer_sizes, n_examples, config.batch_size, config.epochs, state)


def _state_arrays(name: str, settings: Mapping[str, Value]) -> int:
    """How many parameter-sized arrays the optimizer's state holds (``budget.state_arrays``)."""
    return budget.state_arrays(optim.get(name, **settings))


def default_max_stack(per_run: int, budget: int = MEMORY_BUDGET) -> int:
    """As many runs as fit in ``budget`` bytes by ``bytes_per_run``'s estimate (at least 1)."""
    return max(1, budget // per_run)


def check_sweep(
    config: SweepConfig,
    n_features: int,
    n_examples: int,
    n_classes: int = 2,
    max_stack: int | None = None,
    jobs: int = 1,
) -> int:
    """The sweep's chunk size (``max_stack``, or ``default_max_stack`` within
    ``MEMORY_BUDGET``), once ``budget.sweep_estimate`` of the whole sweep, trained in ``jobs``
    processes, fits in ``budget.memory_limit()``; a one-line ``ValueError`` otherwise."""
    per_run = run_parts_of(config, n_features, n_examples, n_classes)
    stack = default_max_stack(sum(per_run.values())) if max_stack is None else max_stack
    budget.check(
        budget.sweep_estimate(
            per_run,
            config.network(n_features, n_classes).layer_sizes,
            config.epochs,
            len(config.configurations),
            len(config.seeds),
            stack,
            stack_name=None if max_stack is None else f"max stack {max_stack}",
            jobs=jobs,
        )
    )
    return stack


def plan_chunks(config: SweepConfig, max_stack: int, min_chunks: int = 1) -> list[ChunkPlan]:
    """The sweep's runs cut into as few chunks as ``max_stack`` allows (at least
    ``min_chunks``, to keep that many processes busy), of near-equal sizes.

    Runs are ordered by stack key (runs that can share an optimizer are adjacent), then by
    seed, then by configuration; each chunk is a contiguous piece of that order and each of
    its groups a stretch of equal keys, so a chunk holds as few optimizer groups and as few
    distinct batch orders as the cut allows.
    """
    max_stack = check_int("max_stack", max_stack, minimum=1)
    runs = config.runs
    keys = [stack_key(c.optimizer, c.settings) for c in config.configurations]
    key_rank = {key: rank for rank, key in enumerate(dict.fromkeys(keys))}
    seed_rank = {seed: rank for rank, seed in enumerate(config.seeds)}
    order = sorted(
        range(len(runs)),
        key=lambda i: (key_rank[keys[runs[i].configuration]], seed_rank[runs[i].seed], i),
    )
    n_chunks = max(-(-len(order) // max_stack), min(min_chunks, len(order)))
    return [_chunk(config, [int(i) for i in part]) for part in np.array_split(order, n_chunks)]


def _chunk(config: SweepConfig, members: list[int]) -> ChunkPlan:
    runs, configurations = config.runs, config.configurations

    def key(index: int) -> object:
        configuration = configurations[runs[index].configuration]
        return stack_key(configuration.optimizer, configuration.settings)

    groups = []
    for _, stretch in itertools.groupby(members, key=key):
        group = [configurations[runs[index].configuration] for index in stretch]
        groups.append(GroupPlan(group[0].optimizer, tuple(c.settings for c in group)))
    return ChunkPlan(tuple(members), tuple(groups), tuple(runs[i].seed for i in members))


def chunks_of(config: SweepConfig, parts: Sequence[Sequence[int]]) -> list[ChunkPlan]:
    """The chunks holding ``parts`` (each a list of indices into ``config.runs``, in stack
    order), as ``plan_chunks`` would build them: how a resumed sweep rebuilds its stored plan."""
    n_runs = len(config.runs)
    members = [int(index) for part in parts for index in part]
    if sorted(members) != list(range(n_runs)) or any(not part for part in parts):
        raise ValueError(f"a stored sweep plan does not cover this sweep's {n_runs} runs")
    return [_chunk(config, [int(index) for index in part]) for part in parts]
