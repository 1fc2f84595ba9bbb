"""The compiled kernels: forward, backward and elementwise updates of a stack, batch by batch.

Everything here is numba ``@njit(cache=True)`` over plain arrays (no fastmath, no parallel:
the same bits every run on one machine). ``train_batches`` trains every run of a stack through
a range of mini-batches of one epoch; ``descentlab.compiled.stack`` prepares its arguments.
The arithmetic follows ``descentlab.nn.Pass`` and each optimizer's numpy ``update``
operation by operation; the differences from numpy are in the order of the sums of the
matrix products and in ``exp`` (see ``descentlab.compiled``). The two kernels add every sum
in the same order (dW and db: a batch's columns in order), so a run gets the same bits
whichever kernel trains it. The costs are not computed here: ``train_stack`` computes them
from the logits and outputs with numpy, as the numpy engine does.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, uint64

from descentlab.compiled import more_updates
from descentlab.compiled.shuffle import legacy_permutation

# Update rules (``ElementwiseRule.kind``); 0: the run is updated by numpy, outside the kernel.
NUMPY_UPDATE = 0
GD = 1
MOMENTUM = 2
SGD = 3
ADAM = 4
RMSPROP = 5
ADAGRAD = 6
ADAMAX = 7
LION = 8
LAST_STEP_KIND = LION
"""The kinds up to this one step through ``_step`` (vectorised over the runs in the wide
kernel); those after it through ``more_updates.update``, one run at a time in both kernels."""

KINDS = {
    "gd": GD,
    "momentum": MOMENTUM,
    "sgd": SGD,
    "adam": ADAM,
    "rmsprop": RMSPROP,
    "adagrad": ADAGRAD,
    "adamax": ADAMAX,
    "lion": LION,
    **more_updates.KINDS,
}


@njit(cache=True)
def _nan_max(a: float, b: float) -> float:
    """np.maximum: NaN if either is NaN."""
    if a != a or b != b:
        return a + b
    return a if a >= b else b


_INV_LN2 = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln 2 to 21 bits: k * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10  # ln 2 - _LN2_HI
_ROUND = 6755399441055744.0  # 1.5 * 2^52: (t + _ROUND) - _ROUND rounds t to an integer


@njit(cache=True, inline="always")
def _power_of_two(k: int) -> float:
    """2.0 ** k for -1022 <= k <= 1023, from its bits."""
    bits: float = np.int64((k + 1023) << 52).view(np.float64)
    return bits


@njit(cache=True, inline="always")
def _exp(x: float) -> float:
    """e^x in plain arithmetic, so that a loop of it vectorises (libm's exp is a call per
    element): x = k ln 2 + r with |r| <= ln 2 / 2, e^r by its Taylor series to r^13
    (truncation below 2^-56), times 2^k in two halves (one rounding, also for subnormal
    results). Within 1 ulp of numpy's exp (measured: equal for 89% of inputs); inf above
    709.78, 0 below -745.13, NaN for NaN."""
    t = x if x < 710.0 else 710.0
    t = t if t > -746.0 else -746.0
    t = t if t == t else 0.0
    kd = (t * _INV_LN2 + _ROUND) - _ROUND
    r = (t - kd * _LN2_HI) - kd * _LN2_LO
    series = 1 / 479001600 + r * (1 / 6227020800)
    series = 1 / 39916800 + r * series
    series = 1 / 3628800 + r * series
    series = 1 / 362880 + r * series
    series = 1 / 40320 + r * series
    series = 1 / 5040 + r * series
    series = 1 / 720 + r * series
    series = 1 / 120 + r * series
    series = 1 / 24 + r * series
    series = 1 / 6 + r * series
    series = 1 / 2 + r * series
    e_r = 1.0 + (r + r * r * series)
    k = int(kd)
    half = k >> 1
    y = (e_r * _power_of_two(half)) * _power_of_two(k - half)
    if x == t:
        return y
    if x != x:
        return x
    return math.inf if x > 0 else 0.0


@njit(cache=True, inline="always")
def _gd(
    w: float, g: float, a: float, b: float, c: float, h: np.ndarray, s: np.ndarray, k: int
) -> tuple[float, float, float, float]:
    """``_step`` of gd: w - lr g."""
    return w + -(s[0, k] * g), a, b, c


@njit(cache=True, inline="always")
def _momentum(
    w: float, g: float, a: float, b: float, c: float, h: np.ndarray, s: np.ndarray, k: int
) -> tuple[float, float, float, float]:
    """``_step`` of momentum (a: the velocity)."""
    lr, beta = s[0, k], h[0, k]
    a = beta * a + (1 - beta) * g
    return w + -(lr * a), a, b, c


@njit(cache=True, inline="always")
def _sgd(
    w: float, g: float, a: float, b: float, c: float, h: np.ndarray, s: np.ndarray, k: int
) -> tuple[float, float, float, float]:
    """``_step`` of sgd (a: the momentum buffer)."""
    lr, first = s[0, k], s[1, k]
    momentum, dampening, decay, decays, nesterov = h[0, k], h[1, k], h[2, k], h[3, k], h[4, k]
    gp = g + decay * w if decays else g
    a = gp if first else momentum * a + (1 - dampening) * gp
    d = gp + momentum * a if nesterov else a
    return w + -(lr * d), a, b, c


@njit(cache=True, inline="always")
def _adam(
    w: float, g: float, a: float, b: float, c: float, h: np.ndarray, s: np.ndarray, k: int
) -> tuple[float, float, float, float]:
    """``_step`` of adam and adamw (a, b, c: mu, nu and nu's running maximum)."""
    lr, c1, c2 = s[0, k], s[1, k], s[2, k]
    b1, b2, eps, keep_max, inside = h[0, k], h[1, k], h[2, k], h[3, k], h[4, k]
    decay, decays, shrink, shrinks = h[5, k], h[6, k], h[7, k], h[8, k]
    gp = g + decay * w if decays else g
    a = b1 * a + (1 - b1) * gp
    b = b2 * b + (1 - b2) * (gp * gp)
    second = b
    if keep_max:
        c = _nan_max(c, b)
        second = c
    mu_hat = a / c1
    nu_hat = second / c2
    if inside:
        u = -lr * mu_hat / math.sqrt(nu_hat + eps)
    else:
        u = -lr * mu_hat / (math.sqrt(nu_hat) + eps)
    if shrinks:
        u = u - (lr * shrink) * w
    return w + u, a, b, c


@njit(cache=True, inline="always")
def _rmsprop(
    w: float, g: float, a: float, b: float, c: float, h: np.ndarray, s: np.ndarray, k: int
) -> tuple[float, float, float, float]:
    """``_step`` of rmsprop (a, b, c: the mean square, the mean, the momentum buffer)."""
    lr = s[0, k]
    rho, eps, momentum, centered, decay, decays = (
        h[0, k],
        h[1, k],
        h[2, k],
        h[3, k],
        h[4, k],
        h[5, k],
    )
    gp = g + decay * w if decays else g
    a = rho * a + (1 - rho) * (gp * gp)
    if centered:
        b = rho * b + (1 - rho) * gp
        denominator = math.sqrt(a - b * b) + eps
    else:
        denominator = math.sqrt(a) + eps
    c = momentum * c + gp / denominator
    return w + -(lr * c), a, b, c


@njit(cache=True, inline="always")
def _adagrad(
    w: float, g: float, a: float, b: float, c: float, h: np.ndarray, s: np.ndarray, k: int
) -> tuple[float, float, float, float]:
    """``_step`` of adagrad (a: the sum of squares)."""
    clr = s[0, k]
    eps, decay, decays = h[0, k], h[1, k], h[2, k]
    gp = g + decay * w if decays else g
    a = a + gp * gp
    return w + -(clr * gp / (math.sqrt(a) + eps)), a, b, c


@njit(cache=True, inline="always")
def _adamax(
    w: float, g: float, a: float, b: float, c: float, h: np.ndarray, s: np.ndarray, k: int
) -> tuple[float, float, float, float]:
    """``_step`` of adamax (a, b: mu and the infinity norm u)."""
    lr, c1 = s[0, k], s[1, k]
    b1, b2, eps = h[0, k], h[1, k], h[2, k]
    a = b1 * a + (1 - b1) * g
    b = _nan_max(b2 * b, abs(g) + eps)
    return w + -(lr / c1 * a / b), a, b, c


@njit(cache=True, inline="always")
def _lion(
    w: float, g: float, a: float, b: float, c: float, h: np.ndarray, s: np.ndarray, k: int
) -> tuple[float, float, float, float]:
    """``_step`` of lion (a: mu)."""
    lr = s[0, k]
    b1, b2, decay, decays = h[0, k], h[1, k], h[2, k], h[3, k]
    d = more_updates.np_sign((1 - b1) * g + b1 * a)
    if decays:
        d = d + decay * w
    a = (1 - b2) * g + b2 * a
    return w + -lr * d, a, b, c


@njit(cache=True, inline="always")
def _step(
    kind: int,
    w: float,
    g: float,
    a: float,
    b: float,
    c: float,
    h: np.ndarray,
    s: np.ndarray,
    k: int,
) -> tuple[float, float, float, float]:
    """One optimizer step of one parameter ``w`` with gradient ``g`` and state ``a, b, c``
    (the rule's slots), under rule ``kind`` with hyperparameters ``h[:, k]`` and this step's
    scalars ``s[:, k]``: the rules of ``descentlab.optim``, operation by operation, one
    function per rule. Returns the new parameter and state. Both kernels step through these
    functions, so a run gets the same bits from either."""
    if kind == GD:
        return _gd(w, g, a, b, c, h, s, k)
    if kind == MOMENTUM:
        return _momentum(w, g, a, b, c, h, s, k)
    if kind == SGD:
        return _sgd(w, g, a, b, c, h, s, k)
    if kind == ADAM:
        return _adam(w, g, a, b, c, h, s, k)
    if kind == RMSPROP:
        return _rmsprop(w, g, a, b, c, h, s, k)
    if kind == ADAGRAD:
        return _adagrad(w, g, a, b, c, h, s, k)
    if kind == ADAMAX:
        return _adamax(w, g, a, b, c, h, s, k)
    if kind == LION:
        return _lion(w, g, a, b, c, h, s, k)
    return w, a, b, c


@njit(cache=True, error_model="numpy")
def _update(
    kind: int,
    w: np.ndarray,
    g: np.ndarray,
    h: np.ndarray,
    s: np.ndarray,
    slots: np.ndarray,
    run: int,
) -> None:
    """One optimizer step of one run, in place: ``w`` its parameters, ``g`` its gradient,
    ``h`` its hyperparameters, ``s`` this step's scalars, ``slots[:, run]`` its state arrays
    (``_step``; the kinds after ``LAST_STEP_KIND``: ``more_updates.update``)."""
    if kind > LAST_STEP_KIND:
        more_updates.update(kind, w, g, h, s, slots, run)
        return
    h_column = h.reshape((h.shape[0], 1))
    s_column = s.reshape((s.shape[0], 1))
    for p in range(w.shape[0]):
        w[p], slots[0, run, p], slots[1, run, p], slots[2, run, p] = _step(
            kind,
            w[p],
            g[p],
            slots[0, run, p],
            slots[1, run, p],
            slots[2, run, p],
            h_column,
            s_column,
            0,
        )


@njit(cache=True, error_model="numpy")
def _update_runs(
    kind: int,
    W: np.ndarray,
    G: np.ndarray,
    h: np.ndarray,
    s: np.ndarray,
    slots: np.ndarray,
    first: int,
    stop: int,
) -> None:
    """``_update`` of runs ``first .. stop - 1``, all of rule ``kind``, on the runs-innermost
    layout: W, G (P, K), slots (3, P, K); one ``kind`` per loop, so the runs vectorise."""
    # Unsigned bounds: numba leaves out its negative-index wraparound, which stops LLVM from
    # vectorising the loop.
    runs_from, runs_to = uint64(first), uint64(stop)
    if kind == GD:
        for p in range(W.shape[0]):
            for k in range(runs_from, runs_to):
                W[p, k], slots[0, p, k], slots[1, p, k], slots[2, p, k] = _gd(
                    W[p, k], G[p, k], slots[0, p, k], slots[1, p, k], slots[2, p, k], h, s, k
                )
    elif kind == MOMENTUM:
        for p in range(W.shape[0]):
            for k in range(runs_from, runs_to):
                W[p, k], slots[0, p, k], slots[1, p, k], slots[2, p, k] = _momentum(
                    W[p, k], G[p, k], slots[0, p, k], slots[1, p, k], slots[2, p, k], h, s, k
                )
    elif kind == SGD:
        for p in range(W.shape[0]):
            for k in range(runs_from, runs_to):
                W[p, k], slots[0, p, k], slots[1, p, k], slots[2, p, k] = _sgd(
                    W[p, k], G[p, k], slots[0, p, k], slots[1, p, k], slots[2, p, k], h, s, k
                )
    elif kind == ADAM:
        for p in range(W.shape[0]):
            for k in range(runs_from, runs_to):
                W[p, k], slots[0, p, k], slots[1, p, k], slots[2, p, k] = _adam(
                    W[p, k], G[p, k], slots[0, p, k], slots[1, p, k], slots[2, p, k], h, s, k
                )
    elif kind == RMSPROP:
        for p in range(W.shape[0]):
            for k in range(runs_from, runs_to):
                W[p, k], slots[0, p, k], slots[1, p, k], slots[2, p, k] = _rmsprop(
                    W[p, k], G[p, k], slots[0, p, k], slots[1, p, k], slots[2, p, k], h, s, k
                )
    elif kind == ADAGRAD:
        for p in range(W.shape[0]):
            for k in range(runs_from, runs_to):
                W[p, k], slots[0, p, k], slots[1, p, k], slots[2, p, k] = _adagrad(
                    W[p, k], G[p, k], slots[0, p, k], slots[1, p, k], slots[2, p, k], h, s, k
                )
    elif kind == ADAMAX:
        for p in range(W.shape[0]):
            for k in range(runs_from, runs_to):
                W[p, k], slots[0, p, k], slots[1, p, k], slots[2, p, k] = _adamax(
                    W[p, k], G[p, k], slots[0, p, k], slots[1, p, k], slots[2, p, k], h, s, k
                )
    elif kind == LION:
        for p in range(W.shape[0]):
            for k in range(runs_from, runs_to):
                W[p, k], slots[0, p, k], slots[1, p, k], slots[2, p, k] = _lion(
                    W[p, k], G[p, k], slots[0, p, k], slots[1, p, k], slots[2, p, k], h, s, k
                )


@njit(cache=True, error_model="numpy")
def train_batches(
    params: np.ndarray,
    grads: np.ndarray,
    X: np.ndarray,
    Y: np.ndarray,
    orders: np.ndarray,
    data_of_run: np.ndarray,
    bounds: np.ndarray,
    first_batch: int,
    stop_batch: int,
    sizes: np.ndarray,
    softmax: bool,
    logits: np.ndarray,
    outputs: np.ndarray,
    kinds: np.ndarray,
    hyper: np.ndarray,
    table: np.ndarray,
    rows: np.ndarray,
    slots: np.ndarray,
) -> None:
    """Train every run k of the stack through batches ``first_batch .. stop_batch - 1``.

    params, grads (K, P); X (n_x, m) and Y (C, m) the data, whose column ``orders[r, i]`` is
    column i of the epoch's shuffled data for run k (r = ``data_of_run[k]``); bounds
    (n_batches, 2) column ranges; sizes the layer sizes; logits, outputs (K, C, m) receive
    Z_L and A_L of every batch (the costs are computed from them after the epoch). After each
    batch's forward and backward pass (gradient into ``grads[k]``), run k takes the step of
    rule ``kinds[k]`` with ``hyper[k]`` and the scalars ``table[rows[k] + j - first_batch, k]``
    of batch j, on its state ``slots[:, k]``; kind 0 leaves the step to numpy.

    Every sum adds its terms in the order ``train_batches_shared`` adds them (the columns of a
    batch in order for dW and db), so a run gets the same bits from either kernel.
    """
    n_runs = params.shape[0]
    n_layers = sizes.shape[0] - 1
    n_x = sizes[0]
    n_out = sizes[n_layers]
    # Rows of the activation buffers: the batch's input first, then each layer's units.
    rows_of = np.zeros(n_layers + 2, np.int64)
    w_start = np.zeros(n_layers, np.int64)
    widest = 0
    offset = 0
    for layer in range(n_layers + 1):
        rows_of[layer + 1] = rows_of[layer] + sizes[layer]
        if layer < n_layers:
            w_start[layer] = offset
            offset += sizes[layer + 1] * sizes[layer] + sizes[layer + 1]
            widest = max(widest, sizes[layer])
    batch_max = 0
    for j in range(first_batch, stop_batch):
        batch_max = max(batch_max, bounds[j, 1] - bounds[j, 0])
    n_rows = rows_of[n_layers + 1]
    Z = np.empty((n_rows, batch_max))
    A = np.empty((n_rows, batch_max))
    dZ = np.empty((n_rows, batch_max))
    dA = np.empty((widest, batch_max))
    column = np.empty(batch_max)
    Yb = np.empty((n_out, batch_max))
    last = rows_of[n_layers]
    for k in range(n_runs):
        order = orders[data_of_run[k]]
        w = params[k]
        g = grads[k]
        for j in range(first_batch, stop_batch):
            start, stop = bounds[j, 0], bounds[j, 1]
            nb = stop - start
            for c in range(nb):
                source = order[start + c]
                for q in range(n_x):
                    A[q, c] = X[q, source]
                for i in range(n_out):
                    Yb[i, c] = Y[i, source]
            # forward: Z_l = W_l A_{l-1} + b_l, ReLU, then sigmoid or softmax
            for layer in range(n_layers):
                n_prev, n = sizes[layer], sizes[layer + 1]
                ws = w_start[layer]
                bs = ws + n * n_prev
                here = rows_of[layer + 1]
                below = rows_of[layer]
                # Indices, not views, in the inner loops: numba counts references to every view.
                for i in range(n):
                    r = here + i
                    for c in range(nb):
                        Z[r, c] = 0.0
                    for q in range(n_prev):
                        weight = w[ws + i * n_prev + q]
                        for c in range(nb):
                            Z[r, c] += weight * A[below + q, c]
                    bias = w[bs + i]
                    for c in range(nb):
                        Z[r, c] += bias
                    if layer < n_layers - 1:
                        for c in range(nb):
                            z = Z[r, c]
                            A[r, c] = z if (z > 0.0 or z != z) else 0.0
            if softmax:
                for c in range(nb):
                    column[c] = Z[last, c]
                for i in range(1, n_out):
                    for c in range(nb):
                        column[c] = _nan_max(column[c], Z[last + i, c])
                for i in range(n_out):
                    for c in range(nb):
                        A[last + i, c] = _exp(Z[last + i, c] - column[c])
                for c in range(nb):
                    column[c] = A[last, c]
                for i in range(1, n_out):
                    for c in range(nb):
                        column[c] += A[last + i, c]
                for i in range(n_out):
                    for c in range(nb):
                        A[last + i, c] = A[last + i, c] / column[c]
            else:
                for c in range(nb):
                    A[last, c] = 1 / (1 + _exp(-Z[last, c]))
            for i in range(n_out):
                for c in range(nb):
                    logits[k, i, start + c] = Z[last + i, c]
                    outputs[k, i, start + c] = A[last + i, c]
            # backward: dZ_L = 1/m (A_L - Y); dW = dZ A^T; db = sum dZ; dZ_prev = W^T dZ * (A > 0)
            inverse_m = 1.0 / nb
            for i in range(n_out):
                for c in range(nb):
                    dZ[last + i, c] = inverse_m * (A[last + i, c] - Yb[i, c])
            for layer in range(n_layers - 1, -1, -1):
                n_prev, n = sizes[layer], sizes[layer + 1]
                ws = w_start[layer]
                bs = ws + n * n_prev
                here = rows_of[layer + 1]
                below = rows_of[layer]
                for e in range(ws, bs + n):
                    g[e] = 0.0
                # The columns in order, as the wide kernel adds them, four at a time (the
                # same additions, one load and store of each entry per four columns); the
                # entries' chains of additions are independent, so they overlap.
                quads = nb - nb % 4
                for i in range(n):
                    r = here + i
                    for c in range(0, quads, 4):
                        d0, d1, d2, d3 = dZ[r, c], dZ[r, c + 1], dZ[r, c + 2], dZ[r, c + 3]
                        for q in range(n_prev):
                            p = below + q
                            e = ws + i * n_prev + q
                            total = g[e] + d0 * A[p, c]
                            total = total + d1 * A[p, c + 1]
                            total = total + d2 * A[p, c + 2]
                            g[e] = total + d3 * A[p, c + 3]
                        g[bs + i] = (((g[bs + i] + d0) + d1) + d2) + d3
                    for c in range(quads, nb):
                        d = dZ[r, c]
                        for q in range(n_prev):
                            g[ws + i * n_prev + q] += d * A[below + q, c]
                        g[bs + i] += d
                if layer > 0:
                    for q in range(n_prev):
                        for c in range(nb):
                            dA[q, c] = 0.0
                    for i in range(n):
                        for q in range(n_prev):
                            weight = w[ws + i * n_prev + q]
                            for c in range(nb):
                                dA[q, c] += weight * dZ[here + i, c]
                    for q in range(n_prev):
                        for c in range(nb):
                            value = dA[q, c]
                            dZ[below + q, c] = value if A[below + q, c] > 0.0 else 0.0 * value
            kind = kinds[k]
            if kind != NUMPY_UPDATE:
                _update(kind, w, g, hyper[k], table[rows[k] + j - first_batch, k], slots, k)


@njit(cache=True, error_model="numpy")
def _add_gradient_terms(
    G: np.ndarray,
    X: np.ndarray,
    A_quad: np.ndarray,
    dZ_quad: np.ndarray,
    sources: np.ndarray,
    count: int,
    sizes: np.ndarray,
    w_start: np.ndarray,
    rows_of: np.ndarray,
) -> None:
    """Add the dW and db terms of ``count`` (at most 4) examples to G (P, K), in the examples'
    order: G + t_0 + t_1 + ... for every entry, one load and store of G per four examples.
    Example s's activations and dZ are ``A_quad[s]`` and ``dZ_quad[s]``, its input
    ``X[:, sources[s]]``."""
    n_runs = G.shape[1]
    for layer in range(sizes.shape[0] - 1):
        n_prev, n = sizes[layer], sizes[layer + 1]
        ws = w_start[layer]
        bs = ws + n * n_prev
        here = rows_of[layer + 1]
        below = rows_of[layer]
        for i in range(n):
            r = here + i
            for q in range(n_prev):
                e = ws + i * n_prev + q
                p = below + q
                if layer == 0 and count == 4:
                    x0, x1 = X[q, sources[0]], X[q, sources[1]]
                    x2, x3 = X[q, sources[2]], X[q, sources[3]]
                    for k in range(n_runs):
                        total = G[e, k] + dZ_quad[0, r, k] * x0
                        total = total + dZ_quad[1, r, k] * x1
                        total = total + dZ_quad[2, r, k] * x2
                        G[e, k] = total + dZ_quad[3, r, k] * x3
                elif count == 4:
                    for k in range(n_runs):
                        total = G[e, k] + dZ_quad[0, r, k] * A_quad[0, p, k]
                        total = total + dZ_quad[1, r, k] * A_quad[1, p, k]
                        total = total + dZ_quad[2, r, k] * A_quad[2, p, k]
                        G[e, k] = total + dZ_quad[3, r, k] * A_quad[3, p, k]
                else:
                    for s in range(count):
                        if layer == 0:
                            x = X[q, sources[s]]
                            for k in range(n_runs):
                                G[e, k] += dZ_quad[s, r, k] * x
                        else:
                            for k in range(n_runs):
                                G[e, k] += dZ_quad[s, r, k] * A_quad[s, p, k]
            e = bs + i
            if count == 4:
                for k in range(n_runs):
                    total = G[e, k] + dZ_quad[0, r, k]
                    total = total + dZ_quad[1, r, k]
                    total = total + dZ_quad[2, r, k]
                    G[e, k] = total + dZ_quad[3, r, k]
            else:
                for s in range(count):
                    for k in range(n_runs):
                        G[e, k] += dZ_quad[s, r, k]


@njit(cache=True, error_model="numpy")
def train_batches_shared(
    params: np.ndarray,
    grads: np.ndarray,
    X: np.ndarray,
    Y: np.ndarray,
    order: np.ndarray,
    bounds: np.ndarray,
    first_batch: int,
    stop_batch: int,
    sizes: np.ndarray,
    softmax: bool,
    logits: np.ndarray,
    outputs: np.ndarray,
    kinds: np.ndarray,
    hyper: np.ndarray,
    table: np.ndarray,
    rows: np.ndarray,
    slots: np.ndarray,
) -> None:
    """``train_batches`` for a stack whose runs all shuffle with one ``order`` (m,) and all
    have a compiled rule: the same arithmetic, with the runs as the innermost axis, so that
    every loop runs over the K runs at once (a sweep's 64 learning rates are 64 lanes). One
    example at a time goes forward and backward, and every four examples their terms are
    added to dW and db (``_add_gradient_terms``, the columns in order), so the buffers hold
    four columns of every run, not a batch (they stay in the fastest caches)."""
    n_runs, n_params = params.shape
    n_layers = sizes.shape[0] - 1
    n_out = sizes[n_layers]
    # Rows of the activation buffers: each layer's units (the input is read from X).
    rows_of = np.zeros(n_layers + 2, np.int64)
    w_start = np.zeros(n_layers, np.int64)
    widest = 0
    offset = 0
    for layer in range(n_layers + 1):
        rows_of[layer + 1] = rows_of[layer] + sizes[layer]
        if layer < n_layers:
            w_start[layer] = offset
            offset += sizes[layer + 1] * sizes[layer] + sizes[layer + 1]
            widest = max(widest, sizes[layer])
    n_rows = rows_of[n_layers + 1]
    W = np.ascontiguousarray(params.T)
    G = np.zeros((n_params, n_runs))
    Z = np.empty((n_rows, n_runs))
    # Four examples' activations and dZ: their terms are added to dW and db four at a time.
    A_quad = np.empty((4, n_rows, n_runs))
    dZ_quad = np.empty((4, n_rows, n_runs))
    sources = np.empty(4, np.int64)
    dA = np.empty((widest, n_runs))
    column = np.empty(n_runs)
    last = rows_of[n_layers]
    # The optimizer's arrays with the runs innermost too, and the runs' rules as ranges of
    # consecutive runs of one rule.
    n_slots = slots.shape[0]
    state = np.empty((n_slots, n_params, n_runs))
    for slot in range(n_slots):
        for k in range(n_runs):
            for e in range(n_params):
                state[slot, e, k] = slots[slot, k, e]
    hyper_t = np.ascontiguousarray(hyper.T)
    scalars = np.empty((table.shape[2], n_runs))
    for j in range(first_batch, stop_batch):
        start, stop = bounds[j, 0], bounds[j, 1]
        nb = stop - start
        inverse_m = 1.0 / nb
        for e in range(n_params):
            for k in range(n_runs):
                G[e, k] = 0.0
        for c in range(nb):
            source = order[start + c]
            slot = c % 4
            sources[slot] = source
            A = A_quad[slot]
            dZ = dZ_quad[slot]
            # forward: Z_l = W_l A_{l-1} + b_l, ReLU, then sigmoid or softmax
            for layer in range(n_layers):
                n_prev, n = sizes[layer], sizes[layer + 1]
                ws = w_start[layer]
                bs = ws + n * n_prev
                here = rows_of[layer + 1]
                below = rows_of[layer]
                # Indices, not views, in the inner loops: numba counts references to every view.
                # The narrow kernel's additions (0.0, each term, the bias), fused into fewer
                # loops: the first term's loop adds it to 0.0, the bias's loop applies ReLU.
                for i in range(n):
                    r = here + i
                    for q in range(n_prev):
                        e = ws + i * n_prev + q
                        if layer == 0:
                            x = X[q, source]
                            if q == 0:
                                for k in range(n_runs):
                                    Z[r, k] = 0.0 + W[e, k] * x
                            else:
                                for k in range(n_runs):
                                    Z[r, k] += W[e, k] * x
                        elif q == 0:
                            for k in range(n_runs):
                                Z[r, k] = 0.0 + W[e, k] * A[below, k]
                        else:
                            for k in range(n_runs):
                                Z[r, k] += W[e, k] * A[below + q, k]
                    if layer < n_layers - 1:
                        for k in range(n_runs):
                            value = Z[r, k] + W[bs + i, k]
                            Z[r, k] = value
                            A[r, k] = value if (value > 0.0 or value != value) else 0.0
                    else:
                        for k in range(n_runs):
                            Z[r, k] += W[bs + i, k]
            if softmax:
                for k in range(n_runs):
                    column[k] = Z[last, k]
                for i in range(1, n_out):
                    for k in range(n_runs):
                        column[k] = _nan_max(column[k], Z[last + i, k])
                for i in range(n_out):
                    for k in range(n_runs):
                        A[last + i, k] = _exp(Z[last + i, k] - column[k])
                for k in range(n_runs):
                    column[k] = A[last, k]
                for i in range(1, n_out):
                    for k in range(n_runs):
                        column[k] += A[last + i, k]
                for i in range(n_out):
                    for k in range(n_runs):
                        A[last + i, k] = A[last + i, k] / column[k]
            else:
                for k in range(n_runs):
                    A[last, k] = 1 / (1 + _exp(-Z[last, k]))
            for i in range(n_out):
                for k in range(n_runs):
                    logits[k, i, start + c] = Z[last + i, k]
                    outputs[k, i, start + c] = A[last + i, k]
            # backward: dZ_L = 1/m (A_L - Y); dW = dZ A^T; db = sum dZ; dZ_prev = W^T dZ * (A > 0)
            for i in range(n_out):
                y = Y[i, source]
                for k in range(n_runs):
                    dZ[last + i, k] = inverse_m * (A[last + i, k] - y)
            for layer in range(n_layers - 1, -1, -1):
                n_prev, n = sizes[layer], sizes[layer + 1]
                ws = w_start[layer]
                bs = ws + n * n_prev
                here = rows_of[layer + 1]
                below = rows_of[layer]
                if layer > 0:
                    # dA = 0.0 + each unit's term in order, the last one's loop applying ReLU'.
                    for q in range(n_prev):
                        p = below + q
                        for i in range(n - 1):
                            e = ws + i * n_prev + q
                            if i == 0:
                                for k in range(n_runs):
                                    dA[q, k] = 0.0 + W[e, k] * dZ[here, k]
                            else:
                                for k in range(n_runs):
                                    dA[q, k] += W[e, k] * dZ[here + i, k]
                        e = ws + (n - 1) * n_prev + q
                        r = here + n - 1
                        if n == 1:
                            for k in range(n_runs):
                                value = 0.0 + W[e, k] * dZ[r, k]
                                dZ[p, k] = value if A[p, k] > 0.0 else 0.0 * value
                        else:
                            for k in range(n_runs):
                                value = dA[q, k] + W[e, k] * dZ[r, k]
                                dZ[p, k] = value if A[p, k] > 0.0 else 0.0 * value
            if slot == 3 or c == nb - 1:
                _add_gradient_terms(
                    G, X, A_quad, dZ_quad, sources, slot + 1, sizes, w_start, rows_of
                )
        for k in range(n_runs):
            for entry in range(scalars.shape[0]):
                scalars[entry, k] = table[rows[k] + j - first_batch, k, entry]
        first = 0
        while first < n_runs:
            stop_run = first + 1
            while stop_run < n_runs and kinds[stop_run] == kinds[first]:
                stop_run += 1
            if kinds[first] <= LAST_STEP_KIND:
                _update_runs(kinds[first], W, G, hyper_t, scalars, state, first, stop_run)
            else:
                for k in range(first, stop_run):
                    w = params[k]
                    g_run = grads[k]
                    for e in range(n_params):
                        w[e] = W[e, k]
                        g_run[e] = G[e, k]
                        for slot in range(n_slots):
                            slots[slot, k, e] = state[slot, e, k]
                    row = rows[k] + j - first_batch
                    more_updates.update(kinds[k], w, g_run, hyper[k], table[row, k], slots, k)
                    for e in range(n_params):
                        W[e, k] = w[e]
                        for slot in range(n_slots):
                            state[slot, e, k] = slots[slot, k, e]
            first = stop_run
    for k in range(n_runs):
        for e in range(n_params):
            params[k, e] = W[e, k]
            grads[k, e] = G[e, k]
            for slot in range(n_slots):
                slots[slot, k, e] = state[slot, e, k]


@njit(cache=True, error_model="numpy")
def train_epochs(
    params: np.ndarray,
    grads: np.ndarray,
    X: np.ndarray,
    Y: np.ndarray,
    seeds: np.ndarray,
    orders: np.ndarray,
    data_of_run: np.ndarray,
    shared: bool,
    bounds: np.ndarray,
    sizes: np.ndarray,
    softmax: bool,
    logits: np.ndarray,
    outputs: np.ndarray,
    kinds: np.ndarray,
    hyper: np.ndarray,
    table: np.ndarray,
    rows: np.ndarray,
    slots: np.ndarray,
) -> None:
    """Train every run through whole epochs b = 0 .. B - 1, each run's update compiled.

    Before epoch b, ``orders[b, r]`` (int64, (B, R, m)) receives the shuffle of seed
    ``seeds[b, r]`` (``shuffle.legacy_permutation``); then every batch of the epoch is trained
    by ``train_batches_shared`` (``shared``: one shuffle, R = 1) or ``train_batches``, Z_L and
    A_L going to ``logits[b]`` and ``outputs[b]`` (B, K, C, m). Run k's batch j of epoch b
    reads the scalars of ``table`` row ``rows[k] + b * n_batches + j``. The same calls as one
    per epoch, so the same bits."""
    n_batches = bounds.shape[0]
    epoch_rows = rows.copy()
    for b in range(seeds.shape[0]):
        for r in range(seeds.shape[1]):
            legacy_permutation(seeds[b, r], orders[b, r])
        if shared:
            train_batches_shared(
                params, grads, X, Y, orders[b, 0], bounds, 0, n_batches, sizes, softmax,
                logits[b], outputs[b], kinds, hyper, table, epoch_rows, slots,
            )  # fmt: skip
        else:
            train_batches(
                params, grads, X, Y, orders[b], data_of_run, bounds, 0, n_batches, sizes,
                softmax, logits[b], outputs[b], kinds, hyper, table, epoch_rows, slots,
            )  # fmt: skip
        for k in range(epoch_rows.shape[0]):
            epoch_rows[k] += n_batches
