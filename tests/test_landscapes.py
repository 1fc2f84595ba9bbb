"""descentlab.landscapes: exact gradients, minima, noise, and paths through descentlab.optim."""

from __future__ import annotations

import numpy as np
import pytest

from descentlab import landscapes, optim
from descentlab.landscapes import Landscape

LANDSCAPES = [landscapes.get(name) for name in landscapes.names()]


def finite_difference_gradient(landscape: Landscape, xy: np.ndarray, h: float = 1e-6) -> np.ndarray:
    steps = np.eye(2) * h
    return np.stack(
        [(landscape.f(xy + step) - landscape.f(xy - step)) / (2 * h) for step in steps], axis=-1
    )


@pytest.mark.parametrize("landscape", LANDSCAPES, ids=landscapes.names())
def test_gradient_matches_central_finite_differences(landscape: Landscape) -> None:
    (x_low, x_high), (y_low, y_high) = landscape.bounds
    rng = np.random.default_rng(0)
    points = rng.uniform([x_low, y_low], [x_high, y_high], size=(8, 2))
    exact = landscape.grad(points)
    assert exact.shape == (8, 2)
    np.testing.assert_allclose(
        exact, finite_difference_gradient(landscape, points), rtol=1e-6, atol=1e-5
    )


@pytest.mark.parametrize("landscape", LANDSCAPES, ids=landscapes.names())
def test_vectorised_over_any_leading_shape(landscape: Landscape) -> None:
    points = np.random.default_rng(1).normal(size=(3, 4, 2))
    assert landscape.f(points).shape == (3, 4)
    assert landscape.grad(points).shape == (3, 4, 2)
    np.testing.assert_array_equal(landscape.grad(points)[1, 2], landscape.grad(points[1, 2]))


@pytest.mark.parametrize("landscape", LANDSCAPES, ids=landscapes.names())
def test_the_known_minima_are_stationary_points(landscape: Landscape) -> None:
    minima = np.asarray(landscape.minima)
    np.testing.assert_allclose(landscape.grad(minima), 0.0, atol=1e-9)
    if landscape.f_min is not None:
        np.testing.assert_allclose(landscape.f(minima), landscape.f_min, atol=1e-12)
    np.testing.assert_allclose(landscape.distance_to_minimum(minima), 0.0, atol=1e-15)


def test_the_saddle_has_no_minimum_and_measures_to_its_saddle_point() -> None:
    saddle = landscapes.get("saddle")
    assert not saddle.has_minimum and saddle.f_min is None
    assert saddle.distance_to_minimum(np.array([3.0, 4.0])) == pytest.approx(5.0)
    assert saddle.f(np.array([0.0, 10.0])) == -100.0


def test_himmelblau_distance_is_to_the_nearest_of_four_minima() -> None:
    himmelblau = landscapes.get("himmelblau")
    assert len(himmelblau.minima) == 4
    assert himmelblau.distance_to_minimum(np.array([3.0, 2.5])) == pytest.approx(0.5)
    assert himmelblau.distance_to_minimum(np.array([-3.779310253377747, -3.0])) == pytest.approx(
        0.283185991286170
    )


def test_noisy_gradient_is_seeded_and_centred_on_the_exact_one() -> None:
    quadratic = landscapes.get("quadratic")
    point = np.array([1.0, -0.5])
    first = landscapes.noisy(quadratic, 0.3, seed=7)
    second = landscapes.noisy(quadratic, 0.3, seed=7)
    draws = np.stack([first.grad(point) for _ in range(20000)])
    np.testing.assert_array_equal(draws[:50], np.stack([second.grad(point) for _ in range(50)]))
    np.testing.assert_allclose(draws.mean(axis=0), quadratic.grad(point), atol=0.01)
    np.testing.assert_allclose(draws.std(axis=0), 0.3, rtol=0.03)
    other = landscapes.noisy(quadratic, 0.3, seed=8)
    assert not np.array_equal(other.grad(point), landscapes.noisy(quadratic, 0.3, 7).grad(point))
    assert first.f(point) == quadratic.f(point)  # the noise is in the gradient only


def test_noisy_rejects_a_negative_scale() -> None:
    with pytest.raises(ValueError, match="noise scale"):
        landscapes.noisy(landscapes.get("quadratic"), -1.0, 0)


def test_unknown_landscape_names_the_choices() -> None:
    with pytest.raises(ValueError, match="unknown function 'banana'; choose from: quadratic"):
        landscapes.get("banana")


