"""The optimizer registry: every spec read from its factory, its fields, its look-ups, the
landscape defaults it gives, the hyperparameter record, and the scoping of ``-H`` settings."""

from __future__ import annotations

import inspect
from types import MappingProxyType
from typing import Any

import numpy as np
import pytest

from descentlab import landscapes, optim
from descentlab.optim import registry
from descentlab.optim.base import Optimizer

SPECS = [optim.spec(name) for name in optim.names() if name not in optim.wrapper_names()]
"""Every optimizer that runs alone; the wrappers' specs are tested in the wrappers' section."""


def test_the_registry_holds_the_nine_classic_optimizers_in_the_docs_order() -> None:
    assert optim.names()[:9] == [
        "gd", "momentum", "sgd", "rmsprop", "adagrad", "adam", "adamw", "nadam", "adamax",
    ]  # fmt: skip
    assert {spec.name: spec.family for spec in SPECS[:9]} == {
        "gd": "gradient", "momentum": "gradient", "sgd": "gradient", "rmsprop": "adaptive",
        "adagrad": "accumulator", "adam": "adaptive", "adamw": "adaptive", "nadam": "adaptive",
        "adamax": "adaptive",
    }  # fmt: skip
    assert optim.family_members("gradient")[:3] == ["gd", "momentum", "sgd"]
    assert optim.family_members("accumulator")[:1] == ["adagrad"]
    with pytest.raises(ValueError, match="unknown family 'newton'; choose one of: gradient, "):
        optim.family_members("newton")


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.name)
def test_hyperparameters_are_the_factory_signature(spec: optim.OptimizerSpec) -> None:
    parameters = inspect.signature(spec.factory).parameters
    assert [h.name for h in spec.hyperparameters] == list(parameters)
    assert optim.hyperparameter_names(spec.name) == list(parameters)
    for hyperparameter in spec.hyperparameters:
        default = parameters[hyperparameter.name].default
        assert hyperparameter.required == (default is inspect.Parameter.empty)
        assert hyperparameter.default == (None if hyperparameter.required else default)
    assert [h.name for h in spec.hyperparameters if h.required] == ["learning_rate"]
    assert spec.defaults == {
        key: p.default for key, p in parameters.items() if key != "learning_rate"
    }


NEEDS_OF = {
    **{name: frozenset({"layout"}) for name in ("lamb", "lars", "adafactor", "muon")},
    "lbfgs": frozenset({"value", "value_and_grad", "full_batch"}),
}
"""The optimizers that need more of the training loop than the gradient, with what."""
NOT_IN = {"muon": frozenset({"landscape"})}
"""The commands an optimizer does not apply to, where there are any (muon: no matrix on a
landscape's 2-D point)."""


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.name)
def test_summary_family_and_fields(spec: optim.OptimizerSpec) -> None:
    docstring = inspect.getdoc(spec.factory)
    assert docstring is not None
    assert spec.summary == docstring.splitlines()[0] and spec.summary.strip()
    assert "\n" not in spec.summary
    assert optim.summaries()[spec.name] == spec.summary
    assert spec.family in optim.FAMILIES
    assert spec.factory is getattr(optim, spec.name)  # exported under its own name
    assert not spec.wraps_inner and spec.needs == NEEDS_OF.get(spec.name, frozenset())
    assert optim.get(spec.name, learning_rate=0.1).needs == spec.needs
    assert spec.commands == frozenset(optim.COMMANDS) - NOT_IN.get(spec.name, frozenset())
    assert all(spec.applies_to(command) == (command in spec.commands) for command in optim.COMMANDS)


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.name)
def test_the_record_is_the_signature_with_checked_values(spec: optim.OptimizerSpec) -> None:
    recorded = optim.get(spec.name, learning_rate=0.1).hyperparameters
    assert list(recorded) == optim.hyperparameter_names(spec.name)
    assert recorded == {"learning_rate": 0.1, **spec.defaults}
    for key, value in recorded.items():
        assert type(value) is type(spec.defaults.get(key, 0.1)), key  # float stays float


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.name)
def test_every_recorded_value_is_the_checked_one(spec: optim.OptimizerSpec) -> None:
    # A keyword the factory forgot to rebind to its checked value would be recorded as given:
    # a numpy scalar here instead of a Python float or bool.
    for key, default in spec.defaults.items():
        given = np.bool_(default) if isinstance(default, bool) else np.float32(default)
        recorded = optim.get(spec.name, learning_rate=np.float32(0.5), **{key: given})
        value = recorded.hyperparameters[key]
        assert type(value) is type(default) and value == given, key
        assert type(recorded.hyperparameters["learning_rate"]) is float


