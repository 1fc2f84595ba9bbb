"""Write tests/fixtures/muon_prodigy_optimizers.json: the reference parameters after 500 steps
for muon (torch.optim.Muon beside torch.optim.AdamW) and prodigy (pytorch-optimizer's Prodigy).

A development-time script, run once by a developer when the cases change, in a virtual
environment of its own outside the repository (none of these is a dependency of descentlab or
of its tests):

    python3 -m venv /tmp/refenv
    /tmp/refenv/bin/pip install numpy torch==2.13.0 pytorch-optimizer==4.1.0 jax optax==0.2.8
    /tmp/refenv/bin/python tools/make_muon_prodigy_fixtures.py

tests/test_optim_muon_prodigy_reference.py reads the JSON and never imports torch.

prodigy's cases use tools/make_torch_fixtures.py's stream, restated here: float64 parameters of
shape (3, 4), ``np.random.default_rng(INITIAL_PARAMS_SEED).standard_normal(SHAPE)``, and the
STEPS gradients ``np.random.default_rng(GRADIENT_SEED).standard_normal((STEPS, *SHAPE))``.
pytorch-optimizer runs its per-parameter path (``foreach=False``), float64 torch's default.
One case (``OPTAX_CASES``) checks ``bias_correction=True`` against ``optax.contrib.prodigy``
instead, run eagerly with ``jax_enable_x64``.

muon's cases run on a network's flat buffer: ``layer_sizes`` gives descentlab's layout (W1
(n1, n0), b1 (n1,), W2, b2, ..., in that order, ``Layout.of_network``), the starting buffer is
``np.random.default_rng(INITIAL_PARAMS_SEED).standard_normal(n_params)`` and the gradients
``np.random.default_rng(GRADIENT_SEED).standard_normal((STEPS, n_params))``. torch gets one
tensor per array of the layout: ``torch.optim.Muon`` the hidden weight matrices (every W but the
last), ``torch.optim.AdamW`` (foreach=False) the biases and the output layer's W, with
lr = learning_rate * adam_lr_ratio, betas = (adam_beta1, adam_beta2), eps = adam_epsilon and
weight_decay = adam_weight_decay: the split descentlab's muon makes. torch's Newton-Schulz
iteration casts to bfloat16 (for GPU speed); the reference replaces
``torch.optim._muon._zeropower_via_newtonschulz`` by the same function without that cast, so
it iterates in float64, as descentlab does. (With the cast, the final parameters differ from
the float64 ones by up to BFLOAT16_NOTE's measured amount, printed by this script.)
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

STEPS = 500
SHAPE = (3, 4)
GRADIENT_SEED = 20240903
INITIAL_PARAMS_SEED = 7
OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "muon_prodigy_optimizers.json"

# (case id, descentlab name, descentlab hyperparameters, layer sizes (None: the (3, 4) stream))
CASES: list[tuple[str, str, dict[str, Any], list[int] | None]] = [
    ("muon", "muon", {"learning_rate": 0.02}, [3, 4, 2]),
    (
        "muon-deep-plain-momentum",  # two hidden matrices, one tall and one wide
        "muon",
        {
            "learning_rate": 0.02,
            "momentum": 0.9,
            "nesterov": False,
            "weight_decay": 0.0,
            "adam_lr_ratio": 0.1,
        },
        [3, 5, 4, 2],
    ),
    (
        "muon-deep-match-rms",  # Moonshot's scale, the cubic iteration, every inner setting
        "muon",
        {
            "learning_rate": 0.01,
            "momentum": 0.8,
            "weight_decay": 0.05,
            "ns_a": 1.5,
            "ns_b": -0.5,
            "ns_c": 0.0,
            "epsilon": 1e-5,
            "ns_steps": 7,
            "match_rms_adamw": True,
            "adam_lr_ratio": 0.5,
            "adam_beta1": 0.8,
            "adam_beta2": 0.99,
            "adam_epsilon": 1e-6,
            "adam_weight_decay": 0.1,
        },
        [3, 5, 4, 2],
    ),
    ("prodigy", "prodigy", {"learning_rate": 1.0}, None),
    (
        "prodigy-bias-correction",  # optax.contrib.prodigy's rule, with other betas and d0
        "prodigy",
        {
            "learning_rate": 0.5,
            "beta1": 0.8,
            "beta2": 0.99,
            "beta3": 0.9,
            "d0": 1e-4,
            "bias_correction": True,
        },
        None,
    ),
    (
        "prodigy-weight-decay-safeguard",
        "prodigy",
        {
            "learning_rate": 0.5,  # the safeguard drops lr from s: the same at lr = 1
            "epsilon": 1e-6,
            "d_coef": 1.5,
            "weight_decay": 0.1,
            "safeguard_warmup": True,
        },
        None,
    ),
    (
        "prodigy-as-optax",  # optax.contrib.prodigy: bias_correction=True (checked against optax)
        "prodigy",
        {
            "learning_rate": 0.5,
            "beta1": 0.8,
            "beta2": 0.99,
            "beta3": 0.9,
            "d0": 1e-4,
            "weight_decay": 0.1,
            "bias_correction": True,
        },
        None,
    ),
]
OPTAX_CASES = {"prodigy-as-optax"}
"""The cases whose reference is optax.contrib.prodigy (0.2.8) rather than pytorch-optimizer."""

TOLERANCES: dict[str, dict[str, Any]] = {
    "muon": {
        "rtol": 1e-11,
        "why": "the same rule (the reference's Newton-Schulz iteration in float64, see the "
        "note), but torch fuses the iteration's products and sums in BLAS gemm calls "
        "(addmm: beta C + alpha A B) and its lerp and AdamW kernels, where descentlab "
        "multiplies and adds separately, and the iteration amplifies those last-bit "
        "differences; measured at most 2.9e-13 relative (in an entry of 3e-3; 3.3e-14 on the "
        "one-hidden-layer network). 1e-11, not 1e-12: numpy's products of these small "
        "matrices go to the BLAS kernel of the CPU at hand, which may round otherwise",
    },
    "prodigy": {
        "rtol": 1e-12,
        "why": "the same operations in the same order, but <g, x0 - x> and ||s||_1 are "
        "torch's dot and sum on one side, numpy's pairwise sums on the other, and the "
        "estimate d multiplies every later step; measured at most 5.0e-14 relative against "
        "pytorch-optimizer, 1.0e-13 against optax (whose powers beta^t come from jax). "
        "d is ill-conditioned where x0 - x is tiny (a last-bit difference in x is a relative "
        "1e-10 in x0 - x after a 1e-6 step): with d_coef = 2 and weight_decay = 0.1 on this "
        "stream the two sides end 1.5e-9 apart (absolute 1.2e-9), which is why the cases keep "
        "d_coef <= 1.5",
    },
}

DESCENTLAB_TO_TORCH_MUON = {
    "learning_rate": "lr",
    "momentum": "momentum",
    "nesterov": "nesterov",
    "weight_decay": "weight_decay",
    "epsilon": "eps",
    "ns_steps": "ns_steps",
}
MUON_DEFAULTS = {"ns_a": 3.4445, "ns_b": -4.775, "ns_c": 2.0315}
ADAMW_DEFAULTS = {
    "adam_lr_ratio": 1.0,
    "adam_beta1": 0.9,
    "adam_beta2": 0.999,
    "adam_epsilon": 1e-8,
    "adam_weight_decay": 0.01,
}


def _layout(layer_sizes: list[int]) -> list[tuple[str, int, tuple[int, ...], bool]]:
    """(name, start, shape, hidden matrix?) per array: descentlab's Layout.of_network."""
    slots = []
    start = 0
    for index in range(1, len(layer_sizes)):
        n_prev, n = layer_sizes[index - 1], layer_sizes[index]
        hidden = index < len(layer_sizes) - 1
        slots.append((f"W{index}", start, (n, n_prev), hidden))
        start += n * n_prev
        slots.append((f"b{index}", start, (n,), False))
        start += n
    return slots


