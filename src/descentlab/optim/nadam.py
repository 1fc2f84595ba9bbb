"""NAdam: Adam with Nesterov momentum and PyTorch's momentum-decay schedule."""

from __future__ import annotations

from typing import Any, NamedTuple

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
from descentlab.validation import check_decay, check_nonnegative_float


class NAdamState(NamedTuple):
    step: int
    """Updates applied so far."""
    mu_product: float | Params
    """The product mu_1 mu_2 ... mu_t of the momentum schedule so far (starts at 1)."""
    mu: Params
    """m, the moving average of the gradients."""
    nu: Params
    """s, the moving average of the squared gradients."""


def nadam(
    learning_rate: ScalarOrSchedule,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-8,
    momentum_decay: float = 0.004,
) -> Optimizer:
    r"""NAdam (Dozat, 2016) exactly as ``torch.optim.NAdam``, momentum schedule included.

    t = step + 1;  mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay))
    mu_{t+1} = beta1 * (1 - 0.5 * 0.96^((t + 1) * momentum_decay))
    P_t = mu_1 mu_2 ... mu_t                   (``mu_product`` in the state)
    m = beta1 m + (1 - beta1) g;               s = beta2 s + (1 - beta2) g^2
    denominator = sqrt(s / (1 - beta2^t)) + epsilon
    W = W - learning_rate * [(1 - mu_t) / (1 - P_t) * g
                             + mu_{t+1} / (1 - P_t mu_{t+1}) * m] / denominator

    With the default momentum_decay = 0.004 the momentum coefficient mu_t climbs from
    0.45 towards beta1 over thousands of updates. Validation: beta1 and beta2 in [0, 1),
    epsilon and momentum_decay >= 0.

    How it differs from the variants of the same name:
    - ``torch.optim.NAdam``: identical. torch also offers ``weight_decay`` (coupled: add
      weight_decay * W to the gradient before calling update gives the same) and
      ``decoupled_weight_decay``; descentlab's nadam has neither.
    - ``optax.nadam`` (``optax.adam(nesterov=True)``) has no momentum schedule: mu_t = beta1
      for every t, i.e. (1 - beta1) / (1 - beta1^t) * g + beta1 / (1 - beta1^(t+1)) * m
      (this rule's limit of a large momentum_decay).
    - Keras ``Nadam(epsilon=1e-7)`` uses mu_t = beta1 (1 - 0.5 * 0.96^t), i.e.
      momentum_decay = 1, so its schedule settles within about a hundred updates.
    """
    lr_at = learning_rate_at(learning_rate)
    beta1 = check_decay("beta1", beta1)
    beta2 = check_decay("beta2", beta2)
    epsilon = check_nonnegative_float("epsilon", epsilon)
    momentum_decay = check_nonnegative_float("momentum_decay", momentum_decay)

    decay_powers, b2_powers = Powers(0.96, scale=momentum_decay), Powers(beta2)

    def momentum_at(t: int) -> float:
        return beta1 * (1.0 - 0.5 * decay_powers(t))

    def init(params: Params) -> NAdamState:
        return NAdamState(
            step=0, mu_product=1.0, mu=np.zeros_like(params), nu=np.zeros_like(params)
        )

    def update(
        grads: Params, state: NAdamState, params: Params | None = None
    ) -> tuple[Params, NAdamState]:
        lr = lr_at(state.step)
        t = state.step + 1
        mu_t = momentum_at(t)
        mu_next = momentum_at(t + 1)
        mu_product = state.mu_product * mu_t
        mu = beta1 * state.mu + (1 - beta1) * grads
        nu = beta2 * state.nu + (1 - beta2) * np.power(grads, 2)
        denominator = np.sqrt(nu / (1 - b2_powers(t))) + epsilon
        gradient_weight = lr * (1 - mu_t) / (1 - mu_product)
        momentum_weight = lr * mu_next / (1 - mu_product * mu_next)
        step = (gradient_weight * grads + momentum_weight * mu) / denominator
        return -step, NAdamState(step=t, mu_product=mu_product, mu=mu, nu=nu)

    def carried_scalars(
        first: int, count: int, values: tuple[Any, ...]
    ) -> tuple[tuple[np.ndarray, ...], list[Any]]:
        # update's scalar arithmetic for count steps at once; multiply.accumulate multiplies
        # the momentum coefficients into mu_product one after the other, as the updates do
        per_step = elementwise.per_step
        (start,) = values
        lr = per_step(elementwise.learning_rates(learning_rate, lr_at, first, count))
        b1 = per_step(beta1)
        mu_t = b1 * (1.0 - 0.5 * per_step(decay_powers.block(first + 1, count)))
        mu_next = b1 * (1.0 - 0.5 * per_step(decay_powers.block(first + 2, count)))
        first_row = per_step(start)
        width = max(mu_t.shape[1], first_row.shape[1])
        chain = np.concatenate(
            [np.broadcast_to(first_row, (1, width)), np.broadcast_to(mu_t, (count, width))]
        )
        mu_product = np.multiply.accumulate(chain, axis=0)[1:]
        gradient_weight = lr * (1 - mu_t) / (1 - mu_product)
        momentum_weight = lr * mu_next / (1 - mu_product * mu_next)
        per_run = np.ndim(start) > 0 or np.ndim(beta1) > 0 or np.ndim(momentum_decay) > 0
        after = [(row.reshape(-1, 1) if per_run else float(row[0]),) for row in mu_product]
        blocks = (gradient_weight, momentum_weight, 1 - b2_powers.block(first + 1, count))
        return blocks, after

    rule = ElementwiseRule(
        "nadam",
        (beta1, beta2, epsilon),
        ("mu", "nu"),
        elementwise.nothing,
        carried=("mu_product",),
        carried_scalars=carried_scalars,
    )
    hyperparameters = record_hyperparameters(nadam, locals())
    return Optimizer("nadam", hyperparameters, init, update, elementwise=rule)
