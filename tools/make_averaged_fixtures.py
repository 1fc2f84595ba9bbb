"""Write tests/fixtures/averaged_optimizers.json: the reference weights, trained and reported, of
the optimizers that report other weights than they train (asgd, schedule_free_adamw,
schedule_free_sgd).

A development-time script, run once by a developer when the cases change, in a virtual
environment of its own outside the repository (none of these is a dependency of descentlab or
of its tests):

    python3 -m venv /tmp/refenv
    /tmp/refenv/bin/pip install jax jaxlib optax==0.2.8 numpy torch==2.13.0
    /tmp/refenv/bin/python tools/make_averaged_fixtures.py

tests/test_optim_averaged_reference.py reads the JSON and never imports jax, optax or torch.

asgd against ``torch.optim.ASGD`` on the random-gradient stream of
tools/make_torch_fixtures.py (float64 parameters of shape (3, 4) from
``np.random.default_rng(INITIAL_PARAMS_SEED)``, STEPS gradients from
``np.random.default_rng(GRADIENT_SEED)``), torch's single-tensor path (``foreach=False``) with
float64 as the default dtype; the fixture holds the final parameters and torch's average
``state["ax"]``, which descentlab's ``report`` must give.

schedule_free_adamw and schedule_free_sgd against ``optax.contrib.schedule_free_adamw`` /
``schedule_free_sgd``, which evaluate the gradient at other weights (y) than they report (x),
on two fixed deterministic functions of a flat float64 vector, restated identically in the test:
``quadratic`` (four 2-D quadratics with Hessians of condition 100, 1000, 10 and 500, two of
them rotated by 45 degrees) and ``rosenbrock`` (three 2-D Rosenbrock valleys from three
starts). The gradient is computed by numpy on both sides (here from optax's parameters), so
only the optimizers' arithmetic is compared. optax runs eagerly with ``jax_enable_x64``; the
fixture holds the final y (the trained parameters) and x
(``optax.contrib.schedule_free_eval_params``).

optax 0.2.8 computes its warmup schedule (``warmup_constant_schedule``, from an int32 step
count) in float32 even under ``jax_enable_x64``, so with ``warmup_steps`` its learning rate is
float32(lr), warmup or not; descentlab computes it in float64. The warmup cases therefore use
learning rates and warmup lengths that float32 represents exactly (powers of two), where the
two agree; see the optimizers' docstrings.

``TOLERANCES`` holds, per optimizer, the relative tolerance the test applies and why.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

STEPS = 500
"""Updates of every case (the random-gradient stream of torch_optimizers.json is 500 long)."""
SHAPE = (3, 4)
GRADIENT_SEED = 20240903
INITIAL_PARAMS_SEED = 7
OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "averaged_optimizers.json"

# The deterministic functions: restated identically in tests/test_optim_averaged_reference.py.
QUADRATIC_HXX = np.array([50.5, 1.0, 5.5, 250.5])
QUADRATIC_HXY = np.array([49.5, 0.0, -4.5, 249.5])
QUADRATIC_HYY = np.array([50.5, 1000.0, 5.5, 250.5])
QUADRATIC_CENTER = np.array([1.0, -2.0, 0.5, 3.0, 2.0, 1.0, -1.5, -1.0])
QUADRATIC_START = np.array([-1.0, 2.0, 3.0, 0.0, 1.0, -1.0, 0.5, 2.0])
ROSENBROCK_START = np.array([-1.2, 0.0, 1.5, 1.0, 0.5, 2.0])


def quadratic_gradient(w: np.ndarray) -> np.ndarray:
    """The gradient of sum_j 0.5 d_j^T H_j d_j, d = w - center, w = (x_0..x_3, y_0..y_3)."""
    d = (w - QUADRATIC_CENTER).reshape(2, -1)
    gx = QUADRATIC_HXX * d[0] + QUADRATIC_HXY * d[1]
    gy = QUADRATIC_HXY * d[0] + QUADRATIC_HYY * d[1]
    return np.concatenate([gx, gy])


def rosenbrock_gradient(w: np.ndarray) -> np.ndarray:
    """The gradient of sum_j (1 - x_j)^2 + 100 (y_j - x_j^2)^2, w = (x_0..x_2, y_0..y_2)."""
    x, y = w.reshape(2, -1)
    r = y - x * x
    return np.concatenate([-2.0 * (1.0 - x) - 400.0 * x * r, 200.0 * r])


FUNCTIONS = {
    "quadratic": (quadratic_gradient, QUADRATIC_START),
    "rosenbrock": (rosenbrock_gradient, ROSENBROCK_START),
}

# (case id, descentlab name, descentlab hyperparameters, function or "stream", constructor, kwargs)
CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, Any]]] = [
    ("asgd", "asgd", {"learning_rate": 0.01}, "stream", "ASGD", {"lr": 0.01}),
    (
        "asgd-t0-50",
        "asgd",
        {"learning_rate": 0.05, "t0": 50.0},
        "stream",
        "ASGD",
        {"lr": 0.05, "t0": 50.0},
    ),
    (
        "asgd-t0-100-decays",
        "asgd",
        {"learning_rate": 0.02, "lambd": 0.01, "alpha": 0.5, "t0": 100.0, "weight_decay": 0.05},
        "stream",
        "ASGD",
        {"lr": 0.02, "lambd": 0.01, "alpha": 0.5, "t0": 100.0, "weight_decay": 0.05},
    ),
    (
        "asgd-polyak",  # averaging from the first step, no step-size decay
        "asgd",
        {"learning_rate": 0.01, "lambd": 0.0, "t0": 0.0},
        "stream",
        "ASGD",
        {"lr": 0.01, "lambd": 0.0, "t0": 0.0},
    ),
    (
        "schedule-free-adamw-quadratic",
        "schedule_free_adamw",
        {"learning_rate": 0.01},
        "quadratic",
        "schedule_free_adamw",
        {"learning_rate": 0.01},
    ),
    (
        "schedule-free-adamw-quadratic-decay",
        "schedule_free_adamw",
        {
            "learning_rate": 0.01,
            "beta2": 0.99,
            "epsilon": 1e-6,
            "weight_decay": 0.1,
            "weight_lr_power": 1.5,
        },
        "quadratic",
        "schedule_free_adamw",
        {
            "learning_rate": 0.01,
            "b2": 0.99,
            "eps": 1e-6,
            "weight_decay": 0.1,
            "weight_lr_power": 1.5,
        },
    ),
    (
        "schedule-free-adamw-rosenbrock-warmup",
        "schedule_free_adamw",
        {"learning_rate": 0.015625, "warmup_steps": 64, "beta1": 0.95},
        "rosenbrock",
        "schedule_free_adamw",
        {"learning_rate": 0.015625, "warmup_steps": 64, "b1": 0.95},
    ),
    (
        "schedule-free-adamw-rosenbrock",
        "schedule_free_adamw",
        {"learning_rate": 0.005, "beta1": 0.5, "weight_lr_power": 0.0},
        "rosenbrock",
        "schedule_free_adamw",
        {"learning_rate": 0.005, "b1": 0.5, "weight_lr_power": 0.0},
    ),
    (
        "schedule-free-sgd-quadratic",
        "schedule_free_sgd",
        {"learning_rate": 0.001},
        "quadratic",
        "schedule_free_sgd",
        {"learning_rate": 0.001},
    ),
    (
        "schedule-free-sgd-quadratic-warmup-decay",
        "schedule_free_sgd",
        {"learning_rate": 0.0009765625, "warmup_steps": 32, "beta1": 0.8, "weight_decay": 0.01},
        "quadratic",
        "schedule_free_sgd",
        {"learning_rate": 0.0009765625, "warmup_steps": 32, "b1": 0.8, "weight_decay": 0.01},
    ),
    (
        "schedule-free-sgd-rosenbrock",
        "schedule_free_sgd",
        {"learning_rate": 0.0005, "weight_lr_power": 1.0},
        "rosenbrock",
        "schedule_free_sgd",
        {"learning_rate": 0.0005, "weight_lr_power": 1.0},
    ),
    (
        "schedule-free-sgd-rosenbrock-warmup",
        "schedule_free_sgd",
        {"learning_rate": 0.00048828125, "warmup_steps": 128, "beta1": 0.98},
        "rosenbrock",
        "schedule_free_sgd",
        {"learning_rate": 0.00048828125, "warmup_steps": 128, "b1": 0.98},
    ),
]

TOLERANCES: dict[str, dict[str, Any]] = {
    "asgd": {
        "rtol": 1e-12,
        "why": "the same rule, with torch's Python-float step sizes eta and averaging weights "
        "mu computed the same way; but torch's add(alpha=) takes a fused multiply-add in its "
        "vectorised kernel and multiplies W by 1 - lambd eta before adding -eta g, where "
        "descentlab adds -eta (g + lambd W) once; measured at most 1.4e-13 relative for the "
        "weights (at an entry of 3.9e-3 that the decay drives towards 0: 5e-16 absolute) and "
        "8.3e-15 for the average ax",
    },
    "schedule_free_adamw": {
        "rtol": 1e-13,
        "why": "the same operations in the same order (jax on a CPU divides by the constant "
        "beta1 as a multiplication by 1 / beta1, and so does descentlab), but the bias "
        "correction 1 - beta2^t comes from jax's power (optax) and numpy's scalar np.power "
        "(descentlab), which differ in the last bit for some t; measured at most 3.5e-15 "
        "relative for y and x",
    },
    "schedule_free_sgd": {
        "rtol": 1e-14,
        "why": "the same operations in the same order, the averaging weight max_lr^"
        "weight_lr_power from C's pow on both sides: measured 0 (the same bits) for y and x; "
        "the tolerance only leaves room for another CPU's kernels",
    },
}


def _stream() -> tuple[np.ndarray, np.ndarray]:
    initial = np.random.default_rng(INITIAL_PARAMS_SEED).standard_normal(SHAPE)
    gradients = np.random.default_rng(GRADIENT_SEED).standard_normal((STEPS, *SHAPE))
    return initial, gradients


def torch_final(constructor: str, kwargs: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """torch's parameters and its average ``ax`` after STEPS steps on the gradient stream."""
    import torch

    torch.set_default_dtype(torch.float64)
    initial, gradients = _stream()
    param = torch.nn.Parameter(torch.tensor(initial, dtype=torch.float64))
    optimizer = getattr(torch.optim, constructor)([param], foreach=False, **kwargs)
    for gradient in gradients:
        param.grad = torch.tensor(gradient, dtype=torch.float64)
        optimizer.step()
    ax = optimizer.state[param]["ax"]
    return param.detach().numpy().copy(), ax.detach().numpy().copy()


