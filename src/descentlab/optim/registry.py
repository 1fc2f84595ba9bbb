"""The one place that knows the optimizers: an ``OptimizerSpec`` per name, in ``REGISTRY``.

Everything that lists, builds or describes optimizers reads it: ``names``, ``get`` and
``hyperparameter_names``, the command line's choices and help (``summaries``), the landscape
default learning rates (through each spec's ``family``), the scikit-learn estimator, and the
scoping of ``-H [OPTIMIZER.]NAME=VALUE`` settings (``scope_hyperparameters``). A spec's summary
and its hyperparameters with their defaults are read from the factory's docstring and signature,
never written a second time.

Adding an optimizer is one module holding its factory (whose docstring's first line is its
summary, and which records its hyperparameters with ``base.record_hyperparameters``) and one
line in ``_SPECS`` below.

Wrappers (``wraps_inner``: lookahead, SAM) take another optimizer: users name the pair
``WRAPPER:INNER`` (``lookahead:adam``, nested ``lookahead:sam:adam``). ``spec``, ``get``,
``hyperparameter_names`` and everything built on them accept such a name: its spec joins the
wrappers' keywords to the inner's (no two of them share a keyword, checked at import), its
``needs`` are all of theirs, and it applies where every one of them does. ``names()`` lists
every registered name, the wrappers (``wrapper_names()``) too, which are never used alone.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import NamedTuple, TypeVar

from descentlab.optim.adabelief import adabelief
from descentlab.optim.adadelta import adadelta
from descentlab.optim.adafactor import adafactor
from descentlab.optim.adagrad import adagrad
from descentlab.optim.adam import adam, adamw
from descentlab.optim.adamax import adamax
from descentlab.optim.adan import adan
from descentlab.optim.asgd import asgd
from descentlab.optim.base import INNER, Optimizer, ScalarOrSchedule
from descentlab.optim.gd import gd
from descentlab.optim.lamb import lamb
from descentlab.optim.lars import lars
from descentlab.optim.lbfgs import lbfgs
from descentlab.optim.lion import lion
from descentlab.optim.lookahead import lookahead
from descentlab.optim.momentum import momentum
from descentlab.optim.muon import muon
from descentlab.optim.nadam import nadam
from descentlab.optim.prodigy import prodigy
from descentlab.optim.radam import radam
from descentlab.optim.rmsprop import rmsprop
from descentlab.optim.rprop import rprop
from descentlab.optim.sam import sam
from descentlab.optim.schedule_free import schedule_free_adamw, schedule_free_sgd
from descentlab.optim.sgd import sgd
from descentlab.optim.yogi import yogi

FAMILIES: Mapping[str, str] = MappingProxyType(
    {
        "gradient": "steps along the gradient, or an average of it, scaled by the learning rate",
        "adaptive": "per-coordinate steps scaled by a moving average of squared gradients",
        "accumulator": "per-coordinate steps scaled by the sum of every squared gradient so far",
        "rms_ratio": "per-coordinate steps of RMS(past steps) / RMS(gradients) times the "
        "gradient: units from the steps themselves, learning rates near 1 and above",
        "quasi_newton": "steps along an inverse-Hessian estimate built from past gradient "
        "changes: the learning rate scales a Newton step, 1 its natural size",
    }
)
"""The optimizer families, each with what its members share (``family_members`` lists them).
Optimizers of one family step alike, so they share a default learning rate on each landscape
(``descentlab.landscapes``): a new
optimizer with a family gets its defaults there without a word in ``landscapes.py``. A new
family needs a default on every landscape (a test checks it)."""

NEEDS: Mapping[str, str] = MappingProxyType(
    {
        "layout": "the shape of each layer's weights and biases in the flat parameter buffer "
        "(Muon, LAMB, LARS, Adafactor)",
        "value": "the mini-batch loss at the current weights, beside its gradient (L-BFGS)",
        "value_and_grad": "the loss and its gradient at other points the optimizer names, on "
        "the same mini-batch (SAM's perturbed point, L-BFGS's inner iterations)",
        "full_batch": "every batch the whole training set: refused with mini-batches (L-BFGS)",
    }
)
"""What an optimizer may ask of the training loop beyond the gradient at the current weights,
with what asks for it. The first three are passed as keywords of the same name
(``descentlab.optim.base``); ``full_batch`` is a condition the loop checks. The classic
optimizers need none of it."""

COMMANDS: tuple[str, ...] = ("compare", "train", "sweep", "landscape", "estimator")
"""Where optimizers are used: the four training commands and the scikit-learn estimator
(``estimator``, ``descentlab.sklearn.DescentClassifier``). A new place that trains with an
optimizer adds its name here, and then every optimizer that does not exclude it applies."""

_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
"""Optimizer names: the command line separates them with , = . and :, so none of those."""

WRAPS = ":"
"""Between a wrapper and the optimizer it wraps: ``lookahead:adam``."""

WRAPS_IN_FILE_NAMES = "+"
"""How ``WRAPS`` is written in file names (``file_safe``): Windows refuses ``:`` in them (and
macOS's Finder shows it as ``/``); ``+`` is safe everywhere and in URLs' paths, and no
optimizer's name holds it."""


def file_safe(name: str) -> str:
    """An optimizer's name as files and folders spell it: ``lookahead:adam`` is
    ``lookahead+adam``; a name without a wrapper is itself."""
    return name.replace(WRAPS, WRAPS_IN_FILE_NAMES)


class Hyperparameter(NamedTuple):
    """One keyword of an optimizer's factory, as its signature gives it."""

    name: str
    default: float | bool | None
    """The factory's default (``None`` for a required keyword)."""
    required: bool
    """No default: ``get`` needs it (the learning rate)."""


@dataclass(frozen=True)
class OptimizerSpec:
    """Everything descentlab knows about one optimizer besides its math.

    ``name`` is what users type; ``factory`` builds the optimizer from keyword arguments.
    ``family`` (one of ``FAMILIES``) picks its default learning rate on each landscape.
    ``wraps_inner``: the factory's first parameter, ``inner`` (``base.INNER``), is another
    optimizer that it wraps (lookahead, SAM); ``inner`` is not a hyperparameter. ``needs`` (a
    subset of ``NEEDS``) is what the training loop must hand it beyond the gradient at the
    current weights. ``commands`` (a non-empty subset of ``COMMANDS``, all of them by default)
    is where it applies; elsewhere it is refused.

    Derived, never given: ``summary``, the first line of the factory's docstring, and
    ``hyperparameters``, the factory's keywords with their defaults in signature order.
    """

    name: str
    factory: Callable[..., Optimizer]
    family: str
    wraps_inner: bool = False
    needs: frozenset[str] = frozenset()
    commands: frozenset[str] = frozenset(COMMANDS)
    summary: str = field(init=False)
    hyperparameters: tuple[Hyperparameter, ...] = field(init=False)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(
                f"optimizer name must be lowercase letters, digits and _, starting with a "
                f"letter, got {self.name!r}"
            )
        if self.family not in FAMILIES:
            raise ValueError(
                f"optimizer {self.name!r}: unknown family {self.family!r}; "
                f"choose one of: {', '.join(FAMILIES)}"
            )
        object.__setattr__(self, "needs", frozenset(self.needs))
        object.__setattr__(self, "commands", frozenset(self.commands))
        unknown = sorted(self.needs - set(NEEDS)) + sorted(self.commands - set(COMMANDS))
        if unknown:
            raise ValueError(
                f"optimizer {self.name!r}: unknown need or command {unknown[0]!r}; needs: "
                f"{', '.join(NEEDS)}; commands: {', '.join(COMMANDS)}"
            )
        if not self.commands:
            raise ValueError(f"optimizer {self.name!r} must apply to at least one command")
        docstring = inspect.getdoc(self.factory)
        if not docstring:
            raise ValueError(f"optimizer {self.name!r}: its factory needs a docstring")
        parameters = list(inspect.signature(self.factory).parameters.values())
        if self.wraps_inner != (bool(parameters) and parameters[0].name == INNER):
            raise ValueError(
                f"optimizer {self.name!r}: a wrapper's factory takes {INNER!r} first, and only "
                f"a wrapper's does (wraps_inner={self.wraps_inner})"
            )
        object.__setattr__(self, "summary", docstring.splitlines()[0].strip())
        hyperparameters = tuple(
            Hyperparameter(
                parameter.name,
                None if parameter.default is inspect.Parameter.empty else parameter.default,
                parameter.default is inspect.Parameter.empty,
            )
            for parameter in parameters
            if parameter.name != INNER
        )
        object.__setattr__(self, "hyperparameters", hyperparameters)

    @property
    def defaults(self) -> dict[str, float | bool | None]:
        """Each keyword that has a default, with it: what the factory uses unless told."""
        return {h.name: h.default for h in self.hyperparameters if not h.required}

    def applies_to(self, command: str) -> bool:
        """Whether this optimizer can be used in ``command`` (one of ``COMMANDS``)."""
        return _check_command(command) in self.commands


_SPECS = (
    OptimizerSpec("gd", gd, family="gradient"),
    OptimizerSpec("momentum", momentum, family="gradient"),
    OptimizerSpec("sgd", sgd, family="gradient"),
    OptimizerSpec("rmsprop", rmsprop, family="adaptive"),
    OptimizerSpec("adagrad", adagrad, family="accumulator"),
    OptimizerSpec("adam", adam, family="adaptive"),
    OptimizerSpec("adamw", adamw, family="adaptive"),
    OptimizerSpec("nadam", nadam, family="adaptive"),
    OptimizerSpec("adamax", adamax, family="adaptive"),
    OptimizerSpec("radam", radam, family="adaptive"),
    OptimizerSpec("adadelta", adadelta, family="rms_ratio"),
    OptimizerSpec("rprop", rprop, family="adaptive"),
    OptimizerSpec("lion", lion, family="adaptive"),
    OptimizerSpec("adabelief", adabelief, family="adaptive"),
    OptimizerSpec("yogi", yogi, family="adaptive"),
    OptimizerSpec("adan", adan, family="adaptive"),
    OptimizerSpec("lamb", lamb, family="adaptive", needs=frozenset({"layout"})),
    OptimizerSpec("lars", lars, family="gradient", needs=frozenset({"layout"})),
    OptimizerSpec("adafactor", adafactor, family="adaptive", needs=frozenset({"layout"})),
    OptimizerSpec(
        "lbfgs",
        lbfgs,
        family="quasi_newton",
        needs=frozenset({"value", "value_and_grad", "full_batch"}),
    ),
    OptimizerSpec("lookahead", lookahead, family="gradient", wraps_inner=True),
    OptimizerSpec(
        "sam", sam, family="gradient", wraps_inner=True, needs=frozenset({"value_and_grad"})
    ),
    OptimizerSpec("prodigy", prodigy, family="adaptive"),
    OptimizerSpec(
        "muon",
        muon,
        family="adaptive",
        needs=frozenset({"layout"}),
        commands=frozenset(COMMANDS) - {"landscape"},
    ),
    OptimizerSpec("asgd", asgd, family="gradient"),
    OptimizerSpec("schedule_free_adamw", schedule_free_adamw, family="adaptive"),
    OptimizerSpec("schedule_free_sgd", schedule_free_sgd, family="gradient"),
)


def _by_name(specs: Iterable[OptimizerSpec]) -> Mapping[str, OptimizerSpec]:
    by_name: dict[str, OptimizerSpec] = {}
    for entry in specs:
        if entry.name in by_name:
            raise ValueError(f"optimizer {entry.name!r} is registered twice")
        by_name[entry.name] = entry
    for wrapper in by_name.values():
        if not wrapper.wraps_inner:
            continue
        own = {h.name for h in wrapper.hyperparameters}
        for other in by_name.values():
            shared = sorted(own & {h.name for h in other.hyperparameters})
            if other is not wrapper and shared:
                raise ValueError(
                    f"wrapper {wrapper.name!r} and optimizer {other.name!r} both take "
                    f"{shared[0]!r}: a wrapper's keywords must be its own"
                )
    return MappingProxyType(by_name)


REGISTRY: Mapping[str, OptimizerSpec] = _by_name(_SPECS)
"""Every optimizer by name, in the order the docs and the help list them (wrappers included:
see ``wrapper_names``)."""


def _check_command(command: str) -> str:
    if command not in COMMANDS:
        raise ValueError(f"unknown command {command!r}; choose one of: {', '.join(COMMANDS)}")
    return command


def names(command: str | None = None) -> list[str]:
    """The registered optimizer names, in the order the docs list them; with ``command`` (one
    of ``COMMANDS``), only those that apply to it. The wrappers among them (``wrapper_names``)
    are named with the optimizer they wrap, ``WRAPPER:INNER`` (``runnable_names`` gives one
    such name for each)."""
    if command is None:
        return list(REGISTRY)
    _check_command(command)
    return [name for name, entry in REGISTRY.items() if command in entry.commands]


def check_full_batch(names: Iterable[str], batch_size: int | None) -> None:
    """A one-line ``ValueError`` if an optimizer of ``names`` (or one a wrapper of them wraps)
    needs the whole training set in every batch (``full_batch``, L-BFGS) and ``batch_size`` is
    a number: such an optimizer trains with ``batch_size=None`` (``--batch-size full``)."""
    if batch_size is None:
        return
    for name in names:
        for part in chain(name):
            if "full_batch" in part.needs:
                raise ValueError(
                    f"{part.name} is full-batch: it needs the whole training set in every "
                    f"batch; use --batch-size full (batch_size=None), got batch size "
                    f"{batch_size}"
                )


EXAMPLE_INNER = "adam"
"""The optimizer a wrapper wraps where one example of each optimizer is wanted
(``runnable_names``): the tests and the docs' tables."""


def runnable_names(command: str | None = None) -> list[str]:
    """``names(command)`` as they can be run: a wrapper wrapping ``EXAMPLE_INNER``
    (``lookahead:adam``), every other optimizer by its name."""
    return [
        f"{name}:{EXAMPLE_INNER}" if REGISTRY[name].wraps_inner else name for name in names(command)
    ]


def wrapper_names(command: str | None = None) -> list[str]:
    """The wrappers (lookahead, sam), each named before the optimizer it wraps
    (``lookahead:adam``); with ``command``, only those that apply to it."""
    return [
        name
        for name, entry in REGISTRY.items()
        if entry.wraps_inner and (command is None or _check_command(command) in entry.commands)
    ]


def _registered(name: str, command: str | None = None) -> OptimizerSpec:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"unknown optimizer {name!r}; choose one of: {', '.join(names(command))} (a wrapper "
            f"as WRAPPER:INNER, e.g. {wrapper_names()[0]}:{EXAMPLE_INNER})"
        ) from None


