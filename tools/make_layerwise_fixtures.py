"""Write tests/fixtures/layerwise_optimizers.json: the reference parameters after 500 steps for
the layer-wise optimizers, lamb and lars (optax) and adafactor (torch.optim).

A development-time script, run once by a developer when the cases change, in a virtual
environment of its own outside the repository (none of these is a dependency of descentlab or
of its tests):

    python3 -m venv /tmp/refenv
    /tmp/refenv/bin/pip install jax jaxlib optax==0.2.8 numpy torch==2.13.0
    /tmp/refenv/bin/python tools/make_layerwise_fixtures.py

tests/test_optim_layerwise_reference.py reads the JSON and never imports jax, optax or torch.

These optimizers treat each parameter array on its own (norms per array, Adafactor's row and
column factors), so the parameters are those of a small network, ``Layout.of_network((3, 4,
2))``: W1 (4, 3), b1 (4,), W2 (2, 4), b2 (2,), 26 numbers laid out in that order in one flat
buffer (descentlab's) or as four separate arrays (the references': a list of jax arrays for
optax, four torch tensors for torch, the weights 2-D and the biases 1-D). They start at
``np.random.default_rng(INITIAL_PARAMS_SEED).standard_normal(N_PARAMS)`` with b1 set to zero (a
bias at its usual start, so the trust ratio's rule for a zero norm is used at the first step),
and see the STEPS flat gradients ``np.random.default_rng(GRADIENT_SEED).standard_normal((STEPS,
N_PARAMS))``, one per update, each cut into the four arrays the same way; all float64.

optax runs eagerly (no ``jax.jit``) with ``jax_enable_x64``; ``params =
optax.apply_updates(params, updates)`` after each ``update(g, state, params)``. torch runs
``foreach=False`` with float64 as the default dtype, assigning each array's gradient to its
``p.grad`` before ``step()``.

Each case names descentlab's optimizer and hyperparameters (descentlab's keyword names) and
the reference's constructor and keyword arguments. ``TOLERANCES`` holds, per optimizer, the
relative tolerance the test applies and why; it is written into the fixture beside the cases.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

STEPS = 500
LAYER_SIZES = (3, 4, 2)
SHAPES = {"W1": (4, 3), "b1": (4,), "W2": (2, 4), "b2": (2,)}
N_PARAMS = 26
ZERO_AT_START = ("b1",)
GRADIENT_SEED = 20261202
INITIAL_PARAMS_SEED = 14
OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "layerwise_optimizers.json"

# (case id, descentlab name, descentlab hyperparameters, reference, constructor, kwargs)
CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, Any]]] = [
    ("lamb", "lamb", {"learning_rate": 0.01}, "optax", "lamb", {"learning_rate": 0.01}),
    (
        "lamb-betas-decay",
        "lamb",
        {"learning_rate": 0.005, "beta1": 0.8, "beta2": 0.99, "weight_decay": 0.01},
        "optax",
        "lamb",
        {"learning_rate": 0.005, "b1": 0.8, "b2": 0.99, "weight_decay": 0.01},
    ),
    (
        "lamb-epsilons",
        "lamb",
        {"learning_rate": 0.02, "epsilon": 1e-3, "epsilon_root": 1e-4},
        "optax",
        "lamb",
        {"learning_rate": 0.02, "eps": 1e-3, "eps_root": 1e-4},
    ),
    ("lars", "lars", {"learning_rate": 1.0}, "optax", "lars", {"learning_rate": 1.0}),
    (
        "lars-nesterov-decay",
        "lars",
        {"learning_rate": 0.5, "nesterov": True, "weight_decay": 1e-3, "trust_coefficient": 0.01},
        "optax",
        "lars",
        {"learning_rate": 0.5, "nesterov": True, "weight_decay": 1e-3, "trust_coefficient": 0.01},
    ),
    (
        "lars-epsilon-no-momentum",
        "lars",
        {"learning_rate": 2.0, "momentum": 0.0, "epsilon": 1e-3, "trust_coefficient": 0.02},
        "optax",
        "lars",
        {"learning_rate": 2.0, "momentum": 0.0, "eps": 1e-3, "trust_coefficient": 0.02},
    ),
    ("adafactor", "adafactor", {"learning_rate": 0.01}, "torch", "Adafactor", {"lr": 0.01}),
    (
        "adafactor-beta2-decay",  # a slower second moment, and the decay
        "adafactor",
        {"learning_rate": 0.05, "beta2_decay": -0.5, "weight_decay": 0.01},
        "torch",
        "Adafactor",
        {"lr": 0.05, "beta2_decay": -0.5, "weight_decay": 0.01},
    ),
    (
        # lr 0.3 > 1/sqrt(t) from t = 12 on: both sides of min(lr, 1/sqrt(t)); d = 1.2 clips
        # some updates and not others; epsilon1 given instead of the dtype's machine epsilon
        "adafactor-epsilons-clipping",
        "adafactor",
        {"learning_rate": 0.3, "epsilon1": 1e-6, "epsilon2": 0.01, "d": 1.2},
        "torch",
        "Adafactor",
        {"lr": 0.3, "eps": [1e-6, 0.01], "d": 1.2},
    ),
]

TOLERANCES: dict[str, dict[str, Any]] = {
    "lamb": {
        "rtol": 1e-12,
        "why": "the same operations in the same order, but the bias corrections 1 - beta^t come "
        "from jax's power (optax) and numpy's scalar np.power (descentlab), and XLA sums each "
        "array's squares for its norm in another order than numpy; measured at most 3.2e-14 "
        "relative (the epsilons case; 8.2e-16 at the defaults)",
    },
    "lars": {
        "rtol": 1e-12,
        "why": "the same operations in the same order, no powers; XLA sums each array's squares "
        "for the trust ratio's norms in another order than numpy, and the ratio's last-bit "
        "differences grow through 500 steps at learning rates up to 2; measured at most "
        "8.2e-14 relative",
    },
    "adafactor": {
        "rtol": 1e-12,
        "why": "the same operations in the same order, but torch's CPU lerp kernel (the moving "
        "averages R, C and V) computes a fused multiply-add on its vectorised chunks, which "
        "rounds differently from numpy's separate multiply and add in the last bit for about "
        "one entry in ten, and torch's norm kernel (row and column means, the RMS of W and of "
        "the update) sums in its own order; with weight decay torch multiplies W by 1 - lr wd "
        "before adding the step where descentlab subtracts lr wd W with the step; measured at "
        "most 7.4e-14 relative (the decay case; 2.4e-14 without decay)",
    },
}


def stream() -> tuple[np.ndarray, np.ndarray]:
    """The flat initial parameters (b1 zero) and the STEPS flat gradients."""
    initial = np.random.default_rng(INITIAL_PARAMS_SEED).standard_normal(N_PARAMS)
    for name in ZERO_AT_START:
        start, stop = _bounds()[name]
        initial[start:stop] = 0.0
    gradients = np.random.default_rng(GRADIENT_SEED).standard_normal((STEPS, N_PARAMS))
    return initial, gradients


def _bounds() -> dict[str, tuple[int, int]]:
    bounds, start = {}, 0
    for name, shape in SHAPES.items():
        stop = start + int(np.prod(shape))
        bounds[name] = (start, stop)
        start = stop
    assert start == N_PARAMS
    return bounds


def split(flat: np.ndarray) -> list[np.ndarray]:
    """The four arrays of a flat buffer, in the buffer's order."""
    return [flat[start:stop].reshape(SHAPES[name]) for name, (start, stop) in _bounds().items()]