SLOWER_ON_THE_QUADRATIC = {"adadelta": 50}
"""Optimizers that cannot come within 1/100 of the start distance in the quadratic's 150 steps
at any learning rate, with the fraction they do reach. adadelta's steps start at
sqrt(epsilon / (1 - rho)), about 3e-3, whatever the rate's units, and grow only as its average of
past steps does: 1.1 % at its default 18, its best (1.8 % at 10, 2.4 % at 30)."""


@pytest.mark.parametrize("name", optim.runnable_names("landscape"))
def test_every_optimizer_with_its_defaults_approaches_the_quadratic_minimum(name: str) -> None:
    quadratic = landscapes.get("quadratic")
    optimizer = optim.get(name, learning_rate=landscapes.default_learning_rate(quadratic, name))
    trajectory = landscapes.run_trajectory(quadratic, optimizer, quadratic.start, quadratic.steps)
    start_distance = float(quadratic.distance_to_minimum(np.asarray(quadratic.start)))
    assert trajectory.status == "finished"
    assert trajectory.final_distance < start_distance / SLOWER_ON_THE_QUADRATIC.get(name, 100)
    assert trajectory.values[-1] < trajectory.values[0]


@pytest.mark.exact
def test_path_is_exactly_optims_update_applied_by_hand() -> None:
    rosenbrock = landscapes.get("rosenbrock")
    optimizer = optim.get("adam", learning_rate=0.05, beta1=0.8)
    trajectory = landscapes.run_trajectory(rosenbrock, optimizer, (-1.5, 2.0), 5)
    point = np.array([-1.5, 2.0])
    state = optimizer.init(point)
    expected = [point]
    for _ in range(5):
        updates, state = optimizer.update(rosenbrock.grad(point), state, point)
        point = optim.apply_updates(point, updates)
        expected.append(point)
    np.testing.assert_array_equal(trajectory.path, np.stack(expected))
    np.testing.assert_array_equal(trajectory.values, rosenbrock.f(np.stack(expected)))


@pytest.mark.exact
def test_every_optimizer_on_a_noisy_landscape_sees_the_same_noise() -> None:
    noisy = landscapes.noisy(landscapes.get("quadratic"), 1.0, seed=3)
    gd = optim.get("gd", learning_rate=0.01)
    first, second = landscapes.run_trajectories(noisy, [gd, gd], (1.0, 1.0), 10)
    np.testing.assert_array_equal(first.path, second.path)


def test_divergence_stops_the_path_without_warnings() -> None:
    quadratic = landscapes.get("quadratic")
    with np.errstate(all="raise"):
        trajectory = landscapes.run_trajectory(
            quadratic, optim.get("gd", learning_rate=1.0), (1.0, 1.0), 100
        )
    assert trajectory.status == "diverged"
    assert trajectory.diverged_step is not None and trajectory.diverged_step < 100
    assert len(trajectory.path) == trajectory.diverged_step
    assert np.isfinite(trajectory.path).all() and np.isfinite(trajectory.values).all()
    assert trajectory.steps_to_tolerance is None


def test_steps_to_tolerance_is_the_first_step_within_it() -> None:
    quadratic = landscapes.get("quadratic")
    trajectory = landscapes.run_trajectory(
        quadratic, optim.get("gd", learning_rate=0.5), (1.0, 0.0), 30, tolerance=0.01
    )
    # x halves each step: 1, 0.5, ..., 2**-7 = 0.0078 is the first within 0.01.
    assert trajectory.steps_to_tolerance == 7


@pytest.mark.parametrize("text", ["1", "1,2,3", "a,b", "1,nan", ""])
def test_parse_start_rejects_anything_but_two_finite_numbers(text: str) -> None:
    with pytest.raises(ValueError, match="start must be two numbers X,Y"):
        landscapes.parse_start(text)


def test_subsample_keeps_first_and_last_and_at_most_max_points() -> None:
    path = np.arange(1001 * 2, dtype=float).reshape(1001, 2)
    steps, points = landscapes.subsample(path, 200)
    assert len(steps) <= 200 and steps[0] == 0 and steps[-1] == 1000
    np.testing.assert_array_equal(points, path[steps])


def test_a_chain_without_an_override_takes_its_innermost_optimizers_rate() -> None:
    for landscape in LANDSCAPES:
        for chain, inner in (("lookahead:sgd", "sgd"), ("sam:lookahead:lars", "lars")):
            assert landscapes.default_learning_rate(landscape, chain) == (
                landscapes.default_learning_rate(landscape, inner)
            )
