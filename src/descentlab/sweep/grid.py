"""The values one hyperparameter takes in a sweep, as the command line writes them.

Comma-separated items, each a number, ``true``/``false``, or a range:

    0.01                    one value
    0.001,0.01,0.1          a list
    1e-4..1e-1:log:4        4 values from 1e-4 to 1e-1, both included, evenly spaced on a log
                            scale: 1e-4, 1e-3, 1e-2, 1e-1 (``lin``: evenly spaced)

A grid search takes every value; a random search draws from the one range (log-uniformly
for ``log``, uniformly for ``lin``; its count may be left out) or uniformly from the list.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from descentlab import optim
from descentlab.validation import check_positive_float

Value = float | bool
"""One hyperparameter value: a number or a switch."""

SPACINGS = ("log", "lin")
RANGE_FORM = "LO..HI:log:N or LO..HI:lin:N"


@dataclass(frozen=True)
class Range:
    """``LO..HI:SPACING:N``: N values from LO to HI, both included, evenly spaced on a log
    scale (``log``: a geometric sequence) or a linear one (``lin``). Random search draws from
    [LO, HI] log-uniformly or uniformly and needs no N (``count`` is then None)."""

    low: float
    high: float
    spacing: str
    count: int | None = None

    def grid(self) -> list[float]:
        """The N values (``np.geomspace`` / ``np.linspace``: both ends exactly LO and HI)."""
        if self.count is None:
            raise ValueError("a grid needs the range's count N")
        space = np.geomspace if self.spacing == "log" else np.linspace
        return [float(value) for value in space(self.low, self.high, self.count)]

    def draw(self, rng: np.random.Generator) -> float:
        """One value from [low, high]: log-uniform for ``log``, uniform for ``lin``."""
        if self.spacing == "log":
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        else:
            value = float(rng.uniform(self.low, self.high))
        return min(max(value, self.low), self.high)  # exp(log(high)) may pass high by an ulp

    def describe(self) -> dict[str, object]:
        return {"low": self.low, "high": self.high, "spacing": self.spacing, "count": self.count}


Item = Range | float | bool


def parse_values(text: str, name: str, *, positive: bool = False) -> tuple[Item, ...]:
    """Comma-separated values and ranges (see the module docstring); ``positive`` requires
    every number to be > 0 (learning rates). Raises a one-line ``ValueError`` naming the value."""
    items = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            raise ValueError(f"{name} {text!r} has an empty item; separate values with one comma")
        items.append(_parse_item(part, name, positive))
    return tuple(items)


def _parse_item(text: str, name: str, positive: bool) -> Item:
    if ".." in text:
        return _parse_range(text, name, positive)
    if text.lower() in ("true", "false") and not positive:
        return text.lower() == "true"
    return _parse_number(text, name, positive)


def _parse_number(text: str, name: str, positive: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(
            f"{name} must be a number, a list or a range {RANGE_FORM}, got {text!r}"
        ) from None
    if positive:
        return check_positive_float(name, value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {text!r}")
    return value


def _parse_range(text: str, name: str, positive: bool) -> Range:
    bounds, _, rest = text.partition(":")
    low_text, _, high_text = (part.strip() for part in bounds.partition(".."))
    parts = [part.strip() for part in rest.split(":")] if rest else []
    if not low_text or not high_text or len(parts) not in (1, 2):
        raise ValueError(f"{name} range {text!r} must look like {RANGE_FORM}")
    if parts[0] not in SPACINGS:
        raise ValueError(f"{name} range {text!r}: spacing must be 'log' or 'lin', got {parts[0]!r}")
    if len(parts) == 2 and not (parts[1].isascii() and parts[1].isdigit() and int(parts[1]) >= 2):
        raise ValueError(
            f"{name} range {text!r}: N (the number of values) must be an integer >= 2, "
            f"got {parts[1]!r}"
        )
    low = _parse_number(low_text, name, positive)
    high = _parse_number(high_text, name, positive)
    if not low < high:
        raise ValueError(f"{name} range {text!r} is empty: LO must be below HI")
    if parts[0] == "log" and low <= 0:
        raise ValueError(f"{name} range {text!r}: log spacing needs LO > 0, got {low:g}")
    return Range(low, high, parts[0], int(parts[1]) if len(parts) == 2 else None)


def parse_learning_rates(text: str) -> dict[str | None, str]:
    """``--learning-rate``: values for every optimizer and/or per optimizer after ``NAME=``,
    as in ``adam=1e-4..1e-1:log:13,gd=0.1``. Items after ``NAME=`` belong to NAME until the
    next ``NAME=``; items before the first one go to every optimizer not named. Returns each
    section's text by optimizer name (None: the rest), every item checked."""
    sections: dict[str | None, list[str]] = {}
    current: str | None = None
    for part in text.split(","):
        owner, equals, value = part.partition("=")
        if equals:
            current = owner.strip()
            optim.check_name(current)  # an unknown optimizer fails here
            if current in sections:
                raise ValueError(f"learning rate {text!r} names {current!r} twice")
            part = value
        sections.setdefault(current, []).append(part)
    texts = {owner: ",".join(parts) for owner, parts in sections.items()}
    for section_owner, section in texts.items():
        label = "learning rate" if section_owner is None else f"learning rate of {section_owner}"
        parse_values(section, label, positive=True)
    return texts


