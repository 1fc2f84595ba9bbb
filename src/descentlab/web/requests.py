"""The page's JSON, read into ``descentlab.api.landscape``'s arguments.

Every rule is the library's (``landscapes.get``, ``optim.get``, ``descentlab.validation``);
this module only checks the JSON's shape (an object, a list, a number where one belongs) and
says which field broke a rule: a ``FieldError`` names the field (``optimizers[1].learning_rate``)
and carries the library's message, which says what is allowed.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from descentlab import landscapes, optim
from descentlab.api.arguments import name_of
from descentlab.api.landscapes import LANDSCAPE_FUNCTION
from descentlab.validation import check_int, check_nonnegative_float
from descentlab.web.limits import Limits

REQUEST_FIELDS = ("function", "optimizers", "start", "steps", "noise", "noise_seed")
OPTIMIZER_FIELDS = ("name", "learning_rate", "hyperparameters")


class FieldError(ValueError):
    """A request's ``field`` is not allowed; ``message`` says why and what is."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class LandscapeRequest:
    """A checked landscape request: ``descentlab.api.landscape``'s arguments."""

    function: str
    optimizers: tuple[str, ...]
    learning_rates: dict[str, float] = field(default_factory=dict)
    """The rates given; the others keep the function's default."""
    hyperparameters: dict[str, dict[str, float | bool]] = field(default_factory=dict)
    start: tuple[float, float] | None = None
    steps: int | None = None
    noise: float = 0.0
    noise_seed: int = 0


def checked(field: str, check: Any, *args: Any, **kwargs: Any) -> Any:
    """``check(*args, **kwargs)``, its ``ValueError`` as a ``FieldError`` of ``field``."""
    try:
        return check(*args, **kwargs)
    except FieldError:
        raise
    except ValueError as error:
        raise FieldError(field, str(error)) from None


def json_object(field: str, value: object, allowed: tuple[str, ...]) -> Mapping[str, Any]:
    """``value`` if it is a JSON object with keys among ``allowed``, else a ``FieldError``."""
    if not isinstance(value, Mapping):
        raise FieldError(field, f"must be a JSON object, got {value!r}")
    unknown = [key for key in value if key not in allowed]
    if unknown:
        where = f"{field}." if field != "body" else ""
        raise FieldError(f"{where}{unknown[0]}", f"unknown field; allowed: {', '.join(allowed)}")
    return value


def json_number(field: str, value: object) -> float:
    """``value`` as a float if it is a JSON number (not true/false), else a ``FieldError``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise FieldError(field, f"must be a number, got {value!r}")
    return float(value)


def optimizer_entries(
    entries: object,
    *,
    command: str,
    fewest: int,
    most: int,
    default_rate: Callable[[str], float],
) -> tuple[tuple[str, ...], dict[str, float], dict[str, dict[str, float | bool]]]:
    """The ``optimizers`` list of a request, checked: ``fewest`` to ``most`` entries
    {name, learning_rate, hyperparameters}, each name one of ``optim.names(command)`` and listed
    once, each setting accepted by ``optim.get`` (with ``default_rate(name)`` where no learning
    rate is given). Returns the names, the learning rates given, and the non-empty
    hyperparameters given; ``FieldError`` names the first bad field."""
    count = f"{fewest} to {most}"
    if not isinstance(entries, list):
        raise FieldError("optimizers", f"must be a list of {count} optimizers, got {entries!r}")
    if not fewest <= len(entries) <= most:
        raise FieldError("optimizers", f"must hold {count} optimizers, got {len(entries)}")
    names: list[str] = []
    rates: dict[str, float] = {}
    settings: dict[str, dict[str, float | bool]] = {}
    allowed = optim.names(command)
    for index, entry in enumerate(entries):
        where = f"optimizers[{index}]"
        entry = json_object(where, entry, OPTIMIZER_FIELDS)
        name = entry.get("name")
        if not isinstance(name, str) or name.split(":")[0] not in allowed:
            raise FieldError(
                f"{where}.name",
                f"unknown optimizer {name!r}; choose one of: {', '.join(allowed)} (a wrapper "
                "as WRAPPER:INNER, e.g. lookahead:adam)",
            )
        checked(f"{where}.name", optim.check_name, name, command)  # a wrapper's parts
        if name in names:
            raise FieldError(f"{where}.name", f"optimizer {name!r} is listed twice")
        names.append(name)
        rate = entry.get("learning_rate")
        if rate is None:
            rate = default_rate(name)
        else:
            checked(f"{where}.learning_rate", optim.get, name, learning_rate=rate)
            rates[name] = rate
        given = entry.get("hyperparameters") or {}
        if not isinstance(given, Mapping):
            raise FieldError(f"{where}.hyperparameters", f"must be a JSON object, got {given!r}")
        for key, value in given.items():
            if key == "learning_rate":
                raise FieldError(
                    f"{where}.hyperparameters.{key}", f"set it in {where}.learning_rate, not here"
                )
            if not isinstance(value, bool | numbers.Real):
                raise FieldError(
                    f"{where}.hyperparameters.{key}",
                    f"must be a number or true/false, got {value!r}",
                )
        try:
            optim.get(name, learning_rate=rate, **given)
        except ValueError as error:
            raise FieldError(
                _refused_setting(f"{where}.hyperparameters", name, rate, given), str(error)
            ) from None
        if given:
            settings[name] = dict(given)
    return tuple(names), rates, settings


def _refused_setting(field: str, name: str, rate: float, given: Mapping[str, float | bool]) -> str:
    """``field`` with the key of the first setting ``optim.get`` refuses on its own (the field
    a page marks); ``field`` itself when only the settings together are refused (nesterov
    without momentum)."""
    for key, value in given.items():
        try:
            optim.get(name, learning_rate=rate, **{key: value})
        except ValueError:
            return f"{field}.{key}"
    return field


def landscape_request(body: object, limits: Limits) -> LandscapeRequest:
    """``body`` (the parsed JSON) as a ``LandscapeRequest``; ``FieldError`` on the first bad
    field, in the order of ``REQUEST_FIELDS``."""
    body = json_object("body", body, REQUEST_FIELDS)
    function = checked(
        "function",
        lambda name: landscapes.get(name_of("function", name)),
        body.get("function", LANDSCAPE_FUNCTION),
    )
    names, rates, settings = optimizer_entries(
        body.get("optimizers"),
        command="landscape",
        fewest=limits.min_optimizers,
        most=limits.max_optimizers,
        default_rate=lambda name: landscapes.default_learning_rate(function, name),
    )
    start = body.get("start")
    if start is not None:
        if not isinstance(start, list) or len(start) != 2:
            raise FieldError("start", f"must be two numbers [x, y], got {start!r}")
        x, y = (json_number("start", value) for value in start)
        start = checked(
            "start",
            lambda text: landscapes.check_start(function, landscapes.parse_start(text)),
            f"{x!r},{y!r}",
        )
    steps = body.get("steps")
    if steps is not None:
        steps = checked("steps", check_int, "steps", steps, minimum=1)
        if steps > limits.max_steps:
            raise FieldError("steps", f"must be at most {limits.max_steps}, got {steps}")
    noise = checked("noise", check_nonnegative_float, "noise", body.get("noise", 0.0))
    seed = checked("noise_seed", check_int, "noise seed", body.get("noise_seed", 0), minimum=0)
    return LandscapeRequest(
        function=function.name,
        optimizers=names,
        learning_rates=rates,
        hyperparameters=settings,
        start=start,
        steps=steps,
        noise=noise,
        noise_seed=seed,
    )
