from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from descentlab import course, schedules
from descentlab.schedules import ScheduleSpec

PUBLISHED = json.loads(
    (Path(__file__).parent / "fixtures" / "published_comparison.json").read_text()
)


@pytest.mark.parametrize("case", PUBLISHED["learning_rate_functions"]["update_lr"])
def test_course_update_lr(case: list[float]) -> None:
    lr0, epoch, rate, expected = case
    assert course.update_lr(lr0, int(epoch), rate) == expected


@pytest.mark.parametrize("case", PUBLISHED["learning_rate_functions"]["schedule_lr_decay"])
def test_course_schedule_lr_decay(case: list[float]) -> None:
    lr0, epoch, rate, interval, expected = case
    assert course.schedule_lr_decay(lr0, int(epoch), rate, int(interval)) == expected


def test_issue_values_exactly() -> None:
    assert course.update_lr(0.5, 2, 1) == 1 / 6
    assert course.schedule_lr_decay(0.5, 10, 0.3, 100) == 0.5
    assert course.schedule_lr_decay(0.5, 100, 0.3, 100) == 0.5 / 1.3


def test_inverse_time_staircase() -> None:
    schedule = schedules.inverse_time(0.1, 1.0, every=1000)
    assert [schedule(t) for t in (0, 999, 1000, 1999, 2000)] == [0.1, 0.1, 0.05, 0.05, 0.1 / 3]


def test_exponential_and_step() -> None:
    exponential = schedules.exponential(1.0, 0.5)
    assert [exponential(t) for t in range(4)] == [1.0, 0.5, 0.25, 0.125]
    step = schedules.step(0.8, 0.1, every=10)
    assert [step(t) for t in (0, 9, 10, 25)] == [0.8, 0.8, 0.8 * 0.1, 0.8 * 0.1**2]


def test_cosine_with_and_without_warmup() -> None:
    plain = schedules.cosine(1.0, total=100, lr_min=0.1)
    assert plain(0) == 1.0
    assert plain(50) == pytest.approx(0.55)
    assert plain(100) == pytest.approx(0.1) and plain(500) == pytest.approx(0.1)
    warm = schedules.cosine(1.0, total=100, warmup=9)
    assert [warm(t) for t in range(3)] == [0.1, 0.2, pytest.approx(0.3)]
    assert warm(9) == 1.0
    values = [warm(t) for t in range(9, 101)]
    assert all(a >= b for a, b in itertools.pairwise(values))


def test_constant() -> None:
    assert {schedules.constant(0.3)(t) for t in (0, 10, 10**9)} == {0.3}


