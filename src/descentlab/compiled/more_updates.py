"""The compiled updates of the later elementwise optimizers: nadam, radam, adabelief, adadelta,
rprop, adan, yogi, asgd and schedule-free (sgd and adamw).

``kernels._update`` hands every rule it does not know itself to ``update`` here. Each rule
follows its optimizer's numpy ``update`` operation by operation (the same order, the same
scalars); the per-step numbers come from the optimizer's ``ElementwiseRule.step_scalars``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# Continues ``kernels.KINDS``: the numbers must not collide with the kinds defined there.
RADAM = 9
ADABELIEF = 10
ADADELTA = 11
RPROP = 12
ADAN = 13
YOGI = 14
NADAM = 15
ASGD = 16
SCHEDULE_FREE = 17

KINDS = {
    "radam": RADAM,
    "adabelief": ADABELIEF,
    "adadelta": ADADELTA,
    "rprop": RPROP,
    "adan": ADAN,
    "yogi": YOGI,
    "nadam": NADAM,
    "asgd": ASGD,
    "schedule_free": SCHEDULE_FREE,
}


# np.sign and np.clip as numba sees them (kernels.py's lion uses this np_sign too).
@njit(cache=True)
def np_sign(x: float) -> float:
    """np.sign: -1, 0 or 1, NaN for NaN."""
    if x > 0.0:
        return 1.0
    if x < 0.0:
        return -1.0
    return x


@njit(cache=True)
def _clip(x: float, low: float, high: float) -> float:
    """np.clip(x, low, high): min(max(x, low), high), NaN stays NaN."""
    if x != x:
        return x
    if x < low:
        x = low
    if x > high:
        x = high
    return x


@njit(cache=True)
def update(
    kind: int,
    w: np.ndarray,
    g: np.ndarray,
    h: np.ndarray,
    s: np.ndarray,
    slots: np.ndarray,
    run: int,
) -> None:
    """One step of rule ``kind`` for one run, in place (the arguments of ``kernels._update``)."""
    n = w.shape[0]
    if kind == RADAM:
        lr, c1, rectified, root2, rectification = s[0], s[1], s[2], s[3], s[4]
        b1, b2, eps, decay, decays, shrink, shrinks = h[0], h[1], h[2], h[3], h[4], h[5], h[6]
        mu, nu = slots[0, run], slots[1, run]
        for p in range(n):
            gp = g[p] + decay * w[p] if decays else g[p]
            mu[p] = b1 * mu[p] + (1 - b1) * gp
            nu[p] = b2 * nu[p] + (1 - b2) * (gp * gp)
            step = mu[p] / c1 * lr
            if rectified:
                step = step * (root2 / (math.sqrt(nu[p]) + eps)) * rectification
            u = -step
            if shrinks:
                u = u - (lr * shrink) * w[p]
            w[p] += u
    elif kind == ADABELIEF:
        lr, c1, c2, c1_next = s[0], s[1], s[2], s[3]
        b1, b2, eps, eps_root, nesterov = h[0], h[1], h[2], h[3], h[4]
        mu, nu = slots[0, run], slots[1, run]
        for p in range(n):
            mu[p] = (1 - b1) * g[p] + b1 * mu[p]
            d = g[p] - mu[p]
            nu[p] = (1 - b2) * (d * d) + b2 * nu[p]
            nu[p] = nu[p] + eps_root
            mu_hat = mu[p] / c1
            if nesterov:
                mu_hat = b1 * (mu[p] / c1_next) + (1 - b1) * (g[p] / c1)
            nu_hat = nu[p] / c2
            w[p] += -lr * (mu_hat / (math.sqrt(nu_hat) + eps))
    elif kind == ADADELTA:
        lr = s[0]
        rho, eps, decay, decays = h[0], h[1], h[2], h[3]
        square_avg, acc_delta = slots[0, run], slots[1, run]
        for p in range(n):
            gp = g[p] + decay * w[p] if decays else g[p]
            square_avg[p] = rho * square_avg[p] + (1 - rho) * (gp * gp)
            delta = math.sqrt(acc_delta[p] + eps) / math.sqrt(square_avg[p] + eps) * gp
            acc_delta[p] = rho * acc_delta[p] + (1 - rho) * (delta * delta)
            w[p] += -(lr * delta)
    elif kind == RPROP:
        etaminus, etaplus, size_min, size_max = h[0], h[1], h[2], h[3]
        prev, size = slots[0, run], slots[1, run]
        for p in range(n):
            sign = np_sign(g[p] * prev[p])
            if sign > 0:
                factor = etaplus
            elif sign < 0:
                factor = etaminus
            elif sign == 0:
                factor = 1.0
            else:
                factor = sign
            size[p] = _clip(size[p] * factor, size_min, size_max)
            gp = 0.0 if sign < 0 else g[p]
            prev[p] = gp
            w[p] += -(np_sign(gp) * size[p])
    elif kind == ADAN:
        first, root3, m_rate, v_rate, lr = s[0], s[1], s[2], s[3], s[4]
        b1, b2, b3, eps, decay, decays, decouple = h[0], h[1], h[2], h[3], h[4], h[5], h[6]
        mu, diff_avg, nu, previous = slots[0, run], slots[1, run], slots[2, run], slots[3, run]
        for p in range(n):
            gp = g[p]
            diff = 0.0 if first else gp - previous[p]
            mu[p] = b1 * mu[p] + (1 - b1) * gp
            diff_avg[p] = b2 * diff_avg[p] + (1 - b2) * diff
            nesterov = b2 * diff + gp
            nu[p] = b3 * nu[p] + (1 - b3) * (nesterov * nesterov)
            denominator = math.sqrt(nu[p]) / root3 + eps
            step = m_rate * (mu[p] / denominator) + v_rate * (diff_avg[p] / denominator)
            previous[p] = gp
            if not decays:
                w[p] += -step
            else:
                if decouple:
                    new = w[p] * (1 - lr * decay) - step
                else:
                    new = (w[p] - step) / (1 + lr * decay)
                w[p] += new - w[p]
    elif kind == NADAM:
        gradient_weight, momentum_weight, c2 = s[0], s[1], s[2]
        b1, b2, eps = h[0], h[1], h[2]
        mu, nu = slots[0, run], slots[1, run]
        for p in range(n):
            mu[p] = b1 * mu[p] + (1 - b1) * g[p]
            nu[p] = b2 * nu[p] + (1 - b2) * (g[p] * g[p])
            denominator = math.sqrt(nu[p] / c2) + eps
            w[p] += -((gradient_weight * g[p] + momentum_weight * mu[p]) / denominator)
    elif kind == ASGD:
        eta, average_weight, averages = s[0], s[1], s[2]
        decay, decays, lambd, shrinks = h[0], h[1], h[2], h[3]
        ax = slots[0, run]
        for p in range(n):
            gp = g[p] + decay * w[p] if decays else g[p]
            if shrinks:
                gp = gp + lambd * w[p]
            u = -(eta * gp)
            weights = w[p] + u
            ax[p] = ax[p] + (weights - ax[p]) * average_weight if averages else weights
            w[p] += u
    elif kind == SCHEDULE_FREE:
        lr, average_weight, c2 = s[0], s[1], s[2]
        b1, decay, decays, adam, b2, eps = h[0], h[1], h[2], h[3], h[4], h[5]
        z = slots[0, run]
        for p in range(n):
            d = g[p]
            if adam:
                nu = (1 - b2) * (g[p] * g[p]) + b2 * slots[1, run, p]
                slots[1, run, p] = nu
                d = (1 / (math.sqrt(nu / c2) + eps)) * g[p]
            if decays:
                d = d + decay * w[p]
            x = (w[p] - (1 - b1) * z[p]) * (1 / b1)
            z[p] = z[p] + (-lr) * d
            x = (1 - average_weight) * x + average_weight * z[p]
            w[p] += (b1 * x + (1 - b1) * z[p]) - w[p]
    elif kind == YOGI:
        lr, c1, c2 = s[0], s[1], s[2]
        b1, b2, eps = h[0], h[1], h[2]
        mu, nu = slots[0, run], slots[1, run]
        for p in range(n):
            mu[p] = (1 - b1) * g[p] + b1 * mu[p]
            squared = g[p] * g[p]
            nu[p] = nu[p] - (1 - b2) * np_sign(nu[p] - squared) * squared
            mu_hat = mu[p] / c1
            nu_hat = nu[p] / c2
            w[p] += -lr * (mu_hat / (math.sqrt(nu_hat) + eps))
