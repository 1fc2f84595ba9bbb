"""The benchmark's search spaces: every optimizer has one, draws stay in it and repeat from a
seed, each optimizer's draws are its own, and what is drawn (and the defaults) builds."""

from __future__ import annotations

import math
import zlib
from pathlib import Path

import numpy as np
import pytest

from descentlab import optim
from descentlab.benchmark.search_space import (
    CROWDED_VALLEY,
    DEFAULT_LEARNING_RATES,
    DEFAULT_OPTIMIZERS,
    SPACES,
    UNTUNED,
    defaults,
    draw_configurations,
    fixed,
    log_uniform,
    one_of,
    search_space,
    table,
)
from descentlab.sweep import SweepConfig

EVERY_OPTIMIZER = [*optim.runnable_names(), "lookahead:sam:rmsprop"]


def test_every_registered_optimizer_has_a_space_of_its_own_keywords() -> None:
    assert list(SPACES) == optim.names()
    for name in optim.names():
        own = {h.name for h in optim.spec(name).hyperparameters}
        assert set(SPACES[name]) <= own, name
        assert SPACES[name], name
    for name in EVERY_OPTIMIZER:
        assert list(search_space(name)) == optim.hyperparameter_names(name)


def test_every_learning_rate_is_tuned_log_uniformly_over_at_least_two_decades() -> None:
    for name in optim.runnable_names():
        space = search_space(name)["learning_rate"]
        assert space.text.endswith(":log"), name
        low, _, high = space.text.removesuffix(":log").partition("..")
        assert math.log10(float(high) / float(low)) >= 2 - 1e-12, name


def test_the_crowded_valley_optimizers_use_the_papers_large_budget_spaces() -> None:
    for name in ("adam", "nadam", "radam", "adabelief"):
        spaces = search_space(name)
        assert spaces["learning_rate"].text == "0.0001..1:log"
        assert spaces["beta1"].text == "0.5..0.999:log"
        assert spaces["beta2"].text == "0.8..0.999:log"
        assert spaces["epsilon"].is_fixed and spaces["epsilon"].source == UNTUNED
        assert spaces["beta1"].source == CROWDED_VALLEY
    for name, rho in (("momentum", "beta"), ("sgd", "momentum"), ("rmsprop", "rho")):
        assert search_space(name)[rho].text == "0.001..1:log"


def test_a_wrapper_chain_joins_the_inner_space_and_each_wrappers() -> None:
    spaces = search_space("lookahead:sam:rmsprop")
    assert spaces["rho"] == SPACES["rmsprop"]["rho"]
    assert spaces["radius"] == SPACES["sam"]["radius"]
    assert spaces["sync_period"].describe() == "one of 5, 10"
    assert spaces["adaptive"].describe() == "false"


def test_describe_writes_each_kind_of_space() -> None:
    assert search_space("gd")["learning_rate"].describe() == "LU(0.0001, 1)"
    assert search_space("lion")["beta2"].describe() == "0.99"
    assert search_space("sgd")["nesterov"].describe() == "one of false, true"


def test_fixed_values_with_a_source_are_the_registrys_defaults() -> None:
    """The papers' recommended values are descentlab's defaults: fixing them changes nothing
    but the record, and the untuned mode runs the same values."""
    for name, spaces in SPACES.items():
        registered = optim.spec(name).defaults
        for key, space in spaces.items():
            if space.is_fixed:
                assert space.items[0] == registered[key], (name, key)


@pytest.mark.parametrize("name", EVERY_OPTIMIZER)
def test_draws_and_defaults_build_and_every_draw_is_within_its_space(name: str) -> None:
    spaces = search_space(name)
    configurations = draw_configurations(name, 30, seed=5)
    assert len(configurations) == 30
    for configuration in configurations:
        assert list(configuration) == list(spaces)
        for key, value in configuration.items():
            assert spaces[key].contains(value), (name, key, value)
        optim.get(name, **configuration)
    untuned = defaults(name)
    assert list(untuned) == optim.hyperparameter_names(name)
    optim.get(name, **untuned)


def test_same_seed_same_draws_and_another_seed_other_draws() -> None:
    first = draw_configurations("adam", 10, seed=3)
    assert draw_configurations("adam", 10, seed=3) == first
    assert draw_configurations("adam", 4, seed=3) == first[:4]  # N more extends, never redraws
    other = draw_configurations("adam", 10, seed=4)
    assert all(a["learning_rate"] != b["learning_rate"] for a, b in zip(first, other, strict=True))


def test_the_first_draw_is_a_log_uniform_from_the_named_generator() -> None:
    """Recomputed by hand: gd has one tuned hyperparameter, so its first configuration is
    exp(u), u the generator's first uniform on [log 1e-4, log 1]."""
    rng = np.random.default_rng([7, zlib.crc32(b"gd")])
    expected = math.exp(rng.uniform(math.log(1e-4), math.log(1.0)))
    assert draw_configurations("gd", 1, seed=7) == [{"learning_rate": expected}]