def optax_final(
    function: str, constructor: str, kwargs: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """optax's y (the trained parameters) and x (``schedule_free_eval_params``) after STEPS
    updates on ``function``, whose gradient numpy computes from optax's y."""
    import jax.numpy as jnp
    import optax

    gradient_of, start = FUNCTIONS[function]
    opt = getattr(optax.contrib, constructor)(**kwargs)
    params = jnp.asarray(start, dtype=jnp.float64)
    state = opt.init(params)
    for _ in range(STEPS):
        gradient = gradient_of(np.asarray(params, dtype=np.float64))
        updates, state = opt.update(jnp.asarray(gradient, dtype=jnp.float64), state, params)
        params = optax.apply_updates(params, updates)
    x = optax.contrib.schedule_free_eval_params(state, params)
    assert params.dtype == jnp.float64 and x.dtype == jnp.float64
    y_final = np.asarray(params, dtype=np.float64).copy()
    x_final = np.asarray(x, dtype=np.float64).copy()
    assert np.all(np.isfinite(y_final)) and np.all(np.isfinite(x_final))
    return y_final, x_final


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
    for case_id, name, hyperparameters, function, constructor, kwargs in CASES:
        if function == "stream":
            final, reported = torch_final(constructor, kwargs)
            library = "torch"
        else:
            final, reported = optax_final(function, constructor, kwargs)
            library = "optax"
        cases.append(
            {
                "id": case_id,
                "optimizer": name,
                "hyperparameters": hyperparameters,
                "function": function,
                "reference": {"library": library, "call": constructor, "kwargs": kwargs},
                "final_params": final.tolist(),
                "reported_params": reported.tolist(),
            }
        )
    fixture = {
        "note": (
            "Written by tools/make_averaged_fixtures.py (see its docstring for the "
            "environment and the functions). function 'stream': the random-gradient stream of "
            "torch_optimizers.json (parameters of shape `shape` from initial_params_seed, "
            "`steps` gradients from gradient_seed), torch foreach=False with float64 as its "
            "default dtype. function 'quadratic' or 'rosenbrock': the deterministic function "
            "of the script and the test, optax eager with jax_enable_x64, its gradient "
            "computed by numpy. final_params: the trained weights after the last update "
            "(torch's parameters; schedule-free's y); reported_params: the weights the "
            "optimizer reports (torch's state ax; optax.contrib.schedule_free_eval_params, x). "
            "tolerances: the relative tolerance per optimizer, with why."
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
