"""Muon: momentum orthogonalised by Newton-Schulz on the hidden weight matrices, AdamW on the
biases and the output layer, as ``torch.optim.Muon`` beside ``torch.optim.AdamW``."""

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple

import numpy as np

from descentlab.optim.adam import AdamState, adamw
from descentlab.optim.base import (
    Optimizer,
    Params,
    ScalarOrSchedule,
    learning_rate_at,
    record_hyperparameters,
)
from descentlab.optim.layout import WEIGHT, Layout, Slot
from descentlab.validation import (
    check_bool,
    check_decay,
    check_finite_float,
    check_int,
    check_nonnegative_float,
    check_positive_float,
)

MAX_NS_STEPS = 99
"""torch refuses 100 Newton-Schulz iterations or more ("for computational efficiency")."""

MATCH_RMS_FACTOR = 0.2
"""Moonshot's scale (``match_rms_adamw``): 0.2 sqrt(max(A, B)) gives the update AdamW's RMS."""


class MuonState(NamedTuple):
    step: int
    """t before this update: the number of updates applied so far."""
    momentum_buffer: Params
    """B, the momentum of the hidden weight matrices' gradients, their entries one after the
    other in buffer order (shape params.shape[:-1] + (n,), n their number of entries)."""
    adam_mu: Params
    """The inner AdamW's m for the other entries (biases, the output layer), in buffer order."""
    adam_nu: Params
    """The inner AdamW's s for the same entries."""


class _Split(NamedTuple):
    """Which entries of a flat buffer Muon orthogonalises, and which go to its AdamW."""

    hidden: tuple[tuple[Slot, int], ...]
    """Each hidden weight matrix with where its entries start in ``momentum_buffer``."""
    muon_index: np.ndarray
    adam_index: np.ndarray


@functools.lru_cache(maxsize=64)
def _split(layout: Layout) -> _Split:
    hidden = []
    offset = 0
    muon_ranges, adam_ranges = [np.arange(0)], [np.arange(0)]
    for slot in layout.slots:
        entries = np.arange(slot.start, slot.stop)
        if slot.role == WEIGHT:
            hidden.append((slot, offset))
            offset += entries.size
            muon_ranges.append(entries)
        else:
            adam_ranges.append(entries)
    return _Split(tuple(hidden), np.concatenate(muon_ranges), np.concatenate(adam_ranges))


