"""Sweeps: the values syntax, grid and random search, the engine (every run equals training it
alone, whatever the chunking and the process count), divergence, and the `sweep` command."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import kill_at, run_cli
from descentlab import datasets, optim
from descentlab.schedules import ScheduleSpec
from descentlab.seeds import run_seeds
from descentlab.sweep import (
    Range,
    SweepConfig,
    SweepOutcome,
    busy_cores,
    bytes_per_run,
    plan_chunks,
    resolve_jobs,
    run_sweep,
    summarize,
)
from descentlab.sweep.grid import parse_learning_rates, parse_values
from descentlab.train import train
from helpers import assert_same_random_state, global_random_state

DATA = datasets.moons()
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def values(text: str) -> list[object]:
    """The grid values of one hyperparameter's text."""
    config = SweepConfig(optimizers=("gd",), learning_rate=text, seeds=(0,), epochs=1)
    return [c.settings["learning_rate"] for c in config.configurations]


# --- the values syntax -----------------------------------------------------------------------


def test_log_range_gives_exact_decades() -> None:
    got = values("1e-4..1e-1:log:4")
    np.testing.assert_allclose(got, [1e-4, 1e-3, 1e-2, 1e-1], rtol=1e-15, atol=0)
    assert got[0] == 1e-4 and got[-1] == 1e-1  # both ends exactly as typed


def test_log_range_of_13_is_geometric() -> None:
    got = np.array(values("1e-4..1e-1:log:13"))
    assert got.size == 13
    np.testing.assert_allclose(got[1:] / got[:-1], 10 ** (3 / 12), rtol=1e-14)


def test_lin_range_lists_and_mixtures_keep_the_order_given() -> None:
    assert values("0.25..1:lin:4") == [0.25, 0.5, 0.75, 1.0]
    assert values("0.5,0.01,0.2") == [0.5, 0.01, 0.2]
    assert values("0.5,1e-3..1e-1:log:3") == [0.5, 1e-3, 0.01, 0.1]


def test_a_range_parses_into_its_parts() -> None:
    assert parse_values("1e-4..1e-1:log:13", "x") == (Range(1e-4, 0.1, "log", 13),)
    assert parse_values("0.8..0.99:lin", "x") == (Range(0.8, 0.99, "lin", None),)
    assert parse_values("true,0.5", "x") == (True, 0.5)


def test_learning_rate_sections_per_optimizer() -> None:
    assert parse_learning_rates("adam=1e-4..1e-1:log:13,gd=0.1") == {
        "adam": "1e-4..1e-1:log:13",
        "gd": "0.1",
    }
    config = SweepConfig(
        optimizers=("gd", "momentum", "adam"),
        learning_rate="0.5,adam=1e-3,1e-2",
        seeds=(0,),
        epochs=1,
    )
    rates = [(c.optimizer, c.settings["learning_rate"]) for c in config.configurations]
    assert rates == [("gd", 0.5), ("momentum", 0.5), ("adam", 1e-3), ("adam", 1e-2)]


def test_grid_is_the_product_and_scoped_settings_win() -> None:
    config = SweepConfig(
        optimizers=("momentum", "adam"),
        learning_rate="0.01,0.1",
        hyperparameters={"beta": "0.8,0.9", "adam.beta1": "0.5..0.9:lin:3", "beta2": "0.99"},
        seeds=(0, 7),
        epochs=1,
    )
    momentum = [c.settings for c in config.configurations if c.optimizer == "momentum"]
    adam = [c.settings for c in config.configurations if c.optimizer == "adam"]
    assert len(momentum) == 4 and len(adam) == 6
    assert momentum[1] == {"learning_rate": 0.01, "beta": 0.9}
    assert adam[-1] == {"learning_rate": 0.1, "beta1": 0.9, "beta2": 0.99}
    assert len(config.runs) == 20 and config.runs[1].seed == 7
    # Every configuration records all of the optimizer's hyperparameters, defaults included.
    assert config.configurations[-1].hyperparameters["epsilon"] == 1e-8


# --- random search ----------------------------------------------------------------------------


def random_config(**changes: object) -> SweepConfig:
    settings: dict[str, object] = dict(
        optimizers=("gd", "adam"),
        learning_rate="1e-5..1e-1:log",
        hyperparameters={"adam.beta1": "0.8..0.99:lin:5", "adam.amsgrad": "true,false"},
        seeds=(0,),
        epochs=1,
        search="random",
        samples=200,
        search_seed=4,
    )
    settings.update(changes)
    return SweepConfig(**settings)  # type: ignore[arg-type]