@dataclass(frozen=True)
class Axis:
    """One hyperparameter's values for one optimizer: as given (``text``) and parsed."""

    name: str
    text: str
    items: tuple[Item, ...]

    def count(self) -> int:
        """How many values ``grid()`` gives, counted without building them."""
        total = 0
        for item in self.items:
            if isinstance(item, Range):
                if item.count is None:
                    raise ValueError(
                        f"{self.name} {self.text!r}: a grid search needs the number of values "
                        f"of each range ({RANGE_FORM})"
                    )
                total += item.count
            else:
                total += 1
        return total

    def grid(self) -> list[Value]:
        """Every value, in the order given; a value given twice is an error."""
        self.count()  # a range without N fails here
        values: list[Value] = []
        for item in self.items:
            if isinstance(item, Range):
                values.extend(item.grid())
            else:
                values.append(item)
        seen = set()
        for value in values:
            if (type(value), value) in seen:
                raise ValueError(f"{self.name} {self.text!r} gives {value!r} twice")
            seen.add((type(value), value))
        return values

    def check_drawable(self) -> None:
        """Random search needs one range, or a list of values to choose from."""
        if any(isinstance(item, Range) for item in self.items) and len(self.items) > 1:
            raise ValueError(
                f"random search draws {self.name} from one range or from a list of values, "
                f"got {self.text!r}"
            )

    def draw(self, rng: np.random.Generator) -> Value:
        """One value: from the range, or uniformly from the list (a lone value draws nothing)."""
        self.check_drawable()
        first = self.items[0]
        if isinstance(first, Range):
            return first.draw(rng)
        if len(self.items) == 1:
            return first
        chosen = self.items[int(rng.integers(len(self.items)))]
        assert not isinstance(chosen, Range)
        return chosen

    def describe(self, search: str) -> object:
        """What results.json records: the grid's values, or what random search draws from."""
        if search == "grid":
            return self.grid()
        return [item.describe() if isinstance(item, Range) else item for item in self.items]


def search_generator(search_seed: int, optimizer: str) -> np.random.Generator:
    """The generator random search draws ``optimizer``'s configurations from:
    ``np.random.default_rng([search_seed, zlib.crc32(optimizer.encode())])``. Seeded by the
    optimizer's own name, so its draws never depend on which other optimizers are searched,
    or in what order."""
    return np.random.default_rng([search_seed, zlib.crc32(optimizer.encode())])


def draw_settings(
    axes: Mapping[str, Axis], samples: int, rng: np.random.Generator
) -> list[dict[str, Value]]:
    """``samples`` configurations drawn from ``rng``: each draws its axes in sorted name order
    (so the order they were given in is moot; a lone value draws nothing) and lists them in
    ``axes``'s order."""
    for axis in axes.values():
        axis.check_drawable()
    draws = []
    for _ in range(samples):
        drawn = {key: axes[key].draw(rng) for key in sorted(axes)}
        draws.append({key: drawn[key] for key in axes})
    return draws
