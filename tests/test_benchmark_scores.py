"""The benchmark's scores, against hand-computed tables, closed forms and scipy's recorded values.

scipy is not imported: tests/fixtures/scores_reference.json holds its values, written by
tools/make_scores_fixtures.py (its docstring says how to regenerate them).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from descentlab.benchmark.scores import (
    Interval,
    bootstrap_interval,
    epochs_to_target,
    holm,
    indistinguishable,
    mean_ranks,
    performance_profile,
    performance_ratios,
    regularized_incomplete_beta,
    student_t_two_sided_p,
    tuning_gap,
    welch_t_test,
)

REFERENCE = json.loads((Path(__file__).parent / "fixtures" / "scores_reference.json").read_text())
EXACT = 1e-12
INF = math.inf


# --- bootstrap_interval -----------------------------------------------------------------------


def test_bootstrap_of_one_value_is_that_value_with_zero_width() -> None:
    assert bootstrap_interval([0.87], seed=0) == Interval(0.87, 0.87, 0.87)


def test_bootstrap_of_equal_values_has_zero_width() -> None:
    assert bootstrap_interval([2.5, 2.5, 2.5], seed=3) == Interval(2.5, 2.5, 2.5)


def test_bootstrap_of_two_values_spans_both() -> None:
    # Resample means of [0, 1] are 0, 0.5, 1 with chance 1/4, 1/2, 1/4: the 2.5% and 97.5%
    # quantiles of 10000 of them are 0 and 1.
    assert bootstrap_interval([0.0, 1.0], seed=1) == Interval(0.5, 0.0, 1.0)


def test_bootstrap_equals_the_documented_recomputation() -> None:
    values = np.array([0.91, 0.88, 0.93, 0.90, 0.95])
    indices = np.random.default_rng(42).integers(0, 5, size=(2000, 5))
    means = np.array([values[row].sum() / 5 for row in indices])
    low, high = np.quantile(means, [0.05, 0.95])
    interval = bootstrap_interval(values, confidence=0.9, resamples=2000, seed=42)
    assert interval.mean == pytest.approx(0.914, rel=EXACT)
    assert interval.low == pytest.approx(low, rel=EXACT)
    assert interval.high == pytest.approx(high, rel=EXACT)


def test_bootstrap_is_reproducible_and_seed_dependent() -> None:
    values = np.random.default_rng(7).normal(size=6)
    first = bootstrap_interval(values, seed=11)
    assert bootstrap_interval(values, seed=11) == first
    assert bootstrap_interval(values, seed=12) != first


def test_bootstrap_on_many_values_matches_the_normal_interval() -> None:
    # With n = 400 the mean is close to normal: the percentile interval is near
    # mean ± 1.96 s / sqrt(n) (s with divisor n, as the bootstrap's plug-in variance).
    values = np.random.default_rng(5).normal(3.0, 2.0, size=400)
    interval = bootstrap_interval(values, seed=0)
    half_width = 1.959963984540054 * values.std() / math.sqrt(values.size)
    assert interval.low < interval.mean < interval.high
    assert interval.mean - interval.low == pytest.approx(half_width, rel=0.05)
    assert interval.high - interval.mean == pytest.approx(half_width, rel=0.05)


def test_a_wider_confidence_gives_a_wider_interval() -> None:
    values = [0.2, 0.5, 0.4, 0.9, 0.3]
    narrow = bootstrap_interval(values, confidence=0.5, seed=0)
    wide = bootstrap_interval(values, confidence=0.99, seed=0)
    assert wide.low <= narrow.low <= narrow.mean <= narrow.high <= wide.high


@pytest.mark.parametrize(
    "values, kwargs, message",
    [
        ([], {}, "values needs at least 1 values, got 0"),
        ([1.0, math.nan], {}, "values must be finite, got nan"),
        ([[1.0, 2.0]], {}, r"values must be a 1-D sequence of numbers, got shape \(1, 2\)"),
        ([1.0, 2.0], {"confidence": 1.0}, r"confidence must be in \(0, 1\), got 1.0"),
        ([1.0, 2.0], {"resamples": 0}, "resamples must be an integer >= 1, got 0"),
        ([1.0, 2.0], {"resamples": 10.5}, "resamples must be an integer >= 1, got 10.5"),
    ],
)
def test_bootstrap_rejects_bad_input(values: list, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        bootstrap_interval(values, seed=0, **kwargs)


# --- epochs_to_target -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "curve, target, higher_is_better, expected",
    [
        ([0.5, 0.7, 0.9, 0.95], 0.9, True, 3),  # reaching means >=: 0.9 itself counts
        ([0.95, 0.2], 0.9, True, 1),  # after the first epoch is epoch 1
        ([1.0, 0.5, 0.2], 0.5, False, 2),
        ([1.0, 0.8, 0.6], 0.5, False, None),
        ([math.nan, math.nan, 0.4], 0.5, False, 3),  # a NaN never reaches the target
        ([math.inf, 0.1], 0.5, False, 2),
        ([], 0.5, True, None),
    ],
)
def test_epochs_to_target(
    curve: list[float], target: float, higher_is_better: bool, expected: int | None
) -> None:
    assert epochs_to_target(curve, target, higher_is_better=higher_is_better) == expected


def test_epochs_to_target_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match=r"^target must be a finite number, got nan$"):
        epochs_to_target([0.1], math.nan, higher_is_better=True)
    with pytest.raises(ValueError, match=r"^curve must be a 1-D .* got shape \(1, 1\)$"):
        epochs_to_target([[0.1]], 0.5, higher_is_better=True)


# --- the incomplete beta function and Student's t ---------------------------------------------


@pytest.mark.parametrize("case", REFERENCE["incomplete_beta"], ids=str)
def test_incomplete_beta_matches_scipy(case: dict) -> None:
    value = regularized_incomplete_beta(case["x"], case["a"], case["b"])
    assert value == pytest.approx(case["value"], rel=EXACT, abs=1e-300)


@pytest.mark.parametrize("x", [0.0, 0.05, 0.3, 0.5, 0.77, 0.999, 1.0])
@pytest.mark.parametrize("a, b", [(1.0, 1.0), (3.0, 1.0), (1.0, 4.5), (2.5, 7.0)])
def test_incomplete_beta_closed_forms(x: float, a: float, b: float) -> None:
    # I_x(a, 1) = x^a and I_x(1, b) = 1 - (1 - x)^b; for any a, b the symmetry
    # I_x(a, b) = 1 - I_{1-x}(b, a) holds.
    value = regularized_incomplete_beta(x, a, b)
    if b == 1.0:
        assert value == pytest.approx(x**a, rel=EXACT, abs=EXACT)
    if a == 1.0:
        assert value == pytest.approx(1.0 - (1.0 - x) ** b, rel=EXACT, abs=EXACT)
    mirrored = 1.0 - regularized_incomplete_beta(1.0 - x, b, a)
    assert value == pytest.approx(mirrored, rel=EXACT, abs=EXACT)


def test_incomplete_beta_converges_everywhere_a_benchmark_goes() -> None:
    # df from 1 to 10^4 (so a, b from 1/2 to 5000) and x across (0, 1): always a value in
    # [0, 1] that satisfies the symmetry, never the "did not converge" error.
    rng = np.random.default_rng(12)
    for _ in range(500):
        x = float(rng.uniform())
        a, b = (float(v) for v in 10.0 ** rng.uniform(-0.3, 3.7, size=2))
        value = regularized_incomplete_beta(x, a, b)
        assert 0.0 <= value <= 1.0
        mirrored = 1.0 - regularized_incomplete_beta(1.0 - x, b, a)
        assert value == pytest.approx(mirrored, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("case", REFERENCE["student_t_two_sided"], ids=str)
def test_student_t_p_matches_scipy(case: dict) -> None:
    assert student_t_two_sided_p(case["t"], case["df"]) == pytest.approx(case["p"], rel=EXACT)


@pytest.mark.parametrize("t", [0.0, 0.1, 1.0, 3.0, -6.3, 250.0])
def test_student_t_p_closed_forms_for_one_and_two_df(t: float) -> None:
    # df = 1 is the Cauchy distribution: p = 1 - 2 atan(|t|) / pi;
    # df = 2: P(|T| >= |t|) = 1 - |t| / sqrt(2 + t^2).
    cauchy = 1.0 - 2.0 * math.atan(abs(t)) / math.pi
    assert student_t_two_sided_p(t, 1.0) == pytest.approx(cauchy, rel=EXACT, abs=1e-15)
    two_df = 1.0 - abs(t) / math.sqrt(2.0 + t * t)
    assert student_t_two_sided_p(t, 2.0) == pytest.approx(two_df, rel=1e-10, abs=1e-15)


def test_student_t_p_reproduces_printed_critical_values() -> None:
    # The NIST/SEMATECH e-Handbook's table of upper critical values of Student's t, column
    # 0.025 (two-sided 5%): 12.706 (df 1), 2.776 (df 4), 2.228 (df 10). Rounding t to three
    # decimals moves p by at most 0.0005 * 2 f_df(t) < 3e-5 (f_df the density).
    for t_critical, df in [(12.706, 1.0), (2.776, 4.0), (2.228, 10.0)]:
        assert student_t_two_sided_p(t_critical, df) == pytest.approx(0.05, abs=3e-5)


def test_student_t_p_of_infinite_t_is_zero() -> None:
    assert student_t_two_sided_p(math.inf, 3.0) == 0.0


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: regularized_incomplete_beta(1.5, 1.0, 1.0), r"x must be in \[0, 1\], got 1.5"),
        (
            lambda: regularized_incomplete_beta(0.5, 0.0, 1.0),
            "a and b must be > 0, got a=0.0, b=1.0",
        ),
        (lambda: student_t_two_sided_p(1.0, 0.0), "df must be > 0, got 0.0"),
        (lambda: student_t_two_sided_p(math.nan, 3.0), "t must be a number, got nan"),
    ],
)
def test_special_functions_reject_bad_input(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        call()  # type: ignore[operator]


# --- welch_t_test -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case", REFERENCE["welch"], ids=lambda case: f"n={len(case['a'])},{len(case['b'])}"
)
def test_welch_matches_scipy(case: dict) -> None:
    result = welch_t_test(case["a"], case["b"])
    assert result.t == pytest.approx(case["t"], rel=EXACT)
    assert result.df == pytest.approx(case["df"], rel=EXACT)
    assert result.p == pytest.approx(case["p"], rel=EXACT)


def test_welch_by_hand() -> None:
    # a = 1..4: mean 2.5, s^2 = 5/3; b = 2, 4, 6, 8.5: mean 5.125, s^2 = 23.1875 / 3.
    v_a, v_b = (5 / 3) / 4, (23.1875 / 3) / 4
    result = welch_t_test([1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0, 8.5])
    assert result.t == pytest.approx(-2.625 / math.sqrt(v_a + v_b), rel=EXACT)
    assert result.df == pytest.approx((v_a + v_b) ** 2 / ((v_a**2 + v_b**2) / 3), rel=EXACT)


def test_welch_is_antisymmetric_and_shift_invariant() -> None:
    rng = np.random.default_rng(9)
    a, b = rng.normal(size=5), rng.normal(1.0, 3.0, size=7)
    forward, backward = welch_t_test(a, b), welch_t_test(b, a)
    assert backward.t == pytest.approx(-forward.t, rel=EXACT)
    assert (backward.df, backward.p) == pytest.approx((forward.df, forward.p), rel=EXACT)
    shifted = welch_t_test(a + 100.0, b + 100.0)
    assert (shifted.t, shifted.df, shifted.p) == pytest.approx(tuple(forward), rel=1e-9)
    assert 0.0 <= forward.p <= 1.0


def test_welch_p_values_stay_in_unit_interval() -> None:
    rng = np.random.default_rng(2)
    for _ in range(200):
        n_a, n_b = rng.integers(2, 10, size=2)
        result = welch_t_test(rng.normal(size=n_a), rng.normal(rng.normal(), 2.0, size=n_b))
        assert 0.0 <= result.p <= 1.0
        assert min(n_a, n_b) - 1 <= result.df + 1e-9 <= n_a + n_b - 2 + 2e-9


def test_welch_with_one_constant_sample_uses_the_other_samples_df() -> None:
    # v_a = 0 leaves df = v_b^2 / (v_b^2 / (n_b - 1)) = n_b - 1.
    result = welch_t_test([1.0, 1.0, 1.0], [0.0, 1.0, 2.0, 3.0, 4.0])
    assert result.df == pytest.approx(4.0, rel=EXACT)
    assert result.t == pytest.approx(-1.0 / math.sqrt(2.5 / 5), rel=EXACT)


def test_welch_with_two_constant_samples() -> None:
    assert tuple(welch_t_test([2.0, 2.0], [2.0, 2.0, 2.0])) == (0.0, 3.0, 1.0)
    assert tuple(welch_t_test([1.0, 1.0], [2.0, 2.0, 2.0])) == (-math.inf, 3.0, 0.0)


@pytest.mark.parametrize(
    "a, b, message",
    [
        ([1.0], [1.0, 2.0], "a needs at least 2 values, got 1"),
        ([1.0, 2.0], [1.0, math.inf], "b must be finite, got inf"),
    ],
)
def test_welch_rejects_bad_input(a: list, b: list, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        welch_t_test(a, b)


# --- holm -------------------------------------------------------------------------------------


def test_holm_by_hand() -> None:
    # sorted: 0.005 * 4 = 0.02, 0.01 * 3 = 0.03, 0.03 * 2 = 0.06, 0.04 * 1 = 0.04 -> 0.06
    adjusted = holm([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(adjusted, [0.03, 0.06, 0.06, 0.02], rtol=EXACT)


def test_holm_rejects_what_the_published_example_rejects() -> None:
    # The example of R's HDLSSkST::Holm (Holm 1979 at alpha 0.05) rejects only the 3rd and
    # the 7th hypothesis: 0.001 * 7 and 0.0025 * 6 fall below 0.05, 0.01 * 5 does not.
    adjusted = holm([0.50, 0.01, 0.001, 0.69, 0.02, 0.05, 0.0025])
    assert list(adjusted < 0.05) == [False, False, True, False, False, False, True]
    np.testing.assert_allclose(adjusted, [1.0, 0.05, 0.007, 1.0, 0.08, 0.15, 0.015], rtol=EXACT)


def test_holm_properties() -> None:
    rng = np.random.default_rng(4)
    for size in [1, 2, 5, 30]:
        raw = rng.uniform(size=size) ** 3
        adjusted = holm(raw)
        assert np.all(adjusted >= raw)
        assert np.all(adjusted <= 1.0)
        order = np.argsort(raw)
        assert np.all(np.diff(adjusted[order]) >= 0)  # monotone in the raw p-values
        assert adjusted.min() == pytest.approx(min(1.0, size * raw.min()), rel=EXACT)


def test_holm_gives_ties_the_same_value_and_keeps_a_single_p() -> None:
    np.testing.assert_allclose(holm([0.02, 0.02, 0.5]), [0.06, 0.06, 0.5], rtol=EXACT)
    assert list(holm([0.3])) == [0.3]
    assert holm([]).shape == (0,)


@pytest.mark.parametrize("bad", [-0.1, 1.5, math.nan])
def test_holm_rejects_p_values_outside_the_unit_interval(bad: float) -> None:
    with pytest.raises(ValueError, match=rf"^p_values must be in \[0, 1\], got {bad}$"):
        holm([0.1, bad])


# --- indistinguishable ------------------------------------------------------------------------

ACCURACIES = {
    "gd": [0.50, 0.52, 0.51, 0.49, 0.50],
    "momentum": [0.90, 0.91, 0.92, 0.90, 0.91],
    "adam": [0.905, 0.915, 0.91, 0.90, 0.92],
}


def test_indistinguishable_on_a_clear_table() -> None:
    ties = indistinguishable(ACCURACIES, higher_is_better=True)
    assert ties.pairs == [("momentum", "adam")]
    assert ties.best == "adam"  # mean 0.91 against momentum's 0.908
    assert ties.tied_with_best == ["momentum", "adam"]
    raw = [
        welch_t_test(ACCURACIES[x], ACCURACIES[y]).p
        for x, y in [("gd", "momentum"), ("gd", "adam"), ("momentum", "adam")]
    ]
    assert list(ties.adjusted_p.values()) == list(holm(raw))
    assert ties.adjusted_p[("gd", "momentum")] < 1e-6


def test_indistinguishable_for_a_loss_takes_the_lowest_mean_as_best() -> None:
    ties = indistinguishable(ACCURACIES, higher_is_better=False)
    assert ties.best == "gd"
    assert ties.tied_with_best == ["gd"]


def test_indistinguishable_with_alpha_one_tenth_of_a_percent_ties_more() -> None:
    close = {"a": [1.0, 1.1, 0.9, 1.05], "b": [1.2, 1.3, 1.1, 1.25]}
    assert indistinguishable(close, higher_is_better=True, alpha=0.05).pairs == []
    assert indistinguishable(close, higher_is_better=True, alpha=0.001).pairs == [("a", "b")]


def test_a_single_optimizer_is_tied_only_with_itself() -> None:
    ties = indistinguishable({"adam": [0.9, 0.8]}, higher_is_better=True)
    assert ties == ([], "adam", ["adam"], {})


@pytest.mark.parametrize(
    "results, alpha, message",
    [
        ({}, 0.05, "results_by_optimizer needs at least 1 optimizer, got none"),
        ({"a": [1.0, 2.0], "b": [1.0]}, 0.05, "results of 'b' needs at least 2 values, got 1"),
        ({"a": [1.0, 2.0], "b": [1.0, 2.0]}, 0.0, r"alpha must be in \(0, 1\), got 0.0"),
    ],
)
def test_indistinguishable_rejects_bad_input(results: dict, alpha: float, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        indistinguishable(results, higher_is_better=True, alpha=alpha)


# --- performance profiles ---------------------------------------------------------------------

# Epochs to target: 3 problems x 3 solvers; nobody solves the third.
TIMES = [
    [10.0, 20.0, INF],
    [30.0, 15.0, 15.0],
    [INF, INF, INF],
]


def test_performance_ratios_by_hand() -> None:
    expected = [[1.0, 2.0, INF], [2.0, 1.0, 1.0], [INF, INF, INF]]
    np.testing.assert_array_equal(performance_ratios(TIMES), expected)


def test_performance_profile_by_hand() -> None:
    # rho_s(tau) = share of the 3 problems with r <= tau; the third counts against everyone.
    profile = performance_profile(TIMES, [1.0, 1.5, 2.0, 4.0])
    expected = np.array([[1, 1, 2, 2], [1, 1, 2, 2], [1, 1, 1, 1]]) / 3
    np.testing.assert_array_equal(profile, expected)


def test_nan_counts_as_never_reaching_the_target() -> None:
    with_nan = [[10.0, math.nan], [5.0, 4.0]]
    with_inf = [[10.0, INF], [5.0, 4.0]]
    np.testing.assert_array_equal(
        performance_profile(with_nan, [1.0, 3.0]), performance_profile(with_inf, [1.0, 3.0])
    )


def test_performance_profiles_are_monotone_and_end_at_the_share_solved() -> None:
    rng = np.random.default_rng(8)
    times = rng.integers(1, 50, size=(12, 5)).astype(float)
    times[rng.uniform(size=times.shape) < 0.2] = INF
    taus = np.linspace(1.0, 100.0, 200)
    profile = performance_profile(times, taus)
    assert np.all(np.diff(profile, axis=1) >= 0)
    assert np.all((profile >= 0) & (profile <= 1))
    np.testing.assert_array_equal(profile[:, -1], np.isfinite(times).mean(axis=0))
    solved_by_someone = np.isfinite(times).any(axis=1)
    assert profile[:, 0].sum() >= solved_by_someone.mean()  # someone is best on each solved one


@pytest.mark.parametrize(
    "times, taus, message",
    [
        (
            [1.0, 2.0],
            [1.0],
            r"times must be a non-empty 2-D table \(problems x solvers\), got shape \(2,\)",
        ),
        ([[1.0, 0.0]], [1.0], r"times must be > 0 \(inf for never\), got 0.0"),
        ([[1.0, 2.0]], [0.5], "taus must be >= 1, got 0.5"),
        ([[1.0, 2.0]], [], r"taus must be a non-empty 1-D sequence, got shape \(0,\)"),
    ],
)
def test_performance_profile_rejects_bad_input(times: list, taus: list, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        performance_profile(times, taus)


# --- mean ranks and tuning gap ----------------------------------------------------------------


def test_mean_ranks_by_hand() -> None:
    scores = [[1.0, 2.0, 2.0], [3.0, 1.0, 2.0]]
    # lower is better: [1, 2.5, 2.5] and [3, 1, 2]; higher: [3, 1.5, 1.5] and [1, 3, 2]
    np.testing.assert_array_equal(mean_ranks(scores, higher_is_better=False), [2.0, 1.75, 2.25])
    np.testing.assert_array_equal(mean_ranks(scores, higher_is_better=True), [2.0, 2.25, 1.75])


def test_mean_ranks_put_a_diverged_loss_last_and_sum_to_the_rank_total() -> None:
    np.testing.assert_array_equal(
        mean_ranks([[0.3, INF, 0.1, 0.3]], higher_is_better=False), [2.5, 4.0, 1.0, 2.5]
    )
    rng = np.random.default_rng(6)
    scores = rng.integers(0, 4, size=(10, 6)).astype(float)  # many ties
    ranks = mean_ranks(scores, higher_is_better=True)
    assert ranks.sum() == pytest.approx(6 * 7 / 2, rel=EXACT)


def test_mean_ranks_rejects_nan() -> None:
    with pytest.raises(ValueError, match=r"^scores must not contain nan \(use inf"):
        mean_ranks([[1.0, math.nan]], higher_is_better=True)


def test_tuning_gap_is_positive_when_tuning_helped() -> None:
    tuned = {"gd": 0.95, "adam": 0.97}
    default = {"adam": 0.96, "gd": 0.80}
    gap = tuning_gap(tuned, default, higher_is_better=True)
    assert list(gap) == ["gd", "adam"]
    assert gap == pytest.approx({"gd": 0.15, "adam": 0.01}, rel=EXACT)
    losses = tuning_gap({"gd": 0.1}, {"gd": 0.4}, higher_is_better=False)
    assert losses == pytest.approx({"gd": 0.3}, rel=EXACT)


def test_tuning_gap_needs_the_same_optimizers() -> None:
    with pytest.raises(ValueError, match=r"^tuned and default must name .* differing: \['sgd'\]$"):
        tuning_gap({"gd": 1.0}, {"gd": 1.0, "sgd": 2.0}, higher_is_better=True)
