"""The Python API (``descentlab.api``) and its results (``descentlab.results``): the same numbers
as the library and the command line, short reprs, escaped HTML, tidy frames, the same run folder
as the CLI, one-line errors, and the notebook in docs/ executed."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import descentlab as dl
from descentlab import datasets, landscapes, optim
from descentlab.cli import main
from descentlab.experiment import ExperimentConfig, run_experiment
from descentlab.results import ExperimentResults, LandscapeResults, SweepResults
from descentlab.schedules import ScheduleSpec
from descentlab.sweep import SweepConfig, run_sweep

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "notebook.ipynb"


@pytest.fixture(scope="module")
def compared() -> ExperimentResults:
    return dl.compare(optimizers=["gd", "adam"], epochs=30)


@pytest.fixture(scope="module")
def swept() -> SweepResults:
    return dl.sweep(optimizers="gd,adam", learning_rate=[0.01, 0.1], seeds=2, epochs=20)


@pytest.fixture(scope="module")
def moved() -> LandscapeResults:
    return dl.landscape("quadratic", ["gd", "adam"], steps=20)


def assert_same_runs(got: ExperimentResults, expected: list[Any]) -> None:
    assert len(got.outcomes) == len(expected)
    for mine, theirs in zip(got.outcomes, expected, strict=True):
        assert mine.optimizer.name == theirs.optimizer.name
        assert mine.optimizer.hyperparameters == theirs.optimizer.hyperparameters
        np.testing.assert_array_equal(mine.result.params, theirs.result.params)
        np.testing.assert_array_equal(
            mine.result.history.minibatch_costs, theirs.result.history.minibatch_costs
        )
        np.testing.assert_array_equal(mine.learning_rates, theirs.learning_rates)
        assert mine.accuracies == theirs.accuracies


# ---- the same numbers as the library ----------------------------------------------------


def test_compare_is_run_experiment_with_the_same_config() -> None:
    got = dl.compare(
        optimizers=["gd", "momentum", "adam"],
        learning_rate={"gd": 0.1, "momentum": 0.05, "adam": 0.01},
        batch_size=32,
        epochs=12,
        layers=[4],
        seed=1,
        beta=0.8,
        hyperparameters={"adam": {"beta2": 0.99}},
        schedule="inverse-time",
        decay_rate=0.5,
        dataset="circles",
        n_samples=120,
        validation_fraction=0.25,
    )
    config = ExperimentConfig(
        optimizers=("gd", "momentum", "adam"),
        learning_rate={"gd": 0.1, "momentum": 0.05, "adam": 0.01},
        batch_size=32,
        epochs=12,
        hidden_layers=(4,),
        seed=1,
        beta=0.8,
        hyperparameters={"adam": {"beta2": 0.99}},
        schedule=ScheduleSpec("inverse-time", decay_rate=0.5),
        validation_fraction=0.25,
    )
    assert got.config == config
    assert_same_runs(got, run_experiment(config, datasets.circles(n_samples=120)))


def test_compare_defaults_are_the_published_experiment() -> None:
    defaults = {name: value.default for name, value in _signature(dl.compare).items()}
    assert defaults["optimizers"] == ("gd", "momentum", "adam")
    assert defaults["learning_rate"] == 0.0007
    assert defaults["batch_size"] == 64
    assert defaults["epochs"] == 10000
    assert defaults["layers"] == (5, 2)
    assert defaults["seed"] == 0


def test_train_is_run_experiment_with_one_optimizer() -> None:
    got = dl.train(
        "sgd", learning_rate=0.05, epochs=10, hyperparameters={"momentum": 0.9, "nesterov": True}
    )
    config = ExperimentConfig(
        optimizers=("sgd",),
        learning_rate=0.05,
        epochs=10,
        hyperparameters={"sgd": {"momentum": 0.9, "nesterov": True}},
    )
    assert got.command == "train" and got.optimizers == ("sgd",)
    assert_same_runs(got, run_experiment(config, datasets.moons()))


def test_hyperparameters_are_scoped_as_the_command_line_scopes_them() -> None:
    flat = dl.compare(["gd", "sgd", "adam"], epochs=1, hyperparameters={"momentum": 0.9})
    assert flat.config.hyperparameters == {"sgd": {"momentum": 0.9}}
    scoped = {"beta1": 0.8, "adam.beta1": 0.85, "sgd": {"nesterov": True, "momentum": 0.5}}
    config = dl.compare(["sgd", "adam"], epochs=1, hyperparameters=scoped).config
    assert config.hyperparameters == {
        "adam": {"beta1": 0.85},
        "sgd": {"nesterov": True, "momentum": 0.5},
    }


def test_compare_and_train_take_the_same_options() -> None:
    compare, train = _signature(dl.compare), _signature(dl.train)
    assert set(compare) - {"optimizers"} == set(train) - {"optimizer"}
    for name in set(compare) - {"optimizers", "hyperparameters"}:
        assert compare[name].default == train[name].default


def test_sweep_is_run_sweep_with_the_same_config(swept: SweepResults) -> None:
    config = SweepConfig(
        optimizers=("gd", "adam"), learning_rate="0.01,0.1", seeds=(0, 1), epochs=20
    )
    expected = run_sweep(config, datasets.moons())
    assert swept.config.to_dict() == config.to_dict()
    for mine, theirs in zip(swept.runs, expected.runs, strict=True):
        assert mine.spec == theirs.spec
        np.testing.assert_array_equal(mine.params, theirs.params)
        assert mine.final_cost == theirs.final_cost
        assert mine.train_correct == theirs.train_correct


def test_sweep_takes_values_as_text_or_python_values() -> None:
    config = dl.sweep(
        optimizers="adam",
        learning_rate={"adam": "0.001..0.01:log:2"},
        beta1=[0.8, 0.9],
        hyperparameters={"adam.eps_inside_sqrt": True},
        seeds=[3],
        epochs=2,
    ).config
    assert config.learning_rate == "adam=0.001..0.01:log:2"
    assert dict(config.hyperparameters) == {"beta1": "0.8,0.9", "adam.eps_inside_sqrt": "true"}
    assert config.seeds == (3,)
    assert len(config.configurations) == 4
    arrays = dl.sweep(
        optimizers="adam", learning_rate=np.geomspace(1e-3, 1e-1, 3), seeds=np.arange(2), epochs=1
    ).config
    assert arrays.learning_rate == "0.001,0.01,0.1" and arrays.seeds == (0, 1)


def test_landscape_is_run_trajectories_with_the_same_optimizers(moved: LandscapeResults) -> None:
    function = landscapes.get("quadratic")
    built = [
        optim.get(name, learning_rate=landscapes.default_learning_rate(function, name))
        for name in ("gd", "adam")
    ]
    expected = landscapes.run_trajectories(function, built, function.start, 20)
    for mine, theirs in zip(moved.trajectories, expected, strict=True):
        np.testing.assert_array_equal(mine.path, theirs.path)
        assert mine.hyperparameters == theirs.hyperparameters


def test_landscape_rates_given_for_some_keep_the_default_for_the_rest() -> None:
    function = landscapes.get("rosenbrock")
    got = dl.landscape(optimizers=["gd", "adam"], learning_rate={"adam": 0.05}, steps=3)
    assert got.learning_rates == {
        "gd": landscapes.default_learning_rate(function, "gd"),
        "adam": 0.05,
    }
    assert dl.landscape(optimizers="gd", learning_rate=0.001, steps=3).learning_rates == {
        "gd": 0.001
    }


@pytest.mark.parametrize("optimizers", ["adam", "gd, adam", ("adam",)])
def test_optimizers_may_be_one_string(optimizers: Any) -> None:
    expected = tuple(name.strip() for name in "".join(optimizers).split(","))
    assert dl.compare(optimizers=optimizers, epochs=1).optimizers == expected
    assert (
        dl.sweep(optimizers=optimizers, learning_rate=0.01, seeds=1, epochs=1).config.optimizers
        == expected
    )


# ---- descentlab.train and descentlab.sweep: modules and functions -------------------------


def test_train_and_sweep_are_the_modules_and_call_the_api() -> None:
    import descentlab.sweep
    import descentlab.train

    assert dl.train is sys.modules["descentlab.train"] is descentlab.train
    assert dl.sweep is sys.modules["descentlab.sweep"] is descentlab.sweep
    assert callable(dl.train) and callable(dl.sweep)
    assert hasattr(dl.train, "train_stack") and hasattr(dl.sweep, "run_sweep")
    assert "epochs" in str(__import__("inspect").signature(dl.sweep))


@pytest.mark.parametrize(
    "script",
    [
        # the API first, then the modules
        "import descentlab as dl\nr = dl.train(epochs=1)\nimport descentlab.train as m\n"
        "assert m is dl.train and m.train_stack\ndl.sweep(learning_rate=0.1, seeds=1, epochs=1)\n",
        # the modules first, then the API
        "import descentlab.train as m\nfrom descentlab.sweep import run_sweep\n"
        "import descentlab as dl\nassert dl.train is m\ndl.train(epochs=1)\n"
        "dl.sweep(learning_rate=0.1, seeds=1, epochs=1)\n",
    ],
)
def test_train_and_sweep_are_callable_whichever_is_imported_first(script: str) -> None:
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_import_descentlab_is_light_and_lists_the_api() -> None:
    script = (
        "import sys\nimport descentlab as dl\n"
        "print(sorted(m for m in ('numpy', 'matplotlib', 'pandas', 'tqdm') if m in sys.modules))\n"
        "print(dir(dl))\n"
        "r = dl.compare(epochs=1)\nrepr(r)\n"
        "print(sorted(m for m in ('matplotlib', 'pandas', 'tqdm') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    before, names, after = done.stdout.splitlines()
    assert before == "[]"
    for name in ("compare", "train", "sweep", "landscape", "ExperimentResults", "__version__"):
        assert repr(name) in names
    assert after == "[]"


# ---- repr, HTML, pictures, frames ---------------------------------------------------------


def test_reprs_are_short_tables(
    compared: ExperimentResults, swept: SweepResults, moved: LandscapeResults
) -> None:
    for results in (compared, swept, moved):
        text = repr(results)
        assert len(text) < 1000 and "array" not in text
        for name in ("gd", "adam"):
            assert name in text
    adam = compared["adam"]
    assert f"{adam.final_cost:.6f}" in repr(compared)
    assert f"({adam.train_correct}/300)" in repr(compared)
    assert "best per optimizer" in repr(swept)
    assert f"{moved.learning_rates['adam']:g}" in repr(moved)


def test_repr_stays_short_for_the_default_sweep_size() -> None:
    results = dl.sweep(epochs=1, seeds=1)  # 13 learning rates x 3 optimizers
    assert len(results.summaries) == 39
    assert len(repr(results)) < 1000


def test_html_escapes_every_name(compared: ExperimentResults) -> None:
    hostile = dataclasses.replace(datasets.moons(n_samples=40), name="<b>moons</b> & co")
    results = dl.compare(optimizers="adam", epochs=1, dataset=hostile)
    html = results._repr_html_()
    assert "&lt;b&gt;moons&lt;/b&gt; &amp; co" in html
    assert "<b>" not in html
    assert "<table>" in html and "<td" in html
    assert "&lt;b&gt;" in dl.sweep(optimizers="adam", learning_rate=0.1, seeds=1, epochs=1,
                                   dataset=hostile)._repr_html_()  # fmt: skip


def test_every_picture_is_a_figure(compared: ExperimentResults, moved: LandscapeResults) -> None:
    from matplotlib.figure import Figure

    with_paths = dl.compare(optimizers=["gd", "adam"], epochs=4, weight_paths=2)
    for kind in ExperimentResults.PICTURES:
        assert isinstance(with_paths.plot(kind), Figure)
    assert isinstance(moved.plot("loss"), Figure)
    with pytest.raises(ValueError, match="weight_paths=EVERY"):
        compared.plot("weight_paths")


def test_to_pandas_has_a_row_per_run_with_the_numbers(compared: ExperimentResults) -> None:
    frame = compared.to_pandas()
    assert list(frame.columns) == [
        "optimizer", "learning_rate", "status", "epochs", "final_cost", "train_accuracy",
        "train_correct", "n_examples", "oscillation", "cost_shape", "diverged_epoch", "seconds",
    ]  # fmt: skip
    assert list(frame.optimizer) == ["gd", "adam"]
    assert frame.final_cost.tolist() == [o.final_cost for o in compared.outcomes]
    history = compared.history_frame()
    assert list(history.columns) == ["optimizer", "epoch", "cost", "learning_rate"]
    assert len(history) == 2 * 30
    adam = history[history.optimizer == "adam"]
    np.testing.assert_array_equal(adam.cost, compared["adam"].result.history.epoch_costs)


def test_held_out_splits_add_columns() -> None:
    results = dl.compare(
        optimizers="adam", epochs=3, validation_fraction=0.2, test_fraction=0.2,
        early_stopping=True, patience=1,
    )  # fmt: skip
    assert {"validation_accuracy", "test_accuracy", "best_epoch"} <= set(results.to_pandas())
    assert {"validation_cost", "validation_accuracy"} <= set(results.history_frame())
    assert "validation accuracy" in repr(results)


def test_sweep_and_landscape_frames(swept: SweepResults, moved: LandscapeResults) -> None:
    runs = swept.to_pandas()
    assert len(runs) == 8
    assert {"optimizer", "configuration", "seed", "learning_rate", "final_cost"} <= set(runs)
    assert runs.final_cost.tolist() == [run.final_cost for run in swept.runs]
    summary = swept.summary_frame()
    assert len(summary) == 4 and "final_cost_mean" in summary
    assert set(swept.history_frame().epoch) == {0}  # 20 epochs: results.json keeps epoch 0
    paths = moved.history_frame()
    assert list(paths.columns) == ["optimizer", "step", "x", "y", "value", "distance"]
    assert len(paths) == 2 * 21
    assert moved.to_pandas().steps_run.tolist() == [20, 20]


def test_to_pandas_without_pandas_says_so_in_one_line(
    compared: ExperimentResults, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now fails
    with pytest.raises(ImportError) as raised:
        compared.to_pandas()
    assert "pip install pandas" in str(raised.value) and "\n" not in str(raised.value)


def test_model_predicts_as_the_run_does(tmp_path: Path) -> None:
    results = dl.train(epochs=5)
    model = results.model()
    data = datasets.moons()
    predicted = model.predict(data.X.T)
    assert np.mean(np.asarray(predicted) == np.asarray(data.classes)[data.labels]) == (
        results["adam"].train_accuracy
    )
    assert results.save_model(tmp_path / "model.npz").exists()


# ---- save writes what the command line writes ---------------------------------------------


def _documents_agree(mine: Any, theirs: Any, where: str = "") -> None:
    """The same keys and values all the way down, except when a run was made and how long it
    took."""
    if isinstance(mine, dict):
        assert isinstance(theirs, dict) and mine.keys() == theirs.keys(), where
        for key in mine:
            if key not in ("created", "seconds"):
                _documents_agree(mine[key], theirs[key], f"{where}.{key}")
    elif isinstance(mine, list):
        assert isinstance(theirs, list) and len(mine) == len(theirs), where
        for index, (a, b) in enumerate(zip(mine, theirs, strict=True)):
            _documents_agree(a, b, f"{where}[{index}]")
    else:
        assert mine == theirs, where


def _cli_folder(tmp_path: Path, *argv: str) -> Path:
    out = tmp_path / "cli"
    assert main([*argv, "--out", str(out), "--quiet"]) == 0
    return out


def _results(folder: Path) -> Any:
    return json.loads((folder / "results.json").read_text())


@pytest.mark.parametrize(
    "argv, call",
    [
        (
            ["compare", "--optimizers", "gd,adam", "--epochs", "12", "--learning-rate",
             "gd=0.1,adam=0.01", "--layers", "4,3", "--batch-size", "full", "--schedule",
             "cosine", "--test-fraction", "0.2", "--weight-paths", "4"],
            lambda: dl.compare(
                ["gd", "adam"], epochs=12, learning_rate={"gd": 0.1, "adam": 0.01},
                layers=(4, 3), batch_size="full", schedule="cosine", test_fraction=0.2,
                weight_paths=4,
            ),
        ),
        (
            ["sweep", "--optimizers", "gd,adam", "--learning-rate", "0.01,0.1", "--beta1",
             "0.8,0.9", "--seeds", "2", "--epochs", "20"],
            lambda: dl.sweep(
                ["gd", "adam"], learning_rate=[0.01, 0.1], beta1=[0.8, 0.9], seeds=2, epochs=20
            ),
        ),
        (
            ["landscape", "--function", "beale", "--optimizers", "gd,adam", "--steps", "30",
             "--frames", "2", "--learning-rate", "adam=0.05", "--start", "1,1"],
            lambda: dl.landscape(
                "beale", ["gd", "adam"], steps=30, frames=2, learning_rate={"adam": 0.05},
                start=(1, 1),
            ),
        ),
    ],
    ids=["compare", "sweep", "landscape"],
)  # fmt: skip
def test_save_writes_the_folder_the_command_writes(
    tmp_path: Path, argv: list[str], call: Callable[[], Any]
) -> None:
    cli = _cli_folder(tmp_path, *argv)
    results = call()
    mine = results.save(tmp_path / "api")
    _documents_agree(_results(mine), _results(cli))
    written = {path.name for path in mine.iterdir()}
    assert written == {path.name for path in cli.iterdir()} - {"checkpoints"}
    for array in mine.glob("*.npy"):
        np.testing.assert_array_equal(np.load(array), np.load(cli / array.name))
    with pytest.raises(ValueError, match="already holds a run"):
        results.save(mine)


# ---- bad arguments: one line naming the value ---------------------------------------------


@pytest.mark.parametrize(
    "call, named",
    [
        (lambda: dl.compare(optimizers=["gd", "nope"]), "'nope'"),
        (lambda: dl.compare(optimizers=["gd", "gd"]), "'gd'"),
        (lambda: dl.compare(optimizers=[1, 2]), "[1, 2]"),
        (lambda: dl.compare(epochs=0), "0"),
        (lambda: dl.compare(learning_rate=-1), "-1"),
        (lambda: dl.compare(learning_rate={"gd": 0.1}), "'momentum'"),
        (lambda: dl.compare(batch_size="half"), "'half'"),
        (lambda: dl.compare(batch_size=0), "0"),
        (lambda: dl.compare(layers="5,2"), "'5,2'"),
        (lambda: dl.compare(layers=(5, 0)), "0"),
        (lambda: dl.compare(dataset="nope"), "'nope'"),
        (lambda: dl.compare(dataset="moons", data="x.csv"), "data"),
        (lambda: dl.compare(n_samples=1), "1"),
        (lambda: dl.compare(hyperparameters={"momentum": 0.9}), "'momentum'"),
        (lambda: dl.compare(hyperparameters=[("adam.beta1", 0.8)]), "[('adam.beta1', 0.8)]"),
        (lambda: dl.compare(hyperparameters={"sgd": {"nesterov": True}}), "'sgd'"),
        (lambda: dl.compare(hyperparameters={"adam": {"nope": 1.0}}), "'nope'"),
        (lambda: dl.compare(beta=1.5), "1.5"),
        (lambda: dl.compare(schedule="sometimes"), "'sometimes'"),
        (lambda: dl.compare(validation_fraction=1.5), "1.5"),
        (lambda: dl.compare(weight_paths=-1), "-1"),
        (lambda: dl.compare(blas_threads="many"), "'many'"),
        (lambda: dl.train(["gd", "adam"]), "['gd', 'adam']"),
        (lambda: dl.train("gd,adam"), "'gd,adam'"),
        (lambda: dl.sweep(learning_rate="1..0.1:log:3"), "'1..0.1:log:3'"),
        (lambda: dl.sweep(learning_rate=["fast"]), "'fast'"),
        (lambda: dl.sweep(seeds=0), "0"),
        (lambda: dl.sweep(seeds=[1, 1]), "1"),
        (lambda: dl.sweep(samples=5), "samples"),
        (lambda: dl.sweep(beta1="0.9", hyperparameters={"beta1": "0.8"}), "'beta1'"),
        (lambda: dl.sweep(jobs=0), "0"),
        (lambda: dl.landscape("nope"), "'nope'"),
        (lambda: dl.landscape(start=(1,)), "(1,)"),
        (lambda: dl.landscape(start="1,x"), "'1,x'"),
        (lambda: dl.landscape(learning_rate={"sgd": 0.1}), "'sgd'"),
        (lambda: dl.landscape(noise=-1), "-1"),
        (lambda: dl.landscape(steps=0), "0"),
        (lambda: dl.landscape(frames=0), "0"),
    ],
)
def test_bad_arguments_are_one_line_value_errors(call: Callable[[], Any], named: str) -> None:
    with pytest.raises(ValueError) as raised:
        call()
    message = str(raised.value)
    assert named in message and "\n" not in message


def test_bad_picture_names_the_choices(compared: ExperimentResults) -> None:
    with pytest.raises(ValueError, match=r"'nope'.*cost_curves"):
        compared.plot("nope")


# ---- the notebook in docs/ ----------------------------------------------------------------


def test_notebook_is_committed_without_outputs() -> None:
    notebook = json.loads(NOTEBOOK.read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


def test_notebook_runs_and_shows_the_numbers(tmp_path: Path) -> None:
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()  # raises CellExecutionError when a cell fails
    outputs = [
        output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    ]
    texts = "\n".join(
        str(output.get("text", "")) + str(output.get("data", {}).get("text/plain", ""))
        for output in outputs
    )
    expected = dl.compare(optimizers=["gd", "adam"], epochs=300)
    for outcome in expected.outcomes:
        assert f"{outcome.final_cost:.6f}" in texts
        assert f"({outcome.train_correct}/300)" in texts
    kinds = {kind for output in outputs for kind in output.get("data", {})}
    assert {"text/html", "image/png"} <= kinds
    assert not any(output.output_type == "error" for output in outputs)


def _signature(function: Callable[..., Any]) -> dict[str, Any]:
    import inspect

    return dict(inspect.signature(function).parameters)
