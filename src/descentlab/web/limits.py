"""What protects the machine from one playground request: ``Limits`` and its defaults.

Each limit is a field declared with ``limit(default, help, minimum)``: its help text and
smallest allowed value live beside it, so ``descentlab playground`` makes one option of each
(``--max-races N``) and docs/playground.md's table lists them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from descentlab.validation import check_int


def limit(default: int, help: str, minimum: int = 1) -> Any:
    """A ``Limits`` field: an integer ``default``, what it bounds (``help``) and its
    smallest allowed value."""
    return field(default=default, metadata={"help": help, "minimum": minimum})


@dataclass(frozen=True)
class Limits:
    """The most one request may ask of the server (docs/playground.md lists the defaults);
    each field's metadata holds its ``help`` and ``minimum``."""

    max_steps: int = limit(10_000, "updates per optimizer on a landscape")
    min_optimizers: int = limit(1, "fewest optimizers of a landscape request")
    max_optimizers: int = limit(6, "most optimizers of a landscape request or a race")
    grid_points: int = limit(120, "points per axis of a landscape's contour map", 2)
    max_body_bytes: int = limit(64 * 1024, "bytes of a request's JSON", 1024)
    max_races: int = limit(4, "races training at once, over all pages")
    max_epochs: int = limit(100_000, "epochs of a race")
    max_examples: int = limit(10_000, "examples of a race's dataset")
    max_layer_width: int = limit(256, "units in a hidden layer of a race's network")
    boundary_grid: int = limit(100, "cells per axis of a race's decision-boundary maps", 2)
    max_upload_bytes: int = limit(1024 * 1024, "bytes of an uploaded CSV file")
    max_minibatches: int = limit(
        5_000_000, "mini-batches per optimizer of a race (epochs x batches per epoch)"
    )

    def __post_init__(self) -> None:
        for item in fields(self):
            check_int(item.name, getattr(self, item.name), minimum=item.metadata["minimum"])
        if self.max_optimizers < self.min_optimizers:
            raise ValueError(
                f"max_optimizers must be >= min_optimizers ({self.min_optimizers}), "
                f"got {self.max_optimizers}"
            )
