"""The race websocket, in-process: the CLI's numbers bit for bit, pause, step and reset, the
race's process ended with its socket, coalesced progress, errors that name the field, and the
limit on races at once."""

from __future__ import annotations

import json
import multiprocessing
import os
import shlex
import threading
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient, WebSocketTestSession

from conftest import run_cli
from descentlab import datasets
from descentlab.history import History
from descentlab.metrics import oscillation_index
from descentlab.report.plots import boundary_view
from descentlab.web.app import create_app
from descentlab.web.limits import Limits
from descentlab.web.race import PROCESS_NAME

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


def race_processes() -> list[BaseProcess]:
    """The race processes this process started that have not exited (``active_children``
    reaps those that have)."""
    return [child for child in multiprocessing.active_children() if child.name == PROCESS_NAME]


def race_readers() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "descentlab-race-reader"]


def no_race_left() -> bool:
    """No race process alive, and no thread reading one (a reader that has handed over its
    race's last message may still be returning: it gets a moment)."""
    for thread in race_readers():
        thread.join(timeout=5)
    return not race_processes() and not race_readers()


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def client() -> Any:
    with TestClient(create_app()) as test_client:
        yield test_client
    assert no_race_left()


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
        assert len(race_processes()) == 1 and len(race_readers()) == 1
        socket.send_json({"type": "reset"})
        receive_until(socket, "reset")
        assert no_race_left()


def test_closing_the_socket_ends_the_race_process(client: TestClient) -> None:
    with client.websocket_connect("/ws/race") as socket:
        socket.send_json({"type": "start", "config": LONG_RACE})
        receive_until(socket, "progress")
        (process,) = race_processes()
        assert process_exists(process.pid)
    for thread in race_readers():
        thread.join(timeout=30)
    assert no_race_left()
    assert process.exitcode == 0  # it stopped when asked: not terminated
    assert not process_exists(process.pid)


def test_a_race_process_that_dies_is_an_error_and_the_server_goes_on(client: TestClient) -> None:
    with client.websocket_connect("/ws/race") as socket:
        socket.send_json({"type": "start", "config": LONG_RACE})
        receive_until(socket, "progress")
        (process,) = race_processes()
        process.kill()
        message = receive_until(socket, "error")[-1]
        assert message == {
            "type": "error",
            "field": None,
            "message": "the race's process ended unexpectedly (exit code -9)",
        }
        assert no_race_left()
        socket.send_json({"type": "start", "config": {**RACE, "epochs": 20}})
        assert receive_until(socket, "done", "error")[-1]["type"] == "done"


