"""Uploaded CSV files and the race view's options: read by the reader of ``--data``, kept in
the application's temporary folder (gone when it stops), size-limited, a race on one equals
``descentlab compare --data``; the options come from the registries."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient

from conftest import run_cli
from descentlab import datasets, optim
from descentlab.schedules import SCHEDULES
from descentlab.web.app import create_app
from descentlab.web.limits import Limits

CSV = "a,b,label\n" + "".join(
    f"{x:.3f},{y:.3f},{'yes' if x * y > 0 else 'no'}\n"
    for x, y in np.random.default_rng(4).normal(size=(60, 2)) * [3.0, 50.0]
)


@pytest.fixture
def client() -> Any:
    with TestClient(create_app(Limits(max_upload_bytes=4096))) as test_client:
        yield test_client


def upload(client: TestClient, content: bytes, name: str = "points.csv") -> Any:
    return client.post(
        "/api/upload", params={"name": name}, content=content, headers={"content-type": "text/csv"}
    )


def test_an_upload_is_read_as_data_reads_it(client: TestClient) -> None:
    answer = upload(client, CSV.encode())
    assert answer.status_code == 200, answer.text
    summary = answer.json()
    assert summary["name"] == "points.csv" and len(summary["upload"]) >= 16
    assert (summary["n_examples"], summary["n_features"], summary["n_classes"]) == (60, 2, 2)
    assert upload(client, CSV.encode()).json()["upload"] != summary["upload"]


@pytest.mark.parametrize(
    "content, name, field, words",
    [
        (b"a,b\n1,x\n", "bad.csv", "file", "bad.csv"),
        (b"", "empty.csv", "file", "empty.csv"),
        (b"\xff\xfe\x00", "binary.csv", "file", "binary.csv"),
        (CSV.encode(), "../escape.csv", "name", "plain file name"),
        (CSV.encode(), "points.txt", "name", ".csv"),
        (CSV.encode(), "", "name", "plain file name"),
    ],
)
def test_a_bad_upload_names_the_field(
    client: TestClient, content: bytes, name: str, field: str, words: str
) -> None:
    answer = upload(client, content, name)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["field"] == field and words in error["message"], error
    assert "/tmp" not in error["message"]  # the server's folder is not the user's business


def test_an_upload_over_the_limit_is_refused(client: TestClient) -> None:
    answer = upload(client, b"a,b\n" + b"1,0\n" * 2000)
    assert answer.status_code == 413
    assert answer.json()["error"]["field"] == "file"
    assert "4096" in answer.json()["error"]["message"]

    def chunks() -> Any:  # no Content-Length: counted while it arrives
        for _ in range(2000):
            yield b"1,0\n"

    streamed = client.post("/api/upload", params={"name": "big.csv"}, content=chunks())
    assert streamed.status_code == 413


def test_uploads_live_in_a_temporary_folder_removed_at_shutdown() -> None:
    app = create_app()
    with TestClient(app) as client:
        token = upload(client, CSV.encode()).json()["upload"]
        folders = list(Path(app.state.uploads_folder).iterdir())
        assert [folder.name for folder in folders] == [token]
        assert [file.name for file in folders[0].iterdir()] == ["points.csv"]
    assert not Path(app.state.uploads_folder).exists()


def test_a_race_on_an_upload_is_compare_with_data(client: TestClient, tmp_path: Path) -> None:
    token = upload(client, CSV.encode()).json()["upload"]
    config = {
        "upload": token,
        "epochs": 40,
        "batch_size": 16,
        "hidden_layers": [3],
        "optimizers": [{"name": "gd", "learning_rate": 0.1}, {"name": "adam"}],
    }
    with client.websocket_connect("/ws/race") as socket:
        socket.send_json({"type": "start", "config": config})
        messages = []
        while not messages or messages[-1]["type"] not in ("done", "error"):
            messages.append(socket.receive_json())
        socket.send_json({"type": "results"})
        text = socket.receive_json()["text"]
    started, done = messages[0], messages[-1]
    assert done["type"] == "done", done
    assert started["n_examples"] == 60 and started["view"] is not None
    assert "--data=points.csv" in started["command"]
    # The points are in the file's units (b spreads ~50), though the race standardises them.
    assert max(abs(point[1]) for point in started["points"]["x"]) > 20
    (tmp_path / "points.csv").write_text(CSV)
    words = shlex.split(started["command"])
    result = run_cli(*words[1:], "--out", str(tmp_path / "out"), "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    theirs = json.loads((tmp_path / "out" / "results.json").read_text())
    ours = json.loads(text)
    ours.pop("created"), theirs.pop("created")
    for run in ours["runs"] + theirs["runs"]:
        run.pop("seconds")
    assert ours == theirs
    assert ours["dataset"]["path"] == "points.csv" and ours["dataset"]["scaling"] is not None
    for run in theirs["runs"]:
        assert done["results"][run["optimizer"]]["final_cost"] == run["final_cost"]


def test_the_race_options_come_from_the_registries(client: TestClient) -> None:
    race = client.get("/api/options").json()["race"]
    assert [entry["name"] for entry in race["datasets"]] == list(datasets.DATASETS)
    moons = race["datasets"][0]
    assert moons == {
        "name": "moons", "n_samples": 300, "noise": 0.2, "data_seed": 3, "n_features": 2,
        "has_noise": True, "summary": moons["summary"],
    }  # fmt: skip
    assert moons["summary"].startswith("The course's moons")
    digits = next(entry for entry in race["datasets"] if entry["name"] == "digits")
    assert digits["has_noise"] is False and digits["n_samples"] is None
    assert [entry["name"] for entry in race["optimizers"]] == optim.names("compare")
    momentum = next(entry for entry in race["optimizers"] if entry["name"] == "momentum")
    assert momentum["learning_rate"] == 0.0007 and momentum["family"] == "gradient"
    assert {"name": "beta", "default": 0.9, "required": False} in momentum["hyperparameters"]
    assert [entry["name"] for entry in race["schedules"]] == list(SCHEDULES)
    assert race["schedule_fields"] == [
        {"name": "decay_rate", "default": 1.0},
        {"name": "every", "default": 1},
        {"name": "unit", "default": "epoch", "choices": ["epoch", "step"]},
        {"name": "warmup", "default": 0},
        {"name": "min_learning_rate", "default": 0.0},
    ]
    assert race["defaults"] == {
        "dataset": "moons", "hidden_layers": [5, 2], "batch_size": 64, "epochs": 10000,
        "seed": 0, "optimizers": ["gd", "momentum", "adam"],
    }  # fmt: skip
    assert race["limits"] == {
        "min_optimizers": 2, "max_optimizers": 6, "max_epochs": 100000, "max_examples": 10000,
        "max_layer_width": 256, "boundary_grid": 100, "max_upload_bytes": 4096, "max_races": 4,
        "max_minibatches": 5_000_000,
    }  # fmt: skip
