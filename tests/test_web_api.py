"""The playground's HTTP API, in-process: choices from the registries, the CLI's numbers, 422s
that name the field, the limits, and the page served from the package."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from conftest import run_cli
from descentlab import landscapes, optim
from descentlab.web.app import create_app
from descentlab.web.limits import Limits


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


def post(client: TestClient, body: Any) -> Any:
    return client.post("/api/landscape", json=body)


def test_options_come_from_the_registries(client: TestClient) -> None:
    answer = client.get("/api/options")
    assert answer.status_code == 200
    options = answer.json()
    assert [o["name"] for o in options["optimizers"]] == optim.names("landscape")
    for entry in options["optimizers"]:
        spec = optim.spec(entry["name"])
        assert entry["family"] == spec.family and entry["summary"] == spec.summary
        assert [(h["name"], h["default"], h["required"]) for h in entry["hyperparameters"]] == [
            (h.name, h.default, h.required) for h in spec.hyperparameters
        ]
    assert [f["name"] for f in options["functions"]] == landscapes.names()
    for entry in options["functions"]:
        function = landscapes.get(entry["name"])
        assert entry["learning_rates"] == {
            name: landscapes.default_learning_rate(function, name)
            for name in optim.names("landscape")
        }
        assert entry["start"] == list(function.start) and entry["steps"] == function.steps
    assert options["limits"] == {"max_steps": 10_000, "min_optimizers": 1, "max_optimizers": 6}


@pytest.mark.parametrize(
    ("cli", "body"),
    [
        (
            ["--function", "rosenbrock", "--optimizers", "gd,momentum,adam", "--steps", "300",
             "--start", "-1.2,1.5", "--learning-rate", "gd=0.0015,adam=0.05", "-H",
             "momentum.beta=0.8"],
            {"function": "rosenbrock", "start": [-1.2, 1.5], "steps": 300, "optimizers": [
                {"name": "gd", "learning_rate": 0.0015},
                {"name": "momentum", "hyperparameters": {"beta": 0.8}},
                {"name": "adam", "learning_rate": 0.05}]},
        ),
        (
            ["--function", "quadratic", "--optimizers", "sgd,rmsprop", "--noise", "0.5",
             "--noise-seed", "3", "-H", "sgd.nesterov=true", "-H", "sgd.momentum=0.9"],
            {"function": "quadratic", "noise": 0.5, "noise_seed": 3, "optimizers": [
                {"name": "sgd", "hyperparameters": {"nesterov": True, "momentum": 0.9}},
                {"name": "rmsprop"}]},
        ),
    ],
)  # fmt: skip
def test_paths_equal_the_clis_results(
    client: TestClient, tmp_path: Path, cli: list[str], body: dict[str, Any]
) -> None:
    code, _, stderr = run_cli("landscape", *cli, "--frames", "2", "--out", str(tmp_path / "run"))
    assert code == 0, stderr
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    answer = post(client, body)
    assert answer.status_code == 200, answer.text
    page = answer.json()
    assert page["start"] == results["start"] and page["steps"] == results["steps"]
    assert len(page["runs"]) == len(results["runs"])
    for run, record in zip(page["runs"], results["runs"], strict=True):
        assert {key: run[key] for key in record} == record
        assert run["learning_rate"] == record["hyperparameters"]["learning_rate"]
        assert len(run["loss"]) == record["steps_run"] + 1
        assert run["loss"][-1] == record["final_value"]


GOOD = {"name": "gd", "learning_rate": 0.001}


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"optimizers": [{"name": "nope"}]}, "optimizers[0].name", "choose one of: gd"),
        ({"optimizers": [GOOD, {"name": "adam", "learning_rate": -0.1}]},
         "optimizers[1].learning_rate", "> 0"),
        ({"optimizers": [{"name": "gd", "learning_rate": "fast"}]},
         "optimizers[0].learning_rate", "'fast'"),
        ({"optimizers": [{"name": "gd", "learning_rate": True}]},
         "optimizers[0].learning_rate", "> 0"),
        ({"optimizers": [{"name": "momentum", "hyperparameters": {"beta": 1.5}}]},
         "optimizers[0].hyperparameters.beta", "[0, 1)"),
        ({"optimizers": [{"name": "gd", "hyperparameters": {"beta": 0.5}}]},
         "optimizers[0].hyperparameters.beta", "allowed: learning_rate"),
        ({"optimizers": [{"name": "sgd", "hyperparameters": {"nesterov": True}}]},
         "optimizers[0].hyperparameters.nesterov", "needs momentum > 0"),
        ({"optimizers": [{"name": "sgd", "hyperparameters": {"nesterov": [1]}}]},
         "optimizers[0].hyperparameters.nesterov", "number or true/false"),
        ({"optimizers": [GOOD, GOOD]}, "optimizers[1].name", "twice"),
        ({"optimizers": "gd"}, "optimizers", "list"),
        ({"optimizers": [GOOD], "steps": 10_001}, "steps", "at most 10000"),
        ({"optimizers": [GOOD], "start": [1e308, 1e308]}, "start", "not finite there"),
        ({"optimizers": [GOOD], "steps": 0}, "steps", ">= 1"),
        ({"optimizers": [GOOD], "steps": "5"}, "steps", "integer"),
        ({"optimizers": [GOOD], "steps": 2.5}, "steps", "integer"),
        ({"optimizers": [GOOD], "start": [1]}, "start", "two numbers"),
        ({"optimizers": [GOOD], "start": ["a", 1]}, "start", "number"),
        ({"optimizers": [GOOD], "noise": -1}, "noise", ">= 0"),
        ({"optimizers": [GOOD], "noise_seed": -1}, "noise_seed", ">= 0"),
        ({"optimizers": [GOOD], "function": "nope"}, "function", "choose from: quadratic"),
        ({"optimizers": [GOOD], "function": []}, "function", "must be a name"),
        ({"optimizers": [GOOD], "speed": 1}, "speed", "allowed: function"),
        ([], "body", "JSON object"),
    ],
)  # fmt: skip
def test_a_refused_request_is_a_422_naming_the_field(
    client: TestClient, body: Any, field: str, says: str
) -> None:
    answer = post(client, body)
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["field"] == field
    assert says in error["message"]


@pytest.mark.parametrize(
    "content", [b"{", b"", b"\xff\xfe", b'{"optimizers": [{"name": "gd"}], "start": [NaN, 1]}']
)
def test_bad_json_is_a_422_not_a_server_error(client: TestClient, content: bytes) -> None:
    answer = client.post("/api/landscape", content=content)
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] in {"body", "start"}


@pytest.mark.parametrize("count", [0, 7])
def test_the_number_of_optimizers_is_limited(client: TestClient, count: int) -> None:
    names = optim.names("landscape")
    body = {"optimizers": [{"name": names[i % len(names)]} for i in range(count)]}
    error = post(client, body).json()["error"]
    assert error["field"] == "optimizers" and "1 to 6" in error["message"]


def test_limits_can_be_changed_and_are_checked() -> None:
    client = TestClient(create_app(Limits(max_steps=50, max_optimizers=2, max_body_bytes=2048)))
    assert client.get("/api/options").json()["limits"]["max_steps"] == 50
    answer = post(client, {"optimizers": [{"name": "gd"}], "steps": 51})
    assert answer.status_code == 422 and "at most 50" in answer.json()["error"]["message"]
    answer = client.post("/api/landscape", content=b" " * 4096)
    assert answer.status_code == 413 and answer.json()["error"]["field"] == "body"
    with pytest.raises(ValueError, match="max_optimizers must be >= min_optimizers"):
        Limits(min_optimizers=3, max_optimizers=2)


def test_a_diverged_or_overflowing_run_is_still_json(client: TestClient) -> None:
    # f and its gradient are finite at the start (a start where they are not is refused), and
    # the first step overflows.
    answer = post(client, {"optimizers": [GOOD], "start": [1e70, 1e70]})
    assert answer.status_code == 200
    json.loads(answer.text, parse_constant=pytest.fail)  # no NaN or Infinity in the JSON
    (run,) = answer.json()["runs"]
    assert run["status"] == "diverged" and run["diverged_step"] == 1
    assert run["loss"] == [run["final_value"]]  # the path ends before the overflowing step


def test_contours_are_the_pictures_levels(client: TestClient) -> None:
    from descentlab.report.trajectories import contour_grid, view_of

    answer = client.get("/api/contours", params={"function": "himmelblau"})
    assert answer.status_code == 200
    contours = answer.json()
    function = landscapes.get("himmelblau")
    grid = contour_grid(function, view_of(function), Limits().grid_points)
    assert contours["levels"] == grid.levels.tolist() and contours["log_scaled"]
    assert len(contours["heights"]) == len(contours["y"]) == Limits().grid_points
    answer = client.get("/api/contours", params={"function": "nope"})
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "function"


@pytest.mark.parametrize(
    ("path", "content_type", "contains"),
    [
        ("/", "text/html", '<canvas id="map"'),
        ("/static/playground.js", "javascript", "/api/landscape"),
        ("/static/playground.css", "text/css", "canvas"),
    ],
)
def test_the_page_is_served_from_the_package(
    client: TestClient, path: str, content_type: str, contains: str
) -> None:
    answer = client.get(path)
    assert answer.status_code == 200
    assert content_type in answer.headers["content-type"]
    assert contains in answer.text
    assert "http://" not in answer.text and "https://" not in answer.text  # no CDN


def referenced_files(page: str) -> list[str]:
    """The files under /static/ that index.html loads (scripts and stylesheets), in order."""
    return re.findall(r'(?:src|href)="/static/([^"]+)"', page)


def test_every_file_the_page_loads_is_served_from_the_package(client: TestClient) -> None:
    page = client.get("/").text
    names = referenced_files(page)
    assert names[:2] == ["vendor/uplot/uPlot.min.css", "playground.css"]
    assert "charts.js" in names and "vendor/uplot/uPlot.iife.min.js" in names
    assert not re.search(r"""(src|href)="(?!/static/)""", page)  # nothing from elsewhere
    for name in names:
        answer = client.get(f"/static/{name}")
        assert answer.status_code == 200, name
        assert "//cdn" not in answer.text, name