def join(arrays: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([np.asarray(a, dtype=np.float64).reshape(-1) for a in arrays])


def optax_final_params(constructor: str, kwargs: dict[str, Any]) -> np.ndarray:
    """optax's flat parameters after STEPS updates, the parameters a list of four arrays."""
    import jax.numpy as jnp
    import optax

    initial, gradients = stream()
    opt = getattr(optax, constructor)(**kwargs)
    params = [jnp.asarray(a, dtype=jnp.float64) for a in split(initial)]
    state = opt.init(params)
    for gradient in gradients:
        grads = [jnp.asarray(a, dtype=jnp.float64) for a in split(gradient)]
        updates, state = opt.update(grads, state, params)
        params = optax.apply_updates(params, updates)
    assert all(p.dtype == jnp.float64 for p in params)
    return join([np.asarray(p) for p in params])


def torch_final_params(constructor: str, kwargs: dict[str, Any]) -> np.ndarray:
    """torch.optim's flat parameters after STEPS steps, one tensor per array."""
    import torch

    torch.set_default_dtype(torch.float64)
    initial, gradients = stream()
    params = [torch.nn.Parameter(torch.tensor(a, dtype=torch.float64)) for a in split(initial)]
    arguments = dict(kwargs)
    if "eps" in arguments:
        arguments["eps"] = tuple(arguments["eps"])
    optimizer = getattr(torch.optim, constructor)(params, foreach=False, **arguments)
    for gradient in gradients:
        for param, grad in zip(params, split(gradient), strict=True):
            param.grad = torch.tensor(grad, dtype=torch.float64)
        optimizer.step()
    return join([p.detach().numpy() for p in params])


REFERENCES = {"optax": optax_final_params, "torch": torch_final_params}


def _versions() -> dict[str, str]:
    import importlib.metadata

    return {
        package: importlib.metadata.version(package)
        for package in ("optax", "jax", "jaxlib", "torch", "numpy")
    }


def main() -> None:
    import jax

    jax.config.update("jax_enable_x64", True)
    cases = []
    for case_id, name, hyperparameters, reference, constructor, kwargs in CASES:
        final = REFERENCES[reference](constructor, kwargs)
        cases.append(
            {
                "id": case_id,
                "optimizer": name,
                "hyperparameters": hyperparameters,
                "reference": {"library": reference, "call": constructor, "kwargs": kwargs},
                "final_params": [float(x) for x in final],
            }
        )
    fixture = {
        "note": (
            "Written by tools/make_layerwise_fixtures.py (see its docstring for the "
            "environment). The parameters of Layout.of_network((3, 4, 2)) (W1 (4, 3), b1 (4,), "
            "W2 (2, 4), b2 (2,), flat in that order) start at np.random.default_rng("
            "initial_params_seed).standard_normal(n_params) with the slots in zero_at_start set "
            "to 0, and see the gradients np.random.default_rng(gradient_seed).standard_normal("
            "(steps, n_params)), one per update, all float64; the references get each array "
            "as a separate array or tensor of its own shape. final_params are the reference's "
            "after the last update, flat. optax ran eagerly with jax_enable_x64; torch ran "
            "foreach=False with float64 as its default dtype. tolerances: the relative "
            "tolerance per optimizer, with why."
        ),
        "versions": _versions(),
        "steps": STEPS,
        "layer_sizes": list(LAYER_SIZES),
        "n_params": N_PARAMS,
        "zero_at_start": list(ZERO_AT_START),
        "gradient_seed": GRADIENT_SEED,
        "initial_params_seed": INITIAL_PARAMS_SEED,
        "tolerances": TOLERANCES,
        "cases": cases,
    }
    text = json.dumps(fixture, indent=1)
    # One line per list of numbers.
    text = re.sub(
        r"\[\s+([^\[\]{}\"]*?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text
    )
    OUT.write_text(text + "\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
