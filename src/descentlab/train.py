"""The one training loop: every optimizer, every batch size, one run or a stack of K runs.

A stack trains K runs of one architecture and batch size together: parameters of shape
(K, n_params), one vectorised forward/backward per mini-batch for all runs, and one optimizer
update per group of runs that share an optimizer kind (their hyperparameters may differ: they
broadcast as (k, 1) arrays). Runs may also differ in initialisation and shuffle seeds. Every
operation is elementwise per run or a per-run matrix product, so each run's history and
parameters equal training it alone, bit for bit.

``train_stack`` is deliberately one function that reads top to bottom, the loop and its
bookkeeping in one place, which is why this module is longer than most. Continuing a stack
from a checkpoint is ``descentlab.resume``'s job.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from descentlab.batch_objective import BatchObjective
from descentlab.batching import batch_bounds, epoch_seed, permutation
from descentlab.engines import Engine, Setting, cannot_import
from descentlab.engines import resolve as resolve_engine
from descentlab.history import History
from descentlab.losses import cross_entropy_from_label_probability, label_probability
from descentlab.nn import COURSE_INIT_SEED, Network, Workspace, he_initialization
from descentlab.optim import Optimizer, OptState, drive
from descentlab.optim.base import reported_params as optim_reported_params
from descentlab.optim.layout import Layout
from descentlab.seeds import COURSE_SHUFFLE_SEED
from descentlab.threads import blas_threads_for, product_size
from descentlab.validation import check_epochs, check_int

if TYPE_CHECKING:
    from descentlab.compiled.stack import CompiledStack

DIVERGENCE_FACTOR = 100.0
"""A run has diverged once an epoch's cost is NaN, infinite, or more than this many times the
cost of its very first mini-batch (measured at the initial parameters)."""

GATHER_PER_EPOCH_LIMIT = 32 * 2**20
"""Above this many bytes of (per-run) inputs, batches are gathered one at a time."""

EpochCallback = Callable[[int, float], None]
StackEpochCallback = Callable[[int, np.ndarray], None]


@dataclass(frozen=True)
class TrainResult:
    params: np.ndarray
    """The final parameters, flat (see ``descentlab.nn.Network.layers``)."""
    opt_state: OptState
    history: History
    diverged_epoch: int | None = None
    """The first epoch whose cost was NaN, infinite or above ``DIVERGENCE_FACTOR`` times the
    initial cost, or None."""
    reported_params: np.ndarray | None = None
    """The weights the optimizer reports for evaluation and prediction when they are not
    ``params`` (ASGD's average, schedule-free's x: ``optim.base.reported_params``); None when
    they are ``params``, which is what training continues from either way."""

    @property
    def weights(self) -> np.ndarray:
        """The weights to evaluate, save and predict with: ``reported_params`` or ``params``."""
        return self.params if self.reported_params is None else self.reported_params


@dataclass(frozen=True)
class RunGroup:
    """``size`` consecutive runs of a stack updated by one optimizer (built for that many runs:
    its hyperparameters are numbers or arrays of shape (size, 1))."""

    optimizer: Optimizer
    size: int


@dataclass(frozen=True)
class EpochSnapshot:
    """Everything a stack needs to continue after ``epochs_done`` epochs (a checkpoint)."""

    epochs_done: int
    params: np.ndarray
    opt_states: list[OptState]
    epoch_costs: np.ndarray
    """(K, epochs run by this call so far)."""
    minibatch_costs: np.ndarray
    diverged_epochs: list[int | None]
    reference_costs: np.ndarray
    """Each run's first mini-batch cost, the yardstick of divergence."""


