"""The layer-wise trust ratio of LAMB and LARS: each parameter array's update rescaled by
||W|| / ||u||, as ``optax.scale_by_trust_ratio``.

Per slot of the ``Layout`` and per run: the norms are the Euclidean (Frobenius) norms of one
array of one run, summed over that slot's entries only (the slot's columns of the flat buffer,
the last axis), never across slots or runs, so a stack of K runs gets each run's own ratios bit
for bit.
"""

from __future__ import annotations

import numpy as np

from descentlab.optim.base import Params
from descentlab.optim.layout import Layout


def slot_norms(flat: Params, layout: Layout) -> list[np.ndarray]:
    """Each slot's Euclidean norm of ``flat`` (shape (..., n_params)), shape (..., 1) each:
    sqrt of the sum of the slot's squared entries, reduced over the last axis alone."""
    norms = []
    for slot in layout.slots:
        entries = flat[..., slot.start : slot.stop]
        norms.append(np.sqrt(np.sum(entries * entries, axis=-1, keepdims=True)))
    return norms


def scale_by_trust_ratio(
    updates: Params,
    params: Params,
    layout: Layout,
    trust_coefficient: float | np.ndarray = 1.0,
    epsilon: float | np.ndarray = 0.0,
) -> Params:
    """``updates`` with each slot (of each run) multiplied by
    ratio = trust_coefficient * ||W|| / (||u|| + epsilon), W the slot of ``params`` and u that
    of ``updates``; ratio = 1 where ||W|| = 0 or ||u|| = 0 (a layer at zero, such as a bias at
    its start, or one that does not move), optax's rule with ``min_norm=0``. Returns a new
    array of ``updates``'s shape and dtype."""
    layout.check(updates)
    scaled = np.empty_like(updates)
    param_norms = slot_norms(params, layout)
    update_norms = slot_norms(updates, layout)
    for slot, param_norm, update_norm in zip(layout.slots, param_norms, update_norms, strict=True):
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = trust_coefficient * param_norm / (update_norm + epsilon)
        ratio = np.where((param_norm == 0) | (update_norm == 0), 1.0, ratio)
        scaled[..., slot.start : slot.stop] = updates[..., slot.start : slot.stop] * ratio
    return scaled
