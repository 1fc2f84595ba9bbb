"""Cross-entropy, the cost every descentlab network minimises.

Binary (sigmoid output, Y of 0/1 of shape (1, m)): -(y log a + (1 - y) log(1 - a)).
Categorical (softmax output, one-hot Y of shape (C, m)): -sum_c y_c log a_c.
Both are -log p, p being the probability the network gives the example's true label; the
training loop computes them that way, which is bit-identical to the course's two-term formula.
"""

from __future__ import annotations

import numpy as np

from descentlab.nn import ForwardCache


def label_probability(
    output: np.ndarray, Y: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """The probability the network gives each example's true label, shape (..., 1, m).

    Sigmoid (one row): A where Y = 1, 1 - A where Y = 0, computed as |(1 - Y) - A| (labels
    must be 0 or 1), whose negative log is bit-identical to the course's two-term formula.
    Softmax (C rows, one-hot Y): sum_c Y_c A_c.
    """
    if output.shape[-2] > 1:
        return np.add.reduce(Y * output, axis=-2, keepdims=True, out=out)
    result = np.subtract(1 - Y, output, out=out)
    return np.abs(result, out=result)


def cross_entropy_from_label_probability(
    probability: np.ndarray, logits: np.ndarray, Y: np.ndarray
) -> np.ndarray:
    """Per-example loss -log(p); where p underflowed to 0 (a saturated output) the loss comes
    from the logits instead (``stable_cross_entropy_terms``), so it stays finite."""
    saturated = probability == 0
    if not saturated.any():
        return np.negative(np.log(probability))
    terms = np.negative(np.log(probability, where=~saturated, out=np.zeros_like(probability)))
    stable = stable_cross_entropy_terms(logits, Y)
    return np.where(saturated, stable, terms)


def cross_entropy_terms(probabilities: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Per-example loss -(Y log A + (1 - Y) log(1 - A)), written as the course writes it.

    Where A saturates to exactly 0 or 1 a term is infinite or NaN; callers that have the logits
    replace those entries with ``stable_cross_entropy_terms`` (see ``cross_entropy_sum``).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.multiply(-np.log(probabilities), Y) + np.multiply(
            -np.log(1 - probabilities), 1 - Y
        )


def clipped_cross_entropy_terms(probabilities: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """``cross_entropy_terms`` kept finite without logits: where a term is not finite, A is
    clipped to [eps, 1 - eps] with eps = 2^-53 (a loss of at most 36.7 per example)."""
    terms = cross_entropy_terms(probabilities, Y)
    if not np.isfinite(terms).all():
        eps = np.finfo(np.float64).epsneg
        clipped = cross_entropy_terms(np.clip(probabilities, eps, 1 - eps), Y)
        terms = np.where(np.isfinite(terms), terms, clipped)
    return terms


def stable_cross_entropy_terms(logits: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """The same loss from the logits Z, finite for any finite Z: log(1 + e^Z) - Y Z (sigmoid),
    log sum_c e^{Z_c} - sum_c Y_c Z_c (softmax), shape (..., 1, m)."""
    if logits.shape[-2] == 1:
        return np.logaddexp(0, logits) - Y * logits
    top = np.max(logits, axis=-2, keepdims=True)
    log_sum = top + np.log(np.sum(np.exp(logits - top), axis=-2, keepdims=True))
    return log_sum - np.sum(Y * logits, axis=-2, keepdims=True)


def cross_entropy_sum(cache: ForwardCache, Y: np.ndarray) -> np.ndarray:
    """Sum over the batch's examples of the cross-entropy (the course's ``cost_total``).

    Bit-identical to the course's formula while the output is strictly inside (0, 1); where it
    saturates, the logit form keeps the cost finite instead of log(0). Sums over the last axis,
    so a stacked cache gives one total per run.
    """
    probability = label_probability(cache.output, Y)
    terms = cross_entropy_from_label_probability(probability, cache.output_logits, Y)
    return np.sum(terms, axis=(-2, -1))


def weighted_cross_entropy_mean(
    cache: ForwardCache, Y: np.ndarray, sample_weight: np.ndarray
) -> np.ndarray:
    """The weighted mean cross-entropy sum_i w_i L_i / sum_i w_i over the batch's examples
    (scikit-learn's ``MLPClassifier`` loss with ``sample_weight``, without its L2 term).

    ``sample_weight`` has shape (m,) or (..., 1, m) and a positive sum; L_i are the terms of
    ``cross_entropy_sum``. One value per run for a stacked cache. ``nn.backward`` with the
    same ``sample_weight`` gives its gradient."""
    probability = label_probability(cache.output, Y)
    terms = cross_entropy_from_label_probability(probability, cache.output_logits, Y)
    w = np.asarray(sample_weight, dtype=terms.dtype)
    w = w.reshape(1, -1) if w.ndim == 1 else w
    return np.sum(terms * w, axis=(-2, -1)) / np.sum(w, axis=(-2, -1))