@pytest.mark.parametrize(
    "commands, paused, steps, stopped",
    [
        (["pause"], True, 0, False),
        (["step"], True, 0, False),  # a running race pauses first
        (["pause", "step", "step"], True, 2, False),
        (["pause", "step", "pause"], True, 0, False),
        (["pause", "resume"], False, 0, False),
        (["pause", "stop"], True, 0, True),
    ],
)
def test_the_race_process_applies_commands_as_the_page_means_them(
    commands: list[str], paused: bool, steps: int, stopped: bool
) -> None:
    from descentlab.web.race_worker import Control

    control = Control()
    for command in commands:
        control.apply(command)
    assert (control.paused, control.steps, control.stopped) == (paused, steps, stopped)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"optimizers": [{"name": "gd"}]}, "config.optimizers"),
        ({"optimizers": [{"name": "gd"}, {"name": "nope"}]}, "config.optimizers[1].name"),
        ({"optimizers": [{"name": "gd"}, {"name": "adam", "learning_rate": -1}]},
         "config.optimizers[1].learning_rate"),
        ({"optimizers": [{"name": "gd"}, {"name": "momentum", "hyperparameters": {"beta": 2}}]},
         "config.optimizers[1].hyperparameters.beta"),
        ({"optimizers": [{"name": "gd"}, {"name": "lookahead:adam",
                                          "hyperparameters": {"sync_period": 2, "beta2": 1}}]},
         "config.optimizers[1].hyperparameters.beta2"),  # a chain's inner setting
        ({"epochs": 100_001}, "config.epochs"),
        ({"epochs": 0}, "config.epochs"),
        ({"epochs": 100_000, "batch_size": 1}, "config.epochs"),
        ({"n_samples": 10_001}, "config.n_samples"),
        ({"hidden_layers": [5, 257]}, "config.hidden_layers[1]"),
        ({"batch_size": "half"}, "config.batch_size"),
        ({"dataset": "nope"}, "config.dataset"),
        ({"colour": "red"}, "config.colour"),
        ({"upload": "no-such-token"}, "config.upload"),
        ({"schedule": {"name": "sometimes"}}, "config.schedule.name"),
        ({"schedule": {"name": "exponential", "every": 0}}, "config.schedule.every"),
        ({"schedule": {"name": "exponential", "decay_rate": -1}}, "config.schedule.decay_rate"),
        ({"schedule": {"name": "cosine", "warmup": 1.5}}, "config.schedule.warmup"),
        ({"schedule": {"unit": "hour"}}, "config.schedule.unit"),
        ({"schedule": {"min_learning_rate": "low"}}, "config.schedule.min_learning_rate"),
        ({"schedule": {"shape": "round"}}, "config.schedule.shape"),
        ({"schedule": "exponential"}, "config.schedule"),
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
    assert no_race_left()


def test_the_default_limits() -> None:
    limits = Limits()
    assert (limits.max_races, limits.max_epochs, limits.max_examples, limits.max_layer_width) == (
        4, 100_000, 10_000, 256,
    )  # fmt: skip


# --- what a race streams: the command, mini-batch costs, oscillation, boundaries, results -----


def run_command(command: str, out: Path, cwd: Path | None = None) -> dict[str, Any]:
    """Run ``command`` (a ``descentlab compare ...`` line) in-process with ``--out out``;
    its results.json."""
    words = shlex.split(command)
    assert words[:2] == ["descentlab", "compare"], command
    result = run_cli(*words[1:], "--out", str(out), "--quiet", cwd=cwd)
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = json.loads((out / "results.json").read_text())
    return document


TIME_FIELDS = ("created", "seconds")
"""results.json's fields that say when or how long (they differ between two runs)."""


def without_time(document: Any) -> Any:
    if isinstance(document, dict):
        return {k: without_time(v) for k, v in document.items() if k not in TIME_FIELDS}
    if isinstance(document, list):
        return [without_time(item) for item in document]
    return document


def streamed_minibatch(
    messages: list[dict[str, Any]], name: str
) -> tuple[list[float], list[float]]:
    x: list[float] = []
    costs: list[float] = []
    for message in messages:
        if message["type"] == "progress":
            x += message["minibatch"][name]["x"]
            costs += message["minibatch"][name]["costs"]
    return x, costs


SCHEDULED_RACE = {
    "dataset": "circles",
    "n_samples": 120,
    "noise": 0.1,
    "data_seed": 5,
    "hidden_layers": [4, 3],
    "batch_size": 32,
    "epochs": 60,
    "seed": 2,
    "schedule": {"name": "exponential", "decay_rate": 0.5, "every": 20, "unit": "epoch"},
    "optimizers": [
        {
            "name": "sgd",
            "learning_rate": 0.05,
            "hyperparameters": {"momentum": 0.9, "nesterov": True},
        },
        {"name": "adam", "learning_rate": 0.01, "hyperparameters": {"beta1": 0.8}},
        {"name": "rmsprop"},
    ],
}


