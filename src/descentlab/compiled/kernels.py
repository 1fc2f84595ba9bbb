"""The compiled kernels: forward, backward and elementwise updates of a stack, batch by batch.

Everything here is numba ``@njit(cache=True)`` over plain arrays (no fastmath, no parallel:
the same bits every run on one machine). ``train_batches`` trains every run of a stack through
a range of mini-batches of one epoch; ``descentlab.compiled.stack`` prepares its arguments.
The arithmetic follows ``descentlab.nn.Pass`` and each optimizer's numpy ``update``
operation by operation; the differences from numpy are in the order of the sums of the
matrix products and in ``exp`` (see ``descentlab.compiled``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from descentlab.compiled import more_updates

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


@njit(cache=True)
def _sign(x: float) -> float:
    """np.sign: -1, 0 or 1, NaN for NaN."""
    if x > 0.0:
        return 1.0
    if x < 0.0:
        return -1.0
    return x


@njit(cache=True)
def _block_sum(a: np.ndarray, start: int, n: int) -> float:
    """sum(a[start:start + n]) for n <= 128, added as numpy's pairwise summation does."""
    if n < 8:
        total = 0.0
        for i in range(start, start + n):
            total += a[i]
        return total
    r0, r1, r2, r3 = a[start], a[start + 1], a[start + 2], a[start + 3]
    r4, r5, r6, r7 = a[start + 4], a[start + 5], a[start + 6], a[start + 7]
    i = 8
    while i < n - (n % 8):
        r0 += a[start + i]
        r1 += a[start + i + 1]
        r2 += a[start + i + 2]
        r3 += a[start + i + 3]
        r4 += a[start + i + 4]
        r5 += a[start + i + 5]
        r6 += a[start + i + 6]
        r7 += a[start + i + 7]
        i += 8
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        total += a[start + i]
        i += 1
    return total


@njit(cache=True)
def _dot_rows(P: np.ndarray, p: int, Q: np.ndarray, q: int, n: int) -> float:
    """sum over c < n of P[p, c] * Q[q, c], in eight interleaved partial sums (one long chain
    of dependent additions would wait on each one; BLAS reorders its sums too)."""
    r0 = r1 = r2 = r3 = r4 = r5 = r6 = r7 = 0.0
    c = 0
    while c + 8 <= n:
        r0 += P[p, c] * Q[q, c]
        r1 += P[p, c + 1] * Q[q, c + 1]
        r2 += P[p, c + 2] * Q[q, c + 2]
        r3 += P[p, c + 3] * Q[q, c + 3]
        r4 += P[p, c + 4] * Q[q, c + 4]
        r5 += P[p, c + 5] * Q[q, c + 5]
        r6 += P[p, c + 6] * Q[q, c + 6]
        r7 += P[p, c + 7] * Q[q, c + 7]
        c += 8
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while c < n:
        total += P[p, c] * Q[q, c]
        c += 1
    return total


@njit(cache=True)
def _pairwise_sum(a: np.ndarray, start: int, n: int) -> float:
    """sum(a[start:start + n]) added as numpy's pairwise summation adds a contiguous row: blocks
    of at most 128, halves (rounded down to a multiple of 8) above. Written with an explicit
    stack because numba's on-disk cache does not survive recursive functions."""
    if n <= 128:
        return _block_sum(a, start, n)
    starts = np.empty(128, np.int64)
    counts = np.empty(128, np.int64)
    joins = np.zeros(128, np.bool_)
    values = np.empty(128)
    top = 0
    n_values = 0
    starts[0], counts[0], joins[0] = start, n, False
    top = 1
    while top > 0:
        top -= 1
        first, count, join = starts[top], counts[top], joins[top]
        if join:
            n_values -= 1
            values[n_values - 1] = values[n_values - 1] + values[n_values]
        elif count <= 128:
            values[n_values] = _block_sum(a, first, count)
            n_values += 1
        else:
            half = count // 2
            half -= half % 8
            starts[top], counts[top], joins[top] = first, count, True
            starts[top + 1], counts[top + 1], joins[top + 1] = first + half, count - half, False
            starts[top + 2], counts[top + 2], joins[top + 2] = first, half, False
            top += 3
    return values[0]


@njit(cache=True)
def _log_add_exp0(z: float) -> float:
    """log(1 + e^z) without overflow (np.logaddexp(0, z))."""
    if z != z:
        return z
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