@dataclass(frozen=True)
class EpochDetail:
    """What ``train_stack``'s ``on_epoch_detail`` observes after one epoch, for live views.

    Every array is a view of the training's own buffers, valid only during the call: an
    observer copies what it keeps and never writes to them."""

    epoch: int
    """The epoch just finished (0-based, counting from the start of the whole run)."""
    epoch_costs: np.ndarray
    """(K,): each run's cost of this epoch."""
    minibatch_costs: np.ndarray
    """(K, batches_per_epoch): each run's mini-batch costs of this epoch, in order."""
    params: np.ndarray
    """(K, n_params): the weights after this epoch that each optimizer reports (its
    parameters, unless it reports others: ``reported_params``)."""
    diverged_epochs: Sequence[int | None]
    """Each run's divergence epoch so far (see ``TrainResult.diverged_epoch``)."""


EpochDetailCallback = Callable[[EpochDetail], None]


class TrainingInterrupted(Exception):
    """Raised at an epoch boundary when ``interrupted()`` said so; the snapshot of that epoch
    has been handed to ``checkpoint`` first."""

    def __init__(self, epochs_done: int) -> None:
        super().__init__(f"interrupted after epoch {epochs_done - 1}")
        self.epochs_done = epochs_done


@dataclass(frozen=True)
class StackResult:
    params: np.ndarray
    """Final parameters, shape (K, n_params), runs in group order."""
    opt_states: list[OptState]
    """One optimizer state per group."""
    histories: list[History]
    diverged_epochs: list[int | None]
    engine: Engine = "numpy"
    """The engine that trained the stack (``descentlab.engines``)."""
    numpy_updates: tuple[str, ...] = ()
    """With the compiled engine: the optimizers (names) that have no compiled update, which
    were updated by their numpy update between compiled passes; empty otherwise."""

    def run(self, index: int, opt_state: OptState = None) -> TrainResult:
        return TrainResult(
            params=self.params[index],
            opt_state=opt_state,
            history=self.histories[index],
            diverged_epoch=self.diverged_epochs[index],
        )


def reported_params(
    groups: Sequence[RunGroup], states: Sequence[OptState], params: np.ndarray
) -> np.ndarray:
    """The weights each run's optimizer reports (``optim.base.reported_params``), shape
    (K, n_params): ``params`` itself when no optimizer reports other weights, else a new array
    with those runs' rows replaced."""
    if all(group.optimizer.report is None for group in groups):
        return params
    reported = params.copy()
    start = 0
    for group, state in zip(groups, states, strict=True):
        part = slice(start, start + group.size)
        reported[part] = optim_reported_params(group.optimizer, state, params[part])
        start += group.size
    return reported


def _initial_params(network: Network, init_seeds: Sequence[int], dtype: np.dtype) -> np.ndarray:
    by_seed = {seed: he_initialization(network, seed) for seed in dict.fromkeys(init_seeds)}
    return np.stack([by_seed[seed] for seed in init_seeds]).astype(dtype)


