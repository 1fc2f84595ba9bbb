"""Write tests/fixtures/optax_optimizers.json: the reference parameters after 500 steps for the
optimizers checked against optax (lion, adabelief, yogi) and pytorch-optimizer (adan).

A development-time script, run once by a developer when the cases change, in a virtual
environment of its own outside the repository (none of these is a dependency of descentlab or
of its tests):

    python3 -m venv /tmp/refenv
    /tmp/refenv/bin/pip install jax jaxlib optax==0.2.8 numpy torch==2.13.0 pytorch-optimizer==4.1.0
    /tmp/refenv/bin/python tools/make_optax_fixtures.py

tests/test_optim_optax_reference.py reads the JSON and never imports jax, optax or torch.

The gradient stream and the starting point are tools/make_torch_fixtures.py's, restated here
(that script imports torch at the top) and checked against tests/fixtures/torch_optimizers.json
by the test: float64 parameters of shape (3, 4),
``np.random.default_rng(INITIAL_PARAMS_SEED).standard_normal(SHAPE)``, and the STEPS gradients
``np.random.default_rng(GRADIENT_SEED).standard_normal((STEPS, *SHAPE))``, one per update.

optax runs eagerly (no ``jax.jit``) with ``jax_enable_x64``, so every array is float64;
``params = optax.apply_updates(params, updates)`` after each ``update(g, state, params)``.
pytorch-optimizer runs its per-parameter path (``foreach=False``) with float64 as torch's
default dtype, assigning each gradient to ``p.grad`` before ``step()``.

Each case names descentlab's optimizer and hyperparameters (descentlab's keyword names) and the
reference's constructor and keyword arguments. ``TOLERANCES`` holds, per optimizer, the relative
tolerance the test applies and why; they are written into the fixture beside the cases.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

STEPS = 500
SHAPE = (3, 4)
GRADIENT_SEED = 20240903
INITIAL_PARAMS_SEED = 7
OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "optax_optimizers.json"

# (case id, descentlab name, descentlab hyperparameters, reference, constructor, kwargs)
CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, Any]]] = [
    (
        "lion",
        "lion",
        {"learning_rate": 0.001},
        "optax",
        "lion",
        {"learning_rate": 0.001},
    ),
    (
        "lion-betas",
        "lion",
        {"learning_rate": 0.003, "beta1": 0.8, "beta2": 0.95, "weight_decay": 0.0},
        "optax",
        "lion",
        {"learning_rate": 0.003, "b1": 0.8, "b2": 0.95, "weight_decay": 0.0},
    ),
    (
        "lion-strong-decay",
        "lion",
        {"learning_rate": 0.002, "beta1": 0.95, "beta2": 0.98, "weight_decay": 0.5},
        "optax",
        "lion",
        {"learning_rate": 0.002, "b1": 0.95, "b2": 0.98, "weight_decay": 0.5},
    ),
    (
        "adabelief",
        "adabelief",
        {"learning_rate": 0.01},
        "optax",
        "adabelief",
        {"learning_rate": 0.01},
    ),
    (
        "adabelief-paper-epsilons",  # the paper's eps = 1e-8, eps_root = 0, other betas
        "adabelief",
        {"learning_rate": 0.01, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-8, "epsilon_root": 0.0},
        "optax",
        "adabelief",
        {"learning_rate": 0.01, "b1": 0.8, "b2": 0.99, "eps": 1e-8, "eps_root": 0.0},
    ),
    (
        "adabelief-nesterov",  # an epsilon_root large enough that its accumulation shows
        "adabelief",
        {"learning_rate": 0.01, "nesterov": True, "epsilon_root": 1e-3},
        "optax",
        "adabelief",
        {"learning_rate": 0.01, "nesterov": True, "eps_root": 1e-3},
    ),
    ("yogi", "yogi", {"learning_rate": 0.01}, "optax", "yogi", {"learning_rate": 0.01}),
    (
        "yogi-betas",
        "yogi",
        {"learning_rate": 0.01, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-6},
        "optax",
        "yogi",
        {"learning_rate": 0.01, "b1": 0.8, "b2": 0.99, "eps": 1e-6},
    ),
    (
        "yogi-initial-accumulator",  # optax.yogi does not take it: its transform, then the rate
        "yogi",
        {"learning_rate": 0.01, "initial_accumulator_value": 0.5},
        "optax",
        "scale_by_yogi",
        {"learning_rate": 0.01, "initial_accumulator_value": 0.5},
    ),
    ("adan", "adan", {"learning_rate": 0.01}, "pytorch_optimizer", "Adan", {"lr": 0.01}),
    (
        "adan-betas",
        "adan",
        {"learning_rate": 0.01, "beta1": 0.9, "beta2": 0.8, "beta3": 0.999, "epsilon": 1e-6},
        "pytorch_optimizer",
        "Adan",
        {"lr": 0.01, "betas": [0.9, 0.8, 0.999], "eps": 1e-6},
    ),
    (
        "adan-weight-decay",  # the paper's proximal decay
        "adan",
        {"learning_rate": 0.01, "weight_decay": 0.1},
        "pytorch_optimizer",
        "Adan",
        {"lr": 0.01, "weight_decay": 0.1},
    ),
    (
        "adan-weight-decouple",
        "adan",
        {"learning_rate": 0.01, "weight_decay": 0.1, "weight_decouple": True},
        "pytorch_optimizer",
        "Adan",
        {"lr": 0.01, "weight_decay": 0.1, "weight_decouple": True},
    ),
]

TOLERANCES: dict[str, dict[str, Any]] = {
    "lion": {
        "rtol": 1e-14,
        "why": "the same operations in the same order, and no powers: the measured difference "
        "is 0; the tolerance only leaves room for another CPU's kernels",
    },
    "adabelief": {
        "rtol": 1e-13,
        "why": "the same operations in the same order, but the bias corrections 1 - beta^t "
        "come from jax's power (optax) and numpy's scalar np.power (descentlab), which "
        "differ in the last bit for some t and between CPU kernel families; measured at most "
        "3.6e-15 relative",
    },
    "yogi": {
        "rtol": 1e-13,
        "why": "as adabelief: the same operations, bias-correction powers from different "
        "kernels; measured at most 7.2e-16 relative",
    },
    "adan": {
        "rtol": 1e-13,
        "why": "the same rule, but pytorch-optimizer subtracts its two step terms from W one "
        "after the other and takes 1 - beta^t from math.pow, descentlab adds the terms first "
        "and uses numpy's scalar np.power; measured at most 5.1e-15 relative",
    },
}


def _stream() -> tuple[np.ndarray, np.ndarray]:
    initial = np.random.default_rng(INITIAL_PARAMS_SEED).standard_normal(SHAPE)
    gradients = np.random.default_rng(GRADIENT_SEED).standard_normal((STEPS, *SHAPE))
    return initial, gradients


def optax_final_params(constructor: str, kwargs: dict[str, Any]) -> np.ndarray:
    """optax's parameters after STEPS updates on the shared gradient sequence."""
    import jax.numpy as jnp
    import optax

    initial, gradients = _stream()
    if constructor.startswith("scale_by_"):  # a transform without its alias: chain the rate
        rate = kwargs["learning_rate"]
        transform = getattr(optax, constructor)(
            **{k: v for k, v in kwargs.items() if k != "learning_rate"}
        )
        opt = optax.chain(transform, optax.scale_by_learning_rate(rate))
    else:
        opt = getattr(optax, constructor)(**kwargs)
    params = jnp.asarray(initial, dtype=jnp.float64)
    state = opt.init(params)
    for gradient in gradients:
        updates, state = opt.update(jnp.asarray(gradient, dtype=jnp.float64), state, params)
        params = optax.apply_updates(params, updates)
    assert params.dtype == jnp.float64
    return np.asarray(params, dtype=np.float64).copy()


