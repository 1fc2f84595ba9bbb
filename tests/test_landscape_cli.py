"""``descentlab landscape``: its files, its table, and its one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from conftest import run_cli, run_cli_process
from descentlab import __version__, optim


def test_writes_pictures_animation_and_results(tmp_path: Path) -> None:
    out = tmp_path / "run"
    code, stdout, _ = run_cli(
        "landscape", "--function", "rosenbrock", "--optimizers", "gd,momentum,adam,rmsprop",
        "--steps", "30", "--start", "-1.5,2", "--learning-rate", "gd=0.001,adam=0.05",
        "--frames", "4", "--out", str(out),
    )  # fmt: skip
    assert code == 0
    for name in ("trajectories.png", "loss.png"):
        with Image.open(out / name) as image:
            assert image.format == "PNG" and image.size[0] > 100
    with Image.open(out / "trajectories.gif") as gif:
        assert gif.format == "GIF" and gif.n_frames == 4
    results = json.loads((out / "results.json").read_text())
    assert results["descentlab_version"] == __version__
    assert (results["command"], results["status"]) == ("landscape", "finished")
    assert results["function"]["name"] == "rosenbrock"
    assert results["function"]["minima"] == [[1.0, 1.0]]
    assert results["start"] == [-1.5, 2.0] and results["steps"] == 30
    runs = {run["optimizer"]: run for run in results["runs"]}
    assert list(runs) == ["gd", "momentum", "adam", "rmsprop"]
    assert runs["gd"]["hyperparameters"]["learning_rate"] == 0.001
    assert runs["adam"]["hyperparameters"]["learning_rate"] == 0.05
    assert runs["rmsprop"]["hyperparameters"]["learning_rate"] == 0.01  # rosenbrock's default
    for record in runs.values():
        assert record["status"] == "finished" and record["steps_run"] == 30
        assert record["path"][0] == [-1.5, 2.0] and record["path"][-1] == record["final_point"]
        assert record["distance_to_minimum"] > 0 and record["steps_to_tolerance"] is None
    for optimizer in ("gd", "momentum", "adam", "rmsprop", "distance to minimum", "status"):
        assert optimizer in stdout


def test_every_optimizer_is_accepted_with_scoped_hyperparameters(tmp_path: Path) -> None:
    every = ",".join(optim.runnable_names("landscape"))
    code, _, err = run_cli(
        "landscape", "--function", "quadratic", "--optimizers", every,
        "--steps", "3", "--frames", "1", "-H", "sgd.nesterov=true", "-H", "sgd.momentum=0.5",
        "-H", "beta1=0.8", "--noise", "0.1", "--noise-seed", "4", "--out", str(tmp_path / "all"),
    )  # fmt: skip
    assert code == 0, err
    results = json.loads((tmp_path / "all" / "results.json").read_text())
    runs = {run["optimizer"]: run for run in results["runs"]}
    assert set(runs) == set(optim.runnable_names("landscape"))
    assert runs["sgd"]["hyperparameters"]["nesterov"] is True
    assert runs["adam"]["hyperparameters"]["beta1"] == 0.8
    assert results["function"]["noise"] == {"scale": 0.1, "seed": 4}


def test_saddle_reports_its_saddle_point_and_a_divergence(tmp_path: Path) -> None:
    code, stdout, _ = run_cli(
        "landscape", "--function", "saddle", "--optimizers", "gd,adam", "--learning-rate", "gd=5",
        "--steps", "40", "--frames", "2", "--out", str(tmp_path / "saddle"),
    )  # fmt: skip
    assert code == 0
    assert "distance to saddle" in stdout and "diverged at step" in stdout
    runs = json.loads((tmp_path / "saddle" / "results.json").read_text())["runs"]
    assert runs[0]["status"] == "diverged" and runs[1]["status"] == "finished"


def test_refuses_a_folder_that_already_holds_results(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text("{}")
    code, _, err = run_cli("landscape", "--steps", "2", "--frames", "1", "--out", str(tmp_path))
    assert code == 2 and "already holds a run" in err
    assert (tmp_path / "results.json").read_text() == "{}"


BAD_INPUTS = [
    (["--function", "banana"], "unknown function 'banana'; choose from: quadratic, rosenbrock"),
    (["--start", "1,2,3"], "start must be two numbers X,Y (e.g. -1.5,2), got '1,2,3'"),
    (["--start", "1"], "start must be two numbers X,Y"),
    (["--start", "a,b"], "start must be two numbers X,Y"),
    (["--steps", "0"], "steps must be an integer >= 1, got 0"),
    (["--steps", "-5"], "steps must be an integer >= 1"),
    (["--frames", "0"], "frames must be an integer >= 1, got 0"),
    (["--optimizers", "gd,bfgs"], "unknown optimizer 'bfgs'"),
    (["--learning-rate", "sgd=0.1"], "--learning-rate names 'sgd', which is not among"),
    (["-H", "nesterov=true"], "no chosen optimizer has a hyperparameter 'nesterov'"),
    (["--noise", "-1"], "noise must be a finite number >= 0"),
]


@pytest.mark.parametrize("args, message", BAD_INPUTS)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    args: list[str], message: str, tmp_path: Path
) -> None:
    # argparse's errors exit (run_cli turns that into the code); ValueErrors return 2.
    code, _, err = run_cli("landscape", *args, "--out", str(tmp_path / "out"))
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "results.json").exists()


def test_bad_input_from_the_shell_has_no_traceback(tmp_path: Path) -> None:
    result = run_cli_process(
        "landscape", "--start", "-1.5,2,0", "--out", str(tmp_path / "out"), timeout=60
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "descentlab landscape: error: argument --start: start must be two numbers X,Y "
        "(e.g. -1.5,2), got '-1.5,2,0' (see descentlab landscape --help)"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("start", ["1e308,1e308", "-1e200,0", "1,1e300"])
def test_a_start_where_f_is_not_finite_is_refused_before_any_file(
    tmp_path: Path, start: str
) -> None:
    out = tmp_path / "run"
    code, stdout, stderr = run_cli("landscape", f"--start={start}", "--out", str(out))
    assert code == 2 and stdout == ""
    (line,) = stderr.strip().splitlines()
    assert "is too far out for rosenbrock: f or its gradient is not finite there" in line
    assert "Traceback" not in stderr and not out.exists()


def test_the_api_refuses_the_same_start() -> None:
    import descentlab as dl

    with pytest.raises(ValueError, match="too far out for quadratic"):
        dl.landscape("quadratic", ["gd"], start=(1e200, 0.0))
