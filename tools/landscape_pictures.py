"""The docs' pictures of the newer optimizers on a landscape (``make pictures``).

    python tools/landscape_pictures.py [--out docs/images]

Runs ``descentlab.landscape`` on Rosenbrock, each optimizer at its default learning rate there
(docs/landscapes.md), Adam beside every group as the yardstick, and saves each group's
trajectories as ``newer-optimizers-GROUP.png``. The files are committed (docs/optimizers.md
shows them); CI does not make them again, so run this after a change to an optimizer or its
landscape defaults and commit what changed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib
from PIL import Image

matplotlib.use("Agg")

import descentlab as dl

GROUPS = {
    "adam-family": ["adam", "radam", "adabelief", "yogi", "adan", "prodigy"],
    "sign-and-ratio": ["adam", "lion", "rprop", "adadelta", "lbfgs"],
    "layers-and-averages": ["adam", "lamb", "lars", "adafactor", "asgd"],
    "schedule-free-and-wrappers": [
        "adam", "schedule_free_adamw", "schedule_free_sgd", "lookahead:adam", "sam:adam",
    ],
}  # fmt: skip
"""Each picture's optimizers, at most six so that the paths stay apart."""

FUNCTION = "rosenbrock"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images"), help="folder to write")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    for group, names in GROUPS.items():
        results = dl.landscape(FUNCTION, names)
        figure = results.plot("trajectories")
        path = out / f"newer-optimizers-{group}.png"
        figure.savefig(path, dpi=72, bbox_inches="tight")
        # A 256-colour palette keeps each picture near 70 KB, the size of the other screenshots.
        Image.open(path).convert("RGB").quantize(256).save(path, optimize=True)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