def chain(name: str, command: str | None = None) -> tuple[OptimizerSpec, ...]:
    """The specs ``name`` is made of, outermost first: ``chain("lookahead:adam")`` is
    (lookahead's, adam's); ``chain("adam")`` is (adam's,). A one-line ``ValueError`` for an
    unknown part, a bare wrapper ("lookahead wraps another optimizer: name it lookahead:INNER,
    e.g. lookahead:adam"), a wrapper around nothing or a wrapper named twice; with
    ``command``, an unknown part's message lists the optimizers of that command."""
    if not isinstance(name, str):
        raise ValueError(f"an optimizer's name must be a string, got {name!r}")
    parts = [_registered(part, command) for part in name.split(WRAPS)]
    for outer in parts[:-1]:
        if not outer.wraps_inner:
            raise ValueError(
                f"optimizer {outer.name!r} wraps no other optimizer, in {name!r}; the wrappers "
                f"are {', '.join(wrapper_names())} (e.g. lookahead:{outer.name})"
            )
    if parts[-1].wraps_inner:
        raise ValueError(
            f"{parts[-1].name} wraps another optimizer: name it {name}{WRAPS}INNER, "
            f"e.g. {name}{WRAPS}{EXAMPLE_INNER}"
        )
    seen = [part.name for part in parts]
    for part in seen:
        if seen.count(part) > 1:
            raise ValueError(f"{name!r} names {part} twice; each wrapper may wrap once")
    return tuple(parts)