def test_per_step_applies_the_new_rate_after_each_epoch() -> None:
    by_epoch = schedules.inverse_time(1.0, 1.0)  # 1, 1/2, 1/3, ...
    by_step = schedules.per_step(by_epoch, batches_per_epoch=5)
    # Epoch 0 (steps 0-4) and epoch 1 (steps 5-9) run at schedule(0); epoch 2 at schedule(1).
    assert [by_step(k) for k in (0, 4, 5, 9, 10, 14, 15)] == [1, 1, 1, 1, 0.5, 0.5, 1 / 3]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: schedules.inverse_time(0.0, 1.0), "learning rate must be a finite number > 0"),
        (lambda: schedules.inverse_time(0.1, -1.0), "decay rate must be a finite number >= 0"),
        (lambda: schedules.inverse_time(0.1, 1.0, every=0), "decay every must be an integer >= 1"),
        (lambda: schedules.exponential(0.1, 1.5), r"decay rate must be in \(0, 1\]"),
        (lambda: schedules.cosine(0.1, 0), "cosine total must be an integer >= 1, got 0"),
        (lambda: schedules.cosine(0.1, 10, warmup=10), "warmup must be shorter than the sched"),
        (lambda: schedules.cosine(0.1, 10, lr_min=0.2), "minimum learning rate must be <="),
        (lambda: ScheduleSpec(name="linear"), "unknown schedule 'linear'; choose one of"),
        (lambda: ScheduleSpec(unit="batch"), "schedule unit must be one of: epoch, step"),
    ],
)
def test_bad_settings_are_rejected_up_front(build: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()  # type: ignore[operator]


def test_spec_for_optimizer_per_epoch_and_per_step() -> None:
    spec = ScheduleSpec(name="inverse-time", decay_rate=1.0, every=2, unit="epoch")
    rate = spec.for_optimizer(1.0, epochs=10, batches_per_epoch=3)
    # schedule(2) = 1/2 is set after epoch 2, so epoch 3 (steps 9-11) is the first at 1/2.
    assert [rate(k) for k in (0, 8, 9, 11, 12)] == [1.0, 1.0, 0.5, 0.5, 0.5]
    per_step = ScheduleSpec(name="inverse-time", every=2, unit="step")
    step_rate = per_step.for_optimizer(1.0, epochs=10, batches_per_epoch=3)
    assert [step_rate(k) for k in (0, 1, 2, 3)] == [1.0, 1.0, 0.5, 0.5]
    assert spec.to_dict() == {
        "name": "inverse-time",
        "unit": "epoch",
        "decay_rate": 1.0,
        "every": 2,
    }


@pytest.mark.slow
@pytest.mark.parametrize("run", ["gd-update_lr", "adam-schedule_lr_decay"])
def test_course_model_prints_the_published_decay_lines(
    run: str, capsys: pytest.CaptureFixture[str]
) -> None:
    published = PUBLISHED["learning_rate_decay"]
    case = published["runs"][run]
    X, Y = course.load_dataset()
    decay = getattr(course, case["decay"])
    course.model(
        X, Y, [2, 5, 2, 1], case["optimizer"], learning_rate=case["learning_rate"],
        num_epochs=4001, decay=decay,
    )  # fmt: skip
    expected = []
    for epoch, cost, rate in zip(
        published["epochs"], case["costs"], case["learning_rates"], strict=True
    ):
        expected += [
            f"Cost after epoch {epoch}: {cost}",
            f"learning rate after epoch {epoch}: {rate}",
        ]
    assert capsys.readouterr().out.splitlines() == expected


# --- the rules between settings name the values given -------------------------------------------


def test_a_minimum_above_the_rate_names_the_rate_given_not_a_nominal_one() -> None:
    spec = ScheduleSpec(name="cosine", min_learning_rate=10.0)  # no rate known yet: accepted
    with pytest.raises(ValueError) as error:
        spec.build(0.001, total=5)
    assert str(error.value) == (
        "minimum learning rate must be <= the learning rate (0.001), got 10.0"
    )


def test_a_warmup_longer_than_the_run_names_the_run_in_its_unit() -> None:
    per_epoch = ScheduleSpec(name="cosine", warmup=5)
    with pytest.raises(ValueError) as error:
        per_epoch.for_optimizer(0.1, epochs=2, batches_per_epoch=5)
    assert str(error.value) == "warmup must be shorter than the run (2 epochs), got 5"
    per_step = ScheduleSpec(name="cosine", warmup=50, unit="step")
    per_step.for_optimizer(0.1, epochs=11, batches_per_epoch=5)  # 55 steps: fits
    with pytest.raises(ValueError) as error:
        per_step.for_optimizer(0.1, epochs=2, batches_per_epoch=5)
    assert str(error.value) == (
        "warmup must be shorter than the run (10 steps: 2 epochs of 5 batches), got 50"
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            ScheduleSpec(decay_rate=0.5),
            "--decay-rate 0.5 does nothing for the constant schedule: it is a setting of the "
            "inverse-time, exponential and step schedules",
        ),
        (
            ScheduleSpec(name="cosine", every=3),
            "--decay-every 3 does nothing for the cosine schedule: it is a setting of the "
            "inverse-time, exponential and step schedules",
        ),
        (
            ScheduleSpec(name="step", warmup=2),
            "--warmup 2 does nothing for the step schedule: it is a setting of the cosine schedule",
        ),
        (
            ScheduleSpec(min_learning_rate=0.1),
            "min_learning_rate 0.1 does nothing for the constant schedule: it is a setting of "
            "the cosine schedule",
        ),
    ],
)
def test_a_setting_the_schedule_does_not_use_is_refused_by_name(
    spec: ScheduleSpec, message: str
) -> None:
    assert spec.unused_settings()
    with pytest.raises(ValueError) as error:
        schedules.check_settings_used(
            spec, {"decay_rate": "--decay-rate", "every": "--decay-every", "warmup": "--warmup"}
        )
    assert str(error.value) == message


def test_settings_a_schedule_uses_are_accepted() -> None:
    for spec in [
        ScheduleSpec(),
        ScheduleSpec(name="cosine", warmup=3, min_learning_rate=0.01),
        ScheduleSpec(name="exponential", decay_rate=0.5, every=10),
    ]:
        assert spec.unused_settings() == ()
        assert schedules.check_settings_used(spec) is spec
