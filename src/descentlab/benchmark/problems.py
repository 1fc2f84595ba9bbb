"""The benchmark's problems: what is trained, on which data, for how long, and what counts.

A ``Problem`` fixes everything but the optimizer: the data (a named dataset, a data file read
by ``descentlab.loaders``, or a noisy landscape), the split, the network, the epoch budget, the
batch size, the metric and its target. ``SUITES`` names the built-in sets of problems;
``load_problem_file`` reads a user's problem from a TOML or JSON file.

Held-out data, the exact rule:

- A data problem is split once by ``splits.split`` (stratified) with its ``split_seed`` and
  ``validation_fraction`` / ``test_fraction``, then standardised by ``splits.standardize``
  (the training split's mean and deviation) when ``standardize``. Every trial of a benchmark
  trains on the same training split; a trial's seed changes only its initialisation and its
  shuffles. Tuning scores a configuration on the validation split only; the test split is
  measured only for the re-runs of the chosen configuration.
- The stochastic problem (``landscape`` set) has no data and no split. A trial with seed s
  trains on the noisy landscape whose gradient noise comes from seed 3 s
  (``NoiseSeeds.train``); its validation score is ``stochastic_loss`` of its final point with
  noise seed 3 s + 1 and its test score with 3 s + 2. The three seeds differ for every s and
  no seed of one trial is any seed of another.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from descentlab import datasets, landscapes, loaders
from descentlab.dataset import Dataset
from descentlab.nn import Network
from descentlab.splits import Splits, split, standardize
from descentlab.validation import check_epochs, check_int

__all__ = [
    "BENCHMARK_DATASETS",
    "EVALUATION_DRAWS",
    "FILE_FIELDS",
    "METRICS",
    "SUITES",
    "NoiseSeeds",
    "Problem",
    "breast_cancer",
    "dataset_names",
    "load_problem_file",
    "noise_seeds",
    "stochastic_loss",
    "suite",
]

METRICS = ("accuracy", "loss")
"""``accuracy``: the share of correctly classified examples of the split (higher is better).
``loss``: the split's mean cost, or for the stochastic problem ``stochastic_loss`` (lower is
better)."""

EVALUATION_DRAWS = 1000
"""The noise vectors ``stochastic_loss`` averages over."""


def breast_cancer() -> Dataset:
    """scikit-learn's bundled Wisconsin breast-cancer data: X (30, 569), classes "malignant"
    (0) and "benign" (1).

    ``sklearn.datasets.load_breast_cancer()`` (shipped with scikit-learn, never downloaded),
    features as float64 under scikit-learn's names. Without scikit-learn it raises the one-line
    ``ValueError`` that ``datasets.digits`` raises.
    """
    return datasets.from_sklearn_bundle("breast-cancer", "load_breast_cancer", str)


BENCHMARK_DATASETS = {"breast-cancer": breast_cancer}
"""Datasets the benchmark names besides ``datasets.DATASETS``."""


def dataset_names() -> list[str]:
    """Every name a problem's ``dataset`` may take."""
    return [*datasets.DATASETS, *BENCHMARK_DATASETS]


class NoiseSeeds(NamedTuple):
    """The stochastic problem's noise seeds of one trial: 3 s, 3 s + 1 and 3 s + 2."""

    train: int
    validation: int
    test: int


def noise_seeds(seed: int) -> NoiseSeeds:
    """The noise seeds of the trial with seed ``seed`` >= 0 (see the module docstring)."""
    seed = check_int("seed", seed, minimum=0)
    return NoiseSeeds(3 * seed, 3 * seed + 1, 3 * seed + 2)