def _composite(parts: tuple[OptimizerSpec, ...]) -> OptimizerSpec:
    """The spec of a wrapper chain: the inner's family, every part's keywords (the inner's
    first) and needs, the commands where every part applies (one part: its own spec)."""
    if len(parts) == 1:
        return parts[0]
    wrappers, inner = parts[:-1], parts[-1]
    full_name = WRAPS.join(part.name for part in parts)
    own = [{h.name for h in wrapper.hyperparameters} for wrapper in wrappers]

    def factory(**hyperparameters: float | bool | ScalarOrSchedule) -> Optimizer:
        mine = set().union(*own)
        built = inner.factory(**{k: v for k, v in hyperparameters.items() if k not in mine})
        for wrapper, keys in reversed(list(zip(wrappers, own, strict=True))):
            given = {k: v for k, v in hyperparameters.items() if k in keys}
            built = wrapper.factory(built, **given)
        return built

    factory.__doc__ = f"{wrappers[0].summary} Around {WRAPS.join(p.name for p in parts[1:])}."
    hyperparameters = inner.hyperparameters + tuple(
        h for wrapper in wrappers for h in wrapper.hyperparameters
    )
    factory.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                h.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=inspect.Parameter.empty if h.required else h.default,
            )
            for h in hyperparameters
        ]
    )
    entry = object.__new__(OptimizerSpec)
    fields = {
        "name": full_name,
        "factory": factory,
        "family": inner.family,
        "wraps_inner": False,
        "needs": frozenset().union(*(part.needs for part in parts)),
        "commands": frozenset.intersection(*(part.commands for part in parts)),
        "summary": factory.__doc__,
        "hyperparameters": hyperparameters,
    }
    for key, value in fields.items():
        object.__setattr__(entry, key, value)
    return entry


