"""The equal tuning budget: each optimizer's search space, its draws, and its untuned defaults.

Every optimizer gets the same number N of configurations, drawn at random from its space.
A space gives each hyperparameter one of (``Space``):

- a log-uniform range ``LO..HI:log``: x = exp(u), u ~ Uniform(log LO, log HI), so every
  decade between LO and HI is equally likely (written LU(LO, HI));
- a list ``A,B,...``: one value, each with the same probability;
- one value, never drawn (fixed).

The rules, in ``SPACES`` with a source for every entry:

- The learning rate is LU(1e-4, 1) for every optimizer, the range Schmidt, Schneider & Hennig,
  "Descending through a Crowded Valley" (ICML 2021), tuned it over; two optimizers whose
  learning rate means something else move the four decades (Lion: LU(1e-5, 1e-1); Prodigy,
  whose rate multiplies an estimated step: LU(1e-1, 1e1)).
- The optimizers that paper benchmarked (SGD, momentum and Nesterov's, RMSProp, AdaGrad,
  AdaDelta, Adam, NAdam, RAdam, AdaBelief) follow its *large budget*, where every listed
  hyperparameter is tuned (its small budget tunes the learning rate alone): a momentum-like
  rate rho LU(1e-3, 1); Adam's beta1 LU(0.5, 0.999) and beta2 LU(0.8, 0.999); epsilon not
  tuned. AdamW, Adam with decoupled weight decay, takes Adam's space. The ranges agree with
  the values recorded in the paper's published runs (github.com/SirRob1997/
  Crowded-Valley---Results, results/large_budget/): learning rates 1.05e-4 to 0.886, momentum
  and RMSProp/AdaDelta rho 1.55e-3 to 0.913 (about a third in each decade from 1e-3), Adam's
  beta1 0.50 to 0.98 and beta2 0.80 to 0.99, epsilon 1e-8 (1e-10 for RMSProp) in every run.
- Every other optimizer tunes its learning rate only, the rest fixed at the values its paper
  recommends (each cited); a wrapper (lookahead, sam) adds its own paper's values to the
  inner optimizer's space.
- A hyperparameter no entry names keeps descentlab's default (``search_space`` lists it as
  fixed, source ``UNTUNED``).

Draws (``draw_configurations``) come from sweep random search's generator and rule
(``sweep.grid.search_generator``, ``sweep.grid.draw_settings``): seeded by (seed, crc32 of the
optimizer's name), each configuration drawing its hyperparameters in sorted name order. So
an optimizer's draws never depend on which other optimizers are benchmarked, and
``descentlab sweep --search random`` given the same spaces draws the same values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from descentlab import optim
from descentlab.optim import registry
from descentlab.sweep.grid import Axis, Item, Range, Value, draw_settings, search_generator
from descentlab.validation import check_int

LEARNING_RATE = "learning_rate"

CROWDED_VALLEY = "Schmidt, Schneider & Hennig 2021 (Crowded Valley), large budget"
"""The source of a space the paper tuned over."""

UNTUNED = "descentlab's default, not tuned"
"""The source of a hyperparameter no entry of ``SPACES`` names."""


@dataclass(frozen=True)
class Space:
    """One hyperparameter's space: ``text`` in the sweep syntax (``1e-4..1:log``, ``5,10``,
    ``0.9``), ``items`` parsed, and the ``source`` it comes from."""

    text: str
    items: tuple[Item, ...]
    source: str

    @property
    def is_fixed(self) -> bool:
        """One value, never drawn."""
        return len(self.items) == 1 and not isinstance(self.items[0], Range)

    def axis(self, name: str) -> Axis:
        """The space as a sweep's axis of hyperparameter ``name``."""
        return Axis(name, self.text, self.items)

    def describe(self) -> str:
        """``LU(0.0001, 1)``, ``one of 5, 10`` or ``0.9`` (fixed), for tables."""
        first = self.items[0]
        if isinstance(first, Range):
            return f"LU({first.low:g}, {first.high:g})"
        if self.is_fixed:
            return _text(first)
        return "one of " + ", ".join(_text(item) for item in self.items)

    def contains(self, value: object) -> bool:
        """Whether ``value`` can be drawn from this space (a range: low <= value <= high)."""
        first = self.items[0]
        if isinstance(first, Range):
            return isinstance(value, float) and first.low <= value <= first.high
        return any(type(value) is type(item) and value == item for item in self.items)


