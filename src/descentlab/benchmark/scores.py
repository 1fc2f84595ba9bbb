r"""The benchmark's scores: pure functions over per-trial result arrays.

Each function states its exact rule; docs/benchmark.md ("Scores") gives the citations:

- ``bootstrap_interval``: the mean over seeds and its percentile bootstrap interval
  (Efron & Tibshirani 1993);
- ``epochs_to_target``: AlgoPerf's time-to-result, counted in epochs;
- ``welch_t_test``: Welch's t statistic, Welch-Satterthwaite degrees of freedom and the
  two-sided Student t p-value (Welch 1947), through the regularized incomplete beta function
  evaluated by the continued fraction of Numerical Recipes in C (Press et al., 2nd ed.,
  section 6.4) with Lentz's method (section 5.2);
- ``holm`` and ``indistinguishable``: Holm's (1979) step-down adjusted p-values over all pairs
  of optimizers on one problem, and the optimizers tied with the best;
- ``performance_profile``: Dolan & Moré (2002);
- ``mean_ranks`` and ``tuning_gap``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

CONTINUED_FRACTION_TOLERANCE = 1e-15
"""Lentz's iteration stops when a factor differs from 1 by less than this: a few of float64's
epsilon (2.2e-16), so the last factors are 1 to the last bits, yet a factor one bit off 1
still stops it."""

CONTINUED_FRACTION_MAX_TERMS = 10_000
"""The continued fraction converges in O(sqrt(max(a, b))) terms (Numerical Recipes 6.4); a
benchmark's degrees of freedom stay far below what would need this many."""

TINY = 1e-300
"""What Lentz's method puts in place of a zero denominator (Numerical Recipes' FPMIN: any
number far below the values involved)."""


class Interval(NamedTuple):
    """A mean and the bounds of its confidence interval. The percentile method does not
    guarantee ``low <= mean <= high``; for the mean of a handful of seeds it holds unless one
    value dwarfs the others."""

    mean: float
    low: float
    high: float


class WelchTest(NamedTuple):
    """Welch's t statistic, its degrees of freedom and the two-sided p-value."""

    t: float
    df: float
    p: float


class Ties(NamedTuple):
    """One problem's verdict: which optimizers cannot be told apart.

    ``pairs`` are the pairs (in the order of the input mapping) whose Holm-adjusted p-value is
    at least alpha; ``best`` is the optimizer with the best mean; ``tied_with_best`` is ``best``
    and every optimizer paired with it in ``pairs``, in input order; ``adjusted_p`` holds each
    pair's Holm-adjusted p-value.
    """

    pairs: list[tuple[str, str]]
    best: str
    tied_with_best: list[str]
    adjusted_p: dict[tuple[str, str], float]


def _finite_vector(values: ArrayLike, name: str, *, min_size: int) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence of numbers, got shape {array.shape}")
    if array.size < min_size:
        raise ValueError(f"{name} needs at least {min_size} values, got {array.size}")
    if not np.all(np.isfinite(array)):
        bad = array[~np.isfinite(array)][0]
        raise ValueError(f"{name} must be finite, got {bad}")
    return array


def bootstrap_interval(
    values: ArrayLike, *, confidence: float = 0.95, resamples: int = 10_000, seed: int
) -> Interval:
    r"""The mean of ``values`` and its percentile bootstrap interval.

    With n values x_1..x_n and B = ``resamples``, draw B resamples of n indices uniformly with
    replacement from ``np.random.default_rng(seed)`` (one ``integers(0, n, (B, n))`` call),
    take each resample's mean m*_b, and return

        mean = (1/n) sum_i x_i,
        low  = quantile(m*, (1 - confidence) / 2),
        high = quantile(m*, (1 + confidence) / 2),

    where ``quantile`` is numpy's default (linear interpolation between order statistics,
    Hyndman & Fan's type 7). This is the percentile method (Efron & Tibshirani 1993):
    it assumes no normal shape for the mean and it respects monotone transformations, and with
    the few seeds a benchmark affords a bias-corrected variant (BCa) would rest its corrections
    on too few values to estimate them. With few values every bootstrap interval is too narrow
    on average; it describes the spread of these seeds, not a guarantee.

    n = 1 gives ``Interval(x_1, x_1, x_1)``: one seed has no spread to resample, so the interval
    has zero width, which says "one seed", not "no uncertainty". The same ``seed`` gives the
    same interval, bit for bit.
    """
    sample = _finite_vector(values, "values", min_size=1)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if isinstance(resamples, bool) or not isinstance(resamples, int) or resamples < 1:
        raise ValueError(f"resamples must be an integer >= 1, got {resamples!r}")
    mean = float(np.mean(sample))
    if sample.size == 1:
        return Interval(mean, mean, mean)
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, sample.size, size=(resamples, sample.size))
    resampled_means = sample[indices].mean(axis=1)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(resampled_means, [tail, 1.0 - tail])
    return Interval(mean, float(low), float(high))