def test_the_started_command_reproduces_the_race(client: TestClient, tmp_path: Path) -> None:
    with client.websocket_connect("/ws/race") as socket:
        socket.send_json({"type": "start", "config": SCHEDULED_RACE})
        messages = receive_until(socket, "done", "error")
        socket.send_json({"type": "results"})
        text = socket.receive_json()["text"]
    started, done = messages[0], messages[-1]
    assert done["type"] == "done", done
    command = started["command"]
    assert "--schedule exponential" in command and "-H sgd.nesterov=true" in command
    results = run_command(command, tmp_path / "out")
    assert without_time(json.loads(text)) == without_time(results)
    assert json.loads(text)["config"]["schedule"]["decay_rate"] == 0.5
    costs = streamed_costs(messages)
    for run in results["runs"]:
        name = run["optimizer"]
        expected = np.load(tmp_path / "out" / run["epoch_costs_file"], allow_pickle=False)
        assert costs[name] == expected.tolist()
        assert done["results"][name]["final_cost"] == run["final_cost"]
        assert done["results"][name]["train_accuracy"] == run["train_accuracy"]
        assert done["results"][name]["oscillation"] == run["oscillation"]
        assert done["results"][name]["cost_shape"] == run["cost_shape"]
    # circles is standardised: the maps are drawn in the data's own units all the same.
    assert results["dataset"]["scaling"] is not None
    circles = datasets.load("circles", n_samples=120, noise=0.1, seed=5)
    assert started["points"] == {"x": circles.X.T.tolist(), "y": circles.labels.tolist()}
    assert started["view"] == {
        "x": list(boundary_view(circles)[0]),
        "y": list(boundary_view(circles)[1]),
    }


def test_a_race_sets_a_chains_inner_hyperparameters(client: TestClient, tmp_path: Path) -> None:
    race = {**SCHEDULED_RACE, "epochs": 10, "schedule": None, "optimizers": [
        {"name": "adam", "learning_rate": 0.01},
        {"name": "sam:adam", "learning_rate": 0.01,
         "hyperparameters": {"beta1": 0.5, "amsgrad": True, "radius": 0.1}}]}  # fmt: skip
    with client.websocket_connect("/ws/race") as socket:
        socket.send_json({"type": "start", "config": race})
        messages = receive_until(socket, "done", "error")
        socket.send_json({"type": "results"})
        text = socket.receive_json()["text"]
    assert messages[-1]["type"] == "done", messages[-1]
    command = messages[0]["command"]
    assert "-H sam:adam.beta1=0.5 -H sam:adam.amsgrad=true -H sam:adam.radius=0.1" in command
    recorded = {run["optimizer"]: run["hyperparameters"] for run in json.loads(text)["runs"]}
    assert recorded["sam:adam"]["beta1"] == 0.5 and recorded["sam:adam"]["amsgrad"] is True
    assert recorded["adam"]["beta1"] == 0.9  # the plain row keeps its defaults
    assert without_time(run_command(command, tmp_path / "out")) == without_time(json.loads(text))


def test_the_results_text_is_the_files_but_for_time(client: TestClient, tmp_path: Path) -> None:
    with client.websocket_connect("/ws/race") as socket:
        socket.send_json({"type": "results"})
        refused = socket.receive_json()
        assert refused["type"] == "error" and "no finished race" in refused["message"]
        socket.send_json({"type": "start", "config": {**RACE, "epochs": 150}})
        started = receive_until(socket, "started")[-1]
        receive_until(socket, "done")
        socket.send_json({"type": "results"})
        text = socket.receive_json()["text"]
    results = run_command(started["command"], tmp_path / "out")
    ours, theirs = json.loads(text), results
    assert ours["created"] and ours["runs"][0]["seconds"] >= 0
    assert without_time(ours) == without_time(theirs)
    assert list(ours) == list(theirs)  # the same keys, in the same order


