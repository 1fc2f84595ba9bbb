"""The benchmark's baseline: a plain per-run training loop written from the course's description.

This is deliberately NOT descentlab: parameters live in a dict {"W1", "b1", ...}, forward and
backward are Python loops over the layers with ``np.dot``, the cost is the course's -log terms,
and every optimizer update walks the dict key by key, exactly as the "Optimization Methods"
exercise writes it. The protocol is the course's: He initialisation from ``RandomState(3)``,
epoch e (0-based) shuffled with ``RandomState(10 + e + 1).permutation(m)`` (never numpy's
global random state), mini-batches of 64, learning rate 0.0007, 10000 epochs.

``tools/bench.py`` times it in-process, and as a whole process:

    python tools/reference_loop.py --optimizers gd,momentum,adam [--epochs N]

which imports numpy and the course's moons (``descentlab.datasets``, numpy only), trains, and
prints one line per run. It draws no plot and imports neither matplotlib nor scikit-learn, so
as a whole process it is the cheapest a course-style script can be.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

OPTIMIZERS = ("gd", "momentum", "adam")


def initialize_parameters(layers_dims: list[int], seed: int = 3) -> dict[str, np.ndarray]:
    """He initialisation: W_l = randn(n_l, n_{l-1}) * sqrt(2 / n_{l-1}), b_l = 0."""
    rng = np.random.RandomState(seed)
    parameters = {}
    for layer in range(1, len(layers_dims)):
        parameters["W" + str(layer)] = rng.randn(
            layers_dims[layer], layers_dims[layer - 1]
        ) * np.sqrt(2 / layers_dims[layer - 1])
        parameters["b" + str(layer)] = np.zeros((layers_dims[layer], 1))
    return parameters


def random_mini_batches(
    X: np.ndarray, Y: np.ndarray, mini_batch_size: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    m = X.shape[1]
    permutation = list(np.random.RandomState(seed).permutation(m))
    shuffled_X = X[:, permutation]
    shuffled_Y = Y[:, permutation].reshape((1, m))
    mini_batches = []
    for k in range(0, m, mini_batch_size):
        mini_batches.append(
            (shuffled_X[:, k : k + mini_batch_size], shuffled_Y[:, k : k + mini_batch_size])
        )
    return mini_batches


def forward_propagation(
    X: np.ndarray, parameters: dict[str, np.ndarray]
) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """Z_l = W_l A_{l-1} + b_l; relu for hidden layers, sigmoid 1 / (1 + exp(-z)) at the output."""
    L = len(parameters) // 2
    caches = []
    A = X
    for layer in range(1, L + 1):
        Z = np.dot(parameters["W" + str(layer)], A) + parameters["b" + str(layer)]
        caches.append((A, Z))
        A = np.maximum(0, Z) if layer < L else 1 / (1 + np.exp(-Z))
    return A, caches


def compute_cost(a3: np.ndarray, Y: np.ndarray) -> float:
    """The summed cross-entropy (the course's cost_total contribution)."""
    logprobs = np.multiply(-np.log(a3), Y) + np.multiply(-np.log(1 - a3), 1 - Y)
    return float(np.sum(logprobs))


def backward_propagation(
    AL: np.ndarray,
    Y: np.ndarray,
    caches: list[tuple[np.ndarray, np.ndarray]],
    parameters: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    m = Y.shape[1]
    L = len(caches)
    grads = {}
    dZ = 1.0 / m * (AL - Y)
    for layer in range(L, 0, -1):
        A_prev, _ = caches[layer - 1]
        grads["dW" + str(layer)] = np.dot(dZ, A_prev.T)
        grads["db" + str(layer)] = np.sum(dZ, axis=1, keepdims=True)
        if layer > 1:
            dA_prev = np.dot(parameters["W" + str(layer)].T, dZ)
            dZ = np.multiply(dA_prev, np.int64(A_prev > 0))
    return grads


def update_parameters_with_gd(
    parameters: dict[str, np.ndarray], grads: dict[str, np.ndarray], learning_rate: float
) -> dict[str, np.ndarray]:
    L = len(parameters) // 2
    for layer in range(1, L + 1):
        parameters["W" + str(layer)] = (
            parameters["W" + str(layer)] - learning_rate * grads["dW" + str(layer)]
        )
        parameters["b" + str(layer)] = (
            parameters["b" + str(layer)] - learning_rate * grads["db" + str(layer)]
        )
    return parameters


def initialize_velocity(parameters: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    L = len(parameters) // 2
    v = {}
    for layer in range(1, L + 1):
        v["dW" + str(layer)] = np.zeros(parameters["W" + str(layer)].shape)
        v["db" + str(layer)] = np.zeros(parameters["b" + str(layer)].shape)
    return v


def update_parameters_with_momentum(
    parameters: dict[str, np.ndarray],
    grads: dict[str, np.ndarray],
    v: dict[str, np.ndarray],
    beta: float,
    learning_rate: float,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    L = len(parameters) // 2
    for layer in range(1, L + 1):
        for name in ("W", "b"):
            key = "d" + name + str(layer)
            v[key] = beta * v[key] + (1 - beta) * grads[key]
            parameters[name + str(layer)] = parameters[name + str(layer)] - learning_rate * v[key]
    return parameters, v


def update_parameters_with_adam(
    parameters: dict[str, np.ndarray],
    grads: dict[str, np.ndarray],
    v: dict[str, np.ndarray],
    s: dict[str, np.ndarray],
    t: int,
    learning_rate: float,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-8,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Adam with bias correction, epsilon outside the square root (the course's training form)."""
    L = len(parameters) // 2
    v_corrected = {}
    s_corrected = {}
    for layer in range(1, L + 1):
        for name in ("W", "b"):
            key = "d" + name + str(layer)
            v[key] = beta1 * v[key] + (1 - beta1) * grads[key]
            v_corrected[key] = v[key] / (1 - np.power(beta1, t))
            s[key] = beta2 * s[key] + (1 - beta2) * np.power(grads[key], 2)
            s_corrected[key] = s[key] / (1 - np.power(beta2, t))
            parameters[name + str(layer)] = parameters[
                name + str(layer)
            ] - learning_rate * v_corrected[key] / (np.sqrt(s_corrected[key]) + epsilon)
    return parameters, v, s


def model(
    X: np.ndarray,
    Y: np.ndarray,
    layers_dims: list[int],
    optimizer: str,
    learning_rate: float = 0.0007,
    mini_batch_size: int = 64,
    beta: float = 0.9,
    num_epochs: int = 10000,
) -> tuple[dict[str, np.ndarray], list[float]]:
    """The course's ``model``: returns the trained parameters and every epoch's mean cost."""
    costs = []
    t = 0
    seed = 10
    m = X.shape[1]
    parameters = initialize_parameters(layers_dims)
    v = s = {}
    if optimizer == "momentum":
        v = initialize_velocity(parameters)
    elif optimizer == "adam":
        v = initialize_velocity(parameters)
        s = initialize_velocity(parameters)
    for _ in range(num_epochs):
        seed = seed + 1
        cost_total = 0.0
        for minibatch_X, minibatch_Y in random_mini_batches(X, Y, mini_batch_size, seed):
            a3, caches = forward_propagation(minibatch_X, parameters)
            cost_total += compute_cost(a3, minibatch_Y)
            grads = backward_propagation(a3, minibatch_Y, caches, parameters)
            if optimizer == "gd":
                parameters = update_parameters_with_gd(parameters, grads, learning_rate)
            elif optimizer == "momentum":
                parameters, v = update_parameters_with_momentum(
                    parameters, grads, v, beta, learning_rate
                )
            elif optimizer == "adam":
                t = t + 1
                parameters, v, s = update_parameters_with_adam(
                    parameters, grads, v, s, t, learning_rate
                )
            else:
                raise ValueError(f"unknown optimizer {optimizer!r}")
        costs.append(cost_total / m)
    return parameters, costs


def predict(X: np.ndarray, parameters: dict[str, np.ndarray]) -> np.ndarray:
    a, _ = forward_propagation(X, parameters)
    return (a > 0.5).astype(float)


def course_data() -> tuple[np.ndarray, np.ndarray]:
    """The course's moons, (2, 300) and (1, 300): descentlab's numpy rebuild, no scikit-learn."""
    from descentlab.datasets import moons

    data = moons()
    return data.X, data.Y


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--optimizers", default=",".join(OPTIMIZERS))
    parser.add_argument("--epochs", type=int, default=10000)
    args = parser.parse_args(argv)
    X, Y = course_data()
    for optimizer in args.optimizers.split(","):
        started = time.perf_counter()
        parameters, costs = model(X, Y, [2, 5, 2, 1], optimizer, num_epochs=args.epochs)
        accuracy = float(np.mean(predict(X, parameters) == Y))
        seconds = time.perf_counter() - started
        print(f"{optimizer}: accuracy {accuracy:.4f}, final cost {costs[-1]:.6f}, {seconds:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