def _float64_newton_schulz(grad: Any, ns_coefficients: Any, ns_steps: int, eps: float) -> Any:
    """torch.optim._muon._zeropower_via_newtonschulz (2.13.0) without its bfloat16 cast."""
    import torch

    a, b, c = ns_coefficients
    ortho_grad = grad.clone()
    if grad.size(0) > grad.size(1):
        ortho_grad = ortho_grad.T
    ortho_grad.div_(ortho_grad.norm().clamp(min=eps))
    for _ in range(ns_steps):
        gram_matrix = ortho_grad @ ortho_grad.T
        gram_update = torch.addmm(gram_matrix, gram_matrix, gram_matrix, beta=b, alpha=c)
        ortho_grad = torch.addmm(ortho_grad, gram_update, ortho_grad, beta=a)
    if grad.size(0) > grad.size(1):
        ortho_grad = ortho_grad.T
    return ortho_grad


def muon_final_params(
    hyperparameters: dict[str, Any], layer_sizes: list[int], *, bfloat16: bool = False
) -> tuple[np.ndarray, dict[str, Any]]:
    """torch's flat buffer after STEPS steps, and the reference's calls."""
    import torch
    import torch.optim._muon as muon_module

    torch.set_default_dtype(torch.float64)
    slots = _layout(layer_sizes)
    n_params = slots[-1][1] + math.prod(slots[-1][2])
    initial = np.random.default_rng(INITIAL_PARAMS_SEED).standard_normal(n_params)
    gradients = np.random.default_rng(GRADIENT_SEED).standard_normal((STEPS, n_params))
    tensors = [
        torch.nn.Parameter(torch.tensor(initial[start : start + math.prod(shape)]).reshape(shape))
        for _, start, shape, _ in slots
    ]
    settings = {**MUON_DEFAULTS, **ADAMW_DEFAULTS, **hyperparameters}
    muon_kwargs = {
        torch_name: settings[name]
        for name, torch_name in DESCENTLAB_TO_TORCH_MUON.items()
        if name in settings
    }
    muon_kwargs["ns_coefficients"] = (settings["ns_a"], settings["ns_b"], settings["ns_c"])
    muon_kwargs["adjust_lr_fn"] = (
        "match_rms_adamw" if settings.get("match_rms_adamw") else "original"
    )
    adamw_kwargs = {
        "lr": settings["learning_rate"] * settings["adam_lr_ratio"],
        "betas": (settings["adam_beta1"], settings["adam_beta2"]),
        "eps": settings["adam_epsilon"],
        "weight_decay": settings["adam_weight_decay"],
        "foreach": False,
    }
    hidden = [t for t, slot in zip(tensors, slots, strict=True) if slot[3]]
    others = [t for t, slot in zip(tensors, slots, strict=True) if not slot[3]]
    original = muon_module._zeropower_via_newtonschulz
    if not bfloat16:
        muon_module._zeropower_via_newtonschulz = _float64_newton_schulz
    try:
        optimizers = [
            torch.optim.Muon(hidden, **muon_kwargs),
            torch.optim.AdamW(others, **adamw_kwargs),
        ]
        for gradient in gradients:
            for tensor, (_, start, shape, _) in zip(tensors, slots, strict=True):
                tensor.grad = torch.tensor(gradient[start : start + math.prod(shape)]).reshape(
                    shape
                )
            for optimizer in optimizers:
                optimizer.step()
    finally:
        muon_module._zeropower_via_newtonschulz = original
    final = np.concatenate([t.detach().numpy().reshape(-1) for t in tensors])
    calls = {
        "library": "torch",
        "call": "optim.Muon(hidden matrices) + optim.AdamW(biases, output matrix)",
        "muon_kwargs": {k: list(v) if isinstance(v, tuple) else v for k, v in muon_kwargs.items()},
        "adamw_kwargs": {
            k: list(v) if isinstance(v, tuple) else v for k, v in adamw_kwargs.items()
        },
    }
    return final, calls