def epochs_to_target(curve: ArrayLike, target: float, *, higher_is_better: bool) -> int | None:
    """The number of epochs a run took to reach ``target``: AlgoPerf's time-to-result in epochs.

    ``curve[k]`` is the value measured after k + 1 epochs of training (a curve that starts
    with a value before training must drop it first), so the answer is 1-based: the smallest
    k + 1 with ``curve[k] >= target`` when ``higher_is_better`` (an accuracy), or
    ``curve[k] <= target`` otherwise (a loss). ``None`` when no epoch reaches it; a NaN value
    (a diverged run) never reaches it.
    """
    values = np.asarray(curve, dtype=float)
    if values.ndim != 1:
        raise ValueError(f"curve must be a 1-D sequence of numbers, got shape {values.shape}")
    if not math.isfinite(target):
        raise ValueError(f"target must be a finite number, got {target}")
    with np.errstate(invalid="ignore"):
        reached = values >= target if higher_is_better else values <= target
    hits = np.flatnonzero(reached)
    return int(hits[0]) + 1 if hits.size else None


def regularized_incomplete_beta(x: float, a: float, b: float) -> float:
    r"""I_x(a, b) = B(x; a, b) / B(a, b), the regularized incomplete beta function.

    Numerical Recipes in C (Press et al., 2nd ed., section 6.4): with the prefactor
    f = x^a (1 - x)^b / (a B(a, b)) (through ``math.lgamma``),

        I_x(a, b) = f * 1 / (1 + d_1 / (1 + d_2 / (1 + ...)))          if x < (a + 1) / (a + b + 2)
        I_x(a, b) = 1 - I_{1-x}(b, a)                                    otherwise,

    d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)),
    d_{2m}   = m (b - m) x / ((a + 2m - 1)(a + 2m)),

    the continued fraction evaluated by the modified Lentz method (Numerical Recipes 5.2) until
    a factor is within ``CONTINUED_FRACTION_TOLERANCE`` of 1. The switch keeps x on the side
    where the fraction converges fast.
    """
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"x must be in [0, 1], got {x}")
    if not (a > 0 and b > 0):
        raise ValueError(f"a and b must be > 0, got a={a}, b={b}")
    if x == 0.0 or x == 1.0:
        return x
    if x < (a + 1.0) / (a + b + 2.0):
        return _incomplete_beta_by_continued_fraction(x, a, b)
    return 1.0 - _incomplete_beta_by_continued_fraction(1.0 - x, b, a)


def _incomplete_beta_by_continued_fraction(x: float, a: float, b: float) -> float:
    log_prefactor = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    return math.exp(log_prefactor) * _beta_continued_fraction(x, a, b) / a


def _beta_continued_fraction(x: float, a: float, b: float) -> float:
    # Modified Lentz: f = 1 / (1 + d_1 / (1 + d_2 / ...)) as products of C_j / D_j.
    c = 1.0
    d = 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > TINY else TINY)
    fraction = d
    for m in range(1, CONTINUED_FRACTION_MAX_TERMS + 1):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > TINY else TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > TINY else TINY
            factor = c * d
            fraction *= factor
        if abs(factor - 1.0) < CONTINUED_FRACTION_TOLERANCE:
            return fraction
    raise ArithmeticError(  # pragma: no cover - unreachable for the df a benchmark produces
        f"incomplete beta continued fraction did not converge for x={x}, a={a}, b={b}"
    )


def student_t_two_sided_p(t: float, df: float) -> float:
    r"""P(|T| >= |t|) for T ~ Student t with ``df`` degrees of freedom.

    p = I_{df / (df + t^2)}(df / 2, 1 / 2)  (Numerical Recipes in C, 2nd ed., section 6.4),

    evaluated as 1 - I_{t^2 / (df + t^2)}(1 / 2, df / 2) when t^2 < df (the same number by
    I_x(a, b) = 1 - I_{1-x}(b, a)), because df / (df + t^2) rounds to 1 for a tiny t.
    """
    if not df > 0:
        raise ValueError(f"df must be > 0, got {df}")
    if math.isnan(t):
        raise ValueError("t must be a number, got nan")
    if math.isinf(t):
        return 0.0
    t_squared = t * t
    if t_squared < df:
        return 1.0 - regularized_incomplete_beta(t_squared / (df + t_squared), 0.5, df / 2.0)
    return regularized_incomplete_beta(df / (df + t_squared), df / 2.0, 0.5)


