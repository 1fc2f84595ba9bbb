"""The race websocket, in-process: the CLI's numbers bit for bit, pause, step and reset, the
training thread ended with its socket, coalesced progress, errors that name the field, and the
limit on races at once."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient, WebSocketTestSession

from conftest import run_cli
from descentlab.web.app import create_app
from descentlab.web.limits import Limits

RACE = {
    "dataset": "moons",
    "hidden_layers": [5, 2],
    "batch_size": 64,
    "epochs": 200,
    "seed": 0,
    "optimizers": [
        {"name": "gd", "learning_rate": 0.0007},
        {"name": "momentum", "learning_rate": 0.0007, "hyperparameters": {"beta": 0.9}},
        {"name": "adam", "learning_rate": 0.0007},
    ],
}
LONG_RACE = {**RACE, "epochs": 100_000}


def race_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "descentlab-race"]


@pytest.fixture
def client() -> Any:
    with TestClient(create_app()) as test_client:
        yield test_client
    assert not race_threads()


def receive_until(socket: WebSocketTestSession, *kinds: str) -> list[dict[str, Any]]:
    """Every message up to and including the first of one of ``kinds``."""
    messages = []
    while True:
        message = socket.receive_json()
        messages.append(message)
        if message["type"] in kinds:
            return messages


def streamed_costs(messages: list[dict[str, Any]]) -> dict[str, list[float]]:
    costs: dict[str, list[float]] = {}
    for message in messages:
        if message["type"] == "progress":
            for name, values in message["costs"].items():
                costs.setdefault(name, []).extend(values)
    return costs


def test_a_race_streams_the_costs_of_descentlab_compare(client: TestClient, tmp_path: Path) -> None:
    with client.websocket_connect("/ws/race") as socket:
        socket.send_json({"type": "start", "config": RACE})
        messages = receive_until(socket, "done", "error")
    assert messages[0]["type"] == "started"
    assert messages[-1]["type"] == "done" and messages[-1]["epoch"] == 200
    progress = [message for message in messages if message["type"] == "progress"]
    assert progress and all(message["epochs_per_second"] >= 0 for message in progress)
    costs = streamed_costs(messages)
    result = run_cli(
        "compare", "--optimizers", "gd,momentum,adam", "--learning-rate", "0.0007",
        "--beta", "0.9", "--batch-size", "64", "--epochs", "200", "--seed", "0",
        "--layers", "5,2", "--out", str(tmp_path / "out"), "--quiet",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    for run in results["runs"]:
        expected = np.load(tmp_path / "out" / run["epoch_costs_file"], allow_pickle=False)
        assert costs[run["optimizer"]] == expected.tolist()
        done = messages[-1]["results"][run["optimizer"]]
        assert done["final_cost"] == run["final_cost"]
        assert done["train_accuracy"] == run["train_accuracy"]


def test_progress_is_coalesced(client: TestClient) -> None:
    with client.websocket_connect("/ws/race") as socket:
        socket.send_json({"type": "start", "config": {**RACE, "epochs": 2000}})
        messages = receive_until(socket, "done", "error")
    assert messages[-1]["type"] == "done"
    progress = [message for message in messages if message["type"] == "progress"]
    assert sum(len(message["costs"]["gd"]) for message in progress) == 2000
    assert len(progress) < 2000 // 5  # many epochs to a message, not one each


def test_pause_step_resume_and_reset(client: TestClient) -> None:
    with client.websocket_connect("/ws/race") as socket:
        socket.send_json({"type": "start", "config": LONG_RACE})
        socket.send_json({"type": "pause"})
        paused = receive_until(socket, "paused")[-1]["epoch"]
        assert paused >= 1
        socket.send_json({"type": "step"})
        stepped = receive_until(socket, "paused")
        assert stepped[-1]["epoch"] == paused + 1
        assert len(streamed_costs(stepped)["adam"]) == 1
        socket.send_json({"type": "step"})
        assert receive_until(socket, "paused")[-1]["epoch"] == paused + 2
        socket.send_json({"type": "resume"})
        running = receive_until(socket, "progress")[-1]
        assert running["epoch"] > paused + 2
        assert len(race_threads()) == 1
        socket.send_json({"type": "reset"})
        receive_until(socket, "reset")
        assert not race_threads()


def test_closing_the_socket_stops_the_race(client: TestClient) -> None:
    with client.websocket_connect("/ws/race") as socket:
        socket.send_json({"type": "start", "config": LONG_RACE})
        receive_until(socket, "progress")
        assert len(race_threads()) == 1
    for thread in race_threads():
        thread.join(timeout=30)
    assert not race_threads()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"optimizers": [{"name": "gd"}]}, "optimizers"),
        ({"optimizers": [{"name": "gd"}, {"name": "nope"}]}, "optimizers[1].name"),
        ({"optimizers": [{"name": "gd"}, {"name": "adam", "learning_rate": -1}]},
         "optimizers[1].learning_rate"),
        ({"optimizers": [{"name": "gd"}, {"name": "momentum", "hyperparameters": {"beta": 2}}]},
         "optimizers[1].hyperparameters"),
        ({"epochs": 100_001}, "epochs"),
        ({"epochs": 0}, "epochs"),
        ({"n_samples": 10_001}, "n_samples"),
        ({"hidden_layers": [5, 257]}, "hidden_layers[1]"),
        ({"batch_size": "half"}, "batch_size"),
        ({"dataset": "nope"}, "dataset"),
        ({"colour": "red"}, "config.colour"),
    ],
)  # fmt: skip
def test_an_invalid_config_names_the_field(
    client: TestClient, change: dict[str, Any], field: str
) -> None:
    with client.websocket_connect("/ws/race") as socket:
        socket.send_json({"type": "start", "config": {**RACE, **change}})
        message = socket.receive_json()
    assert message["type"] == "error" and message["field"] == field, message
    assert message["message"]


def test_bad_messages_get_errors(client: TestClient) -> None:
    with client.websocket_connect("/ws/race") as socket:
        socket.send_text("not json")
        assert socket.receive_json()["field"] == "body"
        socket.send_json({"type": "fly"})
        assert socket.receive_json()["field"] == "type"
        socket.send_json({"type": "pause"})
        assert socket.receive_json()["type"] == "error"


def test_a_race_over_the_limit_is_refused() -> None:
    client = TestClient(create_app(Limits(max_races=1)))
    with client, client.websocket_connect("/ws/race") as first:
        first.send_json({"type": "start", "config": LONG_RACE})
        receive_until(first, "progress")
        with client.websocket_connect("/ws/race") as second:
            second.send_json({"type": "start", "config": LONG_RACE})
            message = second.receive_json()
            assert message["type"] == "error" and "at most 1 races" in message["message"]
        first.send_json({"type": "reset"})
        receive_until(first, "reset")
        first.send_json({"type": "start", "config": RACE})
        assert receive_until(first, "done", "error")[-1]["type"] == "done"
    assert not race_threads()


def test_the_default_limits() -> None:
    limits = Limits()
    assert (limits.max_races, limits.max_epochs, limits.max_examples, limits.max_layer_width) == (
        4, 100_000, 10_000, 256,
    )  # fmt: skip