def stochastic_loss(
    landscape: landscapes.Landscape, scale: float, points: np.ndarray, seed: int
) -> np.ndarray:
    """The noisy landscape's loss at ``points`` (..., 2), estimated on fresh noise: shape (...).

    A noisy landscape's gradient at x is grad f(x) + scale z with z ~ N(0, I_2); it is the
    gradient of the sampled loss f(x) + scale z . x. This returns the mean of that sampled loss
    over ``EVALUATION_DRAWS`` vectors z_1..z_n drawn as one (n, 2) array by
    ``np.random.default_rng(seed).standard_normal``:
    (1/n) sum_j (f(x) + scale z_j . x) = f(x) + scale zbar . x, zbar the mean of the z_j.
    Its expectation over the noise is f(x).
    """
    points = np.asarray(points, dtype=np.float64)
    draws = np.random.default_rng(seed).standard_normal((EVALUATION_DRAWS, 2))
    return landscape.f(points) + scale * (points @ draws.mean(axis=0))


@dataclass(frozen=True)
class Problem:
    """One benchmark problem: its data, split, network, budget, metric and target.

    Exactly one of ``dataset`` (a name from ``dataset_names()``), ``data_file`` (a file
    ``loaders.load_file`` reads, labels in ``data_target``) and ``landscape`` (a name from
    ``landscapes.names()``, trained with gradient noise of deviation ``noise_scale``) is set.
    ``hidden_layers`` () is logistic regression (softmax regression for more than two
    classes). ``batch_size`` None is full batch. A trial reaches the target when its metric is
    >= ``target`` (accuracy) or <= ``target`` (loss). Every field is checked on construction:
    a one-line ``ValueError`` naming the field, the value and what is allowed.
    """

    name: str
    description: str
    epochs: int
    batch_size: int | None
    metric: str
    target: float
    dataset: str | None = None
    data_file: str | None = None
    data_target: str | None = None
    hidden_layers: tuple[int, ...] = ()
    validation_fraction: float = 0.2
    test_fraction: float = 0.2
    split_seed: int = 0
    standardize: bool = True
    landscape: str | None = None
    noise_scale: float = 0.0
    why: str = ""
    """Why the problem is in its suite, and how its budget and target were measured."""

    def __post_init__(self) -> None:
        for field, value in _checked_fields(self).items():
            object.__setattr__(self, field, value)

    @property
    def higher_is_better(self) -> bool:
        """True for accuracy, False for loss."""
        return self.metric == "accuracy"

    @property
    def is_stochastic(self) -> bool:
        """True for a noisy landscape: no split, fresh noise seeds as held-out data."""
        return self.landscape is not None

    @property
    def held_out(self) -> str:
        """How validation and test are drawn, in words."""
        if self.is_stochastic:
            return "fresh noise seeds 3s+1 (validation) and 3s+2 (test); training 3s"
        return (
            f"stratified split {self.validation_fraction:g} / {self.test_fraction:g} "
            f"(validation / test), split seed {self.split_seed}"
        )

    def reached(self, value: float) -> bool:
        """Whether a metric value reaches the target (>= for accuracy, <= for loss)."""
        return value >= self.target if self.higher_is_better else value <= self.target

    def load(self) -> Dataset:
        """The problem's whole dataset, before splitting (a data problem only)."""
        if self.dataset in BENCHMARK_DATASETS:
            return BENCHMARK_DATASETS[self.dataset]()
        if self.dataset is not None:
            return datasets.load(self.dataset)
        if self.data_file is not None:
            return loaders.load_file(self.data_file, self.data_target)
        raise ValueError(f"problem {self.name!r} is a noisy landscape and has no dataset")

    def prepare(self, seed: int | None = None) -> Splits | NoiseSeeds:
        """The held-out data drawn with ``seed`` (``None``: the problem's ``split_seed``).

        A data problem: ``splits.split(dataset, validation_fraction, test_fraction, seed)``,
        then ``splits.standardize`` when ``standardize``. The stochastic problem:
        ``noise_seeds(seed)``.
        """
        seed = self.split_seed if seed is None else check_int("seed", seed, minimum=0)
        if self.is_stochastic:
            return noise_seeds(seed)
        parts = split(self.load(), self.validation_fraction, self.test_fraction, seed)
        return standardize(parts)[0] if self.standardize else parts

    def network(self, train: Dataset) -> Network:
        """[n_features, *hidden_layers, n_out] for ``train`` (``Network.for_classes``)."""
        return Network.for_classes(train.n_features, self.hidden_layers, train.n_classes)

    def noisy_landscape(self, seed: int) -> landscapes.NoisyLandscape:
        """The landscape a stochastic trial with seed ``seed`` trains on: its gradient noise
        drawn from ``noise_seeds(seed).train``."""
        if self.landscape is None:
            raise ValueError(f"problem {self.name!r} is a data problem, not a noisy landscape")
        base = landscapes.get(self.landscape)
        return landscapes.noisy(base, self.noise_scale, noise_seeds(seed).train)

    def to_dict(self) -> dict[str, Any]:
        """The problem in the file format ``load_problem_file`` reads (the fields that differ
        from a file's defaults are all written); ``json.dumps`` of it loads back equal."""
        if self.is_stochastic:
            raise ValueError(f"problem {self.name!r} is a noisy landscape; files hold data only")
        data: dict[str, Any] = {"name": self.name, "description": self.description}
        if self.dataset is not None:
            data["dataset"] = self.dataset
        else:
            data["data"] = self.data_file
            if self.data_target is not None:
                data["target_column"] = self.data_target
        data.update(
            layers=list(self.hidden_layers),
            epochs=self.epochs,
            batch_size="full" if self.batch_size is None else self.batch_size,
            metric=self.metric,
            target=self.target,
            validation_fraction=self.validation_fraction,
            test_fraction=self.test_fraction,
            split_seed=self.split_seed,
            standardize=self.standardize,
        )
        if self.why:
            data["why"] = self.why
        return data


