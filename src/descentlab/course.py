"""The course's function names, signatures and shapes, over descentlab's engine.

For people who learned with the "Optimization Methods" assignment: parameters are dicts
``{"W1", "b1", ..., "WL", "bL"}``, gradients ``{"dW1", "db1", ...}``, data has examples in
columns (X of shape (n_x, m), Y of shape (1, m)). Every function here converts to and from
the engine's flat buffers and calls the core (``nn``, ``batching``, ``optim``, ``train``);
none holds a second copy of the math. Unlike the course, nothing touches numpy's global
random state and nothing is plotted.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from descentlab import batching, datasets, losses, nn, optim, schedules
from descentlab.engines import NUMPY
from descentlab.seeds import COURSE_SHUFFLE_SEED
from descentlab.train import train
from descentlab.validation import check_int

Parameters = dict[str, np.ndarray]


def _parameter_keys(parameters: Parameters) -> list[str]:
    """["W1", "b1", ..., "WL", "bL"] for a dict of L layers, as the course counts them."""
    n_layers = len(parameters) // 2
    keys = [f"{kind}{i}" for i in range(1, n_layers + 1) for kind in ("W", "b")]
    if n_layers < 1 or len(parameters) != 2 * n_layers or set(keys) != set(parameters):
        raise ValueError(f"parameters must hold W1, b1, ..., WL, bL; got keys {sorted(parameters)}")
    return keys


class _Packing:
    """The course's dicts of arrays <-> one flat buffer for the optimizers.

    The course's update functions work key by key on any dict of arrays (its test cases use
    shapes that are not one network), so this packs by key and shape, not by architecture.
    """

    def __init__(self, parameters: Parameters) -> None:
        self.keys = _parameter_keys(parameters)
        self.shapes = [np.shape(parameters[key]) for key in self.keys]

    def pack(self, tree: Parameters, prefix: str = "") -> np.ndarray:
        arrays = []
        for key, shape in zip(self.keys, self.shapes, strict=True):
            name = prefix + key
            if name not in tree:
                raise ValueError(
                    f"missing {name!r}; expected keys {[prefix + k for k in self.keys]}"
                )
            array = np.asarray(tree[name], dtype=float)
            if array.shape != shape:
                raise ValueError(f"{name} has shape {array.shape}, but {key} has shape {shape}")
            arrays.append(array.ravel())
        return np.concatenate(arrays)

    def unpack(self, flat: np.ndarray, prefix: str = "") -> Parameters:
        tree: Parameters = {}
        start = 0
        for key, shape in zip(self.keys, self.shapes, strict=True):
            size = int(np.prod(shape))
            tree[prefix + key] = flat[start : start + size].reshape(shape).copy()
            start += size
        return tree


def _network_of(parameters: Parameters) -> nn.Network:
    """The network whose layers the dict holds; W_l must chain (n_l, n_{l-1})."""
    keys = _parameter_keys(parameters)
    weights = [np.shape(parameters[key]) for key in keys[::2]]
    sizes = [weights[0][1]] + [shape[0] for shape in weights]
    for index, shape in enumerate(weights, start=1):
        if len(shape) != 2 or shape[1] != sizes[index - 1]:
            raise ValueError(
                f"W{index} has shape {shape}; expected ({sizes[index]}, {sizes[index - 1]})"
            )
    return nn.Network(tuple(sizes))


def _params_flat(network: nn.Network, parameters: Parameters) -> np.ndarray:
    return network.from_layers(
        [
            (np.asarray(parameters[f"W{i}"], float), np.asarray(parameters[f"b{i}"], float))
            for i in range(1, network.n_layers + 1)
        ]
    )


def _unflatten(network: nn.Network, flat: np.ndarray, w_key: str, b_key: str) -> Parameters:
    tree: Parameters = {}
    for i, (W, b) in enumerate(network.layers(flat), start=1):
        tree[w_key.format(i)] = W.copy()
        tree[b_key.format(i)] = b.copy()
    return tree


def load_dataset() -> tuple[np.ndarray, np.ndarray]:
    """The course's moons: train_X (2, 300), train_Y (1, 300) with integer labels 0/1."""
    X, y = datasets.make_moons(n_samples=300, noise=0.2, seed=datasets.COURSE_MOONS_SEED)
    return X.T, y.reshape((1, y.shape[0]))


def initialize_parameters(layers_dims: list[int]) -> Parameters:
    """He initialisation with the course's seed 3: W_l = randn(n_l, n_{l-1}) * sqrt(2 / n_{l-1})."""
    network = nn.Network(tuple(layers_dims))
    return _unflatten(network, nn.he_initialization(network), "W{}", "b{}")


def _cache_tuple(
    cache: nn.ForwardCache, network: nn.Network, params: np.ndarray
) -> tuple[np.ndarray, ...]:
    items: list[np.ndarray] = []
    for Z, A, (W, b) in zip(
        cache.pre_activations, cache.activations[1:], network.layers(params), strict=True
    ):
        items += [Z, A, W, b]
    return tuple(items)


