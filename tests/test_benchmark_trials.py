"""The benchmark's engine: equal budgets, held-out splits, seeds, stacking, records."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

import numpy as np
import pytest

from benchmark_records import TINY
from descentlab import optim
from descentlab.benchmark import problems, trials
from descentlab.benchmark.problems import Problem
from descentlab.benchmark.search_space import draw_configurations
from descentlab.dataset import Dataset
from descentlab.evaluation import evaluate
from descentlab.nn import Network
from descentlab.seeds import run_seeds
from descentlab.splits import Splits
from descentlab.train import train

NOISY = dataclasses.replace(problems.SUITES["small"][-1], epochs=12)


def test_each_optimizer_gets_exactly_n_configurations_in_drawing_order() -> None:
    for name in ("gd", "adam", "momentum"):
        record = trials.tune(TINY, name, 3, seed=2)
        assert len(record.configurations) == 3
        drawn = draw_configurations(name, 3, 2)
        assert [c.configuration for c in record.configurations] == drawn
        assert all(len(c.curve) == TINY.epochs for c in record.configurations)


def _recording(
    curve: list[float], network: Network, validation: Dataset
) -> Callable[[int, np.ndarray], bool]:
    """A ``should_stop`` that appends the validation accuracy after every epoch, never stops."""

    def record(epoch: int, params: np.ndarray) -> bool:
        curve.append(float(evaluate(network, params[np.newaxis], validation)[1][0]))
        return False

    return record


def test_a_stacked_tune_equals_each_configuration_trained_alone() -> None:
    record = trials.tune(TINY, "adam", 3, seed=5)
    parts = TINY.prepare()
    assert isinstance(parts, Splits) and parts.validation is not None
    network = TINY.network(parts.train)
    seeds = run_seeds(5)
    for tuned in record.configurations:
        curve: list[float] = []
        alone = train(
            network,
            parts.train.X,
            parts.train.Y,
            optim.get("adam", **tuned.configuration),
            epochs=TINY.epochs,
            batch_size=TINY.batch_size,
            init_seed=seeds.init_seed,
            shuffle_seed=seeds.shuffle_seed,
            should_stop=_recording(curve, network, parts.validation),
        )
        assert tuple(curve) == tuned.curve  # bit for bit, every epoch
        assert tuned.validation_score == curve[-1]
        assert tuned.diverged == (alone.diverged_epoch is not None)


def _poisoned(problem: Problem, part: str = "test") -> Problem:
    """``problem`` whose prepare() flips every (binary) label of split ``part``, the other
    splits unchanged."""

    class Poisoned(Problem):
        def prepare(self, seed: int | None = None) -> Splits:  # type: ignore[override]
            parts = super().prepare(seed)
            assert isinstance(parts, Splits)
            held_out = getattr(parts, part)
            return parts._replace(**{part: dataclasses.replace(held_out, Y=1.0 - held_out.Y)})

    return Poisoned(**{f.name: getattr(problem, f.name) for f in dataclasses.fields(problem)})


def test_tuning_never_reads_the_test_split() -> None:
    poisoned = _poisoned(TINY)
    assert trials.tune(poisoned, "gd", 3, seed=1) == trials.tune(TINY, "gd", 3, seed=1)
    # ...while the re-runs do read it: the poisoned labels change the test scores.
    configuration = {"learning_rate": 0.5}
    clean = trials.retest(TINY, "gd", configuration, [1, 2])
    dirty = trials.retest(poisoned, "gd", configuration, [1, 2])
    assert [t.test_score for t in clean] != [t.test_score for t in dirty]
    assert [t.final_training_loss for t in clean] == [t.final_training_loss for t in dirty]


def test_the_same_seed_gives_identical_records_and_another_seed_others() -> None:
    assert trials.tune(TINY, "adam", 2, seed=3) == trials.tune(TINY, "adam", 2, seed=3)
    assert trials.tune(TINY, "adam", 2, seed=3) != trials.tune(TINY, "adam", 2, seed=4)
    configuration = {"learning_rate": 0.1}
    assert trials.retest(TINY, "gd", configuration, [4, 5]) == trials.retest(
        TINY, "gd", configuration, [4, 5]
    )


def test_best_is_the_best_validation_score_first_drawn_on_ties() -> None:
    record = trials.tune(TINY, "gd", 4, seed=0)
    scores = [c.validation_score for c in record.configurations]
    best = max(s for s, c in zip(scores, record.configurations, strict=True) if not c.diverged)
    assert record.best_index == scores.index(best)
    assert record.best is record.configurations[record.best_index]
    tied = np.array([0.5, 0.9, 0.9, 0.1])
    assert trials._best_index(tied, [False] * 4, higher_is_better=True) == 1
    assert trials._best_index(tied, [False, True, False, False], higher_is_better=True) == 2
    assert trials._best_index(tied, [False] * 4, higher_is_better=False) == 3
    assert trials._best_index(np.array([np.nan, 0.2]), [False, False], True) == 1
    assert trials._best_index(tied, [True] * 4, higher_is_better=True) == 0


def test_retest_seeds_are_fresh_and_deterministic() -> None:
    assert trials.retest_seeds(0, 3) == [1, 2, 3]
    assert trials.retest_seeds(7, 2) == [8, 9]
    assert 7 not in trials.retest_seeds(7, 50)
    configuration = {"learning_rate": 0.3}
    runs = trials.retest(TINY, "gd", configuration, trials.retest_seeds(1, 2))
    assert [t.seed for t in runs] == [2, 3]
    assert runs[0].curve != runs[1].curve  # another init and shuffle per seed
    assert {run_seeds(2), run_seeds(3)}.isdisjoint({run_seeds(1)})


def test_retest_measures_the_test_split_with_the_trial_seed() -> None:
    configuration = {"learning_rate": 0.3}
    (trial,) = trials.retest(TINY, "gd", configuration, [6])
    parts = TINY.prepare()
    assert isinstance(parts, Splits) and parts.test is not None
    network = TINY.network(parts.train)
    seeds = run_seeds(6)
    alone = train(
        network, parts.train.X, parts.train.Y, optim.get("gd", **configuration),
        epochs=TINY.epochs, batch_size=TINY.batch_size, init_seed=seeds.init_seed,
        shuffle_seed=seeds.shuffle_seed,
    )  # fmt: skip
    assert trial.test_score == float(evaluate(network, alone.params[None], parts.test)[1][0])
    assert trial.final_training_loss == float(alone.history.epoch_costs[-1])
    reached = [k + 1 for k, v in enumerate(trial.curve) if v >= TINY.target]
    assert trial.epochs_to_target == (reached[0] if reached else None)


def test_the_noisy_quadratic_scores_on_fresh_noise() -> None:
    record = trials.tune(NOISY, "gd", 3, seed=2)
    assert len(record.configurations) == 3
    tuned = record.configurations[0]
    landscape = NOISY.noisy_landscape(2)
    path = [np.asarray(landscape.start, dtype=float)]
    gd = optim.get("gd", **tuned.configuration)
    from descentlab.landscapes import run_trajectory

    trajectory = run_trajectory(landscape, gd, landscape.start, NOISY.epochs)
    path = trajectory.path[1:]
    expected = problems.stochastic_loss(landscape, 1.0, path, seed=3 * 2 + 1)
    assert tuned.curve == tuple(expected.tolist())
    (trial,) = trials.retest(NOISY, "gd", tuned.configuration, [5])
    again = run_trajectory(NOISY.noisy_landscape(5), gd, landscape.start, NOISY.epochs)
    test_curve = problems.stochastic_loss(landscape, 1.0, again.path[1:], seed=3 * 5 + 2)
    assert trial.curve == tuple(test_curve.tolist())
    assert trial.final_training_loss == again.final_value


def test_a_diverging_configuration_is_flagged_and_never_best() -> None:
    record = trials.tune(NOISY, "gd", 1, seed=0)
    blown = trials.retest(NOISY, "gd", {"learning_rate": 50.0}, [1])[0]
    assert blown.diverged and np.isnan(blown.test_score) and blown.epochs_to_target is None
    assert not record.configurations[0].diverged
    data = trials.retest(TINY, "gd", {"learning_rate": 1e4}, [1])[0]
    assert data.diverged


def test_records_round_trip_through_json() -> None:
    record = trials.tune(TINY, "adam", 2, seed=1)
    text = json.dumps(record.to_dict())
    assert trials.TuningRecord.from_dict(json.loads(text)) == record
    for trial in [
        *trials.retest(TINY, "adam", record.best.configuration, [2, 3]),
        trials.retest(NOISY, "gd", {"learning_rate": 50.0}, [1])[0],
    ]:
        back = trials.TrialRecord.from_dict(
            json.loads(json.dumps(trial.to_dict(), allow_nan=False))
        )
        assert back.to_dict() == trial.to_dict()
        assert np.array_equal(back.curve, trial.curve, equal_nan=True)


@pytest.mark.parametrize("seeds", [[], [1, 1], [-1]])
def test_bad_seeds_are_refused_in_one_line(seeds: list[int]) -> None:
    with pytest.raises(ValueError, match="seed") as error:
        trials.retest(TINY, "gd", {"learning_rate": 0.1}, seeds)
    assert "\n" not in str(error.value)


def test_configurations_that_cannot_share_an_optimizer_still_equal_training_alone() -> None:
    base = {**draw_configurations("adam", 1, 0)[0], "learning_rate": 0.01}
    configurations = [
        {**base, "amsgrad": True},
        {**base, "weight_decay": 0.01},
        base,
        {**base, "amsgrad": True, "learning_rate": 0.05},
    ]
    parts = TINY.prepare()
    assert isinstance(parts, Splits) and parts.validation is not None
    measured = trials._train_data(
        TINY, "adam", configurations, [4] * 4, parts.validation, parts.train
    )
    network = TINY.network(parts.train)
    seeds = run_seeds(4)
    for k, configuration in enumerate(configurations):
        curve: list[float] = []
        alone = train(
            network, parts.train.X, parts.train.Y, optim.get("adam", **configuration),
            epochs=TINY.epochs, batch_size=TINY.batch_size, init_seed=seeds.init_seed,
            shuffle_seed=seeds.shuffle_seed,
            should_stop=_recording(curve, network, parts.validation),
        )  # fmt: skip
        assert measured.curves[k].tolist() == curve
        assert measured.final_training_losses[k] == alone.history.epoch_costs[-1]


def test_a_loss_problem_scores_the_validation_cross_entropy_lowest_best() -> None:
    lossy = dataclasses.replace(TINY, metric="loss", target=0.6)
    record = trials.tune(lossy, "gd", 3, seed=1)
    parts = lossy.prepare()
    assert isinstance(parts, Splits) and parts.validation is not None
    network = lossy.network(parts.train)
    seeds = run_seeds(1)
    for tuned in record.configurations:
        alone = train(
            network, parts.train.X, parts.train.Y, optim.get("gd", **tuned.configuration),
            epochs=lossy.epochs, batch_size=lossy.batch_size, init_seed=seeds.init_seed,
            shuffle_seed=seeds.shuffle_seed,
        )  # fmt: skip
        cost = evaluate(network, alone.params[np.newaxis], parts.validation)[0][0]
        assert tuned.validation_score == float(cost)
    scores = [c.validation_score for c in record.configurations]
    assert record.best_index == scores.index(min(scores))


@pytest.mark.parametrize(
    ("name", "n", "seed", "named"),
    [("nope", 2, 0, "nope"), ("gd", 0, 0, "0"), ("gd", 2, -3, "-3")],
)
def test_bad_tuning_input_is_refused_in_one_line(name: str, n: int, seed: int, named: str) -> None:
    with pytest.raises(ValueError, match=named) as error:
        trials.tune(TINY, name, n, seed)
    assert "\n" not in str(error.value)


def test_retesting_never_reads_the_validation_split() -> None:
    poisoned = _poisoned(TINY, "validation")
    configuration = {"learning_rate": 0.5}
    assert trials.retest(poisoned, "gd", configuration, [1, 2]) == trials.retest(
        TINY, "gd", configuration, [1, 2]
    )
    assert trials.tune(poisoned, "gd", 2, seed=1) != trials.tune(TINY, "gd", 2, seed=1)
