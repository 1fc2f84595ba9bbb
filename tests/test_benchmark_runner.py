"""The benchmark's runner: its tasks, equal budgets, the same bits for any process count and
after any interruption, and the refusals of a folder that is not this benchmark's."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from benchmark_records import TINY as TINY_MOONS
from descentlab.benchmark.config import BenchmarkConfig
from descentlab.benchmark.problems import suite
from descentlab.benchmark.runner import BenchmarkInterrupted, run_benchmark
from descentlab.benchmark.store import PROTOCOL_FILE, TaskStore
from descentlab.benchmark.tasks import TaskRecord

pytestmark = pytest.mark.exact

TINY = (TINY_MOONS, next(p for p in suite("small") if p.name == "noisy-quadratic"))


def tiny(**changes: object) -> BenchmarkConfig:
    settings: dict[str, object] = {
        "optimizers": ("gd", "adam", "rmsprop"),
        "budget": 4,
        "seeds": 3,
        "seed": 0,
        "defaults": True,
        "suite": None,
    }
    problems = changes.pop("problems", TINY)
    settings.update(changes)
    return BenchmarkConfig(problems, **settings)  # type: ignore[arg-type]


def plain(records: list[TaskRecord]) -> list[dict[str, object]]:
    return [record.without_timing() for record in records]


@pytest.fixture(scope="module")
def whole() -> list[dict[str, object]]:
    return plain(run_benchmark(tiny()).records)


def test_tasks_cover_every_problem_optimizer_and_kind_in_order() -> None:
    keys = [task.key for task in tiny().tasks]
    assert keys[:3] == [
        "tiny-moons__gd__tuned",
        "tiny-moons__gd__defaults",
        "tiny-moons__adam__tuned",
    ]
    assert len(keys) == len(set(keys)) == 2 * 3 * 2
    assert [t.kind for t in tiny(defaults=False).tasks] == ["tuned"] * 6
    assert BenchmarkConfig(TINY, ("lookahead:adam",), suite=None).tasks[0].key == (
        "tiny-moons__lookahead+adam__tuned"
    )


def test_every_optimizer_gets_the_same_budget_and_the_same_trial_seeds(
    whole: list[dict[str, object]],
) -> None:
    for record in whole:
        trials = record["trials"]
        assert isinstance(trials, list)
        assert [trial["seed"] for trial in trials] == [1, 2, 3]
        tuning = record["tuning"]
        if record["kind"] == "tuned":
            assert isinstance(tuning, dict)
            assert len(tuning["configurations"]) == 4
            best = tuning["configurations"][tuning["best_index"]]["configuration"]
            assert all(trial["configuration"] == best for trial in trials)
        else:
            assert tuning is None


def test_the_same_seed_gives_the_same_records_and_another_seed_others(
    whole: list[dict[str, object]],
) -> None:
    assert plain(run_benchmark(tiny()).records) == whole
    assert plain(run_benchmark(tiny(seed=1)).records) != whole


def test_two_processes_give_the_same_records_as_one(whole: list[dict[str, object]]) -> None:
    outcome = run_benchmark(tiny(), jobs=2)
    assert outcome.execution.processes == 2
    assert plain(outcome.records) == whole


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_interrupted_benchmark_resumes_to_the_same_records(jobs: int, tmp_path: Path) -> None:
    # Moons tasks of 300 epochs: long enough that, with two processes polled every 0.1 s,
    # the request comes while tasks remain (4-epoch ones all end before the first poll).
    problems = (dataclasses.replace(TINY_MOONS, epochs=300), TINY[1])
    config = tiny(problems=problems)
    whole = plain(run_benchmark(config).records)
    finished: list[str] = []
    calls = {"n": 0}

    def interrupted() -> bool:  # stop after three tasks have finished
        calls["n"] += 1
        return len(finished) >= 3

    store = TaskStore(tmp_path)
    with pytest.raises(BenchmarkInterrupted) as stopped:
        run_benchmark(
            config, jobs=jobs, store=store, interrupted=interrupted,
            on_task=lambda record: finished.append(record.key),
        )  # fmt: skip
    saved = sorted(path.stem for path in tmp_path.glob("*__*.json"))
    assert stopped.value.total == 12 and 3 <= stopped.value.finished == len(saved) < 12
    assert sorted(finished) == saved

    seen: list[str] = []
    outcome = run_benchmark(
        config, store=TaskStore(tmp_path, resume=True), on_task=lambda r: seen.append(r.key)
    )
    assert outcome.execution.resumed_tasks == len(saved)
    assert sorted(seen) == sorted(task.key for task in config.tasks)
    assert plain(outcome.records) == whole


def test_a_resume_reads_finished_tasks_back_without_running_them(tmp_path: Path) -> None:
    run_benchmark(tiny(defaults=False), store=TaskStore(tmp_path))
    path = tmp_path / "tiny-moons__gd__tuned.json"
    record = json.loads(path.read_text())
    record["trials"][0]["test_score"] = 0.125  # a saved number is what the resume reports
    path.write_text(json.dumps(record))
    outcome = run_benchmark(tiny(defaults=False), store=TaskStore(tmp_path, resume=True))
    assert outcome.execution.resumed_tasks == 6
    assert outcome.records[0].trials[0].test_score == 0.125


def test_a_resume_refuses_another_benchmarks_folder(tmp_path: Path) -> None:
    run_benchmark(tiny(defaults=False), store=TaskStore(tmp_path))
    with pytest.raises(ValueError, match="not the one being resumed"):
        run_benchmark(tiny(defaults=False, budget=5), store=TaskStore(tmp_path, resume=True))
    (tmp_path / PROTOCOL_FILE).write_text("{not json")
    with pytest.raises(ValueError, match=r"benchmark\.json: not a readable benchmark protocol"):
        run_benchmark(tiny(defaults=False), store=TaskStore(tmp_path, resume=True))


def test_a_resume_refuses_a_task_file_that_is_not_its_task(tmp_path: Path) -> None:
    run_benchmark(tiny(defaults=False), store=TaskStore(tmp_path))
    gd = tmp_path / "tiny-moons__gd__tuned.json"
    (tmp_path / "tiny-moons__adam__tuned.json").write_text(gd.read_text())
    with pytest.raises(ValueError, match=r"adam__tuned\.json: holds tiny-moons/gd/tuned"):
        run_benchmark(tiny(defaults=False), store=TaskStore(tmp_path, resume=True))
    gd.write_text('{"problem": "tiny-moons"}')
    with pytest.raises(ValueError, match=r"gd__tuned\.json: not a readable benchmark task record"):
        run_benchmark(tiny(defaults=False), store=TaskStore(tmp_path, resume=True))


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"optimizers": ()}, "at least one optimizer, got none"),
        ({"optimizers": ("adam", "adam")}, "optimizer given twice: adam"),
        ({"optimizers": ("nope",)}, "unknown optimizer 'nope'"),
        ({"optimizers": ("lookahead",)}, "lookahead wraps another optimizer"),
        ({"optimizers": ("lbfgs",)}, "lbfgs needs the whole training set at every step, but "
         "problem 'tiny-moons' trains on mini-batches of 64"),
        ({"optimizers": ("muon",)}, "muon cannot run on a landscape, and problem "
         "'noisy-quadratic' is one"),
        ({"budget": 0}, "budget must be an integer >= 1, got 0"),
        ({"seeds": 1}, "seeds must be an integer >= 2, got 1"),
        ({"seed": -1}, "seed must be an integer >= 0, got -1"),
    ],
)  # fmt: skip
def test_a_bad_benchmark_is_refused_in_one_line(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as refused:
        tiny(**changes)
    assert message in str(refused.value) and "\n" not in str(refused.value)


def test_problems_are_chosen_by_name_and_must_be_distinct() -> None:
    config = BenchmarkConfig.from_options(only=["digits", "moons"], optimizers=("adam",))
    assert [p.name for p in config.problems] == ["moons", "digits"]  # the suite's order
    with pytest.raises(ValueError, match="unknown problem 'mnist'; suite 'small' has: moons, "):
        BenchmarkConfig.from_options(only=["mnist"])
    with pytest.raises(ValueError, match="given twice: tiny-moons"):
        BenchmarkConfig((TINY[0], TINY[0]), suite=None)


def test_the_protocol_round_trips_through_json() -> None:
    config = tiny()
    recorded = json.loads(json.dumps(config.to_dict()))
    assert config.same_protocol(recorded)
    assert recorded["problems"][1]["landscape"] == "quadratic"
    assert not tiny(seeds=4).same_protocol(recorded)