def welch_t_test(a: ArrayLike, b: ArrayLike) -> WelchTest:
    r"""Welch's unequal-variances t-test of "mean(a) = mean(b)", two-sided (Welch 1947).

    With sample means x̄_a, x̄_b, unbiased sample variances s_a^2, s_b^2 (divisor n - 1) and
    v_a = s_a^2 / n_a, v_b = s_b^2 / n_b:

        t  = (x̄_a - x̄_b) / sqrt(v_a + v_b)
        df = (v_a + v_b)^2 / (v_a^2 / (n_a - 1) + v_b^2 / (n_b - 1))   (Welch-Satterthwaite)
        p  = P(|T_df| >= |t|) = I_{df / (df + t^2)}(df / 2, 1 / 2)

    Each sample needs at least 2 finite values. When both variances are 0 the df formula is
    0 / 0: df is then reported as n_a + n_b - 2 (Student's), and t = 0, p = 1 for equal
    means, t = ±inf, p = 0 for different ones.
    """
    first = _finite_vector(a, "a", min_size=2)
    second = _finite_vector(b, "b", min_size=2)
    n_a, n_b = first.size, second.size
    difference = float(np.mean(first) - np.mean(second))
    v_a = float(np.var(first, ddof=1)) / n_a
    v_b = float(np.var(second, ddof=1)) / n_b
    if v_a + v_b == 0.0:
        df = float(n_a + n_b - 2)
        if difference == 0.0:
            return WelchTest(0.0, df, 1.0)
        return WelchTest(math.copysign(math.inf, difference), df, 0.0)
    t = difference / math.sqrt(v_a + v_b)
    df = (v_a + v_b) ** 2 / (v_a**2 / (n_a - 1) + v_b**2 / (n_b - 1))
    return WelchTest(t, df, student_t_two_sided_p(t, df))


def holm(p_values: ArrayLike) -> np.ndarray:
    r"""Holm's (1979) step-down adjusted p-values, in the input's order.

    Sort the m p-values ascending, p_(1) <= ... <= p_(m); then

        p~_(i) = min(1, max_{j <= i} (m - j + 1) p_(j)).

    Rejecting every hypothesis with p~ < alpha is Holm's procedure at family-wise level alpha;
    the adjusted values never fall below the raw ones and keep the raw values' order. Ties get
    the same adjusted value whichever order the sort puts them in.
    """
    raw = np.asarray(p_values, dtype=float)
    if raw.ndim != 1:
        raise ValueError(f"p_values must be a 1-D sequence, got shape {raw.shape}")
    outside = raw[~((raw >= 0.0) & (raw <= 1.0))]
    if outside.size:
        raise ValueError(f"p_values must be in [0, 1], got {outside[0]}")
    m = raw.size
    order = np.argsort(raw, kind="stable")
    multipliers = m - np.arange(m)
    stepped = np.minimum(1.0, np.maximum.accumulate(multipliers * raw[order]))
    adjusted = np.empty(m)
    adjusted[order] = stepped
    return adjusted


