"""Learning-rate schedules: pure functions of a counter t (an epoch or a step index).

Every schedule here maps t (an int >= 0) to a learning rate. The unit of t is the caller's:
``per_step`` adapts an epoch schedule to the optimizer's step counter the way the course's
``model`` applies it (the new rate takes effect after each epoch). All factories validate
their arguments up front with a one-line ``ValueError`` that names the value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from descentlab.validation import check_int, check_nonnegative_float, check_positive_float

Schedule = Callable[[int], float]


def constant(lr0: float) -> Schedule:
    """lr0 for every t."""
    lr0 = check_positive_float("learning rate", lr0)
    return lambda t: lr0


def inverse_time(lr0: float, decay_rate: float, *, every: int = 1) -> Schedule:
    """lr0 / (1 + decay_rate * floor(t / every)).

    every=1 is the course's ``update_lr`` (decay each epoch); every=1000 its
    ``schedule_lr_decay`` (a constant rate for windows of 1000 epochs). Keras calls this
    ``InverseTimeDecay(staircase=True)``; optax has no direct counterpart.
    """
    lr0 = check_positive_float("learning rate", lr0)
    decay_rate = check_nonnegative_float("decay rate", decay_rate)
    every = check_int("decay every", every, minimum=1)
    return lambda t: lr0 / (1 + decay_rate * (t // every))


def exponential(lr0: float, decay_rate: float, *, every: int = 1) -> Schedule:
    """lr0 * decay_rate ** floor(t / every), with 0 < decay_rate <= 1.

    PyTorch's ExponentialLR for every=1; Keras' ExponentialDecay(staircase=True) and
    optax.exponential_decay(staircase=True) with transition_steps=every.
    """
    lr0 = check_positive_float("learning rate", lr0)
    decay_rate = check_positive_float("decay rate", decay_rate)
    if decay_rate > 1:
        raise ValueError(
            f"decay rate must be in (0, 1] for an exponential schedule, got {decay_rate}"
        )
    every = check_int("decay every", every, minimum=1)
    return lambda t: lr0 * decay_rate ** (t // every)


def step(lr0: float, decay_rate: float, *, every: int) -> Schedule:
    """lr0 * decay_rate ** floor(t / every): multiply by decay_rate every ``every`` units
    (PyTorch's StepLR(step_size=every, gamma=decay_rate)); 0 < decay_rate <= 1."""
    return exponential(lr0, decay_rate, every=every)


def cosine(lr0: float, total: int, *, warmup: int = 0, lr_min: float = 0.0) -> Schedule:
    """Linear warmup from lr0 / (warmup + 1) to lr0 over ``warmup`` units, then cosine decay
    to ``lr_min`` at t = total (and lr_min after):

    t < warmup:  lr0 * (t + 1) / (warmup + 1)
    otherwise:   lr_min + (lr0 - lr_min) * (1 + cos(pi * min(t - warmup, T) / T)) / 2,
                 T = total - warmup.

    Without warmup this is PyTorch's CosineAnnealingLR(T_max=total, eta_min=lr_min) and
    optax.cosine_decay_schedule; the warmup never gives a rate of exactly 0.
    """
    lr0 = check_positive_float("learning rate", lr0)
    total = check_int("cosine total", total, minimum=1)
    warmup = check_int("warmup", warmup, minimum=0)
    lr_min = check_nonnegative_float("minimum learning rate", lr_min)
    check_warmup(warmup, total)
    if lr_min > lr0:
        raise ValueError(
            f"minimum learning rate must be <= the learning rate ({lr0!r}), got {lr_min!r}"
        )
    span = total - warmup

    def schedule(t: int) -> float:
        if t < warmup:
            return lr0 * (t + 1) / (warmup + 1)
        progress = min(t - warmup, span) / span
        return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * progress)) / 2

    return schedule


def check_warmup(warmup: int, total: int, length: str | None = None) -> None:
    """A cosine schedule's rule: ``warmup`` units are fewer than its ``total``; the message
    names both (``length`` says what the total is, "the schedule (10)" by default)."""
    if warmup >= total:
        length = f"the schedule ({total})" if length is None else length
        raise ValueError(f"warmup must be shorter than {length}, got {warmup}")


def _count(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}es" if unit == "batch" else f"{n} {unit}s"