def test_progress_streams_minibatch_costs_and_oscillation(
    client: TestClient, tmp_path: Path
) -> None:
    with client.websocket_connect("/ws/race") as socket:
        socket.send_json({"type": "start", "config": RACE})
        messages = receive_until(socket, "done", "error")
    started, done = messages[0], messages[-1]
    assert started["batches_per_epoch"] == 5 and started["n_classes"] == 2
    assert started["view"] == {"x": [-1.5, 2.5], "y": [-1.0, 1.5]}  # decision_boundaries.png's
    assert len(started["points"]["x"]) == 300 and set(started["points"]["y"]) == {0, 1}
    progress = [message for message in messages if message["type"] == "progress"]
    epochs = 0
    for message in progress:
        assert message["first_epoch"] == epochs
        epochs += len(message["costs"]["gd"])
    assert epochs == 200
    results = run_command(started["command"], tmp_path / "out")
    for run in results["runs"]:
        name = run["optimizer"]
        x, costs = streamed_minibatch(messages, name)
        expected = np.load(tmp_path / "out" / run["minibatch_costs_file"], allow_pickle=False)
        assert costs == expected.tolist()  # 1000 costs: never thinned
        assert x == (np.arange(1000) / 5).tolist()
        last = progress[-1]["oscillation"][name]
        assert last["index"] == done["results"][name]["oscillation"] == run["oscillation"]
        assert last["label"] == done["results"][name]["cost_shape"]
        # Before the end, the running index: the metric of the history so far.
        before = progress[-2]
        seen = before["first_epoch"] + len(before["costs"][name])
        history = History(
            np.load(tmp_path / "out" / run["epoch_costs_file"], allow_pickle=False)[:seen],
            expected[: seen * 5],
            5,
        )
        assert before["oscillation"][name]["index"] == pytest.approx(
            oscillation_index(history), rel=1e-12
        )


def test_long_chunks_of_minibatch_costs_are_thinned_as_the_cost_plot_thins_them() -> None:
    from descentlab.history import History
    from descentlab.report.plots import minibatch_trace
    from descentlab.web.live import minibatch_points

    costs = np.random.default_rng(0).random(5000)
    points = minibatch_points(costs, first_batch=70, batches_per_epoch=7)
    x, expected = minibatch_trace(History(np.empty(0), costs, 7), 2000)
    assert points["costs"] == expected.tolist()
    assert points["x"] == [(round(position * 7) + 70) / 7 for position in x.tolist()]
    assert len(points["x"]) <= 2000


def test_the_running_oscillation_is_the_metric() -> None:
    from descentlab.history import History
    from descentlab.metrics import oscillation_index
    from descentlab.web.live import RunningOscillation

    rng = np.random.default_rng(1)
    epoch_costs = np.linspace(1.0, 0.2, 40)
    minibatch = rng.random(40 * 3)
    running = RunningOscillation()
    assert running.message() == {"index": None, "label": None}
    for start, stop in ((0, 1), (1, 17), (17, 40)):
        running.add(epoch_costs[start:stop], minibatch[start * 3 : stop * 3])
    expected = oscillation_index(History(epoch_costs, minibatch, 3))
    assert running.index == pytest.approx(expected, rel=1e-12)
    assert running.message()["label"] == "oscillates"
    rising = RunningOscillation()
    rising.add(np.array([0.5, 0.6]), np.array([0.5, 0.55, 0.6, 0.65]))
    assert rising.message() == {"index": None, "label": None}  # no decrease: not measurable


def test_boundary_maps_are_the_networks_predictions_in_the_datas_units(tmp_path: Path) -> None:
    from descentlab.nn import Network, predict_proba, predicted_classes
    from descentlab.splits import Standardizer

    small = TestClient(create_app(Limits(boundary_grid=12)))
    with small, small.websocket_connect("/ws/race") as socket:
        socket.send_json({"type": "start", "config": SCHEDULED_RACE})
        messages = receive_until(socket, "done", "error")
    assert no_race_left()
    started, done = messages[0], messages[-1]
    maps = [message for message in messages if message["type"] == "boundaries"]
    assert maps and maps[-1]["epoch"] == 60
    final = maps[-1]
    results = run_command(started["command"], tmp_path / "out")
    grid = final["grid"]
    assert (grid["nx"], grid["ny"]) == (12, 12)
    assert [grid["x"], grid["y"]] == [started["view"]["x"], started["view"]["y"]]
    xx, yy = np.meshgrid(np.linspace(*grid["x"], 12), np.linspace(*grid["y"], 12))
    points = Standardizer.from_dict(results["dataset"]["scaling"]).transform(
        np.vstack([xx.ravel(), yy.ravel()])
    )
    network = Network(tuple(results["config"]["layers"]))
    for run in results["runs"]:
        name = run["optimizer"]
        params = np.load(tmp_path / "out" / run["params_file"], allow_pickle=False)
        output = predict_proba(network, params, points)
        classes = predicted_classes(output)
        assert grid["classes"][name] == classes.tolist()
        expected = np.where(classes == 1, output[0], 1 - output[0])
        assert grid["confidence"][name] == np.round(expected, 3).tolist()
        assert final["accuracy"][name] == done["results"][name]["train_accuracy"]
    assert all(message["epoch"] >= 1 for message in maps)