def _text(value: Item) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}"


def log_uniform(low: float, high: float, source: str) -> Space:
    """LU(low, high): exp(Uniform(log low, log high)), with 0 < low < high."""
    if not (0 < low < high and math.isfinite(high)):
        raise ValueError(f"a log-uniform space needs 0 < low < high, got {low!r}, {high!r}")
    return Space(f"{low:g}..{high:g}:log", (Range(low, high, "log"),), source)


def one_of(values: tuple[Value, ...], source: str) -> Space:
    """One of ``values`` (at least two, none twice), each with probability 1 / len(values)."""
    if len(values) < 2 or len(set(values)) != len(values):
        raise ValueError(f"a list space needs two or more distinct values, got {values!r}")
    return Space(",".join(_text(value) for value in values), tuple(values), source)


def fixed(value: Value, source: str) -> Space:
    """``value``, never drawn."""
    return Space(_text(value), (value,), source)


_LR = log_uniform(1e-4, 1.0, CROWDED_VALLEY)
_LR_ALIKE = log_uniform(1e-4, 1.0, "the Crowded Valley range, applied alike")
_RHO = log_uniform(1e-3, 1.0, CROWDED_VALLEY)
_BETA1 = log_uniform(0.5, 0.999, CROWDED_VALLEY)
_BETA2 = log_uniform(0.8, 0.999, CROWDED_VALLEY)
_ADAM = {LEARNING_RATE: _LR, "beta1": _BETA1, "beta2": _BETA2}


def _fixed_all(source: str, **values: Value) -> dict[str, Space]:
    return {name: fixed(value, source) for name, value in values.items()}