def train_stack(
    network: Network,
    X: np.ndarray,
    Y: np.ndarray,
    groups: Sequence[RunGroup],
    *,
    init_seeds: Sequence[int],
    shuffle_seeds: Sequence[int],
    epochs: int = 10000,
    batch_size: int | None = 64,
    params: np.ndarray | None = None,
    opt_states: Sequence[OptState] | None = None,
    start_epoch: int = 0,
    dtype: type[np.floating] = np.float64,
    on_epoch_end: StackEpochCallback | None = None,
    on_epoch_detail: EpochDetailCallback | None = None,
    should_stop: Callable[[int, np.ndarray], bool] | None = None,
    checkpoint: Callable[[EpochSnapshot], None] | None = None,
    checkpoint_every: int = 0,
    interrupted: Callable[[], bool] | None = None,
    reference_costs: np.ndarray | None = None,
    diverged_epochs: Sequence[int | None] | None = None,
    sample_weight: np.ndarray | None = None,
    engine: Setting | str | None = None,
) -> StackResult:
    """Train K = sum(group sizes) runs together on X (n_x, m) and Y (1, m).

    Run k starts from ``he_initialization(network, init_seeds[k])`` (unless ``params`` of
    shape (K, n_params) is given); before epoch e its columns are shuffled with
    ``permutation(m, shuffle_seeds[k] + e + 1)`` and cut into batches of ``batch_size``
    (``None``: all m), the last one smaller when m is not a multiple. Each batch: forward,
    backward, one update per group. The cost of each batch (measured before its update) and
    each epoch (the sum over the epoch's examples divided by m) are recorded per run.
    ``on_epoch_end(epoch, epoch_costs)`` gets the K epoch costs after every epoch, then
    ``on_epoch_detail(EpochDetail(...))`` that epoch's mini-batch costs and parameters too
    (views to copy from, for live views; neither callback changes a number).

    To continue a stack, pass its ``params`` and ``opt_states`` and the number of epochs
    already run as ``start_epoch``: the shuffles go on with epoch ``start_epoch`` and the
    optimizers with their step counts, so the continuation equals one uninterrupted run.
    Histories cover the ``epochs`` run by this call; divergence epochs count from 0 overall.
    ``should_stop(epoch, weights)``, called after every epoch with the weights the optimizers
    report (``reported_params``; the parameters, for most), ends training early when it
    returns True (the histories then end at that epoch).

    ``checkpoint(snapshot)`` is called after every ``checkpoint_every``-th epoch (counting
    from epoch 0 overall) and, when ``interrupted()`` returns True after an epoch, once more
    before ``TrainingInterrupted`` is raised. To continue from a snapshot, pass its params,
    opt_states, ``start_epoch=epochs_done``, ``reference_costs`` and ``diverged_epochs``.

    ``sample_weight`` (shape (m,): finite, >= 0, not all 0) weights the examples, as
    scikit-learn's ``MLPClassifier`` does: each mini-batch minimises its weighted mean cost
    sum_i w_i L_i / sum_i w_i (the gradient of a batch whose weights sum to 0 is 0; the
    optimizer still takes its step), a mini-batch's recorded cost is that weighted mean (0 for
    a zero-weight batch) and an epoch's is sum_i w_i L_i / sum_i w_i over all m examples. The
    weights are shuffled with the columns. The yardstick of divergence is then the first
    mini-batch of positive weight. ``None`` (the default) is the unweighted path, unchanged,
    bit for bit: it is not computed as weights of one.

    ``engine`` (``descentlab.engines``: ``numpy``, ``compiled`` or ``auto``; None: the one
    configured, ``numpy`` when nothing is) says which engine trains; ``StackResult.engine``
    records the one that did.
    """
    chosen_engine = resolve_engine(engine)
    epochs = check_epochs(epochs)
    n_runs = sum(check_int("group size", group.size, minimum=1) for group in groups)
    if len(init_seeds) != n_runs or len(shuffle_seeds) != n_runs:
        raise ValueError(
            f"need one init seed and one shuffle seed per run ({n_runs}), got "
            f"{len(init_seeds)} and {len(shuffle_seeds)}"
        )
    m = X.shape[1]
    X = np.asarray(X, dtype=dtype)
    Y = np.asarray(Y, dtype=dtype)
    weights = None if sample_weight is None else _checked_sample_weight(sample_weight, m, dtype)
    bounds = batch_bounds(m, m if batch_size is None else batch_size)
    if params is None:
        params = _initial_params(network, init_seeds, np.dtype(dtype))
    else:
        params = np.array(params, dtype=dtype).reshape(n_runs, network.n_params)
    grads = np.zeros_like(params)
    lead: tuple[int, ...] = (n_runs,)
    # A lone run trains on 2-D arrays (no run axis): numpy's calls are a little cheaper.
    lone = n_runs == 1 and len(set(shuffle_seeds)) == 1
    pass_params, pass_grads, lead = (params[0], grads[0], ()) if lone else (params, grads, lead)
    workspaces = {
        stop - start: Workspace(network, pass_params, stop - start, grads=pass_grads, lead=lead)
        for start, stop in bounds
    }
    starts = np.cumsum([0] + [group.size for group in groups])
    slices = [slice(a, b) for a, b in itertools.pairwise(starts)]
    _check_full_batch(groups, len(bounds), batch_size)
    layout = Layout.of_network(network.layer_sizes)
    if opt_states is None:
        states = [
            drive.start(group.optimizer, params[part], layout)
            for group, part in zip(groups, slices, strict=True)
        ]
    else:
        if len(opt_states) != len(groups):
            raise ValueError(f"need one optimizer state per group ({len(groups)})")
        states = list(opt_states)
    start_epoch = check_int("start_epoch", start_epoch, minimum=0)
    shared_order = len(set(shuffle_seeds)) == 1
    distinct_seeds = list(dict.fromkeys(shuffle_seeds))
    run_of_seed = [distinct_seeds.index(seed) for seed in shuffle_seeds]

    n_batches = len(bounds)
    # Z_L and A_L of every batch are written straight into the epoch's logits and outputs, so
    # the epoch's costs are computed once, after the epoch.
    n_outputs = network.layer_sizes[-1]
    logits = np.empty((n_runs, n_outputs, m), dtype)
    outputs = np.empty((n_runs, n_outputs, m), dtype)
    run_axis = () if shared_order else (n_runs,)
    # Small data is shuffled once per epoch into one buffer that the batches are views of, as
    # the course does. Large data is gathered batch by batch instead, so no shuffled copy of
    # the whole dataset is ever made; both give the same numbers.
    per_batch = X.nbytes * (1 if shared_order else n_runs) > GATHER_PER_EPOCH_LIMIT
    shuffled_Y = np.empty((*run_axis, *Y.shape), dtype)
    # Sample weights are an extra path: the weights shuffled with the columns, and each
    # batch's weights divided by their sum (what its backward pass multiplies dZ_L by).
    shuffled_w = normalised_w = None
    if weights is not None:
        shuffled_w = np.empty((*run_axis, 1, m), dtype)
        normalised_w = np.empty_like(shuffled_w)
    if per_batch:
        batch_buffers = {
            stop - start: np.empty((*run_axis, X.shape[0], stop - start), dtype)
            for start, stop in bounds
        }
        batch_sources = [batch_buffers[stop - start] for start, stop in bounds]
    else:
        shuffled_X = np.empty((*run_axis, *X.shape), dtype)
        batch_sources = [shuffled_X[..., start:stop] for start, stop in bounds]
    steps = [
        (
            workspaces[stop - start].bind(
                workspaces[stop - start].cache_for(
                    batch_sources[j],
                    (logits[0] if lone else logits)[..., start:stop],
                    (outputs[0] if lone else outputs)[..., start:stop],
                ),
                None if normalised_w is None else normalised_w[..., start:stop],
            ),
            shuffled_Y[..., start:stop],
            slice(start, stop),
        )
        for j, (start, stop) in enumerate(bounds)
    ]
    compiled = None
    if chosen_engine == "compiled":
        if weights is not None or np.dtype(dtype) != np.float64 or per_batch:
            chosen_engine = "numpy"  # what the compiled engine does not do (descentlab.compiled)
        else:
            compiled = _compiled_stack(
                network, params, grads, groups, states, bounds, shared_order, X, Y
            )
    # The compiled kernel shuffles for itself; the numpy updates between its batches need the
    # shuffled data only when some optimizer is updated by numpy.
    numpy_shuffle = compiled is None or not compiled.whole_epochs
    updates_by_group = [
        (index, group.optimizer.update, grads[part], params[part])
        for index, (group, part) in enumerate(zip(groups, slices, strict=True))
        if not group.optimizer.needs and (compiled is None or compiled.rules[index] is None)
    ]
    # The groups whose optimizer needs more than the gradient (``optim.base``) are updated
    # through their own loop below, handed just the keywords they name.
    needy_groups = [
        (index, group.optimizer, part, BatchObjective(network, group.size, dtype))
        for index, (group, part) in enumerate(zip(groups, slices, strict=True))
        if group.optimizer.needs
    ]
    full = bounds[0][1] - bounds[0][0]
    rng = np.random.RandomState()
    epoch_costs = np.empty((n_runs, epochs))
    minibatch_costs = np.empty((n_runs, epochs * n_batches))
    batch_sizes = np.array([stop - start for start, stop in bounds], dtype=float)
    diverged: list[int | None] = (
        [None] * n_runs if diverged_epochs is None else list(diverged_epochs)
    )
    # Without observers of single epochs, the compiled engine trains a block of epochs per
    # kernel call, shuffles included; the bookkeeping below then runs once per block.
    blocks = (
        compiled
        if compiled is not None
        and compiled.whole_epochs
        and on_epoch_detail is None
        and should_stop is None
        else None
    )
    block = 1
    if blocks is not None:
        block = blocks.block_epochs
        seed_columns = np.array(shuffle_seeds[:1] if shared_order else shuffle_seeds, np.int64)
        block_orders = np.empty((block, len(seed_columns), m), np.int64)
        block_logits = np.empty((block, *logits.shape), dtype)
        block_outputs = np.empty((block, *outputs.shape), dtype)
    # Overflow and NaN are expected in runs that diverge; they are detected and recorded below.
    # BLAS threads follow descentlab's thread policy while the epochs run (descentlab.threads).
    offset = 0
    with (
        np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"),
        blas_threads_for(product_size(network.layer_sizes, full)),
    ):
        while offset < epochs:
            epoch = start_epoch + offset
            count = min(block, epochs - offset)
            if checkpoint is not None and checkpoint_every:
                count = min(count, checkpoint_every - epoch % checkpoint_every)
            if blocks is not None:
                seeds = epoch_seed(seed_columns, np.arange(epoch, epoch + count)[:, np.newaxis])
                blocks.train_epochs(
                    seeds, block_orders[:count], block_logits[:count], block_outputs[:count]
                )
                # (count, R, C, m): each epoch's labels in its shuffled order
                epochs_Y = np.moveaxis(np.take(Y, block_orders[:count], axis=1), 0, -2)
                epochs_logits, epochs_outputs = block_logits[:count], block_outputs[:count]
            else:
                if shared_order:
                    order = permutation(m, epoch_seed(shuffle_seeds[0], epoch), rng)
                    np.take(Y, order, axis=1, out=shuffled_Y)
                    if weights is not None and shuffled_w is not None:
                        np.take(weights, order, axis=1, out=shuffled_w)
                    if not per_batch and numpy_shuffle:
                        np.take(X, order, axis=1, out=shuffled_X)
                else:
                    orders = np.stack(
                        [permutation(m, epoch_seed(seed, epoch), rng) for seed in distinct_seeds]
                    )[run_of_seed]
                    for run in range(n_runs):
                        np.take(Y, orders[run], axis=1, out=shuffled_Y[run])
                        if weights is not None and shuffled_w is not None:
                            np.take(weights, orders[run], axis=1, out=shuffled_w[run])
                        if not per_batch and numpy_shuffle:
                            np.take(X, orders[run], axis=1, out=shuffled_X[run])
                if shuffled_w is not None and normalised_w is not None:
                    weight_totals = np.stack(
                        [np.add.reduce(shuffled_w[..., 0, a:b], axis=-1) for a, b in bounds],
                        axis=-1,
                    )
                    # A batch of total weight 0 is divided by infinity: weights 0, gradient 0.
                    divisors = np.where(weight_totals > 0, weight_totals, np.inf)
                    for j, (start, stop) in enumerate(bounds):
                        np.divide(
                            shuffled_w[..., start:stop],
                            divisors[..., j, np.newaxis, np.newaxis],
                            out=normalised_w[..., start:stop],
                        )
                if compiled is not None:
                    epoch_orders = order[np.newaxis] if shared_order else orders
                if compiled is not None and compiled.whole_epochs:
                    compiled.train(epoch_orders, logits, outputs, 0, n_batches)
                for j, (step, batch_Y, columns) in enumerate(steps):
                    if compiled is not None and compiled.whole_epochs:
                        break
                    if per_batch:
                        batch_X = step.cache.activations[0]
                        if shared_order:
                            np.take(X, order[columns], axis=1, out=batch_X)
                        else:
                            for run in range(n_runs):
                                np.take(X, orders[run, columns], axis=1, out=batch_X[run])
                    if compiled is None:
                        step.forward()
                        step.backward(batch_Y)
                    else:
                        compiled.train(epoch_orders, logits, outputs, j, j + 1)
                    for index, update, group_grads, group_params in updates_by_group:
                        updates, states[index] = update(group_grads, states[index], group_params)
                        group_params += updates
                    for index, optimizer, part, objective in needy_groups:
                        runs = slice(None) if shared_order else part
                        objective.at(
                            step.cache.activations[0][runs],
                            batch_Y[runs],
                            None if normalised_w is None else normalised_w[runs, ..., columns],
                        )
                        group_params = params[part]
                        given = drive.extras(
                            optimizer,
                            group_params,
                            objective.value(outputs[part, ..., columns], logits[part, ..., columns])
                            if "value" in optimizer.needs
                            else np.empty(0),
                            objective,
                            layout,
                        )
                        updates, states[index] = optimizer.update(
                            grads[part], states[index], group_params, **given
                        )
                        group_params += updates
                epochs_Y = shuffled_Y[np.newaxis]
                epochs_logits, epochs_outputs = logits[np.newaxis], outputs[np.newaxis]
            done = slice(offset, offset + count)
            batch_totals = _batch_totals(
                epochs_logits, epochs_outputs, epochs_Y, shuffled_w, bounds
            )  # (count, K, n_batches)
            # The epoch total adds the batch totals left to right, as the course's loop does.
            cost_total = np.add.accumulate(batch_totals, axis=-1)[..., -1]
            minibatches = slice(offset * n_batches, (offset + count) * n_batches)
            if shuffled_w is None:
                minibatch_costs[:, minibatches] = _by_run(batch_totals / batch_sizes)
                epoch_costs[:, done] = (cost_total / m).T
            else:
                minibatch_costs[:, minibatches] = _by_run(batch_totals / divisors)
                epoch_costs[:, done] = (
                    cost_total / np.add.accumulate(weight_totals, axis=-1)[..., -1]
                ).T
            if reference_costs is None and shuffled_w is not None:
                positive = np.broadcast_to(weight_totals > 0, (n_runs, n_batches))
                first = np.argmax(positive, axis=-1)
                reference_costs = minibatch_costs[np.arange(n_runs), first]
            if reference_costs is None:
                reference_costs = minibatch_costs[:, 0].copy()
            blown_up = ~(epoch_costs[:, done] <= DIVERGENCE_FACTOR * reference_costs[:, np.newaxis])
            if blown_up.any():
                for bad in np.flatnonzero(blown_up.any(axis=-1)).tolist():
                    if diverged[bad] is None:
                        diverged[bad] = epoch + int(np.argmax(blown_up[bad]))
            if on_epoch_end is not None:
                for index in range(count):
                    on_epoch_end(epoch + index, epoch_costs[:, offset + index])
            offset += count
            last = epoch + count - 1  # the block's last epoch (count is 1 with observers)
            evaluated = (
                reported_params(groups, states, params)
                if on_epoch_detail is not None or should_stop is not None
                else params
            )
            if on_epoch_detail is not None:
                on_epoch_detail(
                    EpochDetail(
                        last,
                        epoch_costs[:, offset - 1],
                        minibatch_costs[:, (offset - 1) * n_batches : offset * n_batches],
                        evaluated,
                        diverged,
                    )
                )
            stop = should_stop is not None and should_stop(last, evaluated)
            halt = interrupted is not None and interrupted()
            if checkpoint is not None and (
                halt or stop or (checkpoint_every and (last + 1) % checkpoint_every == 0)
            ):
                if compiled is not None:
                    states = compiled.states(states)
                checkpoint(
                    EpochSnapshot(
                        epochs_done=last + 1,
                        params=params,
                        opt_states=states,
                        epoch_costs=epoch_costs[:, :offset],
                        minibatch_costs=minibatch_costs[:, : offset * n_batches],
                        diverged_epochs=diverged,
                        reference_costs=reference_costs,
                    )
                )
            if halt:
                raise TrainingInterrupted(last + 1)
            if stop:
                epoch_costs = epoch_costs[:, :offset]
                minibatch_costs = minibatch_costs[:, : offset * n_batches]
                break
    histories = [
        History(epoch_costs[run], minibatch_costs[run], batches_per_epoch=len(bounds))
        for run in range(n_runs)
    ]
    if compiled is None:
        return StackResult(params, states, histories, diverged, engine=chosen_engine)
    return StackResult(
        params,
        compiled.states(states),
        histories,
        diverged,
        engine=chosen_engine,
        numpy_updates=compiled.numpy_updates,
    )