def pytorch_optimizer_final_params(constructor: str, kwargs: dict[str, Any]) -> np.ndarray:
    """pytorch-optimizer's parameters after STEPS steps on the shared gradient sequence."""
    import pytorch_optimizer
    import torch

    torch.set_default_dtype(torch.float64)
    initial, gradients = _stream()
    param = torch.nn.Parameter(torch.tensor(initial, dtype=torch.float64))
    optimizer = getattr(pytorch_optimizer, constructor)([param], foreach=False, **kwargs)
    for gradient in gradients:
        param.grad = torch.tensor(gradient, dtype=torch.float64)
        optimizer.step()
    return param.detach().numpy().copy()


REFERENCES = {"optax": optax_final_params, "pytorch_optimizer": pytorch_optimizer_final_params}


def _versions() -> dict[str, str]:
    import importlib.metadata

    return {
        package: importlib.metadata.version(package)
        for package in ("optax", "jax", "jaxlib", "pytorch_optimizer", "torch", "numpy")
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
                "final_params": final.tolist(),
            }
        )
    fixture = {
        "note": (
            "Written by tools/make_optax_fixtures.py (see its docstring for the environment). "
            "Parameters start at np.random.default_rng(initial_params_seed).standard_normal("
            "shape) and see the gradients np.random.default_rng(gradient_seed).standard_normal("
            "(steps, *shape)), one per update, all float64 (the stream of "
            "torch_optimizers.json); final_params are the reference's after the last update. "
            "optax ran eagerly with jax_enable_x64; pytorch-optimizer ran foreach=False with "
            "float64 as torch's default dtype. tolerances: the relative tolerance per "
            "optimizer, with why."
        ),
        "versions": _versions(),
        "steps": STEPS,
        "shape": list(SHAPE),
        "gradient_seed": GRADIENT_SEED,
        "initial_params_seed": INITIAL_PARAMS_SEED,
        "tolerances": TOLERANCES,
        "cases": cases,
    }
    text = json.dumps(fixture, indent=1)
    # One line per innermost list of numbers (a row of parameters).
    text = re.sub(
        r"\[\s+([^\[\]{}\"]*?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text
    )
    OUT.write_text(text + "\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
