"""Optimizers as pure ``init`` / ``update`` pairs (see ``descentlab.optim.base``).

``get(name, **hyperparameters)`` builds one by name; ``names()`` lists them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from descentlab.optim.adagrad import AdagradState, adagrad
from descentlab.optim.adam import AdamState, adam, adamw
from descentlab.optim.adamax import AdamaxState, adamax
from descentlab.optim.base import (
    Optimizer,
    OptState,
    Params,
    ScalarOrSchedule,
    Schedule,
    apply_updates,
    learning_rate_at,
)
from descentlab.optim.gd import GDState, gd
from descentlab.optim.momentum import MomentumState, momentum
from descentlab.optim.nadam import NAdamState, nadam
from descentlab.optim.rmsprop import RMSpropState, rmsprop
from descentlab.optim.sgd import SGDState, sgd

_FACTORIES: dict[str, Callable[..., Optimizer]] = {
    "gd": gd,
    "momentum": momentum,
    "sgd": sgd,
    "rmsprop": rmsprop,
    "adagrad": adagrad,
    "adam": adam,
    "adamw": adamw,
    "nadam": nadam,
    "adamax": adamax,
}


def names() -> list[str]:
    """The optimizer names ``get`` accepts, in the order the docs list them."""
    return list(_FACTORIES)


def hyperparameter_names(name: str) -> list[str]:
    """The keyword arguments ``get(name, ...)`` accepts."""
    return list(inspect.signature(_factory(name)).parameters)


def _factory(name: str) -> Callable[..., Optimizer]:
    try:
        return _FACTORIES[name]
    except KeyError:
        raise ValueError(
            f"unknown optimizer {name!r}; choose one of: {', '.join(_FACTORIES)}"
        ) from None


def get(name: str, **hyperparameters: float | bool | ScalarOrSchedule) -> Optimizer:
    """The optimizer ``name`` with the given hyperparameters (``learning_rate`` is required)."""
    factory = _factory(name)
    allowed = hyperparameter_names(name)
    unknown = sorted(set(hyperparameters) - set(allowed))
    if unknown:
        raise ValueError(
            f"unknown hyperparameter {unknown[0]!r} for optimizer {name!r}; "
            f"allowed: {', '.join(allowed)}"
        )
    if "learning_rate" not in hyperparameters:
        raise ValueError(f"optimizer {name!r} needs a learning_rate")
    return factory(**hyperparameters)


__all__ = [
    "AdagradState",
    "AdamState",
    "AdamaxState",
    "GDState",
    "MomentumState",
    "NAdamState",
    "OptState",
    "Optimizer",
    "Params",
    "RMSpropState",
    "SGDState",
    "ScalarOrSchedule",
    "Schedule",
    "adagrad",
    "adam",
    "adamax",
    "adamw",
    "apply_updates",
    "gd",
    "get",
    "hyperparameter_names",
    "learning_rate_at",
    "momentum",
    "nadam",
    "names",
    "rmsprop",
    "sgd",
]