RECORDS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    # (optimizer, keywords, what Optimizer.hyperparameters records): numbers become the checked
    # floats, numpy booleans bools, and the learning rate a number, "schedule" or "per run".
    ("gd", {"learning_rate": 1}, {"learning_rate": 1.0}),
    ("gd", {"learning_rate": np.float32(0.5)}, {"learning_rate": 0.5}),
    ("gd", {"learning_rate": np.array([[0.1], [0.2]])}, {"learning_rate": "per run"}),
    ("gd", {"learning_rate": lambda step: 0.1}, {"learning_rate": "schedule"}),
    ("momentum", {"learning_rate": 0.1, "beta": 0}, {"learning_rate": 0.1, "beta": 0.0}),
    (
        "sgd",
        {"learning_rate": 0.1, "momentum": 0.9, "nesterov": np.bool_(True), "weight_decay": 0},
        {
            "learning_rate": 0.1,
            "momentum": 0.9,
            "dampening": 0.0,
            "nesterov": True,
            "weight_decay": 0.0,
        },
    ),
    (
        "adagrad",
        {"learning_rate": 0.5, "initial_accumulator_value": 1, "lr_decay": 0.01},
        {
            "learning_rate": 0.5,
            "epsilon": 1e-10,
            "initial_accumulator_value": 1.0,
            "lr_decay": 0.01,
            "weight_decay": 0.0,
        },
    ),
    (
        "adam",
        {"learning_rate": 0.1, "amsgrad": True, "eps_inside_sqrt": np.bool_(True)},
        {
            "learning_rate": 0.1,
            "beta1": 0.9,
            "beta2": 0.999,
            "epsilon": 1e-8,
            "amsgrad": True,
            "weight_decay": 0.0,
            "eps_inside_sqrt": True,
        },
    ),
]


@pytest.mark.parametrize(("name", "keywords", "expected"), RECORDS)
def test_the_record_keeps_its_values_and_types(
    name: str, keywords: dict[str, Any], expected: dict[str, Any]
) -> None:
    recorded = dict(optim.get(name, **keywords).hyperparameters)
    assert recorded == expected
    assert list(recorded) == list(expected)  # signature order: results.json keeps its order
    assert [type(v) for v in recorded.values()] == [type(v) for v in expected.values()]


def test_the_nesterov_message_names_the_values_as_given() -> None:
    with pytest.raises(ValueError, match=r"needs momentum > 0 and dampening = 0, got momentum=0, "):
        optim.get("sgd", learning_rate=0.1, momentum=0, nesterov=True)


def test_a_stacked_hyperparameter_is_recorded_as_its_checked_array() -> None:
    recorded = optim.get("adam", learning_rate=0.1, beta1=np.array([[0], [1 / 2]])).hyperparameters
    beta1 = recorded["beta1"]
    assert isinstance(beta1, np.ndarray) and beta1.dtype == np.float64
    assert np.array_equal(beta1, [[0.0], [0.5]])


def test_names_with_a_hyperparameter_for_help_texts() -> None:
    classic = optim.names()[:9]  # the later ones are checked against their signatures below
    assert [n for n in optim.names_with("beta1") if n in classic] == [
        "adam", "adamw", "nadam", "adamax",
    ]  # fmt: skip
    assert [n for n in optim.names_with("weight_decay", "landscape") if n in classic] == [
        "sgd", "rmsprop", "adagrad", "adam", "adamw",
    ]  # fmt: skip
    for keyword in ("beta1", "weight_decay"):
        assert optim.names_with(keyword) == [
            name for name in optim.names() if keyword in optim.hyperparameter_names(name)
        ]
    assert optim.names_with("learning_rate") == [
        name for name in optim.names() if name not in optim.wrapper_names()
    ]  # a wrapper's keywords are its own: the learning rate is its inner optimizer's
    assert optim.names_with("nesterov_momentum") == []


