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

from descentlab import optim
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
    """An upper estimate, in bytes, of the memory one run of a stack takes while it trains.

    In floats of 8 bytes, per run: parameters, gradients, the largest optimizer state of the
    sweep (measured from ``init``) and four update temporaries, each n_params; per batch size,
    and for the accuracy pass over all m examples after training, the workspaces Z, A and dZ,
    each (n_l, width) for every layer l (and a 1-byte mask); the epoch's logits and outputs
    and six (1, m) rows for its cost; a private shuffled copy of the data; the cost histories,
    epochs x (1 + batches per epoch), and one more copy of the epoch costs.
    """
    network = config.network(n_features, n_classes)
    n_outputs = network.layer_sizes[-1]
    n_params = network.n_params
    state = max(_state_arrays(c.optimizer, c.settings, n_params) for c in config.configurations)
    batch = n_examples if config.batch_size is None else min(config.batch_size, n_examples)
    n_batches = -(-n_examples // batch)
    widths = {batch, n_examples % batch} - {0}
    units = sum(network.layer_sizes[1:])
    workspaces = sum((3 * 8 + 1) * units * width for width in (*widths, n_examples))
    costs = 8 * n_outputs * (2 * n_batches * batch + 6 * n_examples)
    data = 8 * (n_features + n_outputs) * n_examples
    optimizer = 8 * n_params * (2 + state + 4)
    histories = 8 * config.epochs * (2 + n_batches)
    return workspaces + costs + data + optimizer + histories


def _state_arrays(name: str, settings: Mapping[str, Value], n_params: int) -> int:
    """How many parameter-sized arrays the optimizer's state holds."""
    state = optim.get(name, **settings).init(np.zeros((1, n_params)))
    leaves = state if isinstance(state, tuple) else (state,)
    return sum(leaf.size for leaf in leaves if isinstance(leaf, np.ndarray)) // n_params


def default_max_stack(per_run: int, budget: int = MEMORY_BUDGET) -> int:
    """As many runs as fit in ``budget`` bytes by ``bytes_per_run``'s estimate (at least 1)."""
    return max(1, budget // per_run)


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
