"""Schedule-free AdamW and SGD (Defazio et al., 2024): gradients at y, weights reported at x."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from descentlab.optim import elementwise
from descentlab.optim.base import (
    Optimizer,
    Params,
    ScalarOrSchedule,
    Schedule,
    learning_rate_at,
    record_hyperparameters,
)
from descentlab.optim.elementwise import ElementwiseRule
from descentlab.optim.per_run import per_run
from descentlab.optim.powers import Powers
from descentlab.validation import (
    check_decay,
    check_int,
    check_nonnegative_float,
    check_unit_interval,
)


class ScheduleFreeSGDState(NamedTuple):
    step: int
    """Updates applied so far."""
    z: Params
    """z, the SGD iterate (starts at the initial weights). The parameters are y."""
    weight_sum: float | Params
    """The sum of the averaging weights max_lr^weight_lr_power so far (starts at 0)."""
    max_lr: float | Params
    """The largest learning rate so far (starts at 0)."""


class ScheduleFreeAdamWState(NamedTuple):
    step: int
    """Updates applied so far."""
    z: Params
    """z, the AdamW iterate (starts at the initial weights). The parameters are y."""
    nu: Params
    """v, the moving average of the squared gradients (starts at 0)."""
    weight_sum: float | Params
    """The sum of the averaging weights max_lr^weight_lr_power so far (starts at 0)."""
    max_lr: float | Params
    """The largest learning rate so far (starts at 0)."""


Direction = Callable[[Params, Any, int], tuple[Params, dict[str, Any]]]
"""The base optimizer without its learning rate: ``(grads, state, t) -> (direction, fields)``,
the fields of the new state it owns (AdamW's nu)."""


def schedule_free_sgd(
    learning_rate: ScalarOrSchedule,
    warmup_steps: int = 0,
    beta1: float = 0.9,
    weight_decay: float = 0.0,
    weight_lr_power: float = 2.0,
) -> Optimizer:
    r"""Schedule-free SGD (Defazio et al., 2024), as ``optax.contrib.schedule_free_sgd``.

    The parameters W the training loop holds (and takes gradients at) are y; the state keeps z;
    the weights to evaluate are x = (y - (1 - beta1) z) / beta1 (``report``). Per update, with
    c = step (0, 1, ...), lr(c) the learning rate warmed up over ``warmup_steps``:
    g = dW + weight_decay * y                        (coupled: the decay at y)
    z' = z - lr(c) g                                 (the SGD step; no momentum)
    max_lr = max(max_lr, lr(c + 1));  w = max_lr^weight_lr_power;  weight_sum += w
    c_k = w / weight_sum  (0 when both are 0)
    x' = (1 - c_k) x + c_k z';   y' = beta1 x' + (1 - beta1) z'
    warmup: lr(c) = -peak (1 - min(c, warmup_steps) / warmup_steps) + peak, peak the learning
    rate (a schedule's value at c); warmup_steps = 0 (optax's None): lr(c) = peak.

    x is the average of the z's, weighted by the largest learning rate so far to the power
    weight_lr_power (squared by default; equal weights once the warmup is over), and y, where
    the gradient is taken, interpolates x and z: beta1 plays the role of momentum, and no
    learning-rate decay is needed. Evaluation, ``--save`` and ``predict`` use x; the training
    loop, its gradients and checkpoints y (with z in the state). Memory: one array per
    parameter (z). Validation: warmup_steps an integer >= 0, beta1 in (0, 1] (x divides by
    it), weight_decay and weight_lr_power >= 0.

    How it differs from the variants of the same name:
    - ``optax.contrib.schedule_free_sgd(learning_rate=1.0, warmup_steps=None, b1=0.9,
      weight_decay=None, weight_lr_power=2.0)``: the same rule, including its off-by-one: the
      SGD step reads the warmup schedule at c (0 at the first update, so z does not move) and
      the averaging weight at c + 1. optax computes the warmup schedule from an int32 count in
      float32, even with jax_enable_x64, so its warmed-up rate is float32(lr) for good;
      descentlab stays in float64 (the reference fixture uses rates float32 holds exactly).
      optax's ``warmup_steps=0`` gives a rate of 0 forever; here it means no warmup.
    - The authors' ``schedulefree.SGDScheduleFree(lr=1.0, momentum=0.9, warmup_steps=0,
      r=0.0, weight_lr_power=2)``: its warmup is lr (c + 1) / warmup_steps for both the step
      and the weight (no off-by-one, the first step is not 0), it adds a polynomial weight
      (c + 1)^r, and it swaps x into the model with ``optimizer.eval()``; its momentum is
      beta1 here, and must be in (0, 1). pytorch-optimizer 4.1.0's ``ScheduleFreeSGD`` warms up
      as the authors' package does.
    - The paper's theory averages with equal weights (c_k = 1 / (k + 1)); its practical rule
      weights the average by the current rate squared, not the largest so far: they differ
      only when the rate falls.
    """
    lr_at = learning_rate_at(learning_rate)
    warmup_steps = _check_warmup_steps(warmup_steps)
    beta1 = _check_interpolation(beta1)
    weight_decay = check_nonnegative_float("weight_decay", weight_decay)
    weight_lr_power = check_nonnegative_float("weight_lr_power", weight_lr_power)

    def init(params: Params) -> ScheduleFreeSGDState:
        return ScheduleFreeSGDState(step=0, z=np.copy(params), weight_sum=0.0, max_lr=0.0)

    def sgd_direction(grads: Params, state: Any, t: int) -> tuple[Params, dict[str, Any]]:
        return grads, {}

    rate = _warmed_up(lr_at, warmup_steps)
    update, report = _schedule_free(
        "schedule_free_sgd",
        ScheduleFreeSGDState,
        rate,
        beta1,
        weight_decay,
        weight_lr_power,
        sgd_direction,
    )
    rule = _rule(rate, beta1, weight_decay, weight_lr_power, None, 0.0, 0.0)
    hyperparameters = record_hyperparameters(schedule_free_sgd, locals())
    return Optimizer(
        "schedule_free_sgd", hyperparameters, init, update, report=report, elementwise=rule
    )


def schedule_free_adamw(
    learning_rate: ScalarOrSchedule,
    warmup_steps: int = 0,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-8,
    weight_decay: float = 0.0,
    weight_lr_power: float = 2.0,
) -> Optimizer:
    r"""Schedule-free AdamW (Defazio et al., 2024), as ``optax.contrib.schedule_free_adamw``.

    The parameters W the training loop holds (and takes gradients at) are y; the state keeps z
    and v; the weights to evaluate are x = (y - (1 - beta1) z) / beta1 (``report``). Per
    update, with c = step (0, 1, ...), t = c + 1, lr(c) the learning rate warmed up over
    ``warmup_steps``:
    v = beta2 v + (1 - beta2) g^2;   v_hat = v / (1 - beta2^t)
    d = g / (sqrt(v_hat) + epsilon) + weight_decay * y      (decoupled decay, at y)
    z' = z - lr(c) d                                 (AdamW without its momentum)
    max_lr = max(max_lr, lr(c + 1));  w = max_lr^weight_lr_power;  weight_sum += w
    c_k = w / weight_sum  (0 when both are 0)
    x' = (1 - c_k) x + c_k z';   y' = beta1 x' + (1 - beta1) z'
    warmup: lr(c) = -peak (1 - min(c, warmup_steps) / warmup_steps) + peak, peak the learning
    rate (a schedule's value at c); warmup_steps = 0 (optax's None): lr(c) = peak.

    beta1 is not a moving average of gradients here but the interpolation between x and z
    that replaces momentum; v is Adam's second moment, bias-corrected. Evaluation, ``--save``
    and ``predict`` use x; the training loop, its gradients and checkpoints y (with z and v
    in the state). Memory: two arrays per parameter (z, v). Validation: warmup_steps an
    integer >= 0, beta1 in (0, 1] (x divides by it), beta2 in [0, 1), epsilon, weight_decay
    and weight_lr_power >= 0.

    How it differs from the variants of the same name:
    - ``optax.contrib.schedule_free_adamw(learning_rate=0.0025, warmup_steps=None, b1=0.9,
      b2=0.999, eps=1e-8, weight_decay=0.0, weight_lr_power=2.0)``: the same rule, including
      its off-by-one (the step reads the warmup schedule at c, 0 at the first update; the
      averaging weight at c + 1) and its float32 warmup schedule (float32(lr) for good once
      ``warmup_steps`` is given; descentlab stays in float64). optax's ``warmup_steps=0``
      gives a rate of 0 forever; here it means no warmup.
    - The authors' ``schedulefree.AdamWScheduleFree(lr=0.0025, betas=(0.9, 0.999),
      eps=1e-8, weight_decay=0, warmup_steps=0, r=0.0, weight_lr_power=2.0)`` and the paper's
      Algorithm 1: the bias correction multiplies the rate, lr(c) sqrt(1 - beta2^t), and
      epsilon is added to sqrt(v) uncorrected, so the early steps' epsilon is larger relative
      to sqrt(v_hat), and the averaging weights grow with sqrt(1 - beta2^t)^weight_lr_power
      over the first ~1/(1 - beta2) steps; its warmup is lr (c + 1) / warmup_steps with no
      off-by-one; it adds a polynomial weight (c + 1)^r; it swaps x into the model with
      ``optimizer.eval()``. The paper weights the average by the current rate squared, not
      the largest so far.
    - pytorch-optimizer 4.1.0's ``ScheduleFreeAdamW``: bias-corrects v as optax does
      (epsilon outside the root of v / (1 - beta2^t), the rate left alone), warms up as the
      authors' package does (lr (c + 1) / warmup_steps from the first update), and adds r, an
      AMSBound option and ``decoupling_c``.
    """
    lr_at = learning_rate_at(learning_rate)
    warmup_steps = _check_warmup_steps(warmup_steps)
    beta1 = _check_interpolation(beta1)
    beta2 = check_decay("beta2", beta2)
    epsilon = check_nonnegative_float("epsilon", epsilon)
    weight_decay = check_nonnegative_float("weight_decay", weight_decay)
    weight_lr_power = check_nonnegative_float("weight_lr_power", weight_lr_power)
    b2_powers = Powers(beta2)

    def init(params: Params) -> ScheduleFreeAdamWState:
        return ScheduleFreeAdamWState(
            step=0, z=np.copy(params), nu=np.zeros_like(params), weight_sum=0.0, max_lr=0.0
        )

    def adam_direction(
        grads: Params, state: ScheduleFreeAdamWState, t: int
    ) -> tuple[Params, dict[str, Any]]:
        nu = (1 - beta2) * np.power(grads, 2) + beta2 * state.nu
        nu_hat = nu / (1 - b2_powers(t))
        return (1 / (np.sqrt(nu_hat) + epsilon)) * grads, {"nu": nu}

    rate = _warmed_up(lr_at, warmup_steps)
    update, report = _schedule_free(
        "schedule_free_adamw",
        ScheduleFreeAdamWState,
        rate,
        beta1,
        weight_decay,
        weight_lr_power,
        adam_direction,
    )
    rule = _rule(rate, beta1, weight_decay, weight_lr_power, b2_powers, beta2, epsilon)
    hyperparameters = record_hyperparameters(schedule_free_adamw, locals())
    return Optimizer(
        "schedule_free_adamw", hyperparameters, init, update, report=report, elementwise=rule
    )


def _schedule_free(
    name: str,
    state_type: Any,
    rate: Schedule,
    beta1: Any,
    weight_decay: Any,
    weight_lr_power: Any,
    direction: Direction,
) -> tuple[Callable[..., tuple[Params, Any]], Callable[[Any, Params], Params]]:
    """The ``update`` and ``report`` of schedule-free ``direction`` (optax's
    ``schedule_free`` wrapper around a base optimizer without momentum)."""
    decays = not np.all(weight_decay == 0)

    def update(grads: Params, state: Any, params: Params | None = None) -> tuple[Params, Any]:
        if params is None:
            raise ValueError(
                f"{name} needs the parameters (its y): call update(grads, state, params)"
            )
        t = state.step + 1
        lr = rate(state.step)  # the base optimizer's count, from 0
        max_lr = per_run(_larger, state.max_lr, rate(t))  # the wrapper's count, from 1
        weight = per_run(math.pow, max_lr, weight_lr_power)
        weight_sum = state.weight_sum + weight
        average_weight = per_run(_share, weight, weight_sum)
        d, fields = direction(grads, state, t)
        if decays:
            d = d + weight_decay * params
        z = state.z + (-lr) * d
        x = (1 - average_weight) * _x(params, state.z, beta1) + average_weight * z
        y = beta1 * x + (1 - beta1) * z
        new_state = state_type(step=t, z=z, weight_sum=weight_sum, max_lr=max_lr, **fields)
        return y - params, new_state

    def report(state: Any, params: Params) -> Params:
        return _x(params, state.z, beta1)

    return update, report


def _rule(
    rate: Schedule,
    beta1: Any,
    weight_decay: Any,
    weight_lr_power: Any,
    b2_powers: Powers | None,
    beta2: Any,
    epsilon: Any,
) -> ElementwiseRule:
    """The compiled rule of ``_schedule_free``: hyperparameters (beta1, decay, whether it
    applies, AdamW's direction or SGD's, beta2, epsilon); per step (lr(c), c_k, 1 - beta2^t),
    with weight_sum and max_lr carried by ``update``'s own scalar arithmetic."""

    def carried_scalars(
        first: int, count: int, values: tuple[Any, ...]
    ) -> tuple[tuple[np.ndarray, ...], list[Any]]:
        weight_sum, max_lr = values
        rates, shares, after = [], [], []
        for step in range(first, first + count):
            t = step + 1
            rates.append(rate(step))
            max_lr = per_run(_larger, max_lr, rate(t))
            weight = per_run(math.pow, max_lr, weight_lr_power)
            weight_sum = weight_sum + weight
            shares.append(per_run(_share, weight, weight_sum))
            after.append((weight_sum, max_lr))
        corrections = 1.0 if b2_powers is None else 1 - b2_powers.block(first + 1, count)
        by_step = elementwise.by_step
        return (by_step(rates), by_step(shares), elementwise.per_step(corrections)), after

    return ElementwiseRule(
        "schedule_free",
        (
            beta1,
            weight_decay,
            elementwise.any_nonzero(weight_decay),
            elementwise.flag(b2_powers is not None),
            beta2,
            epsilon,
        ),
        ("z", "nu") if b2_powers is not None else ("z",),
        elementwise.nothing,
        carried=("weight_sum", "max_lr"),
        carried_scalars=carried_scalars,
    )


def _x(y: Params, z: Params, beta1: Any) -> Params:
    """The averaged weights x from y = beta1 x + (1 - beta1) z, as
    ``optax.contrib.schedule_free_eval_params`` computes them: jax on a CPU divides by the
    constant beta1 as a multiplication by its reciprocal, and so does this."""
    return (y - (1 - beta1) * z) * (1 / beta1)


def _larger(a: float, b: float) -> float:
    """max(a, b), nan if either is (``jnp.maximum``)."""
    return float(np.maximum(a, b))


def _share(weight: float, weight_sum: float) -> float:
    """weight / weight_sum as optax takes it: nan if either is, 0 for 0/0 (and inf/inf)."""
    if math.isnan(weight) or math.isnan(weight_sum):
        return math.nan
    if weight_sum == 0:
        return 0.0 if weight == 0 else math.copysign(math.inf, weight)
    share = weight / weight_sum
    return 0.0 if math.isnan(share) else share


def _warmed_up(lr_at: Schedule, warmup_steps: Any) -> Schedule:
    """The learning rate warmed up linearly from 0 over ``warmup_steps`` updates, as optax's
    ``warmup_constant_schedule(0, lr, warmup_steps)`` (but in float64)."""
    if np.all(warmup_steps == 0):
        return lr_at
    if np.ndim(warmup_steps) == 0:
        length = int(warmup_steps)

        def rate(count: int) -> Any:
            peak = lr_at(count)
            return -peak * (1 - min(count, length) / length) + peak

        return rate
    lengths = np.asarray(warmup_steps, dtype=float)
    warms = lengths > 0
    divisors = np.where(warms, lengths, 1.0)

    def rate_per_run(count: int) -> Any:
        peak = lr_at(count)
        warmed = -peak * (1 - np.minimum(count, divisors) / divisors) + peak
        return np.where(warms, warmed, peak)

    return rate_per_run


def _check_warmup_steps(value: Any) -> Any:
    """An integer >= 0, or an array of them (one per run of a stack)."""
    if isinstance(value, np.ndarray):
        lengths = np.asarray(check_nonnegative_float("warmup_steps", value))
        fractional = lengths != np.floor(lengths)
        if np.any(fractional):
            raise ValueError(
                f"warmup_steps must be an integer >= 0, got {float(lengths[fractional][0])!r}"
            )
        return lengths
    return check_int("warmup_steps", value, minimum=0)


def _check_interpolation(beta1: Any) -> Any:
    """beta1 in (0, 1]: x = (y - (1 - beta1) z) / beta1 needs beta1 > 0."""
    beta1 = check_unit_interval("beta1", beta1)
    if np.any(np.equal(beta1, 0)):
        raise ValueError("beta1 must be a number in (0, 1] (x divides by it), got 0.0")
    return beta1