SPACES: Mapping[str, Mapping[str, Space]] = MappingProxyType(
    {
        "gd": {LEARNING_RATE: _LR},
        "momentum": {LEARNING_RATE: _LR, "beta": _RHO},
        "sgd": {
            LEARNING_RATE: _LR,
            "momentum": _RHO,
            "nesterov": one_of((False, True), "Crowded Valley's Momentum and NAG, one drawn"),
        },
        "rmsprop": {LEARNING_RATE: _LR, "rho": _RHO},
        "adagrad": {LEARNING_RATE: _LR},
        "adam": _ADAM,
        "adamw": {
            LEARNING_RATE: _LR,
            "beta1": log_uniform(0.5, 0.999, "Crowded Valley's Adam (AdamW is Adam + decay)"),
            "beta2": log_uniform(0.8, 0.999, "Crowded Valley's Adam (AdamW is Adam + decay)"),
        },
        "nadam": _ADAM,
        "adamax": {
            LEARNING_RATE: _LR_ALIKE,
            **_fixed_all("Kingma & Ba 2015, Algorithm 2", beta1=0.9, beta2=0.999),
        },
        "radam": _ADAM,
        "adadelta": {LEARNING_RATE: _LR, "rho": _RHO},
        "rprop": {
            LEARNING_RATE: _LR_ALIKE,
            **_fixed_all("Riedmiller & Braun 1993", etaminus=0.5, etaplus=1.2),
        },
        "lion": {
            LEARNING_RATE: log_uniform(
                1e-5, 1e-1, "Chen et al. 2023: 3-10x below AdamW's, so a decade down"
            ),
            **_fixed_all("Chen et al. 2023 (Lion)", beta1=0.9, beta2=0.99),
        },
        "adabelief": _ADAM,
        "yogi": {
            LEARNING_RATE: _LR_ALIKE,
            **_fixed_all("Zaheer et al. 2018 (Yogi)", beta1=0.9, beta2=0.999, epsilon=1e-3),
        },
        "adan": {
            LEARNING_RATE: _LR_ALIKE,
            **_fixed_all("Xie et al. 2022 (Adan)", beta1=0.98, beta2=0.92, beta3=0.99),
        },
        "lamb": {
            LEARNING_RATE: _LR_ALIKE,
            **_fixed_all("You et al. 2020 (LAMB)", beta1=0.9, beta2=0.999, epsilon=1e-6),
        },
        "lars": {
            LEARNING_RATE: _LR_ALIKE,
            **_fixed_all("You et al. 2017 (LARS)", momentum=0.9, trust_coefficient=0.001),
        },
        "adafactor": {
            LEARNING_RATE: _LR_ALIKE,
            **_fixed_all("Shazeer & Stern 2018", beta2_decay=-0.8, epsilon2=1e-3, d=1.0),
        },
        "lbfgs": {LEARNING_RATE: _LR_ALIKE},
        "lookahead": {
            "sync_period": one_of((5, 10), "Zhang et al. 2019: robust for k in {5, 10}"),
            "slow_step_size": one_of((0.5, 0.8), "Zhang et al. 2019: alpha in {0.5, 0.8}"),
        },
        "sam": {
            "radius": one_of(
                (0.01, 0.02, 0.05, 0.1, 0.2, 0.5), "Foret et al. 2021: their grid for rho"
            ),
        },
        "prodigy": {
            LEARNING_RATE: log_uniform(
                0.1, 10.0, "Mishchenko & Defazio 2024: a multiplier, 1 recommended"
            ),
            **_fixed_all("Mishchenko & Defazio 2024", beta1=0.9, beta2=0.999, d0=1e-6),
        },
        "muon": {
            LEARNING_RATE: _LR_ALIKE,
            **_fixed_all("Jordan et al. 2024 (Muon)", momentum=0.95, nesterov=True),
        },
        "asgd": {LEARNING_RATE: _LR_ALIKE},
        "schedule_free_adamw": {
            LEARNING_RATE: _LR_ALIKE,
            **_fixed_all("Defazio et al. 2024 (schedule-free)", beta1=0.9, beta2=0.999),
        },
        "schedule_free_sgd": {
            LEARNING_RATE: _LR_ALIKE,
            **_fixed_all("Defazio et al. 2024 (schedule-free)", beta1=0.9),
        },
    }
)
"""Per registered optimizer (a wrapper: its own keywords only), the spaces of the
hyperparameters a source speaks of; ``search_space`` fills in the rest as fixed defaults.
A new optimizer needs an entry here and in ``DEFAULT_LEARNING_RATES`` (a test checks both)."""

DEFAULT_LEARNING_RATES: Mapping[str, tuple[float, str]] = MappingProxyType(
    {
        "gd": (1e-3, "torch.optim.SGD"),
        "momentum": (1e-3, "torch.optim.SGD"),
        "sgd": (1e-3, "torch.optim.SGD"),
        "rmsprop": (1e-2, "torch.optim.RMSprop"),
        "adagrad": (1e-2, "torch.optim.Adagrad"),
        "adam": (1e-3, "torch.optim.Adam"),
        "adamw": (1e-3, "torch.optim.AdamW"),
        "nadam": (2e-3, "torch.optim.NAdam"),
        "adamax": (2e-3, "torch.optim.Adamax"),
        "radam": (1e-3, "torch.optim.RAdam"),
        "adadelta": (1.0, "torch.optim.Adadelta"),
        "rprop": (1e-2, "torch.optim.Rprop"),
        "lion": (1e-4, "Chen et al. 2023: AdamW's 1e-3 divided by 10"),
        "adabelief": (1e-3, "the AdaBelief authors' adabelief-pytorch"),
        "yogi": (1e-2, "Zaheer et al. 2018 (Yogi)"),
        "adan": (1e-3, "the Adan authors' reference code"),
        "lamb": (1e-3, "pytorch_optimizer.Lamb"),
        "lars": (1.0, "descentlab's lars: trust-ratio steps, near 1 usual"),
        "adafactor": (1e-2, "torch.optim.Adafactor"),
        "lbfgs": (1.0, "torch.optim.LBFGS"),
        "prodigy": (1.0, "Mishchenko & Defazio 2024 (Prodigy)"),
        "muon": (1e-3, "torch.optim.Muon"),
        "asgd": (1e-2, "torch.optim.ASGD"),
        "schedule_free_adamw": (2.5e-3, "schedulefree.AdamWScheduleFree"),
        "schedule_free_sgd": (1.0, "schedulefree.SGDScheduleFree"),
    }
)
"""The untuned learning rate of every optimizer that has one (a wrapper takes its inner's),
with where it comes from: the reference implementation's default."""