def test_a_pause_and_a_step_each_send_a_map(client: TestClient) -> None:
    with client.websocket_connect("/ws/race") as socket:
        socket.send_json({"type": "start", "config": LONG_RACE})
        socket.send_json({"type": "pause"})
        held = receive_until(socket, "paused")[-1]["epoch"]
        after = socket.receive_json()  # the map of the epoch it holds at, right after
        assert (after["type"], after["epoch"]) == ("boundaries", held)
        socket.send_json({"type": "step"})
        stepped = receive_until(socket, "paused")
        assert stepped[-1]["epoch"] == held + 1
        assert [message["type"] for message in stepped] == ["progress", "paused"]
        after = socket.receive_json()
        assert (after["type"], after["epoch"]) == ("boundaries", held + 1)
        socket.send_json({"type": "reset"})
        receive_until(socket, "reset")
        socket.send_json({"type": "results"})
        assert socket.receive_json()["type"] == "error"


def test_a_race_without_two_features_has_no_maps_but_accuracy(client: TestClient) -> None:
    config = {"dataset": "digits", "epochs": 2, "batch_size": "full", "hidden_layers": [8]}
    with client.websocket_connect("/ws/race") as socket:
        socket.send_json({"type": "start", "config": {**config, "optimizers": RACE["optimizers"]}})
        messages = receive_until(socket, "done", "error")
    started, done = messages[0], messages[-1]
    assert (started["points"], started["view"], started["n_classes"]) == (None, None, 10)
    assert started["batches_per_epoch"] == 1
    maps = [message for message in messages if message["type"] == "boundaries"]
    assert maps[-1]["grid"] is None and maps[-1]["epoch"] == 2
    assert maps[-1]["accuracy"] == {
        name: result["train_accuracy"] for name, result in done["results"].items()
    }


def test_a_diverged_run_streams_up_to_its_divergence(client: TestClient, tmp_path: Path) -> None:
    config = {
        "hidden_layers": [20, 20],
        "epochs": 30,
        "optimizers": [
            {"name": "momentum", "learning_rate": 1.0},
            {"name": "rmsprop", "learning_rate": 1.0},
        ],
    }
    with client.websocket_connect("/ws/race") as socket:
        socket.send_json({"type": "start", "config": config})
        messages = receive_until(socket, "done", "error")
    started, done = messages[0], messages[-1]
    assert done["results"]["rmsprop"]["diverged_epoch"] == 0
    assert done["results"]["rmsprop"]["cost_shape"] == "diverged"
    results = run_command(started["command"], tmp_path / "out")
    costs = streamed_costs(messages)
    for run in results["runs"]:
        expected = np.load(tmp_path / "out" / run["epoch_costs_file"], allow_pickle=False)
        assert costs[run["optimizer"]] == [c if np.isfinite(c) else None for c in expected.tolist()]
    assert len(costs["rmsprop"]) == 1 and len(costs["momentum"]) == 30
    x, _ = streamed_minibatch(messages, "rmsprop")
    assert x == [0.0, 0.2, 0.4, 0.6, 0.8]
