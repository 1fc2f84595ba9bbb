"""Adam with bias correction, its AMSGrad variant, and AdamW (decoupled weight decay)."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from descentlab.optim import elementwise
from descentlab.optim.base import (
    Optimizer,
    Params,
    ScalarOrSchedule,
    learning_rate_at,
    record_hyperparameters,
)
from descentlab.optim.elementwise import ElementwiseRule
from descentlab.optim.powers import Powers
from descentlab.optim.weight_decay import coupled, decoupled
from descentlab.validation import check_bool, check_decay, check_nonnegative_float


class AdamState(NamedTuple):
    step: int
    """t before this update: the number of updates applied so far (never reset)."""
    mu: Params
    """v in the course: the moving average of the gradients."""
    nu: Params
    """s in the course: the moving average of the squared gradients."""
    nu_max: Params | None = None
    """amsgrad=True only: the running maximum of nu (``None`` otherwise)."""


def adam(
    learning_rate: ScalarOrSchedule,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-8,
    amsgrad: bool = False,
    weight_decay: float = 0.0,
    eps_inside_sqrt: bool = False,
) -> Optimizer:
    r"""Adam with bias correction (Kingma & Ba, Algorithm 1).

    t = step + 1 (incremented once per update, never reset);
    g = dW + weight_decay * W                 (coupled weight decay: L2 in the gradient)
    m = beta1 m + (1 - beta1) g;              s = beta2 s + (1 - beta2) g^2;
    s_max = max(s_max, s)  and s is replaced by s_max below   (amsgrad=True; s_max starts at 0)
    m_hat = m / (1 - beta1^t);                s_hat = s / (1 - beta2^t);
    W = W - learning_rate * m_hat / (sqrt(s_hat) + epsilon)      (default, the paper's form)
    W = W - learning_rate * m_hat / sqrt(s_hat + epsilon)        (eps_inside_sqrt=True)

    The default is the form torch.optim.Adam and optax.adam use, and the one that produced the
    course's published cost lines. The course's seed document (and the Expected Output of its
    oldest unit test) put epsilon inside the square root: ``eps_inside_sqrt=True`` gives that
    form, whose denominator never drops below sqrt(epsilon) = 1e-4 for epsilon = 1e-8.
    Validation: beta1 and beta2 in [0, 1), epsilon and weight_decay >= 0.

    How it differs from the variants of the same name:
    - ``torch.optim.Adam``: identical, amsgrad included (the maximum of the raw s, then bias
      correction); torch has no epsilon-inside form, and its ``decoupled_weight_decay=True`` is
      descentlab's ``adamw``.
    - ``optax.adam(eps=1e-8, eps_root=0.0)``: the same default form; ``eps_root`` adds a second
      epsilon inside the root. ``optax.amsgrad`` takes the maximum of the bias-corrected s_hat
      instead of the raw s. optax.adam has no weight decay (see ``adamw``).
    - Keras ``Adam(epsilon=1e-7)``: epsilon is the paper's "epsilon hat", added to sqrt(s)
      before bias correction, i.e. epsilon / sqrt(1 - beta2^t) in the form above (31.6 epsilon
      at t = 1); its amsgrad keeps the raw maximum as torch does; its ``weight_decay`` is
      decoupled (W -= lr wd W), i.e. descentlab's ``adamw``.
    """
    learning_rate_at(learning_rate)  # validated first, so its error comes first
    beta1 = check_decay("beta1", beta1)
    beta2 = check_decay("beta2", beta2)
    epsilon = check_nonnegative_float("epsilon", epsilon)
    amsgrad = check_bool("amsgrad", amsgrad)
    weight_decay = check_nonnegative_float("weight_decay", weight_decay)
    eps_inside_sqrt = check_bool("eps_inside_sqrt", eps_inside_sqrt)
    add_l2 = coupled(weight_decay, "adam")
    init, update, step_scalars = _adam_pair(
        learning_rate, beta1, beta2, epsilon, amsgrad, eps_inside_sqrt, add_l2=add_l2, shrink=None
    )
    rule = _adam_rule(
        beta1, beta2, epsilon, amsgrad, eps_inside_sqrt, weight_decay, 0.0, step_scalars
    )
    hyperparameters = record_hyperparameters(adam, locals())
    return Optimizer("adam", hyperparameters, init, update, elementwise=rule)


def adamw(
    learning_rate: ScalarOrSchedule,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-8,
    weight_decay: float = 0.01,
    amsgrad: bool = False,
) -> Optimizer:
    r"""AdamW: Adam with decoupled weight decay (Loshchilov & Hutter), as ``torch.optim.AdamW``.

    W = W - learning_rate * weight_decay * W   (first, with this update's learning rate)
    then the Adam step of ``adam`` on the raw gradient (amsgrad as there, epsilon outside):
    W = W - learning_rate * m_hat / (sqrt(s_hat) + epsilon)

    The decay is not rescaled by the adaptive denominator, unlike ``adam(weight_decay=)``.
    Validation: beta1 and beta2 in [0, 1), epsilon and weight_decay >= 0.

    How it differs from the variants of the same name:
    - ``torch.optim.AdamW(weight_decay=0.01)``: identical (it multiplies W by 1 - lr wd first).
    - ``optax.adamw(weight_decay=1e-4, mask=None)``: the same rule (the decay is added to the
      Adam direction and both are scaled by the learning rate) with a default decay 100 times
      smaller and a ``mask`` to exempt parameters such as biases; descentlab decays every
      parameter. optax.adamw has no amsgrad.
    - Keras ``AdamW(weight_decay=0.004, epsilon=1e-7)``: the same decay, Keras's
      "epsilon hat" Adam step (see ``adam``).
    - The paper multiplies the decay by the schedule multiplier only, not by the base learning
      rate; torch, optax, Keras and descentlab multiply by the learning rate itself.
    """
    learning_rate_at(learning_rate)  # validated first, so its error comes first
    beta1 = check_decay("beta1", beta1)
    beta2 = check_decay("beta2", beta2)
    epsilon = check_nonnegative_float("epsilon", epsilon)
    weight_decay = check_nonnegative_float("weight_decay", weight_decay)
    amsgrad = check_bool("amsgrad", amsgrad)
    shrink = decoupled(weight_decay, "adamw")
    init, update, step_scalars = _adam_pair(
        learning_rate, beta1, beta2, epsilon, amsgrad, False, add_l2=None, shrink=shrink
    )
    rule = _adam_rule(beta1, beta2, epsilon, amsgrad, False, 0.0, weight_decay, step_scalars)
    hyperparameters = record_hyperparameters(adamw, locals())
    return Optimizer("adamw", hyperparameters, init, update, elementwise=rule)


def _adam_rule(
    b1: float,
    b2: float,
    eps: float,
    keep_max: bool,
    inside: bool,
    coupled_decay: float,
    decoupled_decay: float,
    step_scalars: elementwise.StepScalars,
) -> ElementwiseRule:
    """Adam's compiled rule: hyperparameters (b1, b2, eps, amsgrad, eps_inside_sqrt, coupled
    decay, whether it applies, decoupled decay, whether it applies); per step (lr,
    1 - b1^t, 1 - b2^t)."""
    return ElementwiseRule(
        "adam",
        (
            b1,
            b2,
            eps,
            elementwise.flag(keep_max),
            elementwise.flag(inside),
            coupled_decay,
            elementwise.any_nonzero(coupled_decay),
            decoupled_decay,
            elementwise.any_nonzero(decoupled_decay),
        ),
        ("mu", "nu", "nu_max") if keep_max else ("mu", "nu"),
        step_scalars,
    )


def _adam_pair(
    learning_rate: ScalarOrSchedule,
    b1: float,
    b2: float,
    eps: float,
    keep_max: bool,
    inside: bool,
    add_l2: Callable[[Params, Params | None], Params] | None,
    shrink: Callable[[Params, float, Params | None], Params] | None,
) -> tuple[
    Callable[[Params], AdamState],
    Callable[[Params, AdamState, Params | None], tuple[Params, AdamState]],
    elementwise.StepScalars,
]:
    """The ``init`` / ``update`` pair shared by adam and adamw. ``add_l2`` turns the gradient
    into g + wd W (coupled decay), ``shrink`` subtracts lr wd W from the updates (decoupled);
    ``None`` leaves the arithmetic exactly the plain Adam step."""
    lr_at = learning_rate_at(learning_rate)
    b1_powers, b2_powers = Powers(b1), Powers(b2)

    def init(params: Params) -> AdamState:
        nu_max = np.zeros_like(params) if keep_max else None
        return AdamState(step=0, mu=np.zeros_like(params), nu=np.zeros_like(params), nu_max=nu_max)

    def update(
        grads: Params, state: AdamState, params: Params | None = None
    ) -> tuple[Params, AdamState]:
        lr = lr_at(state.step)
        if add_l2 is not None:
            grads = add_l2(grads, params)
        t = state.step + 1
        mu = b1 * state.mu + (1 - b1) * grads
        nu = b2 * state.nu + (1 - b2) * np.power(grads, 2)
        nu_max = None
        if keep_max:  # s is never negative, so a missing maximum counts as 0
            nu_max = nu if state.nu_max is None else np.maximum(state.nu_max, nu)
        mu_hat = mu / (1 - b1_powers(t))
        nu_hat = (nu if nu_max is None else nu_max) / (1 - b2_powers(t))
        # (-lr * m) / d is exactly -(lr * m / d): negating first saves one pass.
        if inside:
            updates = -lr * mu_hat / np.sqrt(nu_hat + eps)
        else:
            updates = -lr * mu_hat / (np.sqrt(nu_hat) + eps)
        if shrink is not None:
            updates = shrink(updates, lr, params)
        return updates, AdamState(step=t, mu=mu, nu=nu, nu_max=nu_max)

    def step_scalars(first: int, count: int) -> tuple[np.ndarray, ...]:
        rates = elementwise.learning_rates(learning_rate, lr_at, first, count)
        return (rates, 1 - b1_powers.block(first + 1, count), 1 - b2_powers.block(first + 1, count))

    return init, update, step_scalars