def spec(name: str) -> OptimizerSpec:
    """The registry entry of ``name`` (a wrapper's too), or the spec of a wrapper chain
    ``WRAPPER:INNER`` (see ``chain``); a one-line ``ValueError`` naming the choices otherwise."""
    if isinstance(name, str) and name in REGISTRY:
        return REGISTRY[name]
    return _composite(chain(name))


def check_name(name: str, command: str | None = None) -> str:
    """``name`` if it names an optimizer that stands alone (a wrapper chain included) and, with
    ``command``, applies to it; a one-line ``ValueError`` otherwise ("optimizer 'sam:lbfgs'
    does not apply to landscape")."""
    entry = _composite(chain(name, command))
    if command is not None and not entry.applies_to(command):
        outside = [part.name for part in chain(name) if not part.applies_to(command)]
        raise ValueError(
            f"optimizer {name!r} does not apply to {command} ({outside[0]} applies to "
            f"{', '.join(sorted(REGISTRY[outside[0]].commands))}); choose one of: "
            f"{', '.join(names(command))} (a wrapper as WRAPPER:INNER)"
        )
    return name


def summaries(command: str | None = None) -> dict[str, str]:
    """Each optimizer's one-line summary (its factory docstring's first line), by name, for
    help texts; with ``command``, only the optimizers that apply to it."""
    return {name: REGISTRY[name].summary for name in names(command)}