def indistinguishable(
    results_by_optimizer: Mapping[str, ArrayLike],
    *,
    higher_is_better: bool,
    alpha: float = 0.05,
) -> Ties:
    """On one problem, the pairs of optimizers that cannot be told apart, and those tied with
    the best.

    ``results_by_optimizer`` maps each optimizer to its per-seed results on the problem (at
    least 2 finite values each). Every pair (i, j), i before j in the mapping's order, gets
    ``welch_t_test``'s two-sided p-value; the m = k (k - 1) / 2 p-values are adjusted together
    by ``holm``; a pair whose adjusted p-value is >= ``alpha`` cannot be told apart. The best
    optimizer has the highest mean (``higher_is_better``) or the lowest; the first in the
    mapping's order wins a tie of means. ``tied_with_best`` is the best and every optimizer
    that cannot be told apart from it. Not being told apart is not evidence of being equal:
    with few seeds, only large differences are detected. A single optimizer has no pairs and
    is tied only with itself.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    names = list(results_by_optimizer)
    if not names:
        raise ValueError("results_by_optimizer needs at least 1 optimizer, got none")
    samples = {
        name: _finite_vector(results_by_optimizer[name], f"results of {name!r}", min_size=2)
        for name in names
    }
    pairs = list(combinations(names, 2))
    raw = [welch_t_test(samples[first], samples[second]).p for first, second in pairs]
    adjusted = holm(raw)
    adjusted_p = {pair: float(p) for pair, p in zip(pairs, adjusted, strict=True)}
    tied_pairs = [pair for pair in pairs if adjusted_p[pair] >= alpha]
    means = [float(np.mean(samples[name])) for name in names]
    best = names[int(np.argmax(means) if higher_is_better else np.argmin(means))]
    tied_with_best = [
        name
        for name in names
        if name == best or (best, name) in tied_pairs or (name, best) in tied_pairs
    ]
    return Ties(tied_pairs, best, tied_with_best, adjusted_p)


def performance_ratios(times: ArrayLike) -> np.ndarray:
    r"""Dolan & Moré's (2002) performance ratios r_{p,s} = t_{p,s} / min_s t_{p,s}.

    ``times[p, s]`` is solver s's cost on problem p (here: epochs to the target), > 0, with
    ``inf`` (or NaN) for a solver that never reached the target, whose ratio is then inf.
    A problem no solver solves has min_s t_{p,s} = inf and every ratio inf: it counts as
    unsolved for every solver.
    """
    table = np.asarray(times, dtype=float)
    if table.ndim != 2 or 0 in table.shape:
        raise ValueError(
            f"times must be a non-empty 2-D table (problems x solvers), got shape {table.shape}"
        )
    table = np.where(np.isnan(table), np.inf, table)
    if np.any(table <= 0):
        raise ValueError(f"times must be > 0 (inf for never), got {table[table <= 0][0]}")
    best = table.min(axis=1, keepdims=True)
    with np.errstate(invalid="ignore"):  # inf / inf on a problem nobody solves
        ratios = table / best
    return np.where(np.isfinite(best), ratios, np.inf)


def performance_profile(times: ArrayLike, taus: ArrayLike) -> np.ndarray:
    r"""Dolan & Moré's (2002) performance profiles: ``profile[s, i] = rho_s(taus[i])``.

        rho_s(tau) = |{p : r_{p,s} <= tau}| / n_p

    with r_{p,s} from ``performance_ratios`` (inf for a failure, and for every solver on a
    problem that no solver solves). rho_s(1) is the share of problems on which s is fastest
    (ties count for each tied solver); rho_s is non-decreasing in tau and its limit is the share
    of problems s solves. ``taus`` must be >= 1.
    """
    grid = np.asarray(taus, dtype=float)
    if grid.ndim != 1 or grid.size == 0:
        raise ValueError(f"taus must be a non-empty 1-D sequence, got shape {grid.shape}")
    below_one = grid[~(grid >= 1.0)]
    if below_one.size:
        raise ValueError(f"taus must be >= 1, got {below_one[0]}")
    ratios = performance_ratios(times)
    within = ratios[:, :, None] <= grid[None, None, :]
    return within.mean(axis=0)


def _average_ranks(row: np.ndarray) -> np.ndarray:
    # Rank 1 is the smallest value; a run of equal values shares the mean of its ranks.
    order = np.argsort(row, kind="stable")
    ranks = np.empty(row.size)
    start = 0
    sorted_row = row[order]
    while start < row.size:
        stop = start + 1
        while stop < row.size and sorted_row[stop] == sorted_row[start]:
            stop += 1
        ranks[order[start:stop]] = (start + 1 + stop) / 2.0
        start = stop
    return ranks


def mean_ranks(scores: ArrayLike, *, higher_is_better: bool) -> np.ndarray:
    r"""Each optimizer's rank on every problem, averaged over problems.

    ``scores[p, s]`` is optimizer s's score on problem p. On each problem the best score gets
    rank 1 (the highest when ``higher_is_better``, else the lowest) and the worst rank k; equal
    scores share the mean of the ranks they span (two tied for first both get 1.5). The result
    is mean_p rank_{p,s}, one value per optimizer; ranks on a problem always sum to
    k (k + 1) / 2. ``inf`` is allowed (a diverged loss ranks last); NaN is not.
    """
    table = np.asarray(scores, dtype=float)
    if table.ndim != 2 or 0 in table.shape:
        raise ValueError(
            f"scores must be a non-empty 2-D table (problems x optimizers), got shape {table.shape}"
        )
    if np.any(np.isnan(table)):
        raise ValueError("scores must not contain nan (use inf for a diverged loss)")
    oriented = -table if higher_is_better else table
    return np.mean([_average_ranks(row) for row in oriented], axis=0)


def tuning_gap(
    tuned: Mapping[str, float], default: Mapping[str, float], *, higher_is_better: bool
) -> dict[str, float]:
    """How much tuning improved each optimizer's score over its untuned defaults.

    gap = tuned - default when ``higher_is_better``, default - tuned otherwise, so a positive
    gap always means the tuned configuration scored better. Both mappings must name the same
    optimizers; the result keeps ``tuned``'s order.
    """
    if set(tuned) != set(default):
        missing = sorted(set(tuned) ^ set(default))
        raise ValueError(f"tuned and default must name the same optimizers, differing: {missing}")
    sign = 1.0 if higher_is_better else -1.0
    return {name: sign * (float(tuned[name]) - float(default[name])) for name in tuned}


__all__: Sequence[str] = [
    "Interval",
    "Ties",
    "WelchTest",
    "bootstrap_interval",
    "epochs_to_target",
    "holm",
    "indistinguishable",
    "mean_ranks",
    "performance_profile",
    "performance_ratios",
    "regularized_incomplete_beta",
    "student_t_two_sided_p",
    "tuning_gap",
    "welch_t_test",
]
