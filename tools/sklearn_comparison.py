"""DescentClassifier() against MLPClassifier(), both with their defaults, under 5-fold CV.

    python tools/sklearn_comparison.py [--folds 5] [--seeds 1] [--datasets iris,wine,...]

Prints a markdown table (the one in docs/sklearn.md): for iris, wine, breast_cancer and digits
(scikit-learn's bundled sets, never downloaded), each estimator in
``make_pipeline(StandardScaler(), estimator)``, StratifiedKFold(folds, shuffle=True,
random_state=seed) for seed = 0, ..., seeds - 1; the mean and standard deviation over all
those folds of the test accuracy and of the paired difference (DescentClassifier's accuracy
minus MLPClassifier's on the same fold), the mean time of ``fit`` (the whole pipeline), the
mean number of epochs trained (``n_iter_``) and how many of the fits warned with
ConvergenceWarning.

Both estimators keep all their defaults except ``random_state=seed``, so that the table can be
reproduced: ``MLPClassifier()``'s include its stop on the training loss (tol=1e-4,
n_iter_no_change=10, early_stopping=False), its L2 penalty alpha=1e-4 and max_iter=200. The two
are fitted fold by fold, one after the other, so that a noisy machine slows both alike. BLAS
runs on one thread for both: OPENBLAS_NUM_THREADS, OMP_NUM_THREADS and MKL_NUM_THREADS are set
to 1 before numpy is imported, and the fits run inside threadpoolctl's
``threadpool_limits(1)``.
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402 (the thread variables must be set before numpy loads)
import datetime  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from descentlab.sklearn import DescentClassifier  # noqa: E402

DATASETS: dict[str, Callable[..., Any]] = {
    "iris": load_iris,
    "wine": load_wine,
    "breast_cancer": load_breast_cancer,
    "digits": load_digits,
}
ESTIMATORS = ("DescentClassifier()", "MLPClassifier()")


@dataclass
class Folds:
    """One estimator's results on one dataset, fold by fold."""

    accuracies: list[float]
    fit_seconds: list[float]
    epochs: list[int]
    warned: int


def estimator(name: str, seed: int) -> Any:
    """The estimator of the table, all defaults but ``random_state``."""
    if name == "DescentClassifier()":
        return DescentClassifier(random_state=seed)
    return MLPClassifier(random_state=seed)


def compare(X: np.ndarray, y: np.ndarray, folds: int, seed: int, results: dict[str, Folds]) -> None:
    """Both estimators on the same folds, fitted alternately; appends to ``results``."""
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(X, y):
        for name in ESTIMATORS:
            model: Pipeline = make_pipeline(StandardScaler(), clone(estimator(name, seed)))
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConvergenceWarning)
                start = time.perf_counter()
                model.fit(X[train], y[train])
                seconds = time.perf_counter() - start
            result = results[name]
            result.fit_seconds.append(seconds)
            result.accuracies.append(float(model.score(X[test], y[test])))
            result.epochs.append(int(model[-1].n_iter_))
            result.warned += any(issubclass(w.category, ConvergenceWarning) for w in caught)


def machine() -> str:
    """The CPU model and core count, as /proc/cpuinfo and os report them."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores"


def table(results: dict[str, dict[str, Folds]], shapes: dict[str, str]) -> list[str]:
    """The markdown rows."""
    rows = [
        "| dataset | rows x features, classes | DescentClassifier() accuracy "
        "| MLPClassifier() accuracy | difference | DescentClassifier() fit "
        "| MLPClassifier() fit | epochs (D / M) | ConvergenceWarning (D / M) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for dataset, by_name in results.items():
        ours, theirs = by_name["DescentClassifier()"], by_name["MLPClassifier()"]
        n_folds = len(ours.accuracies)
        difference = np.subtract(ours.accuracies, theirs.accuracies)
        rows.append(
            f"| {dataset} | {shapes[dataset]} "
            f"| {np.mean(ours.accuracies):.3f} ± {np.std(ours.accuracies):.3f} "
            f"| {np.mean(theirs.accuracies):.3f} ± {np.std(theirs.accuracies):.3f} "
            f"| {np.mean(difference):+.3f} ± {np.std(difference):.3f} "
            f"| {np.mean(ours.fit_seconds):.3f} s | {np.mean(theirs.fit_seconds):.3f} s "
            f"| {np.mean(ours.epochs):.0f} / {np.mean(theirs.epochs):.0f} "
            f"| {ours.warned} / {theirs.warned} of {n_folds} |"
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--seeds", type=int, default=1, help="repeat with seeds 0..N-1 (CV shuffle, random_state)"
    )
    parser.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated")
    args = parser.parse_args(argv)
    names = [name for name in args.datasets.split(",") if name]
    unknown = sorted(set(names) - set(DATASETS))
    if unknown:
        parser.error(f"unknown datasets {unknown}; choose from {', '.join(DATASETS)}")
    results: dict[str, dict[str, Folds]] = {}
    shapes: dict[str, str] = {}
    with threadpool_limits(1):
        for name in names:
            X, y = DATASETS[name](return_X_y=True)
            shapes[name] = f"{X.shape[0]} x {X.shape[1]}, {len(np.unique(y))}"
            results[name] = {estimator: Folds([], [], [], 0) for estimator in ESTIMATORS}
            for seed in range(args.seeds):
                compare(X, y, args.folds, seed, results[name])
    command = " ".join(["python", "tools/sklearn_comparison.py", *(argv or sys.argv[1:])])
    print(f"Measured {datetime.date.today().isoformat()} with `{command}`")
    print(
        f"on {machine()}; Python {platform.python_version()}, numpy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}. BLAS on one thread for both estimators "
        f"(OPENBLAS/OMP/MKL_NUM_THREADS=1 and threadpool_limits(1))."
    )
    seeds = "seed = 0" if args.seeds == 1 else f"seed = 0, ..., {args.seeds - 1}"
    print(
        f"{args.folds}-fold StratifiedKFold(shuffle=True, random_state=seed) for {seeds}; "
        f"each estimator in make_pipeline(StandardScaler(), ...) with all defaults but "
        f"random_state=seed. Accuracy: mean ± standard deviation over the "
        f"{args.folds * args.seeds} test folds; difference: DescentClassifier's accuracy minus "
        f"MLPClassifier's on the same fold; fit: mean wall time of one pipeline fit; epochs: "
        f"mean n_iter_; ConvergenceWarning: fits that warned."
    )
    print()
    print("\n".join(table(results, shapes)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
