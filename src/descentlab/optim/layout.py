"""Where each parameter array sits in the flat parameter buffer, for the optimizers that treat
layers as matrices (Muon, LAMB, LARS, Adafactor).

descentlab keeps a whole network in one flat buffer laid out W1, b1, W2, b2, ... (see
``descentlab.nn.Network``). An optimizer whose registry entry needs ``"layout"`` receives a
``Layout`` from the training loop, in ``init(params, layout=...)`` and every
``update(..., layout=...)``: it is what optax reads from the structure of its parameter tree.
``Slot.view`` reshapes a buffer of any leading shape (one run, or a stack of K runs) into one
array's view, so per-layer math keeps the run axis in front.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

WEIGHT = "weight"
"""A hidden layer's weight matrix W_l, shape (n_l, n_{l-1}): every layer but the output."""
OUTPUT_WEIGHT = "output_weight"
"""The output layer's weight matrix W_L, shape (n_L, n_{L-1})."""
BIAS = "bias"
"""A bias vector b_l, shape (n_l,), as torch keeps it (1-D, never factored or orthogonalised)."""
VECTOR = "vector"
"""The whole buffer as one 1-D array: a point of a 2-D landscape."""
ROLES = (WEIGHT, OUTPUT_WEIGHT, BIAS, VECTOR)


class Slot(NamedTuple):
    """One parameter array: its ``name`` (W1, b1, ...), where it starts in the flat buffer, its
    ``shape`` (2-D for weights, 1-D for biases and vectors) and its ``role`` (one of
    ``ROLES``)."""

    name: str
    start: int
    shape: tuple[int, ...]
    role: str

    @property
    def stop(self) -> int:
        return self.start + int(np.prod(self.shape))

    @property
    def is_matrix(self) -> bool:
        return len(self.shape) == 2

    def view(self, flat: np.ndarray) -> np.ndarray:
        """This array's view into ``flat`` (shape (..., n_params)): shape (..., *shape); a
        write to the view writes the buffer."""
        return flat[..., self.start : self.stop].reshape(*flat.shape[:-1], *self.shape)


class Layout(NamedTuple):
    """The parameter arrays of a flat buffer, in buffer order; they tile it exactly."""

    slots: tuple[Slot, ...]

    @property
    def n_params(self) -> int:
        return self.slots[-1].stop if self.slots else 0

    @classmethod
    def of_network(cls, layer_sizes: Sequence[int]) -> Layout:
        """The layout of ``descentlab.nn.Network(layer_sizes)``: W1, b1, ..., W_L, b_L, the
        last weight matrix the output layer's."""
        slots = []
        start = 0
        n_layers = len(layer_sizes) - 1
        for index, (n_prev, n) in enumerate(itertools.pairwise(layer_sizes), start=1):
            role = OUTPUT_WEIGHT if index == n_layers else WEIGHT
            slots.append(Slot(f"W{index}", start, (n, n_prev), role))
            start += n * n_prev
            slots.append(Slot(f"b{index}", start, (n,), BIAS))
            start += n
        return cls(tuple(slots))

    @classmethod
    def vector(cls, n_params: int) -> Layout:
        """One 1-D array of ``n_params`` entries: a landscape's point, which has no layers."""
        return cls((Slot("x", 0, (n_params,), VECTOR),))

    def views(self, flat: np.ndarray) -> list[np.ndarray]:
        """Every slot's view into ``flat``, in order."""
        return [slot.view(flat) for slot in self.slots]

    def check(self, params: np.ndarray) -> None:
        """A ``ValueError`` unless the layout tiles ``params``'s last axis."""
        if params.shape[-1] != self.n_params:
            raise ValueError(
                f"the layout covers {self.n_params} parameters, the buffer has {params.shape[-1]}"
            )