def _check_text(field: str, value: object, *, empty: bool = False) -> str:
    if not isinstance(value, str) or (not empty and not value.strip()):
        allowed = "text" if empty else "non-empty text"
        raise ValueError(f"{field} must be {allowed}, got {value!r}")
    return value


def _check_fraction(field: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{field} must be a number in (0, 1), got {value!r}")
    if not 0 < float(value) < 1:
        raise ValueError(f"{field} must be a number in (0, 1), got {value!r}")
    return float(value)


def _checked_fields(problem: Problem) -> dict[str, Any]:
    """Every field of ``problem`` checked and normalised (ints as int, layers as a tuple)."""
    checked: dict[str, Any] = {
        "name": _check_text("name", problem.name),
        "description": _check_text("description", problem.description),
        "why": _check_text("why", problem.why, empty=True),
        "epochs": check_epochs(problem.epochs),
        "split_seed": check_int("split_seed", problem.split_seed, minimum=0),
    }
    sources = [f for f in ("dataset", "data_file", "landscape") if getattr(problem, f) is not None]
    if len(sources) != 1:
        raise ValueError(
            f"a problem needs exactly one of dataset, data_file and landscape, got "
            f"{', '.join(sources) or 'none'}"
        )
    if problem.dataset is not None and problem.dataset not in dataset_names():
        raise ValueError(
            f"dataset must be one of {', '.join(dataset_names())}, got {problem.dataset!r}"
        )
    if problem.data_file is not None:
        _check_text("data_file", problem.data_file)
    if problem.data_target is not None:
        if problem.data_file is None:
            raise ValueError(f"data_target needs a data_file, got {problem.data_target!r}")
        _check_text("data_target", problem.data_target)
    if problem.landscape is not None and problem.landscape not in landscapes.names():
        raise ValueError(
            f"landscape must be one of {', '.join(landscapes.names())}, got {problem.landscape!r}"
        )
    layers: object = problem.hidden_layers
    if isinstance(layers, str) or not isinstance(layers, tuple | list):
        raise ValueError(f"hidden_layers must be a list of integers >= 1, got {layers!r}")
    checked["hidden_layers"] = tuple(check_int("hidden_layers", n, minimum=1) for n in layers)
    if problem.batch_size is not None:
        checked["batch_size"] = check_int("batch_size", problem.batch_size, minimum=1)
    if problem.metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {problem.metric!r}")
    target: object = problem.target
    if isinstance(target, bool) or not isinstance(target, numbers.Real):
        raise ValueError(f"target must be a number, got {target!r}")
    if problem.metric == "accuracy" and not 0 < float(target) <= 1:
        raise ValueError(f"target of metric accuracy must be a number in (0, 1], got {target!r}")
    if not math.isfinite(float(target)):
        raise ValueError(f"target must be a finite number, got {target!r}")
    checked["target"] = float(target)
    checked["validation_fraction"] = _check_fraction(
        "validation_fraction", problem.validation_fraction
    )
    checked["test_fraction"] = _check_fraction("test_fraction", problem.test_fraction)
    if checked["validation_fraction"] + checked["test_fraction"] >= 1:
        raise ValueError(
            f"validation_fraction + test_fraction must be < 1, got "
            f"{problem.validation_fraction!r} + {problem.test_fraction!r}"
        )
    standardizes: object = problem.standardize
    if not isinstance(standardizes, bool):
        raise ValueError(f"standardize must be true or false, got {problem.standardize!r}")
    scale: object = problem.noise_scale
    if isinstance(scale, bool) or not isinstance(scale, numbers.Real):
        raise ValueError(f"noise_scale must be a finite number >= 0, got {scale!r}")
    if not (math.isfinite(float(scale)) and float(scale) >= 0):
        raise ValueError(f"noise_scale must be a finite number >= 0, got {scale!r}")
    checked["noise_scale"] = float(scale)
    return checked


FILE_FIELDS = {
    "name": "name",
    "description": "description",
    "dataset": "dataset",
    "data": "data_file",
    "target_column": "data_target",
    "layers": "hidden_layers",
    "epochs": "epochs",
    "batch_size": "batch_size",
    "metric": "metric",
    "target": "target",
    "validation_fraction": "validation_fraction",
    "test_fraction": "test_fraction",
    "split_seed": "split_seed",
    "standardize": "standardize",
    "why": "why",
}
"""A problem file's keys and the ``Problem`` field each sets."""

REQUIRED_FILE_FIELDS = ("name", "layers", "epochs", "target")
"""Keys every problem file holds, besides one of ``dataset`` and ``data``."""

FILE_DEFAULTS: Mapping[str, Any] = {
    "description": "a user's problem",
    "batch_size": 64,
    "metric": "accuracy",
}
"""What a problem file's optional keys default to (the rest default as ``Problem``'s)."""


def load_problem_file(path: str | os.PathLike[str]) -> Problem:
    """The problem in a ``.toml`` or ``.json`` file: one table/object of ``FILE_FIELDS`` keys.

    ``dataset`` names a dataset (``dataset_names()``); ``data`` is instead a data file read by
    ``loaders.load_file`` (a relative path is relative to the problem file), its labels in
    ``target_column``. ``layers`` lists the hidden layer sizes ([] for logistic regression),
    ``batch_size`` is an integer or "full". Anything wrong raises a one-line ``ValueError``
    naming the file, the key and what is allowed.
    """
    file = Path(path)
    text = _read_text(file)
    if file.suffix == ".toml":
        try:
            raw: object = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise ValueError(f"{file}: not valid TOML ({error})") from None
    else:
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"{file}: not valid JSON ({error})") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{file}: must hold one table of keys, got {type(raw).__name__}")
    unknown = [key for key in raw if key not in FILE_FIELDS]
    if unknown:
        raise ValueError(f"{file}: unknown key {unknown[0]!r}; allowed: {', '.join(FILE_FIELDS)}")
    missing = [key for key in REQUIRED_FILE_FIELDS if key not in raw]
    if missing:
        raise ValueError(f"{file}: missing key {missing[0]!r}")
    if ("dataset" in raw) == ("data" in raw):
        raise ValueError(f"{file}: needs exactly one of the keys 'dataset' and 'data'")
    values = {**FILE_DEFAULTS, **raw}
    fields = {FILE_FIELDS[key]: value for key, value in values.items()}
    if fields["batch_size"] == "full":
        fields["batch_size"] = None
    if isinstance(fields.get("data_file"), str) and fields["data_file"].strip():
        fields["data_file"] = str(file.parent / fields["data_file"])
    layers = fields["hidden_layers"]
    if isinstance(layers, list):
        fields["hidden_layers"] = tuple(layers)
    else:
        raise ValueError(f"{file}: layers must be a list of integers >= 1, got {layers!r}")
    try:
        return Problem(**fields)
    except ValueError as error:
        raise ValueError(f"{file}: {_as_file_key(str(error))}") from None