def test_an_unknown_optimizer_names_the_choices() -> None:
    message = (
        f"unknown optimizer 'nesterov'; choose one of: {', '.join(optim.names())} "
        r"\(a wrapper as WRAPPER:INNER, e.g. lookahead:adam\)"
    )
    assert message.startswith(
        "unknown optimizer 'nesterov'; choose one of: "
        "gd, momentum, sgd, rmsprop, adagrad, adam, adamw, nadam, adamax"
    )
    for look_up in (optim.spec, optim.hyperparameter_names, optim.get):
        with pytest.raises(ValueError, match=f"^{message}$"):
            look_up("nesterov")
    with pytest.raises(ValueError, match="unknown command 'predict'; choose one of: compare"):
        optim.names("predict")


# --- landscape defaults come from the family ---------------------------------------------------


@pytest.mark.parametrize("landscape", landscapes.LANDSCAPES.values(), ids=lambda ls: ls.name)
def test_every_family_and_optimizer_has_a_default_on_every_landscape(
    landscape: landscapes.Landscape,
) -> None:
    assert set(landscape.family_learning_rates) == set(optim.FAMILIES)
    assert set(landscape.learning_rate_overrides) <= set(optim.runnable_names())  # lookahead:adam
    for name in optim.names("landscape"):
        rate = landscapes.default_learning_rate(landscape, name)
        assert rate > 0 and np.isfinite(rate)
        family_rate = landscape.family_learning_rates[optim.spec(name).family]
        assert rate == landscape.learning_rate_overrides.get(name, family_rate)
    assert landscape.learning_rates == {
        name: landscapes.default_learning_rate(landscape, name)
        for name in optim.names()
        if "landscape" not in NOT_IN.get(name, frozenset())
    }


def test_rmsprop_keeps_its_own_rates_where_it_had_them() -> None:
    assert landscapes.default_learning_rate(landscapes.QUADRATIC, "rmsprop") == 0.075
    assert landscapes.default_learning_rate(landscapes.QUADRATIC, "adam") == 0.3
    assert landscapes.default_learning_rate(landscapes.ROSENBROCK, "rmsprop") == 0.01
    assert landscapes.default_learning_rate(landscapes.BEALE, "rmsprop") == 0.1
    with pytest.raises(ValueError, match=r"^no default learning rate for 'newton' on beale$"):
        landscapes.default_learning_rate(landscapes.BEALE, "newton")


# --- fields designed for what comes next: wrappers, extra needs, commands ----------------------


def _sam(inner: Optimizer, rho: float = 0.05) -> Optimizer:
    """SAM around ``inner``: the gradient at the worst point within rho of the weights."""
    raise NotImplementedError


def _lbfgs(learning_rate: float, history: int = 10) -> Optimizer:
    """L-BFGS, full batch."""
    raise NotImplementedError


def test_a_wrapper_spec_leaves_its_inner_optimizer_out_of_the_hyperparameters() -> None:
    spec = optim.OptimizerSpec(
        "sam", _sam, family="adaptive", wraps_inner=True, needs={"value_and_grad"}
    )
    assert spec.wraps_inner and spec.needs == frozenset({"value_and_grad"})
    assert [h.name for h in spec.hyperparameters] == ["rho"]
    assert spec.defaults == {"rho": 0.05}
    assert (
        spec.summary
        == "SAM around ``inner``: the gradient at the worst point within rho of the weights."
    )