def test_random_search_is_reproducible_within_bounds_and_leaves_global_state_alone() -> None:
    before = global_random_state()
    first = [c.settings for c in random_config().configurations]
    assert_same_random_state(before, global_random_state())
    assert first == [c.settings for c in random_config().configurations]
    assert first != [c.settings for c in random_config(search_seed=5).configurations]
    rates = np.array([s["learning_rate"] for s in first])
    assert rates.min() >= 1e-5 and rates.max() <= 1e-1
    # Log-uniform: about as many draws in each decade.
    per_decade = np.histogram(np.log10(rates), bins=4, range=(-5, -1))[0]
    assert per_decade.min() > 0.15 * rates.size
    betas = np.array([s["beta1"] for s in first if "beta1" in s])
    assert betas.size == 200 and betas.min() >= 0.8 and betas.max() <= 0.99
    assert {s["amsgrad"] for s in first if "amsgrad" in s} == {True, False}


def test_random_draws_of_one_optimizer_do_not_depend_on_the_others() -> None:
    both = [c.settings for c in random_config().configurations if c.optimizer == "adam"]
    alone = [c.settings for c in random_config(optimizers=("adam",)).configurations]
    assert both == alone


# --- the engine ---------------------------------------------------------------------------------

SMALL = SweepConfig(
    optimizers=("gd", "momentum", "adam"),
    learning_rate="0.003,0.03,adam=1e-3..1e-2:log:2",
    hyperparameters={"adam.beta1": "0.8,0.9"},
    seeds=(0, 3),
    epochs=40,
)


@pytest.fixture(scope="module")
def small_outcome() -> SweepOutcome:
    return run_sweep(SMALL, DATA, keep_histories=True)


def assert_same_runs(left: SweepOutcome, right: SweepOutcome) -> None:
    assert len(left.runs) == len(right.runs)
    for a, b in zip(left.runs, right.runs, strict=True):
        assert a.spec == b.spec
        assert np.array_equal(a.params, b.params)
        assert a.history is not None and b.history is not None
        assert np.array_equal(a.history.epoch_costs, b.history.epoch_costs)
        assert np.array_equal(a.history.minibatch_costs, b.history.minibatch_costs)


@pytest.mark.exact
def test_every_run_of_a_sweep_equals_training_it_alone(small_outcome: SweepOutcome) -> None:
    network = SMALL.network(DATA.n_features)
    assert len(small_outcome.runs) == 2 * (2 + 2 + 4)
    for run in small_outcome.runs:
        seeds = run_seeds(run.spec.seed)
        optimizer = optim.get(run.configuration.optimizer, **run.configuration.settings)
        alone = train(
            network, DATA.X, DATA.Y, optimizer, epochs=SMALL.epochs, batch_size=SMALL.batch_size,
            init_seed=seeds.init_seed, shuffle_seed=seeds.shuffle_seed,
        )  # fmt: skip
        assert run.history is not None
        assert np.array_equal(run.params, alone.params)
        assert np.array_equal(run.history.epoch_costs, alone.history.epoch_costs)
        assert np.array_equal(run.history.minibatch_costs, alone.history.minibatch_costs)
        assert run.final_cost == alone.history.epoch_costs[-1]
        assert run.status == "finished"


@pytest.mark.exact
def test_a_scheduled_sweep_run_equals_training_it_alone() -> None:
    spec = ScheduleSpec(name="inverse-time", decay_rate=0.5, every=10)
    config = SweepConfig(
        optimizers=("momentum",), learning_rate="0.01,0.1", seeds=(2,), epochs=30, schedule=spec
    )
    outcome = run_sweep(config, DATA, keep_histories=True)
    network = config.network(DATA.n_features)
    seeds = run_seeds(2)
    for run in outcome.runs:
        rate = spec.for_optimizer(
            float(run.configuration.settings["learning_rate"]), epochs=30, batches_per_epoch=5
        )
        alone = train(
            network, DATA.X, DATA.Y, optim.momentum(rate), epochs=30,
            init_seed=seeds.init_seed, shuffle_seed=seeds.shuffle_seed,
        )  # fmt: skip
        assert np.array_equal(run.params, alone.params)
        assert run.history is not None
        assert np.array_equal(run.history.minibatch_costs, alone.history.minibatch_costs)


@pytest.mark.exact
def test_chunked_equals_unchunked(small_outcome: SweepOutcome) -> None:
    chunked = run_sweep(SMALL, DATA, max_stack=3, keep_histories=True)
    assert small_outcome.execution.stacks == 1
    assert chunked.execution.stacks == 6  # 16 runs, at most 3 per stack
    assert_same_runs(small_outcome, chunked)