def train(
    network: Network,
    X: np.ndarray,
    Y: np.ndarray,
    optimizer: Optimizer,
    *,
    epochs: int = 10000,
    batch_size: int | None = 64,
    init_seed: int = COURSE_INIT_SEED,
    shuffle_seed: int = COURSE_SHUFFLE_SEED,
    params: np.ndarray | None = None,
    opt_state: OptState = None,
    start_epoch: int = 0,
    dtype: type[np.floating] = np.float64,
    on_epoch_end: EpochCallback | None = None,
    should_stop: Callable[[int, np.ndarray], bool] | None = None,
    sample_weight: np.ndarray | None = None,
    engine: Setting | str | None = None,
) -> TrainResult:
    """Train one run: ``train_stack`` with K = 1 (the course's ``model``).

    Parameters start from ``he_initialization(network, init_seed)`` unless ``params`` is given;
    before epoch e (0-based) the columns are shuffled with ``permutation(m, shuffle_seed + e + 1)``
    and cut into batches of ``batch_size`` (``None``: one batch of all m examples).
    ``on_epoch_end(epoch, epoch_cost)`` is called after every epoch. ``opt_state`` and
    ``start_epoch`` continue an earlier run, ``should_stop(epoch, params)`` ends it early,
    ``sample_weight`` weights its examples and ``engine`` chooses the engine (see
    ``train_stack``).
    """
    callback = None
    if on_epoch_end is not None:
        report = on_epoch_end

        def callback(epoch: int, costs: np.ndarray) -> None:
            report(epoch, float(costs[0]))

    stacked = train_stack(
        network,
        X,
        Y,
        [RunGroup(optimizer, 1)],
        init_seeds=[init_seed],
        shuffle_seeds=[shuffle_seed],
        epochs=epochs,
        batch_size=batch_size,
        params=None if params is None else params[np.newaxis],
        opt_states=None if opt_state is None else [_stack_state(opt_state)],
        start_epoch=start_epoch,
        dtype=dtype,
        on_epoch_end=callback,
        should_stop=None if should_stop is None else _one_run(should_stop),
        sample_weight=sample_weight,
        engine=engine,
    )
    state = stacked.opt_states[0]
    result = stacked.run(0, opt_state=squeeze_state(state))
    if optimizer.report is None:
        return result
    reported = reported_params([RunGroup(optimizer, 1)], [state], stacked.params)
    return dataclasses.replace(result, reported_params=reported[0])