def _as_file_key(message: str) -> str:
    """A ``Problem`` message with its field named as the file's key."""
    for key, field in FILE_FIELDS.items():
        if key != field and message.startswith(field):
            return key + message[len(field) :]
    return message


def _read_text(file: Path) -> str:
    if file.suffix not in (".toml", ".json"):
        raise ValueError(f"{file}: a problem file must end in .toml or .json")
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"{file}: cannot be read ({error.__class__.__name__})") from None


# Budgets and targets read off ``python tools/benchmark_budgets.py NAME EPOCHS...``; each
# problem's ``why`` records what that measured. They are never tuned for speed.
SMALL: tuple[Problem, ...] = (
    Problem(
        name="moons",
        description="the course's moons (300 points, noise 0.2, seed 3)",
        dataset="moons",
        hidden_layers=(5, 2),
        epochs=1000,
        batch_size=64,
        metric="accuracy",
        target=0.9,
        standardize=False,
        why="the course's network [2, 5, 2, 1] and mini-batch 64, unstandardised as the course "
        "trains it; at 1000 epochs tuned gd (0.1) and adam (0.01) reach 0.95 and 0.94, the "
        "default rate 0.0007 0.74 (gd) and 0.87 (adam)",
    ),
    Problem(
        name="spirals",
        description="two interleaved spirals (300 points, 1.5 turns, noise 0.05)",
        dataset="spirals",
        hidden_layers=(16, 16),
        epochs=300,
        batch_size=64,
        metric="accuracy",
        target=0.9,
        why="a curved boundary that needs a wider network; at 300 epochs tuned adam (0.01) "
        "reaches 0.97 and gd (1.0) 0.93, the default rate 0.0007 0.60 (gd) and 0.61 (adam)",
    ),
    Problem(
        name="digits",
        description="scikit-learn's 8x8 handwritten digits (1797 images, 10 classes)",
        dataset="digits",
        hidden_layers=(32,),
        epochs=100,
        batch_size=64,
        metric="accuracy",
        target=0.95,
        why="multi-class (softmax over 10 classes), 64 features; at 100 epochs tuned gd and "
        "momentum (0.1 to 1.0) reach 0.96 to 0.97 and adam (0.003 to 0.01) 0.97; the default "
        "rate 0.0007 gives gd and momentum 0.59 and adam 0.96",
    ),
    Problem(
        name="breast-cancer",
        description="logistic regression on scikit-learn's breast-cancer data (569, 30 features)",
        dataset="breast-cancer",
        hidden_layers=(),
        epochs=100,
        batch_size=64,
        metric="accuracy",
        target=0.97,
        why="convex: one sigmoid unit on standardised features; at 100 epochs tuned gd (0.3) "
        "reaches 0.99, the default rate 0.0007 0.83 (gd) and 0.95 (adam)",
    ),
    Problem(
        name="noisy-quadratic",
        description="the quadratic landscape 0.5 (x^2 + 25 y^2) with N(0, 1) gradient noise",
        landscape="quadratic",
        noise_scale=1.0,
        epochs=150,
        batch_size=None,
        metric="loss",
        target=0.05,
        why="stochastic: the learning rate trades speed against the noise floor; after 150 "
        "steps tuned gd (0.03), momentum (0.03) and adam (0.1) reach 0.014 to 0.02 (median "
        "of 5 seeds), the default rate 0.0007 8.3 (gd) and 19.7 (adam)",
    ),
)

SUITES: dict[str, tuple[Problem, ...]] = {"small": SMALL}
"""The named suites of problems; ``small`` is the default."""


def suite(name: str) -> tuple[Problem, ...]:
    """The problems of suite ``name``; a one-line ``ValueError`` naming the choices otherwise."""
    try:
        return SUITES[name]
    except KeyError:
        raise ValueError(f"unknown suite {name!r}; choose one of: {', '.join(SUITES)}") from None
