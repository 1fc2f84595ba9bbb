"""Write tests/fixtures/scores_reference.json: scipy's values for the benchmark's statistics.

A development-time script, run once by a developer when the cases change, in a virtual
environment of its own outside the repository (scipy is not a dependency of descentlab or of
its tests):

    python3 -m venv /tmp/refenv
    /tmp/refenv/bin/pip install numpy scipy
    /tmp/refenv/bin/python tools/make_scores_fixtures.py

tests/test_benchmark_scores.py reads the JSON and never imports scipy. It records
``scipy.special.betainc(a, b, x)`` (the regularized incomplete beta function),
``2 * scipy.stats.t.sf(|t|, df)`` (the two-sided Student t p-value) and
``scipy.stats.ttest_ind(a, b, equal_var=False)`` (Welch's test: statistic, df, p-value), each
as a float64 written with 17 significant digits (``repr``), so the round trip is exact.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import scipy
from scipy import special, stats

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "scores_reference.json"

BETA_CASES = [  # (x, a, b): both sides of the continued fraction's switch, small and large a, b
    (0.3, 2.0, 3.0),
    (0.5, 0.5, 0.5),
    (0.01, 2.5, 0.5),
    (0.99, 2.5, 0.5),
    (0.2, 10.0, 0.5),
    (0.9, 50.0, 0.5),
    (0.7, 1.0, 1.0),
    (0.4, 30.0, 40.0),
]

T_CASES = [  # (t, df): integer and fractional df, tiny and huge |t|
    (0.0, 4.0),
    (2.0, 5.0),
    (-2.0, 5.0),
    (1e-8, 3.0),
    (2.7764451051977987, 4.0),
    (12.5, 2.3),
    (40.0, 8.0),
    (0.3, 1.0),
    (3.1, 1000.0),
]

WELCH_SEEDS = [0, 1, 2, 3]
WELCH_FIXED = [
    ([1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0, 8.5]),
    ([0.91, 0.93, 0.92], [0.90, 0.95, 0.88, 0.93, 0.91]),
    ([5.0, 5.0, 5.1], [4.0, 6.0]),
]


def welch_cases() -> list[tuple[list[float], list[float]]]:
    cases = list(WELCH_FIXED)
    for seed in WELCH_SEEDS:
        rng = np.random.default_rng(seed)
        n_a, n_b = rng.integers(2, 9, size=2)
        a = rng.normal(0.0, 1.0, size=n_a)
        b = rng.normal(0.7, 2.5, size=n_b)
        cases.append(([float(v) for v in a], [float(v) for v in b]))
    return cases


def main() -> None:
    beta = [
        {"x": x, "a": a, "b": b, "value": float(special.betainc(a, b, x))} for x, a, b in BETA_CASES
    ]
    two_sided = [{"t": t, "df": df, "p": float(2.0 * stats.t.sf(abs(t), df))} for t, df in T_CASES]
    welch = []
    for a, b in welch_cases():
        result = stats.ttest_ind(a, b, equal_var=False)
        welch.append(
            {
                "a": a,
                "b": b,
                "t": float(result.statistic),
                "df": float(result.df),
                "p": float(result.pvalue),
            }
        )
    fixture = {
        "note": "Written by tools/make_scores_fixtures.py with scipy; see its docstring.",
        "versions": {"scipy": scipy.__version__, "numpy": np.__version__},
        "incomplete_beta": beta,
        "student_t_two_sided": two_sided,
        "welch": welch,
    }
    FIXTURE.write_text(json.dumps(fixture, indent=1) + "\n")


if __name__ == "__main__":
    main()