COMMAND_BODIES = [
    {"function": "rosenbrock", "start": [-1.2, 1.5], "steps": 120, "optimizers": [
        {"name": "gd", "learning_rate": 0.0015},
        {"name": "momentum", "hyperparameters": {"beta": 0.8}},
        {"name": "adam", "learning_rate": 0.05}]},
    {"function": "quadratic", "noise": 0.5, "noise_seed": 3, "optimizers": [
        {"name": "sgd", "learning_rate": 0.1 / 3,
         "hyperparameters": {"nesterov": True, "momentum": 0.9}},
        {"name": "rmsprop"}]},
    {"optimizers": [{"name": "gd", "learning_rate": 1}], "start": [-1e-5, 2], "steps": 7},
]  # fmt: skip


@pytest.mark.parametrize("body", COMMAND_BODIES)
def test_the_command_reproduces_the_pages_runs(
    client: TestClient, tmp_path: Path, body: dict[str, Any]
) -> None:
    answer = post(client, body)
    assert answer.status_code == 200, answer.text
    page = answer.json()
    program, command, *args = shlex.split(page["command"])
    assert (program, command) == ("descentlab", "landscape")
    code, _, stderr = run_cli(command, *args, "--frames", "2", "--out", str(tmp_path / "run"))
    assert code == 0, stderr
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert [{key: run[key] for key in record} for run, record in zip(
        page["runs"], results["runs"], strict=True)] == results["runs"]  # fmt: skip


