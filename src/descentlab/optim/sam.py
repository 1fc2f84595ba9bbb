"""SAM: the inner optimizer's step from the gradient at a nearby worse point, as
``pytorch_optimizer.SAM``."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from descentlab.optim.base import (
    Optimizer,
    OptState,
    Params,
    Report,
    ValueAndGrad,
    record_hyperparameters,
)
from descentlab.validation import check_bool, check_nonnegative_float

NORM_EPSILON = 1e-12
"""Added to the gradient's norm before dividing by it, as the authors' code and
pytorch-optimizer (``perturb_eps``) do: a zero gradient perturbs nothing."""


class SAMState(NamedTuple):
    step: int
    """Updates applied so far."""
    inner: OptState
    """The inner optimizer's state."""


def sam(inner: Optimizer, radius: float = 0.05, adaptive: bool = False) -> Optimizer:
    r"""SAM (Foret et al. 2021): the inner optimizer steps with the gradient at w + e.

    Per run, with g the gradient at the weights w and the norms over all of a run's
    parameters (the whole flat buffer, every layer at once):

    e = radius g / (||g|| + 1e-12)                              (adaptive=False, the paper's)
    e = radius w^2 g / (||w g|| + 1e-12)                        (adaptive=True: ASAM, Kwon
                                                                 et al. 2021; w^2 g, w g
                                                                 elementwise)
    g_sam = the gradient at w + e, on the same mini-batch (the need ``value_and_grad``)
    update = the inner optimizer's update from g_sam, its state and w (not w + e)

    Each step costs two gradients. The inner optimizer sees g_sam as its gradient (and, if it
    needs the loss, the loss at w + e); anything else it needs is passed on. It reports what
    its inner optimizer reports. The paper's radius rho is called ``radius`` here because
    rmsprop and adadelta already take a ``rho`` (a wrapper's keywords must be its own, so that
    ``sam:rmsprop`` takes both). Validation: radius >= 0 (0 is the inner optimizer at twice
    the cost), adaptive True or False, and an inner optimizer that evaluates the loss at points
    of its own (L-BFGS, SAM itself) is refused: those evaluations would not be perturbed.

    How it differs from the variants of the same name:
    - ``pytorch_optimizer.SAM(params, base_optimizer, rho=0.05, adaptive=False)``: the same
      two-step rule (the fixture's reference), but its gradient norm is computed in float32
      whatever the parameters' dtype, so with float64 weights e differs from this one's in the
      8th digit; it takes a closure that recomputes the loss.
    - ``optax.contrib.sam(optimizer, adv_optimizer, sync_period=2)``: the same scheme written
      as two optimizers, an adversarial one (the paper's: chain(normalize(), sgd(rho)), whose
      normalisation has no epsilon) and the outer one; by default ("transparent mode") each
      SAM step is two calls of ``update``, the first returning the perturbation itself, so the
      training loop sees and records the loss at w + e every other step, and the outer
      update is returned as (w - (w + e)) + u, equal to u up to rounding. Its
      ``opaque_mode=True`` is this form. It has no adaptive option.
    - The paper's m-sharpness (one e per slice of the batch) and the authors' second step
      being plain SGD with momentum are not offered; the inner optimizer is any.
    """
    radius = check_nonnegative_float("radius", radius)
    adaptive = check_bool("adaptive", adaptive)
    if "value_and_grad" in inner.needs:
        raise ValueError(
            f"sam cannot wrap {inner.name}: it evaluates the loss at points of its own, which "
            f"SAM would not perturb; wrap an optimizer that steps from one gradient"
        )

    def init(params: Params, **given: Any) -> SAMState:
        return SAMState(step=0, inner=inner.init(params, **given))

    def update(
        grads: Params,
        state: SAMState,
        params: Params,
        *,
        value_and_grad: ValueAndGrad,
        **given: Any,
    ) -> tuple[Params, SAMState]:
        weighted = grads * np.abs(params) if adaptive else grads
        norm = np.sqrt(np.sum(weighted * weighted, axis=-1, keepdims=True))
        scale = radius / (norm + NORM_EPSILON)
        perturbation = (params * params * grads if adaptive else grads) * scale
        values, perturbed_grads = value_and_grad(
            (params + perturbation).astype(params.dtype, copy=False)
        )
        if "value" in inner.needs:
            given["value"] = values
        updates, inner_state = inner.update(perturbed_grads, state.inner, params, **given)
        return updates, SAMState(step=state.step + 1, inner=inner_state)

    report: Report | None = None
    if inner.report is not None:
        inner_report = inner.report

        def report_inner(state: SAMState, params: Params) -> Params:
            return inner_report(state.inner, params)

        report = report_inner

    return Optimizer(
        f"sam:{inner.name}",
        {**inner.hyperparameters, **record_hyperparameters(sam, locals())},
        init,
        update,
        needs=inner.needs | {"value_and_grad"},
        report=report,
    )
