"""Adafactor: factored second moments and steps relative to each array's RMS, as
``torch.optim.Adafactor``."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from descentlab.optim.base import (
    Optimizer,
    Params,
    ScalarOrSchedule,
    learning_rate_at,
    record_hyperparameters,
)
from descentlab.optim.layout import Layout
from descentlab.optim.weight_decay import decoupled
from descentlab.validation import check_at_least, check_at_most, check_nonnegative_float


class AdafactorState(NamedTuple):
    step: int
    """Updates applied so far."""
    row: np.ndarray
    """R: every matrix slot's row factors (the moving mean of g^2 over each row), the slots'
    in buffer order, shape (..., total rows of the matrices) (starts at 0)."""
    col: np.ndarray
    """C: every matrix slot's column factors (the moving mean of g^2 over each column), shape
    (..., total columns of the matrices) (starts at 0)."""
    variance: np.ndarray
    """V: the 1-D slots' (biases', a landscape point's) full moving average of g^2, shape
    (..., total entries of the 1-D slots) (starts at 0)."""


def adafactor(
    learning_rate: ScalarOrSchedule,
    beta2_decay: float = -0.8,
    epsilon1: float = 0.0,
    epsilon2: float = 1e-3,
    d: float = 1.0,
    weight_decay: float = 0.0,
) -> Optimizer:
    r"""Adafactor (Shazeer & Stern, 2018), factored second moments, as ``torch.optim.Adafactor``.

    t = step + 1;  w = t^beta2_decay   (1 - beta2_t: 1 at t = 1, then decaying; 0.5^0.8 ...)
    rho = min(learning_rate, 1 / sqrt(t))
    per parameter array W (slot of the layout; per run of a stack), with n its entries:
    alpha = max(epsilon2, ||W|| / sqrt(n)) * rho          (relative to W's RMS, before decay)
    a 2-D array, shape (rows, cols), factored:
        R = lerp(R, mean of g^2 over each row, w);   C = lerp(C, mean of g^2 over each column, w)
        V = R C^T / max(mean(R), epsilon1)           (the rank-1 estimate of the second moment)
    a 1-D array (a bias, a landscape's point):  V = lerp(V, g^2, w)
    u = g / sqrt(max(V, epsilon1^2))
    W = W - alpha / max(1, RMS(u) / d) * u - learning_rate * weight_decay * W

    lerp(a, b, w) = a + w (b - a) for w < 0.5, b - (b - a)(1 - w) otherwise (torch's). The row
    means are torch's squared row norms over cols (likewise the columns). epsilon1 = 0 (the
    default) stands for torch's None, the machine epsilon of the parameters' dtype (2.2e-16 for
    float64, 1.2e-7 for float32); a value > 0 is used as given. No first moment: the step is the
    gradient over its estimated RMS, clipped to RMS d, times the relative size alpha, so each
    array moves by about rho times its own RMS, and arrays at zero by epsilon2 rho. The learning
    rate caps the relative step (torch's default is 0.01; descentlab, as for every optimizer,
    has none), and 1 / sqrt(t) takes over once smaller (t > 10^4 at 0.01). Memory: for an
    (m, n) matrix m + n numbers instead of Adam's 2 m n, for a 1-D array one per entry. Needs
    the layout (``needs={"layout"}``); a landscape's point is one 1-D array (unfactored).
    Validation: beta2_decay <= 0, epsilon1, epsilon2 and weight_decay >= 0, d >= 1.

    How it differs from the variants of the same name:
    - ``torch.optim.Adafactor(lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0,
      weight_decay=0.0)``: the same rule, eps=(epsilon1 or None, epsilon2); torch multiplies W
      by 1 - lr wd and then adds the step, descentlab subtracts lr wd W along with the step (as
      ``adamw``: a run without decay then steps as alone in a stack whose other runs decay), a
      difference in the last bits. Its ``maximize`` is not offered. torch factors the last
      two axes of arrays with more than 2; descentlab's slots have at most 2.
    - The paper (Algorithms 4 and 5, no first moment): row and column sums of g^2 + epsilon1
      (epsilon1 = 1e-30 added to every squared gradient), V = R C^T / sum(R), the same
      estimate as torch's means; with beta2_t = 1 - t^-0.8, rho = min(1e-2, 1 / sqrt(t)),
      epsilon2 = 1e-3 and d = 1 as torch's defaults. torch (and descentlab) put epsilon1 in
      other places (a floor on mean(R) and on V) and add a decoupled weight decay.
    - ``optax.adafactor(learning_rate=None, decay_rate=0.8, min_dim_size_to_factor=128,
      eps=1e-30, clipping_threshold=1.0, multiply_by_parameter_scale=True,
      weight_decay_rate=None)``: factors only arrays whose two largest dimensions are both
      >= 128 (none of a small network's), adds eps to g^2, has no relative-step schedule (the
      step is learning_rate max(RMS(W), 1e-3) u, or without a learning rate max(RMS(W), 1e-3)
      u), and adds weight_decay_rate W to the step unscaled by the learning rate. Keras's
      ``Adafactor`` factors every 2-D array, like torch, with its own epsilons (1e-30, 1e-3).
    """
    lr_at = learning_rate_at(learning_rate)
    beta2_decay = check_at_most("beta2_decay", beta2_decay, 0.0)
    epsilon1 = check_nonnegative_float("epsilon1", epsilon1)
    epsilon2 = check_nonnegative_float("epsilon2", epsilon2)
    d = check_at_least("d", d, 1.0)
    weight_decay = check_nonnegative_float("weight_decay", weight_decay)
    shrink = decoupled(weight_decay, "adafactor")

    def init(params: Params, *, layout: Layout) -> AdafactorState:
        layout.check(params)
        run_axes = params.shape[:-1]
        rows = sum(slot.shape[0] for slot in layout.slots if slot.is_matrix)
        cols = sum(slot.shape[1] for slot in layout.slots if slot.is_matrix)
        entries = sum(slot.shape[0] for slot in layout.slots if not slot.is_matrix)
        return AdafactorState(
            step=0,
            row=np.zeros((*run_axes, rows), dtype=params.dtype),
            col=np.zeros((*run_axes, cols), dtype=params.dtype),
            variance=np.zeros((*run_axes, entries), dtype=params.dtype),
        )

    def update(
        grads: Params, state: AdafactorState, params: Params | None = None, *, layout: Layout
    ) -> tuple[Params, AdafactorState]:
        if params is None:
            raise ValueError("adafactor needs the parameters: call update(grads, state, params)")
        lr = lr_at(state.step)
        t = state.step + 1
        weight = _powers_of(float(t), beta2_decay)
        cap = 1 / float(t) ** 0.5
        rho = min(lr, cap) if np.ndim(lr) == 0 else np.minimum(lr, cap)
        floor = _floor(epsilon1, float(np.finfo(params.dtype).eps))
        row, col, variance = state.row.copy(), state.col.copy(), state.variance.copy()
        updates = np.empty_like(params)
        r = c = v = 0  # where the next slot's factors start in row, col, variance
        for slot in layout.slots:
            p = params[..., slot.start : slot.stop]
            g = grads[..., slot.start : slot.stop]
            n = slot.stop - slot.start
            alpha = np.maximum(epsilon2, _norm(p) / n**0.5) * rho
            if slot.is_matrix:
                m, k = slot.shape
                squares = slot.view(grads) ** 2
                row_mean = np.sqrt(np.sum(squares, axis=-1)) ** 2 / k
                row[..., r : r + m] = _lerp(row[..., r : r + m], row_mean, weight)
                col_mean = np.sqrt(np.sum(squares, axis=-2)) ** 2 / m
                col[..., c : c + k] = _lerp(col[..., c : c + k], col_mean, weight)
                slot_row, slot_col = row[..., r : r + m], col[..., c : c + k]
                estimate = slot_row[..., :, None] * slot_col[..., None, :]
                row_scale = np.mean(slot_row, axis=-1)[..., None, None]
                estimate = estimate / np.maximum(row_scale, _trailing(floor))
                estimate = estimate.reshape(*estimate.shape[:-2], n)
                r, c = r + m, c + k
            else:
                variance[..., v : v + n] = _lerp(variance[..., v : v + n], g * g, weight)
                estimate = variance[..., v : v + n]
                v += n
            u = 1 / np.sqrt(np.maximum(estimate, floor * floor)) * g
            denominator = np.maximum(1.0, _norm(u) / (n**0.5 * d))
            updates[..., slot.start : slot.stop] = -(alpha / denominator) * u
        # torch multiplies W by 1 - lr wd, then adds the step; subtracting lr wd W from the
        # step instead leaves a run without decay exactly as alone in a stack with decay
        updates = shrink(updates, lr, params)
        new_state = AdafactorState(step=t, row=row, col=col, variance=variance)
        return updates, new_state

    return Optimizer(
        "adafactor",
        record_hyperparameters(adafactor, locals()),
        init,
        update,
        needs=frozenset({"layout"}),
    )


def _norm(entries: np.ndarray) -> np.ndarray:
    """The Euclidean norm over the last axis, kept: one per run, shape (..., 1)."""
    return np.sqrt(np.sum(entries * entries, axis=-1, keepdims=True))


def _lerp(start: np.ndarray, end: np.ndarray, weight: Any) -> np.ndarray:
    """torch.lerp's two forms: start + weight (end - start) for weight < 0.5, else
    end - (end - start) (1 - weight)."""
    small = start + weight * (end - start)
    large = end - (end - start) * (1 - weight)
    if np.ndim(weight) == 0:
        return small if weight < 0.5 else large
    return np.where(weight < 0.5, small, large)


def _powers_of(t: float, exponents: Any) -> Any:
    """t ** exponent as Python computes it (torch's float arithmetic), per run when the
    exponent is a (k, 1) array of them."""
    if np.ndim(exponents) == 0:
        return t ** float(exponents)
    return np.array([t ** float(e) for e in np.asarray(exponents).flat]).reshape(
        np.shape(exponents)
    )


def _floor(epsilon1: Any, machine_epsilon: float) -> Any:
    """epsilon1, or the dtype's machine epsilon where it is 0 (torch's eps1=None)."""
    if np.ndim(epsilon1) == 0:
        return epsilon1 if epsilon1 > 0 else machine_epsilon
    return np.where(np.asarray(epsilon1) > 0, epsilon1, machine_epsilon)


def _trailing(value: Any) -> Any:
    """A per-run value of shape (..., 1) reshaped to (..., 1, 1), to broadcast against a
    matrix slot's (..., rows, cols); a number as it is."""
    if np.ndim(value) == 0:
        return value
    array = np.asarray(value)
    return array.reshape(*array.shape[:-1], 1, 1)