def forward_propagation(
    X: np.ndarray, parameters: Parameters
) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """LINEAR -> RELU for the hidden layers, LINEAR -> SIGMOID at the output.

    Returns ``(aL, cache)`` with cache ``(z1, a1, W1, b1, ..., zL, aL, WL, bL)``, the course's
    ``(z1, a1, W1, b1, z2, a2, W2, b2, z3, a3, W3, b3)`` for three layers.
    """
    network = _network_of(parameters)
    params = _params_flat(network, parameters)
    with np.errstate(over="ignore"):
        cache = nn.forward(network, params, np.asarray(X, float))
    return cache.output, _cache_tuple(cache, network, params)


def backward_propagation(X: np.ndarray, Y: np.ndarray, cache: tuple[np.ndarray, ...]) -> Parameters:
    """Gradients ``{"dW1", "db1", ..., "dWL", "dbL"}`` of the mean cost over the batch."""
    if len(cache) % 4 != 0 or not cache:
        raise ValueError("cache must be the tuple forward_propagation returns")
    n_layers = len(cache) // 4
    Zs = [cache[4 * i] for i in range(n_layers)]
    As = [cache[4 * i + 1] for i in range(n_layers)]
    layers = [(cache[4 * i + 2], cache[4 * i + 3]) for i in range(n_layers)]
    network = nn.Network((layers[0][0].shape[1], *(W.shape[0] for W, _ in layers)))
    params = network.from_layers(layers)
    engine_cache = nn.ForwardCache(Zs, [np.asarray(X, float), *As])
    grads = nn.backward(network, params, engine_cache, np.asarray(Y, float))
    return _unflatten(network, grads, "dW{}", "db{}")


def compute_cost(a3: np.ndarray, Y: np.ndarray) -> float:
    """The summed cross-entropy over the batch's examples (the course's ``cost_total``);
    the mean cost is ``compute_cost(a3, Y) / m``. Finite even when a3 saturates."""
    return float(
        np.sum(losses.clipped_cross_entropy_terms(np.asarray(a3, float), np.asarray(Y, float)))
    )


def predict(X: np.ndarray, y: np.ndarray, parameters: Parameters) -> np.ndarray:
    """Labels (1, m): 1 where aL > 0.5. Prints "Accuracy: <fraction>" as the course does."""
    network = _network_of(parameters)
    p = nn.predict(network, _params_flat(network, parameters), np.asarray(X, float))
    print("Accuracy: " + str(np.mean(p[0, :] == np.asarray(y)[0, :])))
    return p


def predict_dec(parameters: Parameters, X: np.ndarray) -> np.ndarray:
    """Boolean predictions (1, m), aL > 0.5; the course uses it to draw decision boundaries."""
    network = _network_of(parameters)
    return nn.predict_proba(network, _params_flat(network, parameters), np.asarray(X, float)) > 0.5


