"""The name of every file a command writes, in one place.

A run folder of ``compare`` or ``train`` holds results.json, the cost histories and parameters
of every optimizer (``EPOCH_COSTS_FILE.format(optimizer="adam")`` and friends), the pictures,
report.html and, while it can be resumed, checkpoint.npz; a sweep's holds results.json,
sensitivity.png and checkpoints/; a benchmark's results.json, report.md, profile.png,
intervals.png, sensitivity.png and tasks/; a landscape's results.json and its pictures.
"""

from __future__ import annotations

RESULTS_FILE = "results.json"
"""Written last and atomically; its ``status`` says whether the folder holds a whole run."""
LOCK_FILE = ".descentlab.lock"
CHECKPOINT_FILE = "checkpoint.npz"
CHECKPOINT_DIR = "checkpoints"
"""A sweep's chunk checkpoints (``descentlab.sweep.checkpoints`` names the files inside)."""

EPOCH_COSTS_FILE = "{optimizer}-epoch-costs.npy"
"""Per optimizer, through ``optimizer_file`` (a wrapper chain's name is written file-safe)."""
MINIBATCH_COSTS_FILE = "{optimizer}-minibatch-costs.npy"
PARAMS_FILE = "{optimizer}-params.npy"
COST_CURVES_FILE = "cost_curves.png"
LEARNING_RATES_FILE = "learning_rates.png"
DECISION_BOUNDARIES_FILE = "decision_boundaries.png"
WEIGHT_PATHS_FILE = "weight_paths.png"
CONFUSION_MATRICES_FILE = "confusion_matrices.png"
REPORT_FILE = "report.html"

SENSITIVITY_FILE = "sensitivity.png"
"""A sweep's final cost against learning rate; a benchmark's validation score against it."""

REPORT_MD_FILE = "report.md"
"""A benchmark's report: protocol, ranking, verdict, per-problem tables, picture links."""
PROFILE_FILE = "profile.png"
"""A benchmark's performance profiles of epochs to target."""
INTERVALS_FILE = "intervals.png"
"""A benchmark's test scores with their bootstrap intervals, one panel per problem."""

TASKS_DIR = "tasks"
"""A benchmark's finished tasks (``descentlab.benchmark.store`` names the files inside)."""

TRAJECTORIES_FILE = "trajectories.png"
TRAJECTORIES_ANIMATION_FILE = "trajectories.gif"
LOSS_FILE = "loss.png"

PREDICTIONS_FILE = "predictions.csv"
"""``descentlab predict``'s default output (a file, not a folder)."""


def optimizer_file(template: str, optimizer: str) -> str:
    """``template`` (``EPOCH_COSTS_FILE``, ...) for ``optimizer``, file-safe:
    ``optimizer_file(PARAMS_FILE, "lookahead:adam")`` is "lookahead+adam-params.npy"."""
    from descentlab.optim.registry import file_safe

    return template.format(optimizer=file_safe(optimizer))