@pytest.mark.parametrize("body", COMMAND_BODIES[:2])
def test_the_download_is_the_clis_results_json(
    client: TestClient, tmp_path: Path, body: dict[str, Any]
) -> None:
    answer = client.post("/api/landscape/results.json", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-disposition"] == 'attachment; filename="results.json"'
    assert "application/json" in answer.headers["content-type"]
    _, command, *args = shlex.split(post(client, body).json()["command"])
    code, _, stderr = run_cli(command, *args, "--out", str(tmp_path / "run"))
    assert code == 0, stderr
    written = (tmp_path / "run" / "results.json").read_text()
    created = re.compile(r'"created": "[^"]*"')
    assert created.sub("", answer.text) == created.sub("", written)


def test_the_download_refuses_as_the_api_does(client: TestClient) -> None:
    answer = client.post("/api/landscape/results.json", json={"optimizers": [{"name": "no"}]})
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "optimizers[0].name"


def test_a_wrapper_chain_takes_the_landscape_as_the_cli_does(
    client: TestClient, tmp_path: Path
) -> None:
    cli = ["--function", "rosenbrock", "--optimizers", "adam,lookahead:adam,sam:sgd",
           "--learning-rate", "adam=0.05,lookahead:adam=0.05,sam:sgd=0.001",
           "-H", "lookahead:adam.beta1=0.8", "-H", "sync_period=3", "--steps", "60"]  # fmt: skip
    code, _, stderr = run_cli("landscape", *cli, "--frames", "2", "--out", str(tmp_path / "run"))
    assert code == 0, stderr
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    answer = post(client, {"function": "rosenbrock", "steps": 60, "optimizers": [
        {"name": "adam", "learning_rate": 0.05},
        {"name": "lookahead:adam", "learning_rate": 0.05,
         "hyperparameters": {"beta1": 0.8, "sync_period": 3}},
        {"name": "sam:sgd", "learning_rate": 0.001}]})  # fmt: skip
    assert answer.status_code == 200, answer.text
    for run, record in zip(answer.json()["runs"], results["runs"], strict=True):
        assert {key: run[key] for key in record} == record
    assert results["runs"][1]["hyperparameters"]["sync_period"] == 3


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("lookahead", "lookahead wraps another optimizer: name it lookahead:INNER"),
        ("sam:nope", "unknown optimizer 'nope'; choose one of: gd"),
        ("adam:sgd", "optimizer 'adam' wraps no other optimizer"),
        ("look:adam", "unknown optimizer 'look:adam'; choose one of: gd"),
        ("sam:sam:adam", "names sam twice"),
    ],
)
def test_a_bad_wrapper_chain_is_a_422_naming_the_field(
    client: TestClient, name: str, says: str
) -> None:
    answer = post(client, {"optimizers": [GOOD, {"name": name, "learning_rate": 0.01}]})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["field"] == "optimizers[1].name"
    assert says in error["message"]