def _batch_totals(
    logits: np.ndarray,
    outputs: np.ndarray,
    Y: np.ndarray,
    weights: np.ndarray | None,
    bounds: Sequence[tuple[int, int]],
) -> np.ndarray:
    """Each run's total cost of each mini-batch of B epochs, shape (B, K, n_batches), from the
    epochs' logits and outputs (B, K, C, m), their labels in the epochs' shuffled order ``Y``
    (broadcast against them) and the shuffled sample weights (None: unweighted).

    Each batch's total is a pairwise sum over its contiguous columns, as np.sum does: one
    reduction over the equal full batches, one for a smaller last batch."""
    probabilities = label_probability(outputs, Y)
    terms = cross_entropy_from_label_probability(probabilities, logits, Y)
    if weights is not None:
        terms = terms * weights
    lead = terms.shape[:-2]
    full = bounds[0][1] - bounds[0][0]
    n_full = len(bounds) if bounds[-1][1] - bounds[-1][0] == full else len(bounds) - 1
    totals = np.empty((*lead, len(bounds)))
    totals[..., :n_full] = np.add.reduce(
        terms[..., 0, : n_full * full].reshape(*lead, n_full, full), axis=-1
    )
    for j in range(n_full, len(bounds)):
        start, stop = bounds[j]
        totals[..., j] = np.add.reduce(terms[..., 0, start:stop], axis=-1)
    return totals