def random_mini_batches(
    X: np.ndarray, Y: np.ndarray, mini_batch_size: int = 64, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Shuffle X and Y synchronously with ``np.random.seed(seed)``'s permutation (without
    touching the global state) and cut batches of ``mini_batch_size``; the last may be smaller."""
    return batching.random_mini_batches(X, Y, mini_batch_size, seed)


def update_parameters_with_gd(
    parameters: Parameters, grads: Parameters, learning_rate: float
) -> Parameters:
    """W_l = W_l - learning_rate * dW_l;  b_l = b_l - learning_rate * db_l."""
    packing = _Packing(parameters)
    params = packing.pack(parameters)
    opt = optim.gd(learning_rate)
    updates, _ = opt.update(packing.pack(grads, "d"), opt.init(params), params)
    return packing.unpack(optim.apply_updates(params, updates))


def initialize_velocity(parameters: Parameters) -> Parameters:
    """Zero velocities ``{"dW1", "db1", ...}`` shaped like the parameters."""
    packing = _Packing(parameters)
    state = optim.momentum(1.0).init(packing.pack(parameters))
    return packing.unpack(state.velocity, "d")


def update_parameters_with_momentum(
    parameters: Parameters, grads: Parameters, v: Parameters, beta: float, learning_rate: float
) -> tuple[Parameters, Parameters]:
    """v = beta v + (1 - beta) dW;  W = W - learning_rate v (and the same for b).
    Returns ``(parameters, v)``."""
    packing = _Packing(parameters)
    params = packing.pack(parameters)
    opt = optim.momentum(learning_rate, beta)
    state = optim.MomentumState(step=0, velocity=packing.pack(v, "d"))
    updates, state = opt.update(packing.pack(grads, "d"), state, params)
    return packing.unpack(optim.apply_updates(params, updates)), packing.unpack(state.velocity, "d")


def initialize_adam(parameters: Parameters) -> tuple[Parameters, Parameters]:
    """Zero first and second moment estimates ``(v, s)``, each ``{"dW1", "db1", ...}``."""
    packing = _Packing(parameters)
    state = optim.adam(1.0).init(packing.pack(parameters))
    return packing.unpack(state.mu, "d"), packing.unpack(state.nu, "d")


def update_parameters_with_adam(
    parameters: Parameters,
    grads: Parameters,
    v: Parameters,
    s: Parameters,
    t: int,
    learning_rate: float = 0.01,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-8,
) -> tuple[Parameters, Parameters, Parameters]:
    """One Adam step with step count ``t`` (the caller increments t before each call, from 1).

    v = beta1 v + (1 - beta1) dW;  s = beta2 s + (1 - beta2) dW^2;
    W = W - learning_rate * (v / (1 - beta1^t)) / (sqrt(s / (1 - beta2^t)) + epsilon).
    Returns ``(parameters, v, s)``.
    """
    t = check_int("t", t, minimum=1)
    packing = _Packing(parameters)
    params = packing.pack(parameters)
    opt = optim.adam(learning_rate, beta1, beta2, epsilon)
    state = optim.AdamState(step=t - 1, mu=packing.pack(v, "d"), nu=packing.pack(s, "d"))
    updates, state = opt.update(packing.pack(grads, "d"), state, params)
    return (
        packing.unpack(optim.apply_updates(params, updates)),
        packing.unpack(state.mu, "d"),
        packing.unpack(state.nu, "d"),
    )


def update_lr(learning_rate0: float, epoch_num: int, decay_rate: float) -> float:
    """learning_rate0 / (1 + decay_rate * epoch_num): decay after every epoch."""
    return schedules.inverse_time(learning_rate0, decay_rate, every=1)(epoch_num)


def schedule_lr_decay(
    learning_rate0: float, epoch_num: int, decay_rate: float, time_interval: int = 1000
) -> float:
    """learning_rate0 / (1 + decay_rate * floor(epoch_num / time_interval)): the rate changes
    only when epoch_num reaches a multiple of time_interval."""
    return schedules.inverse_time(learning_rate0, decay_rate, every=time_interval)(epoch_num)


Decay = Callable[[float, int, float], float]

_COURSE_OPTIMIZERS = ("gd", "momentum", "adam")


def model(
    X: np.ndarray,
    Y: np.ndarray,
    layers_dims: list[int],
    optimizer: str,
    learning_rate: float = 0.0007,
    mini_batch_size: int = 64,
    beta: float = 0.9,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-8,
    num_epochs: int = 10000,
    print_cost: bool = True,
    decay: Decay | None = None,
    decay_rate: float = 1,
) -> Parameters:
    """Train the network ``layers_dims`` with "gd", "momentum" or "adam", the course's protocol:
    He initialisation with seed 3, epoch e shuffled with seed 10 + e + 1, batches of
    ``mini_batch_size``. Prints "Cost after epoch i: c" every 1000 epochs (c the epoch's mean
    cost) when ``print_cost``; returns the trained parameters.

    With ``decay`` (``update_lr``, ``schedule_lr_decay`` or any function of
    ``(learning_rate0, epoch_num, decay_rate)``) the rate becomes
    ``decay(learning_rate, i, decay_rate)`` after epoch i, as the course applies it, and the
    printout adds "learning rate after epoch i: r".

    It always trains with the numpy engine (``descentlab.engines``), the course's arithmetic to
    the last bit, whatever ``DESCENTLAB_ENGINE`` or an enclosing ``engines.using`` says."""
    if optimizer not in _COURSE_OPTIMIZERS:
        raise ValueError(
            f"unknown optimizer {optimizer!r}; choose one of: {', '.join(_COURSE_OPTIMIZERS)}"
        )
    network = nn.Network(tuple(layers_dims))
    batches_per_epoch = -(-np.shape(X)[1] // mini_batch_size)
    rate: optim.ScalarOrSchedule = learning_rate
    if decay is not None:
        decay_function = decay

        def after_epoch(epoch: int) -> float:
            return decay_function(learning_rate, epoch, decay_rate)

        def rate_at(step: int) -> float:
            # Epoch 0 runs at learning_rate; epoch e >= 1 at the rate set after epoch e - 1.
            epoch = step // batches_per_epoch
            return learning_rate if epoch == 0 else after_epoch(epoch - 1)

        rate = rate_at
    if optimizer == "gd":
        opt = optim.gd(rate)
    elif optimizer == "momentum":
        opt = optim.momentum(rate, beta)
    else:
        opt = optim.adam(rate, beta1, beta2, epsilon)

    def report(epoch: int, cost: float) -> None:
        if print_cost and epoch % 1000 == 0:
            print(f"Cost after epoch {epoch}: {cost:f}")
            if decay is not None:
                print(f"learning rate after epoch {epoch}: {after_epoch(epoch):f}")

    result = train(
        network,
        np.asarray(X, float),
        np.asarray(Y, float),
        opt,
        epochs=num_epochs,
        batch_size=mini_batch_size,
        shuffle_seed=COURSE_SHUFFLE_SEED,
        on_epoch_end=report,
        engine=NUMPY,  # the course's numbers to the last bit, whatever DESCENTLAB_ENGINE says
    )
    return _unflatten(network, result.params, "W{}", "b{}")