def test_needs_and_commands_are_recorded() -> None:
    spec = optim.OptimizerSpec(
        "lbfgs", _lbfgs, family="gradient", needs=frozenset({"value"}),
        commands=frozenset({"train", "compare"}),
    )  # fmt: skip
    assert spec.needs == frozenset({"value"}) and set(spec.needs) <= set(optim.NEEDS)
    assert spec.applies_to("train") and not spec.applies_to("landscape")
    with pytest.raises(ValueError, match="unknown command 'playground'"):
        spec.applies_to("playground")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "sam:adam"}, "optimizer name must be lowercase letters"),
        ({"family": "newton"}, "unknown family 'newton'; choose one of: gradient, adaptive"),
        ({"needs": {"hessian"}}, "unknown need or command 'hessian'"),
        ({"commands": {"predict"}}, "unknown need or command 'predict'"),
        ({"commands": frozenset()}, "must apply to at least one command"),
        ({"factory": _sam}, "a wrapper's factory takes 'inner' first"),
        ({"wraps_inner": True}, "a wrapper's factory takes 'inner' first"),
        ({"factory": lambda learning_rate: None}, "its factory needs a docstring"),
    ],
)
def test_a_malformed_spec_is_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        optim.OptimizerSpec(**{"name": "lbfgs", "factory": _lbfgs, "family": "gradient", **fields})


def test_names_and_summaries_filter_by_command(monkeypatch: pytest.MonkeyPatch) -> None:
    # "bfgs": a made-up optimizer (the real lbfgs applies everywhere)
    bfgs = optim.OptimizerSpec("bfgs", _lbfgs, family="gradient", commands={"train"})
    monkeypatch.setattr(registry, "REGISTRY", MappingProxyType({**registry.REGISTRY, "bfgs": bfgs}))
    assert optim.names()[-1] == "bfgs" and optim.names("train")[-1] == "bfgs"
    for command in ("compare", "sweep", "landscape", "estimator"):
        elsewhere = [name for name in optim.names()[:-1] if command in NOT_IN.get(name, ())]
        assert optim.names(command) == [n for n in optim.names()[:-1] if n not in elsewhere]
        assert "bfgs" not in optim.summaries(command)
    assert optim.summaries("train")["bfgs"] == "L-BFGS, full batch."
    assert optim.hyperparameter_names("bfgs") == ["learning_rate", "history"]
    # a new optimizer with a family gets its landscape defaults without touching landscapes.py
    assert landscapes.default_learning_rate(landscapes.QUADRATIC, "bfgs") == 0.075


# --- scope_hyperparameters: -H [OPTIMIZER.]NAME=VALUE ------------------------------------------


def test_an_unscoped_setting_goes_to_every_chosen_optimizer_that_has_it() -> None:
    settings = [(None, "beta1", 0.8), (None, "momentum", 0.5)]
    assert optim.scope_hyperparameters(settings, ["gd", "adam", "sgd", "nadam"]) == {
        "adam": {"beta1": 0.8},
        "sgd": {"momentum": 0.5},
        "nadam": {"beta1": 0.8},
    }


def test_a_scoped_setting_wins_whatever_the_order_and_the_later_of_one_scope_wins() -> None:
    names = ["adam", "nadam"]
    for settings in (
        [("adam", "beta1", 0.7), (None, "beta1", 0.8)],
        [(None, "beta1", 0.8), ("adam", "beta1", 0.7)],
    ):
        assert optim.scope_hyperparameters(settings, names) == {
            "adam": {"beta1": 0.7},
            "nadam": {"beta1": 0.8},
        }
    later = [
        (None, "beta1", 0.8),
        (None, "beta1", 0.85),
        ("adam", "beta1", 0.6),
        ("adam", "beta1", 0.7),
    ]
    assert optim.scope_hyperparameters(later, names) == {
        "adam": {"beta1": 0.7},
        "nadam": {"beta1": 0.85},
    }