@pytest.mark.exact
def test_two_processes_equal_one(small_outcome: SweepOutcome) -> None:
    seen: list[int] = []
    parallel = run_sweep(SMALL, DATA, jobs=2, keep_histories=True, progress=seen.append)
    assert parallel.execution.processes == 2 and parallel.execution.stacks == 2
    assert sum(seen) == len(SMALL.runs) * SMALL.epochs  # every run-epoch reported once
    assert_same_runs(small_outcome, parallel)


def test_chunks_respect_max_stack_and_keep_optimizers_apart() -> None:
    chunks = plan_chunks(SMALL, max_stack=5)
    assert sorted(i for chunk in chunks for i in chunk.runs) == list(range(len(SMALL.runs)))
    assert all(len(chunk.runs) <= 5 for chunk in chunks) and len(chunks) == 4
    for chunk in chunks:
        assert sum(len(group.settings) for group in chunk.groups) == len(chunk.runs)
    (one,) = plan_chunks(SMALL, max_stack=100)
    assert [group.optimizer for group in one.groups] == ["gd", "momentum", "adam"]


def test_memory_estimate_grows_with_epochs_and_bounds_the_stack() -> None:
    short = bytes_per_run(SMALL, 2, 300)
    long = bytes_per_run(SweepConfig(epochs=10000, seeds=(0,)), 2, 300)
    assert 8 * 10000 * 6 < long < 2 * 8 * 10000 * 6  # the histories dominate
    assert short < long
    assert resolve_jobs(3, SMALL, n_cores=2) == 3
    assert resolve_jobs("auto", SMALL, n_cores=2) == 1  # 16 runs x 40 epochs: too little work
    big = SweepConfig(optimizers=("adam",), learning_rate="1e-4..1e-1:log:64", seeds=(0,))
    assert resolve_jobs("auto", big, n_cores=2, busy=0.3) == 2
    assert resolve_jobs("auto", big, n_cores=2, busy=0.8) == 1  # another process uses a core
    assert 0.0 <= busy_cores(0.01) <= os.cpu_count()  # type: ignore[operator]


# --- divergence ---------------------------------------------------------------------------------