def per_step(epoch_schedule: Schedule, batches_per_epoch: int) -> Schedule:
    """An epoch schedule as a function of the optimizer's step count, applied as the course's
    ``model`` applies its decay: after epoch e the rate becomes ``epoch_schedule(e)``.

    So the updates of epoch 0 use ``epoch_schedule(0)`` and the updates of epoch e >= 1 use
    ``epoch_schedule(e - 1)``: step k (0-based) belongs to epoch k // batches_per_epoch.
    """
    batches_per_epoch = check_int("batches per epoch", batches_per_epoch, minimum=1)
    return lambda step_count: epoch_schedule(max(step_count // batches_per_epoch - 1, 0))


SCHEDULES = ("constant", "inverse-time", "exponential", "step", "cosine")


UNITS = ("epoch", "step")


@dataclass(frozen=True)
class ScheduleSpec:
    """A schedule by name and settings, as the command line and results.json describe it.

    ``unit`` says what t counts: "epoch" (the rate changes after each epoch, as the course
    does it; see ``per_step``) or "step" (t is the optimizer's update count).
    """

    name: str = "constant"
    decay_rate: float = 1.0
    every: int = 1
    unit: str = "epoch"
    warmup: int = 0
    min_learning_rate: float = 0.0

    def __post_init__(self) -> None:
        if self.name not in SCHEDULES:
            raise ValueError(
                f"unknown schedule {self.name!r}; choose one of: {', '.join(SCHEDULES)}"
            )
        if self.unit not in UNITS:
            raise ValueError(f"schedule unit must be one of: {', '.join(UNITS)}, got {self.unit!r}")
        # Build once with a nominal rate and length so bad settings fail here, up front. The
        # rate is one no minimum is above: the minimum is checked against the real rate, which
        # ``build`` receives, and the warmup against the real length.
        lowest = check_nonnegative_float("minimum learning rate", self.min_learning_rate)
        self.build(max(1.0, lowest), total=max(self.warmup + 1, self.every, 2))

    @property
    def is_constant(self) -> bool:
        return self.name == "constant"

    def build(self, lr0: float, total: int) -> Schedule:
        """The schedule for initial rate ``lr0``; ``total`` is the run's length in ``unit``s
        (cosine decays to its minimum at t = total)."""
        if self.name == "constant":
            return constant(lr0)
        if self.name == "inverse-time":
            return inverse_time(lr0, self.decay_rate, every=self.every)
        if self.name == "exponential":
            return exponential(lr0, self.decay_rate, every=self.every)
        if self.name == "step":
            return step(lr0, self.decay_rate, every=self.every)
        return cosine(lr0, total, warmup=self.warmup, lr_min=self.min_learning_rate)

    def for_optimizer(self, lr0: float, *, epochs: int, batches_per_epoch: int) -> Schedule:
        """The rate as a function of the optimizer's step count for a run of ``epochs``."""
        if self.unit == "step":
            total = epochs * batches_per_epoch
            if self.name == "cosine":
                check_warmup(
                    self.warmup,
                    total,
                    f"the run ({_count(total, 'step')}: {_count(epochs, 'epoch')} of "
                    f"{_count(batches_per_epoch, 'batch')})",
                )
            return self.build(lr0, total=total)
        if self.name == "cosine":
            check_warmup(self.warmup, epochs, f"the run ({_count(epochs, 'epoch')})")
        return per_step(self.build(lr0, total=epochs), batches_per_epoch)

    def unused_settings(self) -> tuple[str, ...]:
        """The settings given (other than their defaults) that this schedule does not use:
        ``decay_rate`` and ``every`` belong to inverse-time, exponential and step, ``warmup``
        and ``min_learning_rate`` to cosine."""
        return tuple(
            setting
            for setting, users in SETTING_USERS.items()
            if self.name not in users and getattr(self, setting) != getattr(DEFAULT, setting)
        )

    def to_dict(self) -> dict[str, object]:
        settings: dict[str, object] = {"name": self.name, "unit": self.unit}
        if self.name in ("inverse-time", "exponential", "step"):
            settings.update(decay_rate=self.decay_rate, every=self.every)
        if self.name == "cosine":
            settings.update(warmup=self.warmup, min_learning_rate=self.min_learning_rate)
        return settings


DEFAULT = ScheduleSpec()
"""A constant rate: the schedule settings' defaults."""

SETTING_USERS = {
    "decay_rate": ("inverse-time", "exponential", "step"),
    "every": ("inverse-time", "exponential", "step"),
    "warmup": ("cosine",),
    "min_learning_rate": ("cosine",),
}
"""Each schedule setting and the schedules that use it."""


def check_settings_used(spec: ScheduleSpec, spelled: dict[str, str] | None = None) -> ScheduleSpec:
    """``spec``, or a one-line ``ValueError`` naming a setting it was given that its schedule
    does not use (``--decay-rate 0.5`` with a constant rate), its value and the schedules
    that use it; ``spelled`` gives the settings' names as the caller's user knows them."""
    for setting in spec.unused_settings():
        users = SETTING_USERS[setting]
        name = (spelled or {}).get(setting, setting)
        schedules = users[0] if len(users) == 1 else f"{', '.join(users[:-1])} and {users[-1]}"
        raise ValueError(
            f"{name} {getattr(spec, setting)!r} does nothing for the {spec.name} schedule: it "
            f"is a setting of the {schedules} schedule{'s' if len(users) > 1 else ''}"
        )
    return spec
