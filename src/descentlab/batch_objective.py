"""The current mini-batch as a function of the parameters, for the optimizers that need more
than its gradient at the current weights (``descentlab.optim.base``: ``value`` and
``value_and_grad``).

The training loop builds one ``BatchObjective`` per group of runs that needs it. Each step it
is pointed at that step's batch (``at``); ``value`` then reads the loss at the current weights
from the forward pass the loop already ran, and calling it at other points runs a forward and
backward pass of its own, on scratch buffers, so the loop's parameters, gradients and recorded
costs are never touched.
"""

from __future__ import annotations

import numpy as np

from descentlab.losses import cross_entropy_from_label_probability, label_probability
from descentlab.nn import Network, Workspace


def batch_loss(
    output: np.ndarray, logits: np.ndarray, Y: np.ndarray, weights: np.ndarray | None
) -> np.ndarray:
    """The batch's mean cross-entropy per run, shape (..., 1): the sum of the per-example
    losses over the batch's columns divided by their number, as the loop records a mini-batch's
    cost; with normalised ``weights`` v_i = w_i / sum_j w_j, sum_i v_i L_i."""
    terms = cross_entropy_from_label_probability(label_probability(output, Y), logits, Y)
    if weights is None:
        return np.add.reduce(terms[..., 0, :], axis=-1)[..., np.newaxis] / terms.shape[-1]
    return np.add.reduce((terms * weights)[..., 0, :], axis=-1)[..., np.newaxis]


class BatchObjective:
    """The loss and gradient of one group of ``size`` runs on the current batch."""

    def __init__(self, network: Network, size: int, dtype: type[np.floating]) -> None:
        self.network = network
        self.params = np.zeros((size, network.n_params), dtype)
        self.grads = np.zeros_like(self.params)
        self.workspaces: dict[int, Workspace] = {}
        self.X = self.Y = np.empty((0, 0), dtype)
        self.weights: np.ndarray | None = None

    def at(self, X: np.ndarray, Y: np.ndarray, weights: np.ndarray | None) -> BatchObjective:
        """Point the objective at a batch: inputs X (..., n_x, b), labels Y (..., n_out, b) and
        normalised weights (..., 1, b) or None, each with this group's run axis or none."""
        self.X, self.Y, self.weights = X, Y, weights
        return self

    def value(self, output: np.ndarray, logits: np.ndarray) -> np.ndarray:
        """The loss at the current weights, from the loop's own forward pass of this batch
        (``output`` and ``logits`` of this group's runs): shape (size, 1)."""
        return batch_loss(output, logits, self.Y, self.weights).reshape(len(self.params), 1)

    def __call__(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(loss, gradient) at ``points`` (shape (size, n_params)) on the batch: fresh arrays
        of shapes (size, 1) and (size, n_params)."""
        width = self.X.shape[-1]
        workspace = self.workspaces.get(width)
        if workspace is None:
            workspace = Workspace(
                self.network, self.params, width, grads=self.grads, lead=(len(self.params),)
            )
            self.workspaces[width] = workspace
        self.params[...] = points
        step = workspace.bind(workspace.cache_for(self.X), self.weights)
        cache = step.forward()
        step.backward(self.Y)
        values = batch_loss(cache.output, cache.output_logits, self.Y, self.weights)
        return values.reshape(len(self.params), 1), self.grads.copy()
