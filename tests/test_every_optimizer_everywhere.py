"""Every registered optimizer works in every command it applies to, in the estimator and in
the playground.

Driven by the registry alone: an optimizer added to ``descentlab.optim.registry`` is tried here
in compare, train, sweep and landscape (in-process, a few epochs or steps, its default learning
rate on the landscape), in ``DescentClassifier``, and in the playground's landscape view and
race (in groups of six, the most a request takes) without a line of this file changing. A
wrapper runs as ``WRAPPER:adam`` (``optim.runnable_names``); the full-batch optimizers train
with ``--batch-size full``.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from descentlab import optim
from descentlab.cli import main
from helpers import full_batch

TRAINING = ["--learning-rate", "0.01", "--epochs", "2"]

ARGUMENTS = {
    "compare": lambda names: ["compare", "--optimizers", ",".join(names), *TRAINING],
    "sweep": lambda names: ["sweep", "--optimizers", ",".join(names), "--seeds", "1", *TRAINING],
    "landscape": lambda names: [
        "landscape", "--optimizers", ",".join(names), "--steps", "3", "--frames", "1",
    ],
    "train": lambda names: ["train", "--optimizer", *names, *TRAINING],
}  # fmt: skip
"""How each command trains the optimizers given (train takes one); the landscape uses each
optimizer's default learning rate there, which comes from its family."""

FULL_BATCH = ["--batch-size", "full"]
"""What the full-batch optimizers (L-BFGS) train with: mini-batches are refused for them."""


def _cases(command: str) -> list[tuple[str, list[str]]]:
    """One run of every optimizer of ``command`` that takes mini-batches, one of every
    full-batch one (none of them for the landscape, which has no batches)."""
    names = optim.runnable_names(command)
    if command == "landscape":
        return [(command, names)]
    full = [name for name in names if full_batch(name)]
    rest = [name for name in names if not full_batch(name)]
    return [(command, group) for group in (rest, full) if group]


CASES = [case for command in ("compare", "sweep", "landscape") for case in _cases(command)]
CASES += [("train", [name]) for name in optim.runnable_names("train")]
"""compare, sweep and landscape take every optimizer in one run (a run draws its pictures once,
and drawing is most of a tiny run's time), the full-batch ones in a run of their own; train
takes one at a time."""


def test_every_command_and_every_optimizer_is_covered() -> None:
    assert set(ARGUMENTS) == set(optim.COMMANDS) - {"estimator"}
    for command in ARGUMENTS:
        covered = [name for case, names in CASES if case == command for name in names]
        assert sorted(covered) == sorted(optim.runnable_names(command))


@pytest.mark.parametrize(("command", "names"), CASES, ids=[f"{c}-{','.join(n)}" for c, n in CASES])
def test_every_optimizer_runs_in_every_command(
    command: str, names: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    batch = FULL_BATCH if command != "landscape" and full_batch(names[0]) else []
    code = main([*ARGUMENTS[command](names), *batch, "--quiet", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    results = json.loads((out / "results.json").read_text())
    assert (results["command"], results["status"]) == (command, "finished")
    assert [run["optimizer"] for run in results["runs"]] == names
    for run in results["runs"]:
        assert list(run["hyperparameters"]) == optim.hyperparameter_names(run["optimizer"])
        assert run["status"] == "finished"


@pytest.mark.parametrize("name", optim.runnable_names("estimator"))
def test_every_optimizer_fits_the_estimator(name: str) -> None:
    from descentlab.sklearn import DescentClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(24, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    classifier = DescentClassifier(
        hidden_layer_sizes=(3,), optimizer=name, learning_rate=0.01, epochs=3, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 3 epochs do not converge; that is not the point
        classifier.fit(X, y)
    assert classifier.predict(X).shape == (24,)
    assert classifier.score(X, y) >= 0


def _in_sixes(names: list[str]) -> list[list[str]]:
    """``names`` in groups of two to six, what a playground race takes (a lone last name joins
    the group before it, whose last name it takes along: 19 names race as 6, 6, 5, 2)."""
    groups = [names[start : start + 6] for start in range(0, len(names), 6)]
    if len(groups) > 1 and len(groups[-1]) == 1:
        groups[-1].insert(0, groups[-2].pop())
    return groups


PLAYGROUND_RACES = [
    # a race takes two optimizers or more: a lone full-batch one races gd (full batch too)
    (group if len(group) > 1 or not full else [*group, "gd"], full)
    for full in (False, True)
    for group in _in_sixes([n for n in optim.runnable_names("compare") if full_batch(n) == full])
]


@pytest.fixture(scope="module")
def playground() -> Any:
    from starlette.testclient import TestClient

    from descentlab.web.app import create_app

    with TestClient(create_app()) as client:
        yield client


@pytest.mark.parametrize("names", _in_sixes(optim.runnable_names("landscape")), ids=",".join)
def test_every_optimizer_runs_in_the_playgrounds_landscape_view(
    playground: Any, names: list[str]
) -> None:
    body = {"function": "rosenbrock", "steps": 5, "optimizers": [{"name": n} for n in names]}
    answer = playground.post("/api/landscape", json=body)
    assert answer.status_code == 200, answer.text
    assert [run["optimizer"] for run in answer.json()["runs"]] == names


@pytest.mark.parametrize(
    ("names", "full"), PLAYGROUND_RACES, ids=[",".join(n) for n, _ in PLAYGROUND_RACES]
)
def test_every_optimizer_races_in_the_playground(
    playground: Any, names: list[str], full: bool
) -> None:
    config = {
        "dataset": "moons",
        "epochs": 3,
        "batch_size": "full" if full else 64,
        "optimizers": [{"name": name, "learning_rate": 0.01} for name in names],
    }
    with playground.websocket_connect("/ws/race") as socket:
        socket.send_json({"type": "start", "config": config})
        while (message := socket.receive_json())["type"] not in ("done", "error"):
            pass
    assert message["type"] == "done", message
    assert list(message["results"]) == names