def muon(
    learning_rate: ScalarOrSchedule,
    momentum: float = 0.95,
    nesterov: bool = True,
    weight_decay: float = 0.1,
    ns_a: float = 3.4445,
    ns_b: float = -4.775,
    ns_c: float = 2.0315,
    epsilon: float = 1e-7,
    ns_steps: int = 5,
    match_rms_adamw: bool = False,
    adam_lr_ratio: float = 1.0,
    adam_beta1: float = 0.9,
    adam_beta2: float = 0.999,
    adam_epsilon: float = 1e-8,
    adam_weight_decay: float = 0.01,
) -> Optimizer:
    r"""Muon (Jordan et al., 2024): orthogonalised momentum for the hidden weight matrices.

    For each hidden layer's weight matrix W (shape (A, B) = (n_l, n_{l-1})), t = step + 1:
    B = lerp(B, g, 1 - momentum) = momentum B + (1 - momentum) g      (B starts at 0)
    G = lerp(g, B, momentum) = (1 - momentum) g + momentum B   (nesterov=True; else G = B)
    X = G (transposed if A > B);  X = X / max(||X||_F, epsilon)
    ns_steps times:  M = X X^T;  X = ns_a X + (ns_b M + ns_c M M) X   (Newton-Schulz, quintic)
    O = X (transposed back)
    W = W (1 - learning_rate weight_decay)                 (decoupled, unadjusted rate)
    W = W - learning_rate sqrt(max(1, A / B)) O                          (default)
    W = W - learning_rate 0.2 sqrt(max(A, B)) O                        (match_rms_adamw=True)

    lerp(a, b, w) is torch's: a + w (b - a) for |w| < 0.5, else b - (b - a)(1 - w). The
    iteration pushes every singular value of G towards 1 (to about 0.7..1.2 with the default
    coefficients), so O is close to U V^T where U S V^T = G: a step of the same size in
    every direction the layer's momentum spans.
    The biases and the output layer's matrix (roles "bias" and "output_weight" of
    ``descentlab.optim.layout``) are updated by descentlab's ``adamw`` with learning rate
    learning_rate * adam_lr_ratio, beta1 = adam_beta1, beta2 = adam_beta2, epsilon =
    adam_epsilon, weight_decay = adam_weight_decay (its step count is Muon's). Muon needs the
    layout (``needs={"layout"}``). Every array but the hidden matrices takes the AdamW step, as
    in Keras (which sends every non-2-D variable to AdamW): a network without a hidden layer,
    or a plain vector (no layout given: ``Layout.vector``), is all AdamW. So the landscape
    command, whose 2-D point has no matrix, does not offer muon (its registry entry).
    Every norm and product is per run of a stack (a loop over the runs: each run's matrices
    are multiplied exactly as alone).
    Memory: one array per hidden-matrix entry (B), two per other parameter (AdamW's m, s).
    Validation: momentum, adam_beta1, adam_beta2 in [0, 1), weight_decay, epsilon,
    adam_epsilon, adam_weight_decay >= 0, adam_lr_ratio > 0, ns_a, ns_b, ns_c finite,
    ns_steps an integer in 0..99 (one per run of a stack, each run iterating its own number).

    How it differs from the variants of the same name:
    - ``torch.optim.Muon`` (2.13.0) for the hidden matrices, with ``torch.optim.AdamW`` for the
      rest (the split its documentation recommends): identical, except that torch casts G to
      bfloat16 for the iteration (for GPU speed); descentlab iterates in the parameters' own
      precision (float64 or float32), and subtracts learning_rate weight_decay W beside the
      step where torch multiplies W by 1 - learning_rate weight_decay first (the same up to
      rounding; a run without decay in a stack with decay then steps exactly as alone).
      ``adjust_lr_fn=None`` or "original" is the default,
      "match_rms_adamw" is ``match_rms_adamw=True``; ``ns_coefficients=(a, b, c)`` is ns_a,
      ns_b, ns_c. torch's documented formula writes B = momentum B + g; its code, and
      descentlab, average (lerp).
    - Keras ``Muon``: the same split (it leaves the output layer to AdamW when named in
      ``exclude_layers``); its ``adam_lr_ratio``, ``adam_beta_1``, ``adam_beta_2`` and
      ``adam_weight_decay`` are the keywords here; its one ``epsilon`` (1e-7) serves both, and
      its update scale is ``rms_rate`` 0.2 sqrt(max(A, B)) (match_rms_adamw=True).
    - ``optax.contrib.muon`` (0.2.8): bias-corrects the momentum, divides by ||X||_F + eps, sends
      every 2-D parameter (the output layer's too) to Muon and the rest to a Nesterov AdamW,
      and scales by sqrt(max(1, fan_out / fan_in)) likewise.
    """
    lr_at = learning_rate_at(learning_rate)
    momentum = check_decay("momentum", momentum)
    nesterov = check_bool("nesterov", nesterov)
    weight_decay = check_nonnegative_float("weight_decay", weight_decay)
    ns_a = check_finite_float("ns_a", ns_a)
    ns_b = check_finite_float("ns_b", ns_b)
    ns_c = check_finite_float("ns_c", ns_c)
    epsilon = check_nonnegative_float("epsilon", epsilon)
    ns_steps = _check_ns_steps(ns_steps)
    match_rms_adamw = check_bool("match_rms_adamw", match_rms_adamw)
    adam_lr_ratio = check_positive_float("adam_lr_ratio", adam_lr_ratio)
    adam_beta1 = check_decay("adam_beta1", adam_beta1)
    adam_beta2 = check_decay("adam_beta2", adam_beta2)
    adam_epsilon = check_nonnegative_float("adam_epsilon", adam_epsilon)
    adam_weight_decay = check_nonnegative_float("adam_weight_decay", adam_weight_decay)
    decays = not np.all(weight_decay == 0)
    inner = adamw(
        lambda step: lr_at(step) * adam_lr_ratio,
        beta1=adam_beta1,
        beta2=adam_beta2,
        epsilon=adam_epsilon,
        weight_decay=adam_weight_decay,
    )

    def init(params: Params, *, layout: Layout) -> MuonState:
        layout.check(params)
        split = _split(layout)
        lead = params.shape[:-1]
        return MuonState(
            step=0,
            momentum_buffer=np.zeros((*lead, split.muon_index.size), dtype=params.dtype),
            adam_mu=np.zeros((*lead, split.adam_index.size), dtype=params.dtype),
            adam_nu=np.zeros((*lead, split.adam_index.size), dtype=params.dtype),
        )

    def update(
        grads: Params, state: MuonState, params: Params | None = None, *, layout: Layout
    ) -> tuple[Params, MuonState]:
        if params is None:
            raise ValueError("muon needs the parameters: call update(grads, state, params)")
        layout.check(params)
        split = _split(layout)
        lr = lr_at(state.step)
        lead = grads.shape[:-1]
        muon_grads = grads[..., split.muon_index]
        buffer = _lerp(state.momentum_buffer, muon_grads, 1 - momentum)
        direction = _lerp(muon_grads, buffer, momentum) if nesterov else buffer
        updates = np.empty_like(grads)
        matrix_lr = _per_matrix(lr)
        for slot, offset in split.hidden:
            rows, columns = slot.shape
            block = direction[..., offset : offset + rows * columns].reshape(*lead, rows, columns)
            orthogonal = _orthogonalise_each(block, ns_a, ns_b, ns_c, epsilon, ns_steps)
            if match_rms_adamw:
                adjusted_lr = matrix_lr * (MATCH_RMS_FACTOR * math.sqrt(max(rows, columns)))
            else:
                adjusted_lr = matrix_lr * math.sqrt(max(1, rows / columns))
            step = (-adjusted_lr) * orthogonal
            if decays:
                # - lr wd W beside the step (torch multiplies W by 1 - lr wd first): a run of a
                # stack whose decay is 0 then takes exactly the step it takes alone.
                step = step - (matrix_lr * _per_matrix(weight_decay)) * slot.view(params)
            slot.view(updates)[...] = step
        adam_state = AdamState(step=state.step, mu=state.adam_mu, nu=state.adam_nu)
        adam_updates, adam_state = inner.update(
            grads[..., split.adam_index], adam_state, params[..., split.adam_index]
        )
        updates[..., split.adam_index] = adam_updates
        new_state = MuonState(
            step=state.step + 1,
            momentum_buffer=buffer,
            adam_mu=adam_state.mu,
            adam_nu=adam_state.nu,
        )
        return updates, new_state

    return Optimizer(
        "muon",
        record_hyperparameters(muon, locals()),
        init,
        update,
        needs=frozenset({"layout"}),
    )