@pytest.mark.parametrize("others", [(), ("gd",), ("momentum", "gd", "rmsprop")])
def test_an_optimizers_draws_are_a_random_sweeps_whatever_else_is_chosen(
    others: tuple[str, ...],
) -> None:
    """``descentlab sweep --search random`` over the same spaces draws the same values,
    with adam alone or beside other optimizers (listed before and after it)."""
    half = len(others) // 2
    config = SweepConfig(
        optimizers=(*others[:half], "adam", *others[half:]),
        learning_rate="1e-4..1:log",
        hyperparameters={"adam.beta1": "0.5..0.999:log", "adam.beta2": "0.8..0.999:log"},
        search="random",
        samples=6,
        search_seed=11,
        seeds=(0,),
        epochs=1,
    )
    swept = [dict(c.settings) for c in config.configurations if c.optimizer == "adam"]
    drawn = draw_configurations("adam", 6, seed=11)
    assert swept == [{k: c[k] for k in ("learning_rate", "beta1", "beta2")} for c in drawn]


def _uniform_ks_distance(samples: np.ndarray, low: float, high: float) -> float:
    """sup |F_n(x) - F(x)| for F uniform on [low, high] (the Kolmogorov-Smirnov statistic)."""
    x = np.sort(samples)
    cdf = (x - low) / (high - low)
    n = len(x)
    above = np.arange(1, n + 1) / n - cdf
    below = cdf - np.arange(0, n) / n
    return float(max(above.max(), below.max()))


def test_learning_rates_are_log_uniform_over_their_decades() -> None:
    """log10 of 4000 drawn rates against Uniform(-4, 0): the KS distance stays under 0.04 (its
    0.1% critical value is 1.95 / sqrt(4000) = 0.031), while rates uniform on [1e-4, 1] (not
    log-uniform) are far off; each decade holds about a quarter."""
    rates = np.array([c["learning_rate"] for c in draw_configurations("gd", 4000, seed=1)])
    logs = np.log10(rates)
    assert _uniform_ks_distance(logs, -4.0, 0.0) < 0.04
    linear = np.random.default_rng(0).uniform(1e-4, 1.0, 4000)
    assert _uniform_ks_distance(np.log10(linear), -4.0, 0.0) > 0.5
    per_decade = np.histogram(logs, bins=[-4, -3, -2, -1, 0])[0] / len(logs)
    assert np.all(np.abs(per_decade - 0.25) < 0.035)


def test_a_list_space_draws_each_value_about_equally_often() -> None:
    drawn = [c["radius"] for c in draw_configurations("sam:adam", 3000, seed=2)]
    values = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
    shares = np.array([drawn.count(v) for v in values]) / len(drawn)
    assert sum(drawn.count(v) for v in values) == len(drawn)
    assert np.all(np.abs(shares - 1 / 6) < 0.03)
    periods = [c["sync_period"] for c in draw_configurations("lookahead:adam", 5, 0)]
    assert all(isinstance(period, int) for period in periods)  # drawn as given, not as 5.0


def test_defaults_are_the_reference_learning_rate_and_the_registrys_keywords() -> None:
    assert defaults("adam") == {
        "learning_rate": 1e-3,
        "beta1": 0.9,
        "beta2": 0.999,
        "epsilon": 1e-8,
        "amsgrad": False,
        "weight_decay": 0.0,
        "eps_inside_sqrt": False,
    }
    assert defaults("adadelta")["learning_rate"] == 1.0
    assert defaults("lookahead:rmsprop")["learning_rate"] == 1e-2
    assert defaults("lookahead:rmsprop")["sync_period"] == 5
    wrappers = set(optim.wrapper_names())
    assert set(DEFAULT_LEARNING_RATES) == set(optim.names()) - wrappers


def test_the_default_optimizers_are_the_nine_classics_and_gradient_only_newer_ones() -> None:
    assert DEFAULT_OPTIMIZERS[:9] == tuple(optim.names()[:9])
    assert len(set(DEFAULT_OPTIMIZERS)) == len(DEFAULT_OPTIMIZERS)
    for name in DEFAULT_OPTIMIZERS:
        entry = optim.spec(name)
        assert not entry.needs and not entry.wraps_inner, name
        assert entry.commands == frozenset(optim.COMMANDS), name


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: draw_configurations("adam", 0, 0), "number of configurations"),
        (lambda: draw_configurations("adam", 2, -1), "search seed"),
        (lambda: draw_configurations("adamm", 2, 0), "unknown optimizer 'adamm'"),
        (lambda: draw_configurations("lookahead", 2, 0), "lookahead wraps another optimizer"),
        (lambda: defaults("nope"), "unknown optimizer 'nope'"),
        (lambda: log_uniform(0.0, 1.0, "x"), "0 < low < high, got 0.0, 1.0"),
        (lambda: one_of((5,), "x"), "two or more distinct values, got (5,)"),
        (lambda: one_of((5, 5), "x"), "two or more distinct values"),
    ],
)
def test_bad_input_is_a_one_line_value_error_naming_it(call: object, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        call()  # type: ignore[operator]
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_fixed_space_holds_its_one_value() -> None:
    space = fixed(20, "x")
    assert space.is_fixed and space.contains(20) and not space.contains(21)
    assert space.axis("max_iter").draw(np.random.default_rng(0)) == 20


def test_the_docs_page_shows_the_generated_tables() -> None:
    page = (Path(__file__).resolve().parents[1] / "docs" / "benchmark.md").read_text()
    assert "## Search spaces" in page
    assert "<!-- search-spaces -->" in page and "<!-- default-learning-rates -->" in page
    assert len(table()) == sum(len(spaces) for spaces in SPACES.values())