def family_members(family: str) -> list[str]:
    """The optimizers of ``family`` (one of ``FAMILIES``), in the registry's order; a wrapper
    chain is of its inner optimizer's family (``spec("lookahead:adam").family``), a wrapper
    alone of the family its registry line names."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; choose one of: {', '.join(FAMILIES)}")
    return [name for name, entry in REGISTRY.items() if entry.family == family]


def names_with(hyperparameter: str, command: str | None = None) -> list[str]:
    """The optimizers (of ``command``, if given) that take the keyword ``hyperparameter``, in
    the registry's order: ``names_with("beta1")`` for ``--beta1``'s help (a wrapper by its own
    keywords)."""
    return [name for name in names(command) if hyperparameter in hyperparameter_names(name)]


def hyperparameter_names(name: str) -> list[str]:
    """The keyword arguments ``get(name, ...)`` accepts, in the factory's order; for a wrapper
    chain (``lookahead:adam``), the inner optimizer's and then each wrapper's (for a wrapper
    alone, its own)."""
    return [h.name for h in spec(name).hyperparameters]


def get(name: str, **hyperparameters: float | bool | ScalarOrSchedule) -> Optimizer:
    """The optimizer ``name`` with the given hyperparameters (``learning_rate`` is required).
    A wrapper chain (``get("lookahead:adam", learning_rate=1e-3, sync_period=6, beta1=0.8)``)
    gives each wrapper its own keywords and the rest to the inner optimizer; a wrapper alone is
    refused ("lookahead wraps another optimizer: ...")."""
    entry = _composite(chain(name))
    allowed = hyperparameter_names(name)
    unknown = sorted(set(hyperparameters) - set(allowed))
    if unknown:
        raise ValueError(
            f"unknown hyperparameter {unknown[0]!r} for optimizer {name!r}; "
            f"allowed: {', '.join(allowed)}"
        )
    if "learning_rate" not in hyperparameters:
        raise ValueError(f"optimizer {name!r} needs a learning_rate")
    return entry.factory(**hyperparameters)


Value = TypeVar("Value")


def scope_hyperparameters(
    settings: Iterable[tuple[str | None, str, Value]], optimizers: Sequence[str]
) -> dict[str, dict[str, Value]]:
    """Which of the chosen ``optimizers`` each ``-H [OPTIMIZER.]NAME=VALUE`` setting goes to.

    ``settings`` holds (owner, name, value) triples in the order given. An unscoped setting
    (owner ``None``, ``-H beta1=0.8``) goes to every chosen optimizer that has a keyword
    ``name``; a scoped one (``-H adam.beta1=0.8``) to its owner only. A scoped setting wins
    over an unscoped one whatever their order; of two settings with the same scope, the later
    wins. Returns {optimizer: {name: value}} for the optimizers that receive anything, each
    one's keywords in the order first set, unscoped settings before scoped ones (the command
    line's compare/train/landscape ``-H`` and ``SweepConfig.hyperparameters`` both read it so).

    Settings are checked unscoped first, then scoped, each in the order given; the first bad
    one raises a one-line ``ValueError``:
    - name ``learning_rate``: "set learning rates with --learning-rate, not --hyperparameter";
    - an owner that is no optimizer: "unknown optimizer 'OWNER'; choose one of: ...";
    - an owner not chosen: "--hyperparameter OWNER.NAME: 'OWNER' is not among the optimizers
      (gd, adam)";
    - a name no targeted optimizer has: "no chosen optimizer has a hyperparameter 'NAME';
      allowed: ..." (the targeted optimizers' keywords, sorted, learning_rate aside).
    """
    given = list(settings)
    ordered = [s for s in given if s[0] is None] + [s for s in given if s[0] is not None]
    scoped: dict[str, dict[str, Value]] = {}
    for owner, name, value in ordered:
        for target in _accepting(owner, name, optimizers):
            scoped.setdefault(target, {})[name] = value
    return scoped


def _accepting(owner: str | None, name: str, optimizers: Sequence[str]) -> list[str]:
    """The chosen optimizers a setting of ``name`` goes to (``owner``: only that one)."""
    if name == "learning_rate":
        raise ValueError("set learning rates with --learning-rate, not --hyperparameter")
    if owner is not None and owner not in optimizers:
        spec(owner)  # an unknown optimizer fails here
        raise ValueError(
            f"--hyperparameter {owner}.{name}: {owner!r} is not among the optimizers "
            f"({', '.join(optimizers)})"
        )
    targets = [owner] if owner is not None else list(optimizers)
    accepting = [target for target in targets if name in hyperparameter_names(target)]
    if not accepting:
        allowed = {key for target in targets for key in hyperparameter_names(target)}
        raise ValueError(
            f"no chosen optimizer has a hyperparameter {name!r}; allowed: "
            f"{', '.join(sorted(allowed - {'learning_rate'}))}"
        )
    return accepting