def _check_ns_steps(value: object) -> Any:
    """An integer in 0..MAX_NS_STEPS, or a (K, 1) array of them (one per run of a stack)."""
    allowed = f"an integer in 0..{MAX_NS_STEPS}"
    if isinstance(value, np.ndarray):
        entries = [_check_ns_steps(float(entry)) for entry in value.ravel()]
        return np.array(entries, dtype=np.int64).reshape(value.shape)
    steps = check_int("ns_steps", value, minimum=0)
    if steps > MAX_NS_STEPS:
        raise ValueError(f"ns_steps must be {allowed}, got {steps}")
    return steps


def _per_matrix(value: float | np.ndarray) -> float | np.ndarray:
    """A per-run hyperparameter of a stack, shape (K, 1), as (K, 1, 1) against (K, A, B)."""
    return value[..., np.newaxis] if isinstance(value, np.ndarray) else value


def _lerp(start: Params, end: Params, weight: float | np.ndarray) -> Params:
    """torch's lerp: start + w (end - start) for |w| < 0.5, end - (end - start)(1 - w) else."""
    difference = end - start
    if isinstance(weight, np.ndarray):  # per-run weights of a stack, shape (K, 1)
        return np.where(
            np.abs(weight) < 0.5, start + weight * difference, end - difference * (1 - weight)
        )
    if abs(weight) < 0.5:
        return start + weight * difference
    return end - difference * (1 - weight)


def _orthogonalise_each(
    matrices: np.ndarray,
    a: float | np.ndarray,
    b: float | np.ndarray,
    c: float | np.ndarray,
    epsilon: float | np.ndarray,
    steps: int | np.ndarray,
) -> np.ndarray:
    """``_orthogonalise`` of every matrix of ``matrices`` (shape (..., A, B)), one run at a
    time, each with its own run's coefficients: a stacked run gets its very bits alone."""
    lead = matrices.shape[:-2]
    out = np.empty_like(matrices)
    for index in np.ndindex(*lead):
        out[index] = _orthogonalise(
            matrices[index],
            _of_run(a, index),
            _of_run(b, index),
            _of_run(c, index),
            _of_run(epsilon, index),
            int(_of_run(steps, index)),
        )
    return out


def _of_run(value: float | np.ndarray, index: tuple[int, ...]) -> float:
    """Run ``index``'s value of a hyperparameter: the number, or its entry of a (K, 1) array."""
    return value[index][0].item() if isinstance(value, np.ndarray) else value


def _orthogonalise(
    matrix: np.ndarray, a: float, b: float, c: float, epsilon: float, steps: int
) -> np.ndarray:
    """torch's ``_zeropower_via_newtonschulz`` in ``matrix``'s own dtype (torch's bfloat16
    aside): the quintic Newton-Schulz iteration on the wide orientation of ``matrix``."""
    tall = matrix.shape[0] > matrix.shape[1]
    x = matrix.T if tall else matrix
    x = x / max(np.linalg.norm(x), epsilon)
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * (gram @ gram)) @ x
    return x.T if tall else x
