"""Driving any optimizer on a function: ``start`` and ``step``, which pass each optimizer just
the keywords its ``needs`` name (see ``descentlab.optim.base``).

The training loop (``descentlab.train``) does the same on a network's mini-batches with its own
buffers; these two serve everything that minimises a plain function of the parameters: the
landscapes, the reference tests and the generic optimizer tests.
"""

from __future__ import annotations

import numpy as np

from descentlab.optim.base import Optimizer, OptState, Params, ValueAndGrad
from descentlab.optim.layout import Layout


def start(optimizer: Optimizer, params: Params, layout: Layout | None = None) -> OptState:
    """``optimizer.init(params)``, given ``layout`` if the optimizer needs it (a single vector,
    ``Layout.vector``, when none is given)."""
    if "layout" in optimizer.needs:
        return optimizer.init(params, layout=_layout_for(params, layout))
    return optimizer.init(params)


def extras(
    optimizer: Optimizer,
    params: Params,
    value: np.ndarray,
    value_and_grad: ValueAndGrad,
    layout: Layout | None = None,
) -> dict[str, object]:
    """The keywords ``optimizer.update`` takes besides grads, state and params: those its
    ``needs`` name, no others."""
    given: dict[str, object] = {}
    if "layout" in optimizer.needs:
        given["layout"] = _layout_for(params, layout)
    if "value" in optimizer.needs:
        given["value"] = value
    if "value_and_grad" in optimizer.needs:
        given["value_and_grad"] = value_and_grad
    return given


def step(
    optimizer: Optimizer,
    state: OptState,
    params: Params,
    value_and_grad: ValueAndGrad,
    layout: Layout | None = None,
) -> tuple[Params, OptState, np.ndarray]:
    """One update of ``params`` on the function ``value_and_grad`` (``points -> (values,
    grads)``, values of shape ``points.shape[:-1] + (1,)``): returns the new parameters, the new
    state, and the value at ``params`` before the update."""
    value, grads = value_and_grad(params)
    updates, state = optimizer.update(
        grads, state, params, **extras(optimizer, params, value, value_and_grad, layout)
    )
    return params + updates, state, value


def _layout_for(params: Params, layout: Layout | None) -> Layout:
    chosen = Layout.vector(params.shape[-1]) if layout is None else layout
    chosen.check(params)
    return chosen