def test_keywords_come_unscoped_first_then_scoped_each_in_the_order_given() -> None:
    settings = [("sgd", "momentum", 0.9), ("sgd", "nesterov", True), (None, "weight_decay", 0.1)]
    scoped = optim.scope_hyperparameters(settings, ["sgd", "adam"])
    assert list(scoped) == ["sgd", "adam"]
    assert list(scoped["sgd"]) == ["weight_decay", "momentum", "nesterov"]
    assert optim.scope_hyperparameters([], ["gd"]) == {}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            [(None, "learning_rate", 0.1)],
            "set learning rates with --learning-rate, not --hyperparameter",
        ),
        ([("adam", "learning_rate", 0.1)], "set learning rates with --learning-rate"),
        ([("nesterov", "beta1", 0.1)], "unknown optimizer 'nesterov'; choose one of: gd, momentum"),
        (
            [("adam", "beta1", 0.8)],
            r"--hyperparameter adam.beta1: 'adam' is not among the optimizers \(gd, sgd\)",
        ),
        (
            [(None, "beta1", 0.8)],
            "no chosen optimizer has a hyperparameter 'beta1'; allowed: dampening, momentum, "
            "nesterov, weight_decay$",
        ),
        (
            [("sgd", "beta", 0.8)],
            "no chosen optimizer has a hyperparameter 'beta'; allowed: dampening, momentum, "
            "nesterov, weight_decay$",
        ),
        # unscoped settings are checked first, whatever the order given
        ([("adam", "beta1", 0.8), (None, "rho", 0.5)], "hyperparameter 'rho'"),
    ],
)
def test_a_bad_setting_is_one_line(settings: list[Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        optim.scope_hyperparameters(settings, ["gd", "sgd"])


# --- wrappers: WRAPPER:INNER ---------------------------------------------------------------


@pytest.mark.parametrize("wrapper", ["lookahead", "sam"])
def test_the_wrappers_are_registered_but_run_only_with_an_inner(wrapper: str) -> None:
    spec = optim.spec(wrapper)
    assert spec is registry.REGISTRY[wrapper]
    assert spec.wraps_inner and spec.factory is getattr(optim, wrapper)
    assert wrapper in optim.wrapper_names() and wrapper in optim.names()
    assert f"{wrapper}:adam" in optim.runnable_names()
    assert wrapper in optim.summaries()  # the help lists it
    assert "learning_rate" not in [h.name for h in spec.hyperparameters]
    assert spec.needs == ({"value_and_grad"} if wrapper == "sam" else frozenset())


def test_a_wrapper_chain_joins_its_parts() -> None:
    spec = optim.spec("lookahead:sam:adam")
    assert spec.name == "lookahead:sam:adam" and spec.family == "adaptive"
    assert spec.needs == frozenset({"value_and_grad"})
    assert spec.commands == frozenset(optim.COMMANDS)
    assert optim.hyperparameter_names("lookahead:sam:adam") == [
        *optim.hyperparameter_names("adam"), "sync_period", "slow_step_size", "radius",
        "adaptive",
    ]  # fmt: skip
    assert spec.defaults["sync_period"] == 5 and spec.defaults["radius"] == 0.05
    assert spec.summary.startswith(registry.REGISTRY["lookahead"].summary)
    assert spec.summary.endswith("Around sam:adam.")


def test_get_gives_each_part_its_own_keywords() -> None:
    opt = optim.get("lookahead:adam", learning_rate=0.01, sync_period=6, beta1=0.8)
    assert opt.name == "lookahead:adam" and opt.needs == frozenset()
    assert opt.hyperparameters == {
        **optim.adam(0.01, beta1=0.8).hyperparameters, "sync_period": 6, "slow_step_size": 0.5,
    }  # fmt: skip
    nested = optim.get("sam:lookahead:sgd", learning_rate=0.1, radius=0.2, sync_period=2)
    assert nested.name == "sam:lookahead:sgd" and nested.needs == {"value_and_grad"}
    assert nested.needs == optim.spec("sam:lookahead:sgd").needs
    assert nested.hyperparameters["radius"] == 0.2 and nested.hyperparameters["sync_period"] == 2
    assert nested.report is not None  # lookahead's slow weights, through sam


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "lookahead",
            "^lookahead wraps another optimizer: name it lookahead:INNER, e.g. lookahead:adam$",
        ),
        ("sam", "^sam wraps another optimizer: name it sam:INNER, e.g. sam:adam$"),
        ("lookahead:sam", "^sam wraps another optimizer: name it lookahead:sam:INNER, e.g. "),
        ("lookahead:nesterov", "^unknown optimizer 'nesterov'; choose one of: gd, momentum, "),
        ("look:adam", "^unknown optimizer 'look'; choose one of: gd, "),
        ("adam:sgd", "^optimizer 'adam' wraps no other optimizer, in 'adam:sgd'; the wrappers "),
        ("lookahead:", "^unknown optimizer ''"),
        ("sam:lookahead:sam:adam", "^'sam:lookahead:sam:adam' names sam twice; each wrapper "),
    ],
)
def test_a_bad_wrapper_name_is_refused_in_one_line(name: str, message: str) -> None:
    # spec and hyperparameter_names give a registered wrapper's own entry; nothing runs it alone
    look_ups = [optim.check_name] + ([] if name in registry.REGISTRY else [optim.spec])
    for look_up in look_ups:
        with pytest.raises(ValueError, match=message) as refused:
            look_up(name)
        assert "\n" not in str(refused.value)
    with pytest.raises(ValueError, match=message):
        optim.get(name, learning_rate=0.1)