DEFAULT_OPTIMIZERS: tuple[str, ...] = (
    *("gd", "momentum", "sgd", "rmsprop", "adagrad", "adam", "adamw", "nadam", "adamax"),
    "radam",
    "lion",
    "prodigy",
    "schedule_free_adamw",
)
"""The benchmark's default optimizers: the nine classics (``optim.names()[:9]``), then four
newer ones that need nothing of the training loop beyond a gradient and apply everywhere:
RAdam (one of the Crowded Valley's fifteen), Lion (a searched-for sign update), Prodigy (a
learning-rate-free step size) and schedule-free AdamW (no schedule to tune). The rest can
be chosen; they are left out for their cost (sam: two gradients a step; lbfgs: full batch
only) or their needs (muon, lamb, lars, adafactor: layer shapes)."""


def search_space(name: str) -> dict[str, Space]:
    """Every hyperparameter ``get(name, ...)`` takes, in its order, with its space: the entry
    of ``SPACES`` of the optimizer (or wrapper) it belongs to, else fixed at descentlab's
    default (``UNTUNED``). ``name`` may be a wrapper chain (``lookahead:adam``: adam's space,
    then lookahead's); a one-line ``ValueError`` for an unknown name or a wrapper alone."""
    parts = registry.chain(name)
    spaces: dict[str, Space] = {}
    for part in reversed(parts):  # the inner's keywords first, as hyperparameter_names
        for hyperparameter in part.hyperparameters:
            given = SPACES[part.name].get(hyperparameter.name)
            if given is None:
                assert hyperparameter.default is not None  # only the learning rate is required
                given = fixed(hyperparameter.default, UNTUNED)
            spaces[hyperparameter.name] = given
    return {key: spaces[key] for key in optim.hyperparameter_names(name)}


def draw_configurations(name: str, n: int, seed: int) -> list[dict[str, Value]]:
    """``n`` configurations of optimizer ``name``, each a value for every hyperparameter
    (``search_space``), drawn from ``sweep.grid.search_generator(seed, name)`` by
    ``sweep.grid.draw_settings``: the same ``seed`` gives the same draws, and another
    optimizer's draws never change them. ``n`` >= 1 and ``seed`` >= 0 are integers."""
    check_int("number of configurations", n, minimum=1)
    check_int("search seed", seed, minimum=0)
    axes = {key: space.axis(key) for key, space in search_space(name).items()}
    return draw_settings(axes, n, search_generator(seed, name))


def default_learning_rate(name: str) -> float:
    """The untuned learning rate of ``name`` (``DEFAULT_LEARNING_RATES``; a wrapper chain's is
    its inner optimizer's)."""
    inner = registry.chain(name)[-1].name
    return DEFAULT_LEARNING_RATES[inner][0]


def defaults(name: str) -> dict[str, Value]:
    """The untuned configuration of ``name`` (the benchmark's ``--defaults``): its default
    learning rate (``default_learning_rate``), then every other keyword at the registry's
    default, in ``hyperparameter_names`` order."""
    configuration: dict[str, Value] = {LEARNING_RATE: default_learning_rate(name)}
    for key, value in optim.spec(name).defaults.items():
        assert value is not None
        configuration[key] = value
    return configuration


def table() -> list[tuple[str, str, str, str]]:
    """(optimizer, hyperparameter, space, source) for every entry of ``SPACES`` (a wrapper by
    its own keywords), in the registry's order: the docs' table."""
    return [
        (name, key, space.describe(), space.source)
        for name in optim.names()
        for key, space in SPACES[name].items()
    ]
