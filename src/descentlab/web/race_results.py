"""The results.json of a finished race: the document ``descentlab compare`` writes for the
same settings, built by the same code (``runs.training.results_dict``, ``runs.folder.to_json``).

It differs from the command's file only in what measures time: ``created`` (when it was
written) and each run's ``seconds``.
"""

from __future__ import annotations

from collections.abc import Sequence

from descentlab.experiment import PreparedData, RunOutcome
from descentlab.runs.folder import to_json
from descentlab.runs.names import (
    EPOCH_COSTS_FILE,
    MINIBATCH_COSTS_FILE,
    PARAMS_FILE,
    optimizer_file,
)
from descentlab.runs.training import results_dict
from descentlab.web.race_config import RaceRequest


def results_text(request: RaceRequest, data: PreparedData, outcomes: Sequence[RunOutcome]) -> str:
    """The text of the results.json ``descentlab compare`` writes for ``request``."""
    files = [
        {
            "epoch_costs_file": optimizer_file(EPOCH_COSTS_FILE, outcome.optimizer.name),
            "minibatch_costs_file": optimizer_file(MINIBATCH_COSTS_FILE, outcome.optimizer.name),
            "params_file": optimizer_file(PARAMS_FILE, outcome.optimizer.name),
        }
        for outcome in outcomes
    ]
    document = results_dict("compare", request.config, request.dataset, outcomes, files, data)
    return to_json(document) + "\n"