def test_a_hyperparameter_neither_part_has_is_refused() -> None:
    with pytest.raises(
        ValueError,
        match=r"^unknown hyperparameter 'rho' for optimizer 'sam:adam'; allowed: learning_rate, "
        r"beta1, beta2, epsilon, amsgrad, weight_decay, eps_inside_sqrt, radius, adaptive$",
    ):
        optim.get("sam:adam", learning_rate=0.1, rho=0.1)
    with pytest.raises(ValueError, match=r"^optimizer 'lookahead:adam' needs a learning_rate$"):
        optim.get("lookahead:adam", sync_period=3)
    with pytest.raises(ValueError, match=r"^sync_period must be an integer >= 1, got 0$"):
        optim.get("lookahead:adam", learning_rate=0.1, sync_period=0)


def test_a_wrapper_around_an_optimizer_of_other_commands_is_refused_there(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lbfgs = optim.OptimizerSpec("lbfgs", _lbfgs, family="gradient", commands={"train"})
    monkeypatch.setattr(
        registry, "REGISTRY", MappingProxyType({**registry.REGISTRY, "lbfgs": lbfgs})
    )
    assert optim.check_name("sam:lbfgs", "train") == "sam:lbfgs"
    assert optim.spec("sam:lbfgs").commands == {"train"}
    with pytest.raises(
        ValueError,
        match=r"^optimizer 'sam:lbfgs' does not apply to landscape \(lbfgs applies to train\); "
        "choose one of: gd, ",
    ):
        optim.check_name("sam:lbfgs", "landscape")
    with pytest.raises(ValueError, match=r"does not apply to compare \(lbfgs applies to train\)"):
        optim.check_name("lookahead:lbfgs", "compare")


def test_a_wrapper_keyword_another_optimizer_takes_is_refused_at_import() -> None:
    def clash(inner: Optimizer, beta1: float = 0.5) -> Optimizer:
        """A wrapper whose keyword adam already takes."""
        raise NotImplementedError

    specs = [*registry.REGISTRY.values(), optim.OptimizerSpec("clash", clash, "gradient", True)]
    with pytest.raises(
        ValueError, match=r"^wrapper 'clash' and optimizer 'adam' both take 'beta1': a wrapper"
    ):
        registry._by_name(specs)


def test_wrapper_chains_scope_hyperparameters_as_their_own_names() -> None:
    chosen = ["adam", "lookahead:adam", "sam:sgd"]
    scoped = optim.scope_hyperparameters(
        [("lookahead:adam", "beta1", 0.8), (None, "beta1", 0.7), (None, "radius", 0.1)],
        chosen,
    )
    assert scoped == {
        "adam": {"beta1": 0.7},
        "lookahead:adam": {"beta1": 0.8},
        "sam:sgd": {"radius": 0.1},
    }
    with pytest.raises(ValueError, match="'lookahead:sgd' is not among the optimizers"):
        optim.scope_hyperparameters([("lookahead:sgd", "momentum", 0.9)], chosen)
    with pytest.raises(ValueError, match="'lookahead' is not among the optimizers"):
        optim.scope_hyperparameters([("lookahead", "sync_period", 2)], chosen)