def _by_run(per_epoch: np.ndarray) -> np.ndarray:
    """(B, K, n) values of B epochs as (K, B * n): each run's values, epoch after epoch."""
    if per_epoch.shape[0] == 1:  # the numpy engine's every epoch: no copy
        return per_epoch[0]
    return per_epoch.transpose(1, 0, 2).reshape(per_epoch.shape[1], -1)


def _compiled_stack(
    network: Network,
    params: np.ndarray,
    grads: np.ndarray,
    groups: Sequence[RunGroup],
    states: Sequence[OptState],
    bounds: Sequence[tuple[int, int]],
    shared_order: bool,
    X: np.ndarray,
    Y: np.ndarray,
) -> CompiledStack:
    """The compiled engine's state for this stack; numba is imported here, on first use (an
    ``EngineUnavailable`` in one line when it is installed but cannot be imported)."""
    try:
        from descentlab.compiled.stack import CompiledStack
    except ImportError as error:  # e.g. a numba built for another numpy
        raise cannot_import(error) from error

    n_runs = params.shape[0]
    return CompiledStack(
        network,
        params,
        grads,
        [group.optimizer for group in groups],
        [group.size for group in groups],
        states,
        bounds,
        [0] * n_runs if shared_order else list(range(n_runs)),
        X,
        Y,
    )


