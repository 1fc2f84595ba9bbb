"""An independent, dict-based implementation of the course's protocol, for tests only.

Written the way the assignment describes it (parameters in a dict, a Python loop over the
layers, the operation order of the course's formulas), with no descentlab code, so the
engine's results can be compared with it bit for bit.
"""

from __future__ import annotations

import numpy as np


def init_params(layer_dims: list[int], seed: int = 3) -> dict[str, np.ndarray]:
    rng = np.random.RandomState(seed)
    params = {}
    for layer in range(1, len(layer_dims)):
        params[f"W{layer}"] = rng.randn(layer_dims[layer], layer_dims[layer - 1]) * np.sqrt(
            2 / layer_dims[layer - 1]
        )
        params[f"b{layer}"] = np.zeros((layer_dims[layer], 1))
    return params


def forward(X: np.ndarray, params: dict[str, np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    n_layers = len(params) // 2
    activations = [X]
    a = X
    for layer in range(1, n_layers + 1):
        z = np.dot(params[f"W{layer}"], a) + params[f"b{layer}"]
        a = 1 / (1 + np.exp(-z)) if layer == n_layers else np.maximum(0, z)
        activations.append(a)
    return a, activations


def backward(
    Y: np.ndarray, params: dict[str, np.ndarray], activations: list[np.ndarray]
) -> dict[str, np.ndarray]:
    n_layers = len(params) // 2
    m = activations[0].shape[1]
    grads = {}
    dz = 1.0 / m * (activations[-1] - Y)
    for layer in range(n_layers, 0, -1):
        a_prev = activations[layer - 1]
        grads[f"dW{layer}"] = np.dot(dz, a_prev.T)
        grads[f"db{layer}"] = np.sum(dz, axis=1, keepdims=True)
        if layer > 1:
            da = np.dot(params[f"W{layer}"].T, dz)
            dz = np.multiply(da, np.int64(a_prev > 0))
    return grads


def cost_total(a: np.ndarray, Y: np.ndarray) -> float:
    logprobs = np.multiply(-np.log(a), Y) + np.multiply(-np.log(1 - a), 1 - Y)
    return float(np.sum(logprobs))


def mini_batches(
    X: np.ndarray, Y: np.ndarray, size: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    m = X.shape[1]
    order = list(np.random.RandomState(seed).permutation(m))
    sx, sy = X[:, order], Y[:, order].reshape((1, m))
    batches = [
        (sx[:, k * size : (k + 1) * size], sy[:, k * size : (k + 1) * size])
        for k in range(m // size)
    ]
    if m % size != 0:
        batches.append((sx[:, (m // size) * size :], sy[:, (m // size) * size :]))
    return batches


def run(
    X: np.ndarray,
    Y: np.ndarray,
    layer_dims: list[int],
    optimizer: str,
    epochs: int,
    learning_rate: float = 0.0007,
    size: int = 64,
    beta: float = 0.9,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-8,
    eps_inside_sqrt: bool = False,
) -> tuple[dict[str, np.ndarray], list[float], list[float]]:
    """The course's ``model``; returns (parameters, epoch costs, mini-batch mean costs)."""
    params = init_params(layer_dims)
    keys = list(params)
    v = {k: np.zeros_like(p) for k, p in params.items()}
    s = {k: np.zeros_like(p) for k, p in params.items()}
    t = 0
    seed = 10
    epoch_costs, batch_costs = [], []
    for _ in range(epochs):
        seed = seed + 1
        total = 0.0
        for bx, by in mini_batches(X, Y, size, seed):
            a, activations = forward(bx, params)
            c = cost_total(a, by)
            total += c
            batch_costs.append(c / bx.shape[1])
            grads = backward(by, params, activations)
            if optimizer == "adam":
                t = t + 1
            for k in keys:
                g = grads["d" + k]
                if optimizer == "gd":
                    params[k] = params[k] - learning_rate * g
                elif optimizer == "momentum":
                    v[k] = beta * v[k] + (1 - beta) * g
                    params[k] = params[k] - learning_rate * v[k]
                else:
                    v[k] = beta1 * v[k] + (1 - beta1) * g
                    v_corrected = v[k] / (1 - np.power(beta1, t))
                    s[k] = beta2 * s[k] + (1 - beta2) * np.power(g, 2)
                    s_corrected = s[k] / (1 - np.power(beta2, t))
                    if eps_inside_sqrt:
                        denominator = np.sqrt(s_corrected + epsilon)
                    else:
                        denominator = np.sqrt(s_corrected) + epsilon
                    params[k] = params[k] - learning_rate * v_corrected / denominator
        epoch_costs.append(total / X.shape[1])
    return params, epoch_costs, batch_costs
