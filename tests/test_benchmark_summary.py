"""The benchmark's summary and verdict, on hand-built task records with known numbers."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest

from benchmark_records import INF, NAN, OPTIMIZERS, SEED, config, filled, problem, record
from descentlab.benchmark.config import BenchmarkConfig
from descentlab.benchmark.scores import bootstrap_interval, performance_profile
from descentlab.benchmark.summary import summarize
from descentlab.benchmark.tasks import TaskRecord, run_task
from descentlab.benchmark.verdict import verdict
from helpers import assert_same_random_state, global_random_state

# --- per problem and optimizer ----------------------------------------------------------------


def test_test_score_mean_and_interval_are_the_bootstrap_of_the_finite_trials() -> None:
    cfg = config(problem("a"))
    summary = summarize(
        cfg, filled(cfg, [record("a", "gd", [0.8, NAN, 0.9], losses=[0.4, NAN, 0.2])])
    )
    gd = summary.problems[0].get("gd")
    assert gd.test == bootstrap_interval([0.8, 0.9], seed=SEED)
    assert gd.test is not None and gd.test.mean == pytest.approx(0.85, abs=1e-15)
    assert gd.final_loss == bootstrap_interval([0.4, 0.2], seed=SEED)
    assert (gd.finite_trials, gd.diverged_trials, gd.seeds) == (2, 1, 3)


def test_no_finite_trial_gives_no_interval_and_is_left_out_of_the_tests() -> None:
    cfg = config(problem("a"))
    summary = summarize(
        cfg,
        filled(cfg, [record("a", "gd", [NAN, NAN, NAN]), record("a", "adam", [0.7, NAN, NAN])]),
    )
    first = summary.problems[0]
    assert first.get("gd").test is None
    assert first.get("adam").test == bootstrap_interval([0.7], seed=SEED)
    assert first.left_out == ("gd", "adam")
    assert first.best == "momentum" and first.tied_with_best == ("momentum",)


@pytest.mark.parametrize(
    ("epochs", "median", "reached"),
    [
        ([3, None, 5], 5.0, 2),
        ([3, 4, 5], 4.0, 3),
        ([3, None, None], None, 1),
        ([None, None, None], None, 0),
    ],
)
def test_epochs_to_target_is_the_median_with_never_as_infinity(
    epochs: list[int | None], median: float | None, reached: int
) -> None:
    cfg = config(problem("a"))
    summary = summarize(cfg, filled(cfg, [record("a", "adam", [0.9, 0.9, 0.9], epochs=epochs)]))
    adam = summary.problems[0].get("adam")
    assert (adam.epochs_to_target, adam.reached) == (median, reached)


def test_median_of_an_even_count_is_the_mean_of_the_middle_two() -> None:
    cfg = config(problem("a"), seeds=4)
    given = record("a", "gd", [0.9] * 4, epochs=[2, 5, None, 3])
    rest = [
        record(t.problem.name, t.optimizer, [0.5] * 4, kind=t.kind)
        for t in cfg.tasks
        if t.optimizer != "gd"
    ]
    assert summarize(cfg, [given, *rest]).problems[0].get("gd").epochs_to_target == 4.0


def test_diverged_share_is_diverged_configurations_over_the_budget_and_best_is_recorded() -> None:
    cfg = config(problem("a"))
    summary = summarize(cfg, filled(cfg, [record("a", "gd", [0.8] * 3, diverged_configurations=1)]))
    gd = summary.problems[0].get("gd")
    assert gd.diverged_share == 0.25
    assert gd.best_configuration == {"learning_rate": 1e-4}
    assert gd.best_validation_score == pytest.approx(0.83)


def test_tuning_gap_is_positive_when_tuning_helped_on_a_metric_and_on_a_loss() -> None:
    cfg = config(problem("acc"), problem("loss", "loss", 0.1), defaults=True)
    given = [
        record("acc", "gd", [0.9, 0.9, 0.9]),
        record("acc", "gd", [0.95, 0.95, 0.95], kind="defaults"),
        record("loss", "gd", [0.2, 0.2, 0.2], metric="loss"),
        record("loss", "gd", [0.5, 0.5, 0.5], kind="defaults", metric="loss"),
    ]
    summary = summarize(cfg, filled(cfg, given))
    acc, loss = (p.get("gd") for p in summary.problems)
    assert acc.tuning_gap == pytest.approx(-0.05)
    assert loss.tuning_gap == pytest.approx(0.3)
    assert loss.defaults_test == bootstrap_interval([0.5, 0.5, 0.5], seed=SEED)


def test_without_defaults_there_is_no_gap() -> None:
    cfg = config(problem("a"))
    gd = summarize(cfg, filled(cfg, [])).problems[0].get("gd")
    assert gd.defaults_test is None and gd.tuning_gap is None


# --- per problem ------------------------------------------------------------------------------


def test_clear_winner_and_a_tie_and_problem_seconds() -> None:
    cfg = config(problem("a"))
    given = [
        record("a", "gd", [0.50, 0.52, 0.51], seconds=1.5),
        record("a", "momentum", [0.90, 0.91, 0.92], seconds=2.0),
        record("a", "adam", [0.905, 0.915, 0.92], seconds=0.25),
    ]
    first = summarize(cfg, given).problems[0]
    assert first.best == "adam"
    assert first.tied_with_best == ("momentum", "adam")
    assert first.left_out == ()
    assert first.seconds == 3.75
    assert {(a, b) for a, b, _ in first.adjusted_p} == {
        ("gd", "momentum"),
        ("gd", "adam"),
        ("momentum", "adam"),
    }


# --- across problems --------------------------------------------------------------------------


def test_profile_equals_a_hand_computation() -> None:
    # epochs (median): a: gd 10, momentum 20, adam never; b: 30, 15, 15; c: nobody.
    cfg = config(problem("a"), problem("b"), problem("c"))
    given = [
        record("a", "gd", [0.9] * 3, epochs=[10, 10, 10]),
        record("a", "momentum", [0.9] * 3, epochs=[20, 20, 20]),
        record("a", "adam", [0.9] * 3),
        record("b", "gd", [0.9] * 3, epochs=[30, 30, 30]),
        record("b", "momentum", [0.9] * 3, epochs=[15, 15, 15]),
        record("b", "adam", [0.9] * 3, epochs=[15, 15, 15]),
    ]
    profile = summarize(cfg, filled(cfg, given)).profile
    assert profile.taus == (1.0, 2.0)
    third = 1 / 3
    assert profile.rho == ((third, 2 * third), (third, 2 * third), (third, third))
    assert profile.solved == (2 * third, 2 * third, third)
    assert profile.times[2] == (INF, INF, INF)
    expected = performance_profile(
        [[10, 20, INF], [30, 15, 15], [INF, INF, INF]], [1.0, 2.0]
    ).tolist()
    assert [list(row) for row in profile.rho] == expected


def test_ranks_orient_a_loss_so_the_lowest_ranks_first_and_non_finite_ranks_last() -> None:
    cfg = config(problem("acc"), problem("loss", "loss", 0.1))
    given = [
        record("acc", "gd", [0.7] * 3),
        record("acc", "momentum", [0.8] * 3),
        record("acc", "adam", [0.9] * 3),
        record("loss", "gd", [0.1] * 3, metric="loss"),
        record("loss", "momentum", [NAN] * 3, metric="loss"),
        record("loss", "adam", [0.3] * 3, metric="loss"),
    ]
    ranking = summarize(cfg, given).ranking
    assert [row.problem_ranks for row in ranking] == [(3.0, 1.0), (2.0, 3.0), (1.0, 2.0)]
    assert [row.mean_rank for row in ranking] == [2.0, 2.5, 1.5]
    assert [row.optimizer for row in ranking] == list(OPTIMIZERS)


def test_ranking_counts_ties_with_the_best_and_problems_reached() -> None:
    cfg = config(problem("a"), problem("b"))
    given = [
        record("a", "gd", [0.50, 0.52, 0.51], epochs=[1, 1, 1]),
        record("a", "momentum", [0.90, 0.91, 0.92], epochs=[1, None, None]),
        record("a", "adam", [0.905, 0.915, 0.91], epochs=[2, 2, None]),
        record("b", "gd", [0.50, 0.52, 0.51]),
        record("b", "momentum", [0.90, 0.91, 0.92], epochs=[4, 4, 4]),
        record("b", "adam", [0.20, 0.21, 0.22]),
    ]
    ranking = summarize(cfg, given).ranking
    assert [row.tied_with_best for row in ranking] == [0, 2, 1]
    assert [row.reached for row in ranking] == [1, 1, 1]


# --- matching records to tasks ----------------------------------------------------------------


def test_a_missing_record_is_named() -> None:
    cfg = config(problem("a"), defaults=True)
    records = [r for r in filled(cfg, []) if (r.optimizer, r.kind) != ("adam", "defaults")]
    with pytest.raises(ValueError, match=r"^no record for task a__adam__defaults$"):
        summarize(cfg, records)


def test_an_extra_record_is_named() -> None:
    cfg = config(problem("a"))
    extra = record("b", "gd", [0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match=r"^record b__gd__tuned is not a task of this benchmark$"):
        summarize(cfg, [*filled(cfg, []), extra])


def test_a_record_given_twice_or_with_the_wrong_trial_count_is_named() -> None:
    cfg = config(problem("a"))
    records = filled(cfg, [])
    with pytest.raises(ValueError, match=r"^record a__gd__tuned is given twice$"):
        summarize(cfg, [*records, records[0]])
    short = record("a", "gd", [0.5, 0.5])
    with pytest.raises(ValueError, match=r"^record a__gd__tuned has 2 trials, expected 3$"):
        summarize(cfg, filled(cfg, [short]))


# --- recomputation ----------------------------------------------------------------------------


def mixed_records() -> tuple[BenchmarkConfig, list[TaskRecord]]:
    cfg = config(problem("acc"), problem("loss", "loss", 0.1), defaults=True)
    given = [
        record("acc", "gd", [0.8, NAN, 0.9], epochs=[2, None, 3], diverged_configurations=2),
        record("acc", "adam", [0.91, 0.92, 0.95], epochs=[1, 1, 2], seconds=0.125),
        record("loss", "adam", [NAN, NAN, NAN], metric="loss"),
        record("loss", "gd", [0.3, 0.2, 0.25], kind="defaults", metric="loss"),
    ]
    return cfg, filled(cfg, given)


def test_to_dict_is_plain_json_and_recomputing_from_it_gives_the_same_summary() -> None:
    cfg, records = mixed_records()
    summary = summarize(cfg, records)
    text = json.dumps(summary.to_dict(), allow_nan=False)
    read_back = [TaskRecord.from_dict(json.loads(json.dumps(r.to_dict()))) for r in records]
    assert json.dumps(summarize(cfg, read_back).to_dict(), allow_nan=False) == text
    assert json.loads(text)["problems"][1]["optimizers"][2]["test"] is None


def test_summarize_is_pure_and_never_touches_the_global_random_state() -> None:
    cfg, records = mixed_records()
    before = global_random_state()
    first = json.dumps(summarize(cfg, records).to_dict())
    assert json.dumps(summarize(cfg, records).to_dict()) == first
    assert_same_random_state(before, global_random_state())


def test_records_in_any_order_give_the_same_summary() -> None:
    cfg, records = mixed_records()
    shuffled = list(records)
    random.Random(3).shuffle(shuffled)
    assert summarize(cfg, shuffled).to_dict() == summarize(cfg, records).to_dict()


def test_summary_of_real_runs_matches_its_records() -> None:
    tiny = problem("tiny", target=0.8)
    cfg = BenchmarkConfig((tiny,), ("gd", "adam"), budget=3, seeds=2, seed=1, suite=None)
    records = [run_task(task, cfg) for task in cfg.tasks]
    summary = summarize(cfg, records)
    for entry, task_record in zip(summary.problems[0].optimizers, records, strict=True):
        scores = [t.test_score for t in task_record.trials]
        assert entry.test == bootstrap_interval(scores, seed=1)
        epochs = [
            INF if t.epochs_to_target is None else t.epochs_to_target for t in task_record.trials
        ]
        median = float(np.median(epochs))
        assert entry.epochs_to_target == (median if math.isfinite(median) else None)


# --- verdict ----------------------------------------------------------------------------------


def test_verdict_of_a_tie_says_cannot_be_told_apart_and_never_better() -> None:
    cfg = config(problem("a"))
    given = [
        record("a", "gd", [0.50, 0.52, 0.51]),
        record("a", "momentum", [0.90, 0.91, 0.92]),
        record("a", "adam", [0.905, 0.915, 0.92]),
    ]
    text = verdict(summarize(cfg, given))
    assert (
        "a: best mean test accuracy: adam (0.9133); cannot be told apart from it: momentum" in text
    )
    assert "better" not in text.lower()
    assert "only large differences can be detected" in text
    assert "With 3 seeds" in text
    assert "Best or tied with the best on every problem: momentum, adam." in text


def test_verdict_of_a_clear_cut_problem_and_of_no_one_best_everywhere() -> None:
    cfg = config(problem("a"), problem("b"))
    given = [
        record("a", "gd", [0.50, 0.52, 0.51]),
        record("a", "momentum", [0.70, 0.71, 0.72]),
        record("a", "adam", [0.905, 0.915, 0.91]),
        record("b", "gd", [0.95, 0.96, 0.97]),
        record("b", "momentum", [0.70, 0.71, 0.72]),
        record("b", "adam", [0.20, 0.21, 0.22]),
    ]
    text = verdict(summarize(cfg, given))
    assert (
        "- a: best mean test accuracy: adam (0.91); every other optimizer differs from it" in text
    )
    assert "- b: best mean test accuracy: gd (0.96); every other optimizer differs" in text
    assert "No optimizer was the best or tied with the best on every problem." in text
    assert text.splitlines()[0] == (
        "Lowest mean rank (2 over 2 problems): gd, tied with the best on 1 of 2; "
        "momentum, tied with the best on 0 of 2; adam, tied with the best on 1 of 2."
    )
    assert "cannot be told apart from it" not in text


def test_verdict_reports_the_median_tuning_gap_and_left_out_optimizers() -> None:
    cfg = config(problem("a"), defaults=True)
    given = [
        record("a", "gd", [0.9, 0.9, 0.9]),
        record("a", "gd", [0.6, 0.6, 0.6], kind="defaults"),
        record("a", "momentum", [0.9, 0.9, 0.9]),
        record("a", "momentum", [0.95, 0.95, 0.95], kind="defaults"),
        record("a", "adam", [NAN, 0.9, NAN]),
        record("a", "adam", [0.8, 0.8, 0.8], kind="defaults"),
    ]
    text = verdict(summarize(cfg, given))
    assert "Left out (fewer than 2 finite test scores): adam." in text
    assert (
        "- Tuning on a: median gap 0.1 accuracy (positive: tuning helped); it helped 2 of 3" in text
    )