def _check_full_batch(groups: Sequence[RunGroup], n_batches: int, batch_size: int | None) -> None:
    """A one-line ``ValueError`` if an optimizer that needs the whole training set in every
    batch (L-BFGS) is given mini-batches."""
    if n_batches == 1:
        return
    for group in groups:
        if "full_batch" in group.optimizer.needs:
            raise ValueError(
                f"{group.optimizer.name} is full-batch: it needs the whole training set in "
                f"every batch (batch size 'full'), got batch size {batch_size}"
            )


def _one_run(
    should_stop: Callable[[int, np.ndarray], bool],
) -> Callable[[int, np.ndarray], bool]:
    """``should_stop`` for a stack of one run: it sees that run's parameters, (n_params,)."""
    return lambda epoch, params: should_stop(epoch, params[0])


def _checked_sample_weight(
    sample_weight: np.ndarray, m: int, dtype: type[np.floating]
) -> np.ndarray:
    """``sample_weight`` as a (1, m) row of ``dtype``; a ValueError unless it has shape (m,),
    is finite and >= 0 and has a positive sum."""
    weights: np.ndarray = np.asarray(sample_weight, dtype=dtype)
    if weights.shape != (m,):
        raise ValueError(f"sample_weight must have shape ({m},), got {weights.shape}")
    if not np.all(np.isfinite(weights)) or np.any(weights < 0) or not np.sum(weights) > 0:
        raise ValueError("sample_weight must be finite and >= 0 with a positive sum")
    return weights[np.newaxis]


def _stack_state(state: OptState) -> OptState:
    """A one-run state with a run axis of 1 added to its arrays (the inverse of
    ``squeeze_state``)."""
    if isinstance(state, tuple) and hasattr(state, "_fields"):
        return type(state)(*(_stack_state(value) for value in state))
    if isinstance(state, np.ndarray) and state.ndim >= 1:
        return state[np.newaxis]
    return state


def squeeze_state(state: OptState) -> OptState:
    """A one-run group's state with the run axis dropped from its arrays."""
    if isinstance(state, tuple) and hasattr(state, "_fields"):
        return type(state)(*(squeeze_state(value) for value in state))
    if isinstance(state, np.ndarray) and state.ndim >= 1 and state.shape[0] == 1:
        return state[0]
    return state