def test_diverged_runs_are_marked_counted_and_left_out_of_the_statistics() -> None:
    config = SweepConfig(
        optimizers=("gd", "adam"),
        learning_rate="gd=0.1,1e3,adam=10",
        seeds=(0, 1, 2),
        epochs=20,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy warning may leak
        outcome = run_sweep(config, DATA)
        summaries = summarize(outcome)
    stable, exploded, adam = summaries
    assert (stable.diverged, exploded.diverged, adam.diverged) == (0, 3, 2)
    assert exploded.final_cost is None and exploded.train_accuracy is None
    runs = [run for run in outcome.runs if run.configuration.index == adam.configuration.index]
    finished = [run for run in runs if run.status == "finished"]
    assert [run.diverged_epoch is not None for run in runs] == [True, False, True]
    assert adam.final_cost is not None and adam.final_cost.std is None
    assert adam.final_cost.mean == finished[0].final_cost


# --- the command --------------------------------------------------------------------------------


def test_sweep_prints_the_table_and_writes_results_and_plot(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    result = run_cli(
        "sweep", "--optimizers", "gd,adam", "--learning-rate", "gd=0.1,1e3,adam=1e-3..1e-1:log:3",
        "--seeds", "2", "--epochs", "120", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no progress bar off a terminal, no warnings
    lines = result.stdout.splitlines()
    assert lines[0].startswith("descentlab sweep: moons (300 examples), layers [2, 5, 2, 1]")
    assert "5 configurations x 2 seeds = 10 runs" in lines[0]
    assert lines[2].split() == [
        "optimizer", "hyperparameters", "final", "cost", "train", "accuracy", "diverged",
    ]  # fmt: skip
    gd_exploded = next(line for line in lines if line.startswith("gd") and "lr 1000" in line)
    assert gd_exploded.split()[-3:] == ["diverged", "diverged", "2/2"]
    assert any(line.startswith("  adam  lr 0.01: final cost ") for line in lines)
    assert "trained 10 runs in 1 stack on 1 process" in result.stdout
    results = json.loads((out / "results.json").read_text())
    assert set(results) == {
        "descentlab_version", "command", "status", "created", "dataset", "config", "runs",
        "summary", "best", "execution", "engine",
    }  # fmt: skip
    assert (results["command"], results["status"]) == ("sweep", "finished")
    assert results["config"]["expanded"]["adam"]["learning_rate"] == pytest.approx(
        [1e-3, 1e-2, 1e-1], rel=1e-15
    )
    run = results["runs"][0]
    assert set(run) >= {"optimizer", "hyperparameters", "seed", "status", "diverged_epoch",
                        "final_cost", "train_accuracy", "costs"}  # fmt: skip
    assert len(run["costs"]) == 2  # epochs 0 and 100
    diverged = [r for r in results["runs"] if r["status"] == "diverged"]
    assert len(diverged) == 2 and all(r["train_accuracy"] is None for r in diverged)
    assert results["summary"][1]["diverged"] == 2 and results["summary"][1]["final_cost"] is None
    assert set(results["best"]) == {"gd", "adam"}
    assert results["best"]["gd"]["settings"] == {"learning_rate": 0.1}
    assert results["execution"]["stacks"] == 1 and results["execution"]["processes"] == 1
    assert (out / "sensitivity.png").read_bytes()[:8] == PNG_SIGNATURE


def test_json_quiet_random_search_and_two_processes(tmp_path: Path) -> None:
    common = [
        "sweep", "--optimizers", "adam", "--learning-rate", "1e-3..1e-1:log", "--search", "random",
        "--samples", "3", "--search-seed", "9", "--seed-list", "0,5", "--epochs", "30",
    ]  # fmt: skip
    printed = run_cli(*common, "--json", "--jobs", "2", "--out", str(tmp_path / "j"))
    assert printed.returncode == 0, printed.stderr
    document = json.loads(printed.stdout)
    assert document == json.loads((tmp_path / "j" / "results.json").read_text())
    assert document["execution"]["processes"] == 2
    assert document["config"]["search"] == "random" and document["config"]["samples"] == 3
    quiet = run_cli(*common, "--quiet", "--out", str(tmp_path / "q"))
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""
    again = json.loads((tmp_path / "q" / "results.json").read_text())
    for a, b in zip(document["runs"], again["runs"], strict=True):  # jobs never change results
        assert (a["hyperparameters"], a["seed"], a["costs"]) == (
            b["hyperparameters"], b["seed"], b["costs"],
        )  # fmt: skip
    refused = run_cli(*common, "--out", str(tmp_path / "q"))
    assert refused.returncode == 2 and "already holds a run" in refused.stderr


BAD_SPECS = [
    (["--learning-rate", "1e-1..1e-4:log:0"], "N (the number of values) must be an integer >= 2"),
    (["--learning-rate", "1e-1..1e-4:log:5"], "range '1e-1..1e-4:log:5' is empty: LO must be"),
    (["--learning-rate", ".."], "range '..' must look like LO..HI:log:N or LO..HI:lin:N"),
    (["--learning-rate", "1e-4..1e-1"], "must look like LO..HI:log:N or LO..HI:lin:N"),
    (["--learning-rate", "1e-4..1e-1:log:1"], "must be an integer >= 2, got '1'"),
    (["--learning-rate", "1e-4..1e-1:log:x"], "must be an integer >= 2, got 'x'"),
    (["--learning-rate", "1e-4..1e-1:geo:5"], "spacing must be 'log' or 'lin', got 'geo'"),
    (["--learning-rate", "-0.1"], "learning rate must be a finite number > 0, got -0.1"),
    (["--learning-rate", "0"], "learning rate must be a finite number > 0, got 0.0"),
    (["--learning-rate", "0..1:lin:3"], "learning rate must be a finite number > 0, got 0.0"),
    (["--learning-rate", "inf"], "learning rate must be a finite number > 0, got inf"),
    (["--learning-rate", "fast"], "learning rate must be a number, a list or a range LO..HI:log:N"),
    (["--learning-rate", "0.1,,0.2"], "has an empty item"),
    (["--learning-rate", "0.1,0.1"], "gives 0.1 twice"),
    (["--learning-rate", "1e-4..1e-1:log"], "a grid search needs the number of values"),
    (["--learning-rate", "nesterov=0.1"], "unknown optimizer 'nesterov'"),
    (["--learning-rate", "adam=0.1"], "--learning-rate gives no values for 'gd'"),
    (["--optimizers", "gd,nesterov"], "unknown optimizer 'nesterov'; choose one of: gd, momentum"),
    (["--beta1", "0.5..0.9:lin:0"], "beta1 range '0.5..0.9:lin:0': N (the number of values)"),
    (["-H", "beta1=1.5"], "beta1 must be a number in [0, 1), got 1.5"),
    (["-H", "nesterov=true"], "no chosen optimizer has a hyperparameter 'nesterov'"),
    (["-H", "beta1"], "hyperparameter must look like NAME=VALUES or OPTIMIZER.NAME=VALUES"),
    (["--beta1", "0.9", "-H", "beta1=0.8"], "hyperparameter 'beta1' is given twice"),
    (["--seeds", "0"], "seeds must be an integer >= 1, got 0"),
    (["--seed-list", "1,1"], "seed 1 is listed twice"),
    (["--seeds", "2", "--seed-list", "1"], "not allowed with argument"),
    (["--jobs", "0"], "jobs must be an integer >= 1 or 'auto', got '0'"),
    (["--max-stack", "0"], "max stack must be an integer >= 1, got 0"),
    (["--samples", "5"], "--samples and --search-seed go with --search random"),
    (["--search", "random", "--learning-rate", "1e-4..1e-2:log:3,0.5"], "from one range or"),
    (["--dataset", "iris"], "unknown dataset 'iris'; choose from: moons"),
]


@pytest.mark.parametrize(("args", "message"), BAD_SPECS)
def test_bad_grid_specs_are_one_line_exit_2_and_write_nothing(
    args: list[str], message: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = run_cli("sweep", "--epochs", "1", "--seeds", "1", *args, "--out", str(out))
    # --seeds given twice is fine for argparse (the last wins) except with --seed-list.
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("descentlab sweep: error: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr
    assert not (out / "results.json").exists()


def test_a_sweep_grids_over_a_wrapper_chains_own_and_inner_keywords() -> None:
    config = SweepConfig(
        optimizers=("adam", "lookahead:adam", "sam:sgd"),
        learning_rate="0.01,lookahead:adam=0.05,0.1",
        hyperparameters={
            "lookahead:adam.slow_step_size": "0.3,0.8",
            "beta1": "0.8",
            "sam:sgd.radius": "0.01..0.1:log:3",
        },
        seeds=(0,),
        epochs=1,
    )
    chains = [c.settings for c in config.configurations if c.optimizer == "lookahead:adam"]
    assert chains == [
        {"learning_rate": rate, "beta1": 0.8, "slow_step_size": size}
        for rate in (0.05, 0.1)
        for size in (0.3, 0.8)
    ]
    radii = [c.settings["radius"] for c in config.configurations if c.optimizer == "sam:sgd"]
    np.testing.assert_allclose(radii, [0.01, 10**-1.5, 0.1], rtol=1e-12)
    adam = [c for c in config.configurations if c.optimizer == "adam"]
    assert [c.settings for c in adam] == [{"learning_rate": 0.01, "beta1": 0.8}]
    # every configuration records the chain's whole record, defaults included
    assert config.configurations[1].hyperparameters["sync_period"] == 5


def test_a_sweep_of_wrapper_chains_killed_mid_way_resumes_to_the_same_results(
    tmp_path: Path,
) -> None:
    args = [
        "sweep", "--optimizers", "lookahead:adam,sam:adam", "--learning-rate", "0.01,0.05",
        "--hyperparameter", "sync_period=2,4", "--seeds", "2", "--epochs", "3", "--jobs", "1",
        "--quiet", "--out", "run",
    ]  # fmt: skip
    (tmp_path / "whole").mkdir()
    whole = run_cli(*args, cwd=tmp_path / "whole")
    assert whole.returncode == 0, whole.stderr
    kill_at("after:chunk-0.npz@1", args, tmp_path / "killed")
    resumed = run_cli("resume", "run", "--quiet", cwd=tmp_path / "killed")
    assert resumed.returncode == 0, resumed.stderr
    runs = [
        json.loads((tmp_path / where / "run" / "results.json").read_text())["runs"]
        for where in ("whole", "killed")
    ]
    assert [run["optimizer"] for run in runs[0]] == ["lookahead:adam"] * 8 + ["sam:adam"] * 4
    assert [r["final_cost"] for r in runs[1]] == [r["final_cost"] for r in runs[0]]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"optimizers": ("lookahead",)}, "lookahead wraps another optimizer: name it lookahead:"),
        ({"optimizers": ("sam:nope",)}, "unknown optimizer 'nope'"),
        ({"optimizers": ("adam",), "learning_rate": "lookahead=0.1"}, "lookahead wraps another"),
        ({"optimizers": ("sam:adam",), "hyperparameters": {"sync_period": "2"}},
         "no chosen optimizer has a hyperparameter 'sync_period'"),
    ],
)  # fmt: skip
def test_a_bad_wrapper_in_a_sweep_is_one_line(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message) as refused:
        config = SweepConfig(**{"seeds": (0,), "epochs": 1, **settings})
        config.configurations  # noqa: B018
    assert "\n" not in str(refused.value)
