"""A fully connected network: He initialisation, ReLU hidden layers, sigmoid output,
binary cross-entropy. Forward and backward are vectorised over the batch.

All parameters live in one flat float64 buffer ``params`` laid out as W1, b1, W2, b2, ...;
``Network.layers(params)`` gives per-layer views ``(W, b)`` with W of shape (n_l, n_{l-1})
and b of shape (n_l, 1). Any leading axes of the buffer are kept, so a buffer of shape
(K, n_params) holds K networks and the same code trains them together.

The arithmetic follows the course's ``opt_utils`` operation by operation (for example
``dZ_L = 1/m * (A_L - Y)``), so results agree with it to the last bit.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from descentlab.validation import check_int

COURSE_INIT_SEED = 3
"""The course's ``initialize_parameters`` calls ``np.random.seed(3)``."""


@dataclass(frozen=True)
class Network:
    """The architecture ``layer_sizes = (n_x, n_1, ..., n_L)``; it owns no parameters."""

    layer_sizes: tuple[int, ...]
    _offsets: tuple[tuple[int, int, int], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        sizes = tuple(check_int("layer size", n, minimum=1) for n in self.layer_sizes)
        if len(sizes) < 2:
            raise ValueError(f"a network needs at least an input and an output size, got {sizes}")
        object.__setattr__(self, "layer_sizes", sizes)
        offsets = []
        start = 0
        for n_prev, n in itertools.pairwise(sizes):
            offsets.append((start, start + n * n_prev, start + n * n_prev + n))
            start += n * n_prev + n
        object.__setattr__(self, "_offsets", tuple(offsets))

    @classmethod
    def for_classes(
        cls, n_features: int, hidden_layers: Sequence[int], n_classes: int = 2
    ) -> Network:
        """[n_features, *hidden_layers, n_out]: one sigmoid output for two classes,
        ``n_classes`` softmax outputs for more."""
        return cls((n_features, *hidden_layers, 1 if n_classes == 2 else n_classes))

    @property
    def n_layers(self) -> int:
        """L, the number of weight layers (the input layer is not counted)."""
        return len(self.layer_sizes) - 1

    @property
    def n_params(self) -> int:
        return self._offsets[-1][2]

    @property
    def output(self) -> str:
        """ "sigmoid" for one output unit (binary labels 0/1, Y of shape (1, m)), "softmax" for
        C > 1 units (one-hot Y of shape (C, m))."""
        return "sigmoid" if self.layer_sizes[-1] == 1 else "softmax"

    def layers(self, params: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Views ``(W_l, b_l)`` into ``params`` (shape (..., n_params)), layer by layer."""
        lead = params.shape[:-1]
        views = []
        for (w_start, b_start, b_stop), n_prev, n in zip(
            self._offsets, self.layer_sizes[:-1], self.layer_sizes[1:], strict=True
        ):
            W = params[..., w_start:b_start].reshape(*lead, n, n_prev)
            b = params[..., b_start:b_stop].reshape(*lead, n, 1)
            views.append((W, b))
        return views

    def from_layers(self, layers: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """Pack per-layer ``(W, b)`` arrays into a new flat buffer (the inverse of ``layers``)."""
        if len(layers) != self.n_layers:
            raise ValueError(f"expected {self.n_layers} layers, got {len(layers)}")
        lead = np.broadcast_shapes(*(W.shape[:-2] for W, _ in layers))
        params = np.zeros((*lead, self.n_params))
        for (W, b), (W_view, b_view) in zip(layers, self.layers(params), strict=True):
            if W.shape[-2:] != W_view.shape[-2:] or b.shape[-2:] != b_view.shape[-2:]:
                raise ValueError(
                    f"layer shapes {W.shape[-2:]} and {b.shape[-2:]} do not match "
                    f"{W_view.shape[-2:]} and {b_view.shape[-2:]}"
                )
            W_view[...] = W
            b_view[...] = b
        return params


def he_initialization(network: Network, seed: int = COURSE_INIT_SEED) -> np.ndarray:
    """He initialisation as the course does it: one legacy ``RandomState(seed)`` stream,
    ``W_l = randn(n_l, n_{l-1}) * sqrt(2 / n_{l-1})`` layer by layer, ``b_l = 0``."""
    rng = np.random.RandomState(seed)
    params = np.zeros(network.n_params)
    for W, _ in network.layers(params):
        n, n_prev = W.shape
        W[...] = rng.randn(n, n_prev) * np.sqrt(2 / n_prev)
    return params


def glorot_uniform_initialization(network: Network, seed: int = COURSE_INIT_SEED) -> np.ndarray:
    """Glorot (Xavier) uniform initialisation as scikit-learn's ``MLPClassifier`` draws it
    for ReLU networks: one legacy ``RandomState(seed)`` stream; layer by layer, with
    r = sqrt(6 / (n_{l-1} + n_l)), ``W_l^T = uniform(-r, r, (n_{l-1}, n_l))`` then
    ``b_l = uniform(-r, r, n_l)``, so the same seed gives MLPClassifier's initial weights."""
    rng = np.random.RandomState(seed)
    params = np.zeros(network.n_params)
    for W, b in network.layers(params):
        n, n_prev = W.shape
        bound = np.sqrt(6 / (n_prev + n))
        W[...] = rng.uniform(-bound, bound, (n_prev, n)).T
        b[:, 0] = rng.uniform(-bound, bound, n)
    return params


def relu(Z: np.ndarray) -> np.ndarray:
    return np.maximum(0, Z)


def sigmoid(Z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-Z))


class ForwardCache(NamedTuple):
    """Every layer's pre-activation Z_l (l = 1..L) and activation A_l (A_0 = X)."""

    pre_activations: list[np.ndarray]
    activations: list[np.ndarray]

    @property
    def output_logits(self) -> np.ndarray:
        """Z_L, the output layer's logits."""
        return self.pre_activations[-1]

    @property
    def output(self) -> np.ndarray:
        """The sigmoid output A_L, the probability of class 1."""
        return self.activations[-1]


class Workspace:
    """Preallocated buffers for forward and backward passes over batches of ``batch_size``
    columns, bound to one parameter buffer and one gradient buffer.

    The training loop keeps one per batch size and reuses it every step, so a step allocates
    nothing for the network; ``forward`` and ``backward`` below build a fresh one per call.
    The arrays a pass returns are the workspace's own and are overwritten by the next pass.
    """

    def __init__(
        self,
        network: Network,
        params: np.ndarray,
        batch_size: int,
        grads: np.ndarray | None = None,
        lead: tuple[int, ...] | None = None,
    ) -> None:
        lead = params.shape[:-1] if lead is None else lead
        dtype = np.result_type(params.dtype, np.float32)
        self.layers = network.layers(params)
        self.weights_t = [W.mT for W, _ in self.layers]
        self.grads = np.zeros(params.shape, dtype) if grads is None else grads
        self.grad_layers = network.layers(self.grads)
        sizes = network.layer_sizes[1:]
        self.Z = [np.empty((*lead, n, batch_size), dtype) for n in sizes]
        self.A = [np.empty((*lead, n, batch_size), dtype) for n in sizes]
        self.dZ = [np.empty((*lead, n, batch_size), dtype) for n in sizes]
        self.active = [np.empty((*lead, n, batch_size), bool) for n in sizes[:-1]]
        self.A_t = [A.mT for A in self.A]
        self.softmax = network.output == "softmax"
        self.column = np.empty((*lead, 1, batch_size), dtype)
        self.last = len(self.layers) - 1

    def cache_for(
        self,
        X: np.ndarray,
        output_logits: np.ndarray | None = None,
        output: np.ndarray | None = None,
    ) -> ForwardCache:
        """The cache a pass over ``X`` fills: the workspace's buffers, with Z_L and A_L in
        ``output_logits`` and ``output`` when given."""
        Z_L = self.Z[-1] if output_logits is None else output_logits
        A_L = self.A[-1] if output is None else output
        return ForwardCache([*self.Z[:-1], Z_L], [X, *self.A[:-1], A_L])

    def bind(self, cache: ForwardCache, weights: np.ndarray | None = None) -> Pass:
        """A pass over ``cache``'s input into ``cache``'s arrays, ready to run every step.
        ``weights`` (shape (..., 1, batch_size), read at every ``backward``) are the
        examples' normalised weights w_i / sum_j w_j; None is the unweighted mean."""
        return Pass(self, cache, weights)

    def forward(
        self,
        X: np.ndarray,
        output_logits: np.ndarray | None = None,
        output: np.ndarray | None = None,
    ) -> ForwardCache:
        """One forward pass over X (see ``Pass.forward``); returns the filled cache."""
        return self.bind(self.cache_for(X, output_logits, output)).forward()

    def backward(
        self, cache: ForwardCache, Y: np.ndarray, weights: np.ndarray | None = None
    ) -> np.ndarray:
        """Gradients for a forward pass already in ``cache`` (see ``Pass.backward``)."""
        return self.bind(cache, weights).backward(Y)


class Pass:
    """One batch's forward and backward pass through a workspace. Every array and view the two
    need is worked out once, here, so that a training step does numpy calls and little else."""

    def __init__(
        self, workspace: Workspace, cache: ForwardCache, weights: np.ndarray | None = None
    ) -> None:
        self.cache = cache
        self.weights = weights
        self.grads = workspace.grads
        self.softmax = workspace.softmax
        self.column = workspace.column
        Zs, As = cache.pre_activations, cache.activations
        last = workspace.last
        self.layers = [
            (W, As[index], b, Zs[index], As[index + 1])
            for index, (W, b) in enumerate(workspace.layers)
        ]
        self.inverse_m = 1.0 / As[0].shape[-1]
        self.dZ_L = workspace.dZ[last]
        self.backward_layers = [
            (
                workspace.dZ[index],
                As[index].mT,
                *workspace.grad_layers[index],
                workspace.weights_t[index],
                workspace.dZ[index - 1] if index > 0 else None,
                As[index],
                workspace.active[index - 1] if index > 0 else None,
            )
            for index in range(last, -1, -1)
        ]

    def forward(self) -> ForwardCache:
        """Z_l = W_l A_{l-1} + b_l; A_l = max(0, Z_l) for hidden layers; at the output
        A_L = 1 / (1 + e^{-Z_L}) (sigmoid) or A_L = e^{Z_L - max Z_L} / sum_c e^{Z_L - max Z_L}
        (softmax over the C rows of each column). Fills and returns the cache."""
        for W, A_prev, b, Z, A in self.layers[:-1]:
            np.matmul(W, A_prev, out=Z)
            Z += b
            np.maximum(0, Z, out=A)
        W, A_prev, b, Z, out = self.layers[-1]
        np.matmul(W, A_prev, out=Z)
        Z += b
        if self.softmax:
            np.maximum.reduce(Z, axis=-2, keepdims=True, out=self.column)
            np.subtract(Z, self.column, out=out)
            np.exp(out, out=out)
            np.add.reduce(out, axis=-2, keepdims=True, out=self.column)
            np.divide(out, self.column, out=out)
        else:
            np.negative(Z, out=out)
            np.exp(out, out=out)
            np.add(1, out, out=out)
            np.divide(1, out, out=out)
        return self.cache

    def backward(self, Y: np.ndarray) -> np.ndarray:
        """Gradients of the mean cross-entropy over the batch, written into the workspace's
        gradient buffer (returned).

        dZ_L = 1/m (A_L - Y) (for sigmoid with binary cross-entropy and for softmax with
        categorical cross-entropy alike); dW_l = dZ_l A_{l-1}^T; db_l = sum_columns(dZ_l);
        dA_{l-1} = W_l^T dZ_l; dZ_{l-1} = dA_{l-1} * (A_{l-1} > 0).
        With the pass's ``weights`` v_i = w_i / sum_j w_j the loss is the weighted mean
        sum_i w_i L_i / sum_i w_i and dZ_L = (A_L - Y) * v instead (v broadcast over rows);
        without them the unweighted arithmetic above runs unchanged, bit for bit.
        """
        dZ_L = self.dZ_L
        np.subtract(self.cache.activations[-1], Y, out=dZ_L)
        if self.weights is None:
            np.multiply(self.inverse_m, dZ_L, out=dZ_L)
        else:
            np.multiply(dZ_L, self.weights, out=dZ_L)
        for dZ, A_prev_t, dW, db, W_t, dA_prev, A_prev, active in self.backward_layers:
            np.matmul(dZ, A_prev_t, out=dW)
            np.add.reduce(dZ, axis=-1, keepdims=True, out=db)
            if dA_prev is not None and active is not None:
                np.matmul(W_t, dZ, out=dA_prev)
                np.greater(A_prev, 0, out=active)
                np.multiply(dA_prev, active, out=dA_prev)
        return self.grads


def _lead_shape(params: np.ndarray, X: np.ndarray) -> tuple[int, ...]:
    return np.broadcast_shapes(params.shape[:-1], X.shape[:-2])


def forward(network: Network, params: np.ndarray, X: np.ndarray) -> ForwardCache:
    """Z_l = W_l A_{l-1} + b_l; A_l = max(0, Z_l) for hidden layers, sigmoid(Z_L) at the output."""
    return Workspace(network, params, X.shape[-1], lead=_lead_shape(params, X)).forward(X)


def backward(
    network: Network,
    params: np.ndarray,
    cache: ForwardCache,
    Y: np.ndarray,
    out: np.ndarray | None = None,
    sample_weight: np.ndarray | None = None,
) -> np.ndarray:
    """Gradients of the mean cross-entropy over the batch, in the layout of ``params``
    (see ``Pass.backward`` for the rule).

    With ``sample_weight`` (shape (m,) or (..., 1, m), finite, >= 0, positive sum) they are
    the gradients of the weighted mean sum_i w_i L_i / sum_i w_i
    (``losses.weighted_cross_entropy_mean``)."""
    X = cache.activations[0]
    workspace = Workspace(network, params, X.shape[-1], grads=out, lead=_lead_shape(params, X))
    weights = None
    if sample_weight is not None:
        w = np.asarray(sample_weight, dtype=workspace.grads.dtype)
        w = w.reshape(1, -1) if w.ndim == 1 else w
        weights = w / np.sum(w, axis=-1, keepdims=True)
    return workspace.backward(cache, Y, weights)


def predict_proba(network: Network, params: np.ndarray, X: np.ndarray) -> np.ndarray:
    """A_L for every column of X: the probability of class 1, shape (..., 1, m) (sigmoid), or
    of each class, shape (..., C, m) (softmax). A diverged run's parameters (inf, NaN) give
    NaN probabilities without a warning; the callers that must not see them check."""
    with np.errstate(over="ignore", invalid="ignore"):
        return forward(network, params, X).output


def predict(network: Network, params: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Labels 0/1 as the course predicts them: 1 where A_L > 0.5, shape (..., 1, m)."""
    return (predict_proba(network, params, X) > 0.5).astype(np.int64)


def predict_classes(network: Network, params: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Class indices, shape (..., m), of every column of X (``predicted_classes``)."""
    return predicted_classes(predict_proba(network, params, X))


def predicted_classes(output: np.ndarray) -> np.ndarray:
    """Class indices (..., m) from network outputs A_L (..., C, m): A_L > 0.5 for one sigmoid
    row, as the course predicts, the most probable row for softmax (the one rule of class
    prediction)."""
    if output.shape[-2] == 1:
        return (output[..., 0, :] > 0.5).astype(np.int64)
    return np.argmax(output, axis=-2)
