"""Weight decay, the two ways optimizers apply it.

Coupled (L2 in the gradient, torch's ``weight_decay`` for SGD, RMSprop, Adagrad, Adam):
the gradient becomes g + weight_decay * W before anything else sees it, so adaptive
optimizers rescale the decay along with the gradient. Decoupled (AdamW, Loshchilov & Hutter):
W shrinks by learning_rate * weight_decay * W beside the optimizer's own step, unscaled.

Both need ``params`` in ``update(grads, state, params)``; with ``weight_decay == 0`` neither
touches anything, so ``params`` may be ``None`` and the arithmetic is exactly the undecayed one.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from descentlab.optim.base import Params


def _require_params(params: Params | None, optimizer: str, weight_decay: float) -> Params:
    if params is None:
        raise ValueError(
            f"{optimizer} with weight_decay={weight_decay!r} needs the parameters: "
            "call update(grads, state, params)"
        )
    return params


def coupled(weight_decay: float, optimizer: str) -> Callable[[Params, Params | None], Params]:
    """``(grads, params) -> grads + weight_decay * params``; the identity when the decay is 0."""
    if np.all(weight_decay == 0):
        return lambda grads, params: grads

    def add_l2(grads: Params, params: Params | None) -> Params:
        return grads + weight_decay * _require_params(params, optimizer, weight_decay)

    return add_l2


def decoupled(
    weight_decay: float, optimizer: str
) -> Callable[[Params, float, Params | None], Params]:
    """``(updates, lr, params) -> updates - lr * weight_decay * params``; the identity when the
    decay is 0."""
    if np.all(weight_decay == 0):
        return lambda updates, lr, params: updates

    def shrink(updates: Params, lr: float, params: Params | None) -> Params:
        return updates - (lr * weight_decay) * _require_params(params, optimizer, weight_decay)

    return shrink
