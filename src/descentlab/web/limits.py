"""What protects the machine from one playground request: ``Limits`` and its defaults."""

from __future__ import annotations

from dataclasses import dataclass

from descentlab.validation import check_int


@dataclass(frozen=True)
class Limits:
    """The most one request may ask of the server (docs/playground.md lists the defaults).

    ``max_steps``: updates per optimizer on a landscape. ``min_optimizers`` and
    ``max_optimizers``: how many optimizers one request runs. ``grid_points``: points per axis
    of a contour map. ``max_body_bytes``: the size of a request's JSON. For the race view:
    ``max_races``: races training at once (over all websockets); ``max_epochs``: epochs of one
    race; ``max_examples``: a race's dataset size; ``max_layer_width``: units in a hidden layer;
    ``boundary_grid``: cells per axis of a race's decision-boundary maps; ``max_upload_bytes``:
    the size of an uploaded CSV file.
    """

    max_steps: int = 10_000
    min_optimizers: int = 1
    max_optimizers: int = 6
    grid_points: int = 120
    max_body_bytes: int = 64 * 1024
    max_races: int = 4
    max_epochs: int = 100_000
    max_examples: int = 10_000
    max_layer_width: int = 256
    boundary_grid: int = 100
    max_upload_bytes: int = 1024 * 1024

    def __post_init__(self) -> None:
        for name in (
            "max_steps", "min_optimizers", "max_optimizers", "grid_points",
            "max_races", "max_epochs", "max_examples", "max_layer_width", "max_upload_bytes",
        ):  # fmt: skip
            check_int(name, getattr(self, name), minimum=1)
        check_int("max_body_bytes", self.max_body_bytes, minimum=1024)
        check_int("boundary_grid", self.boundary_grid, minimum=2)
        if self.max_optimizers < self.min_optimizers:
            raise ValueError(
                f"max_optimizers must be >= min_optimizers ({self.min_optimizers}), "
                f"got {self.max_optimizers}"
            )
