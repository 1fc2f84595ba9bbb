"""The command line's value types: text -> checked value, or a one-line ``ValueError``.

Each parser is a plain function of the text; ``argument(parse, what)`` makes it an argparse
``type=`` whose error argparse prints as ``argument --x: <message>``. Library checks
(``descentlab.validation``) give the messages, so the command line and the library refuse a
value in the same words.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, TypeVar

from descentlab.validation import (
    check_decay,
    check_int,
    check_nonnegative_float,
    check_positive_float,
)

T = TypeVar("T")

_ASCII_INTEGER = re.compile(r"[+-]?[0-9]+")


def ascii_int(text: str) -> int | None:
    """``text`` (surrounding spaces aside) as an int if it is written in ASCII digits with an
    optional sign, else None: Python's ``int`` also takes "1_000", "²" is a digit to
    ``str.isdigit`` but not to ``int``, and other scripts' digits ("٣") read as numbers no
    one typed on purpose."""
    text = text.strip()
    if not _ASCII_INTEGER.fullmatch(text):
        return None
    try:
        return int(text)
    except ValueError:  # more digits than Python converts
        return None


def argument(check: Callable[[str], T], what: str) -> Callable[[str], T]:
    """An argparse ``type=`` that turns a library ``ValueError`` into argparse's message."""

    def parse(text: str) -> T:
        try:
            return check(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    parse.__name__ = what
    return parse


def number(name: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {text!r}") from None


def integer(name: str, text: str, minimum: int) -> int:
    value = ascii_int(text)
    if value is None:
        digits = "" if text.isascii() else " in ASCII digits"
        raise ValueError(f"{name} must be an integer >= {minimum}{digits}, got {text!r}")
    return check_int(name, value, minimum=minimum)


def integer_option(name: str, minimum: int) -> Callable[[str], int]:
    """A parser of an integer option named ``name`` that must be >= ``minimum``."""
    return lambda text: integer(name, text, minimum)


def positive_number(name: str) -> Callable[[str], float]:
    return lambda text: check_positive_float(name, number(name, text))


def nonnegative_number(name: str) -> Callable[[str], float]:
    return lambda text: check_nonnegative_float(name, number(name, text))


def decay(name: str) -> Callable[[str], float]:
    return lambda text: check_decay(name, number(name, text))


def fraction(name: str) -> Callable[[str], float]:
    """A number in [0, 1)."""

    def parse(text: str) -> float:
        value = number(name, text)
        if not 0.0 <= value < 1.0:
            raise ValueError(f"{name} must be a number in [0, 1), got {text!r}")
        return value

    return parse


parse_learning_rate = positive_number("learning rate")
parse_epochs = integer_option("epochs", minimum=1)
parse_seed = integer_option("seed", minimum=0)


def integer_or(
    keyword: str, name: str, meaning: object, integers: str = "an integer >= 1"
) -> Callable[[str], int | Any]:
    """A parser of an integer >= 1 (``integers`` in its message), or of ``keyword`` (any
    case), which stands for ``meaning``."""

    def parse(text: str) -> int | Any:
        if text.strip().lower() == keyword:
            return meaning
        value = ascii_int(text)
        if value is None or value < 1:
            raise ValueError(f"{name} must be {integers} or {keyword!r}, got {text!r}")
        return value

    return parse


parse_batch_size = integer_or("full", "batch size", None, "a positive integer")
"""A positive integer, or "full" (None) for one batch of all examples (batch gradient
descent)."""


def parse_layers(text: str) -> tuple[int, ...]:
    """Hidden layer sizes, comma-separated positive integers in ASCII digits: "5,2"."""
    sizes = [ascii_int(part) for part in text.split(",")]
    if not all(size is not None and size > 0 for size in sizes):
        raise ValueError(
            f"layers must be comma-separated positive integers in ASCII digits (hidden sizes, "
            f"e.g. 5,2), got {text!r}"
        )
    return tuple(size for size in sizes if size is not None)


def parse_optimizer(text: str, command: str | None = None) -> str:
    """An optimizer's name (of those ``command`` takes, ``descentlab.optim.names(command)``),
    or a wrapper and the optimizer it wraps, ``lookahead:adam`` (``optim.check_name``)."""
    from descentlab import optim

    return optim.check_name(text.strip(), command)


def parse_optimizers(text: str, command: str | None = None) -> tuple[str, ...]:
    """Comma-separated optimizer names, each listed once."""
    names = tuple(parse_optimizer(part, command) for part in text.split(","))
    for name in names:
        if names.count(name) > 1:
            raise ValueError(f"optimizer {name!r} is listed twice in {text!r}")
    return names


class LearningRates(NamedTuple):
    """``--learning-rate``: a rate for every optimizer and/or per-optimizer rates."""

    default: float | None
    per_optimizer: dict[str, float]

    def resolve(self, names: Sequence[str]) -> float | dict[str, float]:
        """One number when every optimizer shares it, else a rate for each name."""
        unknown = sorted(set(self.per_optimizer) - set(names))
        if unknown:
            raise ValueError(
                f"--learning-rate names {unknown[0]!r}, which is not among the optimizers "
                f"({', '.join(names)})"
            )
        if not self.per_optimizer:
            assert self.default is not None
            return self.default
        rates = {}
        for name in names:
            rate = self.per_optimizer.get(name, self.default)
            if rate is None:
                raise ValueError(
                    f"--learning-rate gives no rate for {name!r}; add {name}=RATE or one "
                    "number for the rest"
                )
            rates[name] = rate
        return rates


def parse_learning_rates(text: str) -> LearningRates:
    """ "0.1", or "gd=0.1,adam=0.01", or "0.1,adam=0.01" (0.1 for the others)."""
    default = None
    per_optimizer: dict[str, float] = {}
    for part in text.split(","):
        name, equals, value = part.strip().rpartition("=")
        if not equals:
            if default is not None:
                raise ValueError(f"learning rate {text!r} gives more than one default rate")
            default = parse_learning_rate(value)
            continue
        name = parse_optimizer(name)
        if name in per_optimizer:
            raise ValueError(f"learning rate {text!r} names {name!r} twice")
        per_optimizer[name] = positive_number(f"learning rate of {name}")(value)
    return LearningRates(default, per_optimizer)


Setting = tuple[str | None, str, float | bool]
"""One ``-H`` setting: (optimizer or None for every one that has it, keyword, value)."""


def parse_hyperparameter(text: str) -> Setting:
    """ "[OPTIMIZER.]NAME=VALUE", VALUE a number or true/false: ("sgd", "nesterov", True)."""
    target, equals, value = text.partition("=")
    if not equals or not target.strip() or not value.strip():
        raise ValueError(
            f"hyperparameter must look like NAME=VALUE or OPTIMIZER.NAME=VALUE, got {text!r}"
        )
    optimizer_name, dot, name = target.strip().rpartition(".")
    lowered = value.strip().lower()
    parsed: float | bool
    parsed = lowered == "true" if lowered in ("true", "false") else number(name, value.strip())
    return (parse_optimizer(optimizer_name) if dot else None), name, parsed


def parse_grid_values(name: str, *, positive: bool = False) -> Callable[[str], str]:
    """A sweep option's type: its text, once ``descentlab.sweep.grid.parse_values`` accepts it
    (a number, a list 0.001,0.01 or a range LO..HI:log:N / LO..HI:lin:N)."""

    def check(text: str) -> str:
        from descentlab.sweep.grid import parse_values

        parse_values(text, name, positive=positive)
        return text.strip()

    return check


def parse_learning_rate_grid(text: str) -> str:
    """``sweep --learning-rate``: values for all, or per optimizer (adam=1e-4..1e-1:log:13)."""
    from descentlab.sweep.grid import parse_learning_rates as parse_grid

    parse_grid(text)
    return text.strip()


def parse_hyperparameter_grid(text: str) -> tuple[str, str]:
    """ "[OPTIMIZER.]NAME=VALUES" -> ("adam.beta1", "0.8,0.9"), VALUES checked."""
    target, equals, values = text.partition("=")
    owner, dot, name = target.strip().rpartition(".")
    if not equals or not name or not values.strip() or (dot and not owner):
        raise ValueError(
            f"hyperparameter must look like NAME=VALUES or OPTIMIZER.NAME=VALUES, got {text!r}"
        )
    if dot:
        parse_optimizer(owner)
    return target.strip(), parse_grid_values(name)(values)


def parse_seed_count(text: str) -> range:
    """``--seeds N``: seeds 0..N-1 (seed 0 is the course's protocol), as a ``range`` the
    sweep counts before it builds it (``descentlab.budget``)."""
    return range(integer("seeds", text, minimum=1))


def parse_seed_list(text: str) -> tuple[int, ...]:
    """``--seed-list 0,5,9``: distinct seeds >= 0."""
    seeds = tuple(integer("seed", part.strip(), minimum=0) for part in text.split(","))
    seen: set[int] = set()
    for seed in seeds:
        if seed in seen:
            raise ValueError(f"seed {seed} is listed twice in {text!r}")
        seen.add(seed)
    return seeds


parse_jobs = integer_or("auto", "jobs", "auto")
"""A number of processes >= 1, or "auto"."""


def parse_dataset(text: str) -> str:
    """A name from ``descentlab.datasets.DATASETS``."""
    from descentlab.datasets import DATASETS

    name = text.strip()
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose from: {', '.join(DATASETS)}")
    return name


def parse_landscape(text: str) -> str:
    """A name from ``descentlab.landscapes.names()``."""
    from descentlab import landscapes

    return landscapes.get(text.strip()).name


SCHEDULER_NONE = "none"
"""``--scheduler none``: this machine's processes, as without the option (for ``resume``)."""


def parse_scheduler_option(text: str) -> object:
    """``--scheduler``: a ``cluster.SchedulerSpec``, or None for ``none``; checked without
    importing Dask (whether it is installed is checked when the cluster is started)."""
    if text.strip() == SCHEDULER_NONE:
        return None
    from descentlab.cluster.scheduler import parse_scheduler

    return parse_scheduler(text)


def parse_shared_folder(text: str) -> str:
    """``--shared-folder``: auto, yes or no."""
    value = text.strip().lower()
    if value not in ("auto", "yes", "no"):
        raise ValueError(f"--shared-folder must be auto, yes or no, got {text!r}")
    return value