def test_a_wrappers_own_hyperparameter_is_checked_with_the_chain(client: TestClient) -> None:
    body = {"optimizers": [{"name": "lookahead:adam", "learning_rate": 0.01,
                            "hyperparameters": {"sync_period": 0}}]}  # fmt: skip
    error = post(client, body).json()["error"]
    assert error["field"] == "optimizers[0].hyperparameters.sync_period"
    assert "sync_period must be an integer >= 1, got 0" in error["message"]
    body["optimizers"][0]["hyperparameters"] = {"radius": 0.1}
    error = post(client, body).json()["error"]
    assert "unknown hyperparameter 'radius' for optimizer 'lookahead:adam'" in error["message"]


def test_a_chain_takes_its_inner_optimizers_hyperparameters(client: TestClient) -> None:
    def chain(settings: dict[str, Any]) -> dict[str, Any]:
        entry = {"name": "lookahead:adam", "learning_rate": 0.05, "hyperparameters": settings}
        return {"function": "quadratic", "steps": 20, "optimizers": [entry]}

    answer = post(client, chain({"beta1": 0.5, "amsgrad": True, "sync_period": 3}))
    assert answer.status_code == 200, answer.text
    run = answer.json()["runs"][0]
    assert run["hyperparameters"]["beta1"] == 0.5  # the inner's, recorded with the wrapper's
    assert run["hyperparameters"]["amsgrad"] is True
    assert run["hyperparameters"]["sync_period"] == 3
    command = answer.json()["command"]
    assert "-H lookahead:adam.beta1=0.5 -H lookahead:adam.amsgrad=true" in command
    default = post(client, chain({"sync_period": 3})).json()["runs"][0]
    assert default["hyperparameters"]["beta1"] == 0.9
    assert run["loss"] != default["loss"]  # the inner's setting is used, not only recorded


@pytest.mark.parametrize(
    ("settings", "field", "says"),
    [
        ({"beta1": 2}, "beta1", "beta1 must be a number in [0, 1), got 2"),
        ({"radius": 0.1, "epsilon": -1}, "epsilon", "epsilon must be a finite number >= 0"),
        ({"beta1": "high"}, "beta1", "must be a number or true/false, got 'high'"),
    ],
)
def test_a_bad_inner_hyperparameter_of_a_chain_is_a_422_naming_it(
    client: TestClient, settings: dict[str, Any], field: str, says: str
) -> None:
    body = {"optimizers": [GOOD, {"name": "sam:adam", "hyperparameters": settings}]}
    answer = post(client, body)
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["field"] == f"optimizers[1].hyperparameters.{field}"
    assert says in error["message"]


def test_a_race_config_takes_a_chains_inner_hyperparameters_and_names_a_bad_one() -> None:
    from descentlab.web.race_config import race_request
    from descentlab.web.requests import FieldError

    optimizers = [{"name": "adam"}, {"name": "sam:adam", "hyperparameters": {"beta1": 0.8}}]
    request = race_request({"optimizers": optimizers}, Limits())
    assert request.config.hyperparameters["sam:adam"] == {"beta1": 0.8}
    optimizers[1]["hyperparameters"] = {"radius": 0.1, "beta2": 1.5}
    with pytest.raises(FieldError) as refused:
        race_request({"optimizers": optimizers}, Limits())
    assert refused.value.field == "config.optimizers[1].hyperparameters.beta2"
    assert "beta2 must be a number in [0, 1), got 1.5" in refused.value.message


def test_a_race_config_takes_a_wrapper_chain_and_refuses_a_bare_wrapper() -> None:
    from descentlab.web.limits import Limits
    from descentlab.web.race_config import race_request
    from descentlab.web.requests import FieldError

    optimizers = [{"name": "adam"}, {"name": "sam:adam", "hyperparameters": {"radius": 0.2}}]
    request = race_request({"optimizers": optimizers}, Limits())
    assert request.config.optimizers == ("adam", "sam:adam")
    assert request.config.hyperparameters["sam:adam"] == {"radius": 0.2}
    with pytest.raises(FieldError) as refused:
        race_request({"optimizers": [{"name": "adam"}, {"name": "sam"}]}, Limits())
    assert refused.value.field == "config.optimizers[1].name"
    assert "sam wraps another optimizer: name it sam:INNER" in refused.value.message