DESCENTLAB_TO_PYTORCH_OPTIMIZER_PRODIGY = {
    "learning_rate": "lr",
    "beta3": "beta3",
    "epsilon": "eps",
    "d0": "d0",
    "d_coef": "d_coef",
    "weight_decay": "weight_decay",
    "bias_correction": "bias_correction",
    "safeguard_warmup": "safeguard_warmup",
}


def prodigy_final_params(hyperparameters: dict[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
    """pytorch-optimizer's parameters after STEPS steps on the shared gradient stream."""
    import pytorch_optimizer
    import torch

    torch.set_default_dtype(torch.float64)
    initial = np.random.default_rng(INITIAL_PARAMS_SEED).standard_normal(SHAPE)
    gradients = np.random.default_rng(GRADIENT_SEED).standard_normal((STEPS, *SHAPE))
    kwargs: dict[str, Any] = {
        torch_name: hyperparameters[name]
        for name, torch_name in DESCENTLAB_TO_PYTORCH_OPTIMIZER_PRODIGY.items()
        if name in hyperparameters
    }
    kwargs["betas"] = (hyperparameters.get("beta1", 0.9), hyperparameters.get("beta2", 0.999))
    if "beta3" not in kwargs:
        kwargs["beta3"] = None  # sqrt(beta2), descentlab's default beta3 at the default beta2
        assert kwargs["betas"][1] == 0.999
    param = torch.nn.Parameter(torch.tensor(initial))
    optimizer = pytorch_optimizer.Prodigy([param], foreach=False, **kwargs)
    for gradient in gradients:
        param.grad = torch.tensor(gradient)
        optimizer.step()
    calls = {
        "library": "pytorch_optimizer",
        "call": "Prodigy",
        "kwargs": {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()},
        "final_d": optimizer.param_groups[0]["d"],
    }
    return param.detach().numpy().copy(), calls


DESCENTLAB_TO_OPTAX_PRODIGY = {
    "learning_rate": "learning_rate",
    "beta3": "beta3",
    "epsilon": "eps",
    "d0": "estim_lr0",
    "d_coef": "estim_lr_coef",
    "weight_decay": "weight_decay",
    "safeguard_warmup": "safeguard_warmup",
}


def optax_prodigy_final_params(
    hyperparameters: dict[str, Any],
) -> tuple[np.ndarray, dict[str, Any]]:
    """optax.contrib.prodigy's parameters after STEPS updates (eagerly, jax_enable_x64), the
    (3, 4) parameters one tree leaf; optax always bias-corrects."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import optax

    assert hyperparameters.get("bias_correction") is True
    kwargs: dict[str, Any] = {
        optax_name: hyperparameters[name]
        for name, optax_name in DESCENTLAB_TO_OPTAX_PRODIGY.items()
        if name in hyperparameters
    }
    kwargs["betas"] = (hyperparameters.get("beta1", 0.9), hyperparameters.get("beta2", 0.999))
    initial = np.random.default_rng(INITIAL_PARAMS_SEED).standard_normal(SHAPE)
    gradients = np.random.default_rng(GRADIENT_SEED).standard_normal((STEPS, *SHAPE))
    opt = optax.contrib.prodigy(**kwargs)
    params = jnp.asarray(initial, dtype=jnp.float64)
    state = opt.init(params)
    for gradient in gradients:
        updates, state = opt.update(jnp.asarray(gradient, dtype=jnp.float64), state, params)
        params = optax.apply_updates(params, updates)
    assert params.dtype == jnp.float64
    calls = {
        "library": "optax",
        "call": "contrib.prodigy",
        "kwargs": {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()},
        "final_d": float(state.estim_lr),
    }
    return np.asarray(params, dtype=np.float64).copy(), calls


def _versions() -> dict[str, str]:
    import importlib.metadata

    return {
        package: importlib.metadata.version(package)
        for package in ("torch", "pytorch_optimizer", "optax", "jax", "numpy")
    }


def main() -> None:
    cases = []
    for case_id, name, hyperparameters, layer_sizes in CASES:
        if name == "muon":
            assert layer_sizes is not None
            final, reference = muon_final_params(hyperparameters, layer_sizes)
            in_bfloat16, _ = muon_final_params(hyperparameters, layer_sizes, bfloat16=True)
            print(
                f"{case_id}: torch's bfloat16 iteration differs from float64 by up to "
                f"{np.max(np.abs(in_bfloat16 - final) / np.abs(final)):.2e} relative"
            )
        elif case_id in OPTAX_CASES:
            final, reference = optax_prodigy_final_params(hyperparameters)
            print(f"{case_id}: final d {reference['final_d']:.6g}")
        else:
            final, reference = prodigy_final_params(hyperparameters)
            print(f"{case_id}: final d {reference['final_d']:.6g}")
        case: dict[str, Any] = {
            "id": case_id,
            "optimizer": name,
            "hyperparameters": hyperparameters,
            "reference": reference,
            "final_params": final.tolist(),
        }
        if layer_sizes is not None:
            case["layer_sizes"] = layer_sizes
        cases.append(case)
    fixture = {
        "note": (
            "Written by tools/make_muon_prodigy_fixtures.py (see its docstring for the "
            "environment and the streams). prodigy: parameters of shape `shape` start at "
            "np.random.default_rng(initial_params_seed).standard_normal(shape) and see "
            "np.random.default_rng(gradient_seed).standard_normal((steps, *shape)), one per "
            "update (the stream of torch_optimizers.json); pytorch-optimizer ran foreach=False, "
            "optax (prodigy-as-optax) eagerly with jax_enable_x64. "
            "muon: a network's flat buffer of n_params entries (the layout of "
            "Layout.of_network(layer_sizes)) starts at "
            "np.random.default_rng(initial_params_seed).standard_normal(n_params) and sees "
            "np.random.default_rng(gradient_seed).standard_normal((steps, n_params)); torch.optim."
            "Muon updated the hidden matrices, torch.optim.AdamW the rest, with torch's "
            "Newton-Schulz iteration run in float64 (its bfloat16 cast removed). All float64; "
            "final_params are the reference's after the last update. tolerances: the relative "
            "tolerance per optimizer, with why."
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
    text = re.sub(
        r"\[\s+([^\[\]{}\"]*?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text
    )
    OUT.write_text(text + "\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