@njit(cache=True)
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
    (the rules of ``descentlab.optim``, operation by operation)."""
    n = w.shape[0]
    if kind == GD:
        lr = s[0]
        for p in range(n):
            w[p] += -(lr * g[p])
    elif kind == MOMENTUM:
        lr, beta = s[0], h[0]
        v = slots[0, run]
        for p in range(n):
            v[p] = beta * v[p] + (1 - beta) * g[p]
            w[p] += -(lr * v[p])
    elif kind == SGD:
        lr, first = s[0], s[1]
        momentum, dampening, decay, decays, nesterov = h[0], h[1], h[2], h[3], h[4]
        b = slots[0, run]
        for p in range(n):
            gp = g[p] + decay * w[p] if decays else g[p]
            if first:
                b[p] = gp
            else:
                b[p] = momentum * b[p] + (1 - dampening) * gp
            d = gp + momentum * b[p] if nesterov else b[p]
            w[p] += -(lr * d)
    elif kind == ADAM:
        lr, c1, c2 = s[0], s[1], s[2]
        b1, b2, eps, keep_max, inside = h[0], h[1], h[2], h[3], h[4]
        decay, decays, shrink, shrinks = h[5], h[6], h[7], h[8]
        mu, nu = slots[0, run], slots[1, run]
        for p in range(n):
            gp = g[p] + decay * w[p] if decays else g[p]
            mu[p] = b1 * mu[p] + (1 - b1) * gp
            nu[p] = b2 * nu[p] + (1 - b2) * (gp * gp)
            second = nu[p]
            if keep_max:
                slots[2, run, p] = _nan_max(slots[2, run, p], nu[p])
                second = slots[2, run, p]
            mu_hat = mu[p] / c1
            nu_hat = second / c2
            if inside:
                u = -lr * mu_hat / math.sqrt(nu_hat + eps)
            else:
                u = -lr * mu_hat / (math.sqrt(nu_hat) + eps)
            if shrinks:
                u = u - (lr * shrink) * w[p]
            w[p] += u
    elif kind == RMSPROP:
        lr = s[0]
        rho, eps, momentum, centered, decay, decays = h[0], h[1], h[2], h[3], h[4], h[5]
        sq, avg, b = slots[0, run], slots[1, run], slots[2, run]
        for p in range(n):
            gp = g[p] + decay * w[p] if decays else g[p]
            sq[p] = rho * sq[p] + (1 - rho) * (gp * gp)
            if centered:
                avg[p] = rho * avg[p] + (1 - rho) * gp
                denominator = math.sqrt(sq[p] - avg[p] * avg[p]) + eps
            else:
                denominator = math.sqrt(sq[p]) + eps
            b[p] = momentum * b[p] + gp / denominator
            w[p] += -(lr * b[p])
    elif kind == ADAGRAD:
        clr = s[0]
        eps, decay, decays = h[0], h[1], h[2]
        total = slots[0, run]
        for p in range(n):
            gp = g[p] + decay * w[p] if decays else g[p]
            total[p] = total[p] + gp * gp
            w[p] += -(clr * gp / (math.sqrt(total[p]) + eps))
    elif kind == ADAMAX:
        lr, c1 = s[0], s[1]
        b1, b2, eps = h[0], h[1], h[2]
        mu, u = slots[0, run], slots[1, run]
        for p in range(n):
            mu[p] = b1 * mu[p] + (1 - b1) * g[p]
            u[p] = _nan_max(b2 * u[p], abs(g[p]) + eps)
            w[p] += -(lr / c1 * mu[p] / u[p])
    elif kind == LION:
        lr = s[0]
        b1, b2, decay, decays = h[0], h[1], h[2], h[3]
        mu = slots[0, run]
        for p in range(n):
            d = _sign((1 - b1) * g[p] + b1 * mu[p])
            if decays:
                d = d + decay * w[p]
            mu[p] = (1 - b2) * g[p] + b2 * mu[p]
            w[p] += -lr * d
    else:
        more_updates.update(kind, w, g, h, s, slots, run)


@njit(cache=True)
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
    batch_totals: np.ndarray,
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
    Z_L and A_L of every batch, and ``batch_totals[k, j]`` the sum over batch j of the
    cross-entropy -log p (``losses.cross_entropy_from_label_probability``: from the logits
    where p is 0), added as numpy adds a row. After each batch's forward
    and backward pass (gradient into ``grads[k]``), run k takes the step of rule ``kinds[k]``
    with ``hyper[k]`` and the scalars ``table[rows[k] + j - first_batch, k]`` of batch j,
    on its state ``slots[:, k]``; kind 0 leaves the step to numpy.
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
    terms = np.empty(batch_max)
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
                        A[last + i, c] = math.exp(Z[last + i, c] - column[c])
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
                    A[last, c] = 1 / (1 + math.exp(-Z[last, c]))
            for i in range(n_out):
                for c in range(nb):
                    logits[k, i, start + c] = Z[last + i, c]
                    outputs[k, i, start + c] = A[last + i, c]
            # the cost: -log p, p the probability of the true label
            for c in range(nb):
                if softmax:
                    p = 0.0
                    for i in range(n_out):
                        p += Yb[i, c] * A[last + i, c]
                else:
                    p = abs((1 - Yb[0, c]) - A[last, c])
                if p != 0.0:
                    terms[c] = -math.log(p)
                elif softmax:
                    top = Z[last, c]
                    for i in range(1, n_out):
                        top = _nan_max(top, Z[last + i, c])
                    exps = 0.0
                    labelled = 0.0
                    for i in range(n_out):
                        exps += math.exp(Z[last + i, c] - top)
                        labelled += Yb[i, c] * Z[last + i, c]
                    terms[c] = top + math.log(exps) - labelled
                else:
                    terms[c] = _log_add_exp0(Z[last, c]) - Yb[0, c] * Z[last, c]
            batch_totals[k, j] = _pairwise_sum(terms, 0, nb)
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
                for i in range(n):
                    for q in range(n_prev):
                        g[ws + i * n_prev + q] = _dot_rows(dZ, here + i, A, below + q, nb)
                    g[bs + i] = _pairwise_sum(dZ[here + i], 0, nb)  # one view per row
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


@njit(cache=True)
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
    batch_totals: np.ndarray,
    kinds: np.ndarray,
    hyper: np.ndarray,
    table: np.ndarray,
    rows: np.ndarray,
    slots: np.ndarray,
) -> None:
    """``train_batches`` for a stack whose runs all shuffle with one ``order`` (m,) and all
    have a compiled rule: the same arithmetic, with the runs as the innermost axis, so that
    every loop runs over the K runs at once (a sweep's 64 learning rates are 64 lanes)."""
    n_runs, n_params = params.shape
    n_layers = sizes.shape[0] - 1
    n_x = sizes[0]
    n_out = sizes[n_layers]
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
    W = np.ascontiguousarray(params.T)
    G = np.zeros((n_params, n_runs))
    Z = np.empty((n_rows, batch_max, n_runs))
    A = np.empty((n_rows, batch_max, n_runs))
    dZ = np.empty((n_rows, batch_max, n_runs))
    dA = np.empty((widest, batch_max, n_runs))
    column = np.empty(n_runs)
    terms = np.empty((n_runs, batch_max))
    Xb = np.empty((n_x, batch_max))
    Yb = np.empty((n_out, batch_max))
    last = rows_of[n_layers]
    for j in range(first_batch, stop_batch):
        start, stop = bounds[j, 0], bounds[j, 1]
        nb = stop - start
        for c in range(nb):
            source = order[start + c]
            for q in range(n_x):
                Xb[q, c] = X[q, source]
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
                    for k in range(n_runs):
                        Z[r, c, k] = 0.0
                    for q in range(n_prev):
                        e = ws + i * n_prev + q
                        if layer == 0:
                            x = Xb[q, c]
                            for k in range(n_runs):
                                Z[r, c, k] += W[e, k] * x
                        else:
                            for k in range(n_runs):
                                Z[r, c, k] += W[e, k] * A[below + q, c, k]
                    for k in range(n_runs):
                        Z[r, c, k] += W[bs + i, k]
                    if layer < n_layers - 1:
                        for k in range(n_runs):
                            value = Z[r, c, k]
                            A[r, c, k] = value if (value > 0.0 or value != value) else 0.0
        for c in range(nb):
            if softmax:
                for k in range(n_runs):
                    column[k] = Z[last, c, k]
                for i in range(1, n_out):
                    for k in range(n_runs):
                        column[k] = _nan_max(column[k], Z[last + i, c, k])
                for i in range(n_out):
                    for k in range(n_runs):
                        A[last + i, c, k] = math.exp(Z[last + i, c, k] - column[k])
                for k in range(n_runs):
                    column[k] = A[last, c, k]
                for i in range(1, n_out):
                    for k in range(n_runs):
                        column[k] += A[last + i, c, k]
                for i in range(n_out):
                    for k in range(n_runs):
                        A[last + i, c, k] = A[last + i, c, k] / column[k]
            else:
                for k in range(n_runs):
                    A[last, c, k] = 1 / (1 + math.exp(-Z[last, c, k]))
            for i in range(n_out):
                for k in range(n_runs):
                    logits[k, i, start + c] = Z[last + i, c, k]
                    outputs[k, i, start + c] = A[last + i, c, k]
            # the cost: -log p, p the probability of the true label
            for k in range(n_runs):
                if softmax:
                    p = 0.0
                    for i in range(n_out):
                        p += Yb[i, c] * A[last + i, c, k]
                else:
                    p = abs((1 - Yb[0, c]) - A[last, c, k])
                if p != 0.0:
                    terms[k, c] = -math.log(p)
                elif softmax:
                    top = Z[last, c, k]
                    for i in range(1, n_out):
                        top = _nan_max(top, Z[last + i, c, k])
                    exps = 0.0
                    labelled = 0.0
                    for i in range(n_out):
                        exps += math.exp(Z[last + i, c, k] - top)
                        labelled += Yb[i, c] * Z[last + i, c, k]
                    terms[k, c] = top + math.log(exps) - labelled
                else:
                    z_last = Z[last, c, k]
                    terms[k, c] = _log_add_exp0(z_last) - Yb[0, c] * z_last
        for k in range(n_runs):
            batch_totals[k, j] = _pairwise_sum(terms[k], 0, nb)  # one view per run and batch
        # backward: dZ_L = 1/m (A_L - Y); dW = dZ A^T; db = sum dZ; dZ_prev = W^T dZ * (A > 0)
        inverse_m = 1.0 / nb
        for i in range(n_out):
            for c in range(nb):
                y = Yb[i, c]
                for k in range(n_runs):
                    dZ[last + i, c, k] = inverse_m * (A[last + i, c, k] - y)
        for layer in range(n_layers - 1, -1, -1):
            n_prev, n = sizes[layer], sizes[layer + 1]
            ws = w_start[layer]
            bs = ws + n * n_prev
            here = rows_of[layer + 1]
            below = rows_of[layer]
            # Each run's sums run over the columns in order, all runs at once.
            for e in range(ws, bs + n):
                for k in range(n_runs):
                    G[e, k] = 0.0
            for c in range(nb):
                for i in range(n):
                    r = here + i
                    for q in range(n_prev):
                        e = ws + i * n_prev + q
                        if layer == 0:
                            x = Xb[q, c]
                            for k in range(n_runs):
                                G[e, k] += dZ[r, c, k] * x
                        else:
                            for k in range(n_runs):
                                G[e, k] += dZ[r, c, k] * A[below + q, c, k]
                    for k in range(n_runs):
                        G[bs + i, k] += dZ[r, c, k]
            if layer > 0:
                for q in range(n_prev):
                    for c in range(nb):
                        for k in range(n_runs):
                            dA[q, c, k] = 0.0
                for i in range(n):
                    for q in range(n_prev):
                        e = ws + i * n_prev + q
                        for c in range(nb):
                            for k in range(n_runs):
                                dA[q, c, k] += W[e, k] * dZ[here + i, c, k]
                for q in range(n_prev):
                    for c in range(nb):
                        for k in range(n_runs):
                            value = dA[q, c, k]
                            dZ[below + q, c, k] = value if A[below + q, c, k] > 0.0 else 0.0 * value
        for k in range(n_runs):
            w = params[k]
            g_run = grads[k]
            for e in range(n_params):
                w[e] = W[e, k]
                g_run[e] = G[e, k]
            _update(kinds[k], w, g_run, hyper[k], table[rows[k] + j - first_batch, k], slots, k)
            for e in range(n_params):
                W[e, k] = w[e]
