"""The optimizer contract beyond the gradient (``descentlab.optim.base``): what the training
loop hands an optimizer that needs a layout, the loss, or evaluations at other points, and
which weights it evaluates when an optimizer reports others.

Toy optimizers built here exercise the loop directly, so these tests hold whichever registered
optimizers use the contract.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest

from descentlab import checkpoint, datasets, optim
from descentlab.batch_objective import batch_loss
from descentlab.nn import Network, backward, forward, he_initialization
from descentlab.optim import Layout, Optimizer, drive
from descentlab.train import RunGroup, train, train_stack
from helpers import tree_equal

NETWORK = Network((2, 3, 1))


class ProbeState(NamedTuple):
    step: int
    seen: np.ndarray
    """The last value the loop handed over, one per run."""


def _probe(learning_rate: float, needs: set[str], log: list[dict[str, Any]]) -> Optimizer:
    """Gradient descent that logs every keyword the loop passes and, given ``value_and_grad``,
    steps along the gradient it returns at ``params`` instead of the loop's."""

    def init(params: np.ndarray, **given: Any) -> ProbeState:
        log.append({"init": sorted(given), **given})
        return ProbeState(0, np.zeros((*params.shape[:-1], 1)))

    def update(
        grads: np.ndarray, state: ProbeState, params: np.ndarray, **given: Any
    ) -> tuple[np.ndarray, ProbeState]:
        entry: dict[str, Any] = {"update": sorted(given), "grads": grads.copy()}
        entry["params"] = params.copy()
        if "value_and_grad" in given:
            values, at_params = given["value_and_grad"](params)
            entry["evaluated"] = (values, at_params)
            grads = at_params
        if "value" in given:
            entry["value"] = np.copy(given["value"])
        if "layout" in given:
            entry["layout"] = given["layout"]
        log.append(entry)
        seen = entry.get("value", state.seen)
        return -learning_rate * grads, ProbeState(state.step + 1, seen)

    return Optimizer("probe", {"learning_rate": learning_rate}, init, update, frozenset(needs))


def _data(m: int = 20) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(2, m))
    Y = (X[0:1] * X[1:2] > 0).astype(float)
    return X, Y


def test_an_optimizer_that_needs_nothing_is_called_with_nothing_else() -> None:
    log: list[dict[str, Any]] = []
    X, Y = _data()
    train(NETWORK, X, Y, _probe(0.1, set(), log), epochs=1, batch_size=8)
    assert [entry.get("init", entry.get("update")) for entry in log] == [[]] * 4


def test_the_loop_hands_layout_value_and_evaluations_that_match_its_own() -> None:
    log: list[dict[str, Any]] = []
    X, Y = _data()
    probe = _probe(0.1, {"layout", "value", "value_and_grad"}, log)
    plain = train(NETWORK, X, Y, optim.gd(0.1), epochs=2, batch_size=8)
    probed = train(NETWORK, X, Y, probe, epochs=2, batch_size=8)
    assert log[0] == {"init": ["layout"], "layout": Layout.of_network(NETWORK.layer_sizes)}
    updates = log[1:]
    assert len(updates) == 2 * 3  # 20 examples in batches of 8, 8 and 4
    for entry in updates:
        assert entry["update"] == ["layout", "value", "value_and_grad"]
        assert entry["layout"] == Layout.of_network(NETWORK.layer_sizes)
        values, at_params = entry["evaluated"]
        # The evaluation at the current weights is the loop's own gradient and loss, bit for bit.
        assert np.array_equal(at_params, entry["grads"])
        assert np.array_equal(values, entry["value"]) and values.shape == (1, 1)
    # The recorded costs are the loop's, untouched by the extra evaluations; each value handed
    # over is the mini-batch cost the loop recorded for that step.
    assert np.array_equal(probed.history.minibatch_costs, plain.history.minibatch_costs)
    assert np.array_equal(probed.params, plain.params)
    recorded = probed.history.minibatch_costs
    assert [float(entry["value"][0, 0]) for entry in updates] == recorded.tolist()


def test_an_evaluation_elsewhere_is_the_batch_loss_and_gradient_there() -> None:
    log: list[dict[str, Any]] = []
    X, Y = _data(8)
    probe = _probe(0.1, {"value_and_grad"}, log)
    train(NETWORK, X, Y, probe, epochs=1, batch_size=None, shuffle_seed=5)
    entry = log[1]
    params = entry["params"][0]
    order = np.random.RandomState(6).permutation(8)  # epoch 0's shuffle: permutation(m, seed + 1)
    cache = forward(NETWORK, params, X[:, order])
    expected_loss = batch_loss(cache.output, cache.output_logits, Y[:, order], None)
    expected_grad = backward(NETWORK, params, cache, Y[:, order])
    values, grads = entry["evaluated"]
    np.testing.assert_allclose(values[0], expected_loss, rtol=1e-15)
    np.testing.assert_allclose(grads[0], expected_grad, rtol=1e-15, atol=1e-300)


@pytest.mark.exact
def test_a_stack_of_needy_runs_equals_each_run_alone() -> None:
    X, Y = _data()
    needs = {"layout", "value", "value_and_grad"}
    rates = [0.3, 0.1, 0.2]
    groups = [RunGroup(_probe(rate, needs, []), 1) for rate in rates]
    stack = train_stack(
        NETWORK, X, Y, groups, init_seeds=[1, 2, 3], shuffle_seeds=[4, 5, 4], epochs=3,
        batch_size=8,
    )  # fmt: skip
    for k, rate in enumerate(rates):
        alone = train(
            NETWORK, X, Y, _probe(rate, needs, []), epochs=3, batch_size=8,
            init_seed=k + 1, shuffle_seed=[4, 5, 4][k],
        )  # fmt: skip
        assert np.array_equal(stack.params[k], alone.params)
        assert np.array_equal(stack.histories[k].minibatch_costs, alone.history.minibatch_costs)


def test_a_full_batch_optimizer_refuses_mini_batches_in_one_line() -> None:
    X, Y = _data()
    probe = _probe(0.1, {"full_batch"}, [])
    with pytest.raises(ValueError) as refused:
        train(NETWORK, X, Y, probe, epochs=1, batch_size=8)
    assert str(refused.value) == (
        "probe is full-batch: it needs the whole training set in every batch "
        "(batch size 'full'), got batch size 8"
    )
    result = train(NETWORK, X, Y, probe, epochs=2, batch_size=None)
    assert len(result.history.minibatch_costs) == 2
    assert len(train(NETWORK, X, Y, probe, epochs=1, batch_size=20).history.epoch_costs) == 1


class AveragingState(NamedTuple):
    step: int
    total: np.ndarray


def _averaging_gd(learning_rate: float) -> Optimizer:
    """Gradient descent that reports the running average of its iterates."""

    def init(params: np.ndarray) -> AveragingState:
        return AveragingState(0, np.zeros_like(params))

    def update(
        grads: np.ndarray, state: AveragingState, params: np.ndarray
    ) -> tuple[np.ndarray, AveragingState]:
        new = params - learning_rate * grads
        return new - params, AveragingState(state.step + 1, state.total + new)

    def report(state: AveragingState, params: np.ndarray) -> np.ndarray:
        return state.total / max(state.step, 1)

    return Optimizer("averaging", {"learning_rate": learning_rate}, init, update, report=report)


def test_reported_weights_are_what_a_run_evaluates_and_training_continues_from_its_own() -> None:
    X, Y = _data()
    result = train(NETWORK, X, Y, _averaging_gd(0.5), epochs=3, batch_size=8)
    assert result.reported_params is not None
    assert np.array_equal(result.weights, result.opt_state.total / result.opt_state.step)
    assert not np.array_equal(result.weights, result.params)
    plain = train(NETWORK, X, Y, optim.gd(0.5), epochs=3, batch_size=8)
    assert np.array_equal(result.params, plain.params)  # training itself is unchanged
    assert plain.reported_params is None and plain.weights is plain.params


def test_should_stop_sees_the_reported_weights() -> None:
    X, Y = _data()
    seen: list[np.ndarray] = []

    def record(epoch: int, weights: np.ndarray) -> bool:
        seen.append(weights.copy())
        return False

    result = train(NETWORK, X, Y, _averaging_gd(0.5), epochs=2, batch_size=8, should_stop=record)
    assert np.array_equal(seen[-1], result.weights)


def test_drive_passes_a_vector_layout_on_a_plain_function() -> None:
    log: list[dict[str, Any]] = []
    probe = _probe(0.5, {"layout", "value"}, log)
    state = drive.start(probe, np.array([1.0, -2.0]))
    point, state, value = drive.step(
        probe, state, np.array([1.0, -2.0]), lambda p: (np.sum(p * p, -1, keepdims=True), 2 * p)
    )
    assert log[0]["layout"] == Layout.vector(2)
    assert np.array_equal(point, [0.0, 0.0]) and np.array_equal(value, [5.0])
    with pytest.raises(ValueError, match="the layout covers 3 parameters, the buffer has 2"):
        drive.start(probe, np.zeros(2), Layout.vector(3))


def test_layout_views_tile_the_flat_buffer_with_the_run_axis_in_front() -> None:
    network = Network((3, 4, 2))
    layout = Layout.of_network(network.layer_sizes)
    assert [(s.name, s.shape, s.role) for s in layout.slots] == [
        ("W1", (4, 3), "weight"),
        ("b1", (4,), "bias"),
        ("W2", (2, 4), "output_weight"),
        ("b2", (2,), "bias"),
    ]
    assert layout.n_params == network.n_params
    flat = np.arange(2 * network.n_params, dtype=float).reshape(2, -1)
    pairs = zip(layout.slots[::2], layout.slots[1::2], strict=True)
    for (weight, bias), (W, b) in zip(pairs, network.layers(flat), strict=True):
        assert np.array_equal(weight.view(flat), W)
        assert np.array_equal(bias.view(flat), b[..., 0])
    layout.views(flat)[0][...] = -1.0  # a view writes the buffer
    assert np.all(flat[:, :12] == -1.0)


class WrapperState(NamedTuple):
    step: int
    slow: np.ndarray
    inner: Any


def test_a_wrapped_optimizers_state_round_trips_through_a_checkpoint(tmp_path: Path) -> None:
    inner = optim.adam(0.01).init(np.ones((2, 5)))
    inner = inner._replace(step=3, mu=np.full((2, 5), 0.25))
    state = WrapperState(3, np.arange(10.0).reshape(2, 5), inner)
    layout, arrays = checkpoint._state_entries([state])
    assert layout == [
        {
            "step": {"value": 3},
            "slow": {"array": "state0.slow"},
            "inner": {
                "state": {
                    "step": {"value": 3},
                    "mu": {"array": "state0.inner.mu"},
                    "nu": {"array": "state0.inner.nu"},
                    "nu_max": {"value": None},
                }
            },
        }
    ]
    template = WrapperState(0, np.zeros((2, 5)), optim.adam(0.01).init(np.zeros((2, 5))))
    reader = checkpoint._Reader(tmp_path / "c.npz", {}, arrays)
    rebuilt = WrapperState(**checkpoint._state_values(reader, layout[0], template, "state 0"))
    assert tree_equal(rebuilt, state)


def test_every_registered_optimizer_needs_what_its_registry_entry_declares() -> None:
    for name in optim.runnable_names():
        entry = optim.spec(name.split(":")[0])
        built = optim.get(name, learning_rate=0.01)
        assert entry.needs <= built.needs, name
        if not entry.wraps_inner:
            assert built.needs == entry.needs, name


def test_he_initialised_moons_train_through_the_contract_end_to_end() -> None:
    dataset = datasets.moons()
    network = Network((2, 5, 2, 1))
    log: list[dict[str, Any]] = []
    probe = _probe(0.0007, {"value_and_grad"}, log)
    result = train(network, dataset.X, dataset.Y, probe, epochs=1)
    assert np.array_equal(log[1]["params"][0], he_initialization(network))
    assert len(log) == 1 + 5 and len(result.history.minibatch_costs) == 5


def test_configs_refuse_mini_batches_for_a_full_batch_optimizer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from descentlab.experiment_config import ExperimentConfig
    from descentlab.optim import registry
    from descentlab.sweep.config import SweepConfig

    full = registry.OptimizerSpec("fullgd", optim.gd, family="gradient", needs={"full_batch"})
    monkeypatch.setattr(registry, "REGISTRY", {**registry.REGISTRY, "fullgd": full})
    message = (
        "fullgd is full-batch: it needs the whole training set in every batch; use "
        "--batch-size full (batch_size=None), got batch size 64"
    )
    with pytest.raises(ValueError) as refused:
        ExperimentConfig(optimizers=("adam", "fullgd"), batch_size=64)
    assert str(refused.value) == message
    with pytest.raises(ValueError) as refused:
        SweepConfig(optimizers=("fullgd",), learning_rate="0.1", batch_size=64)
    assert str(refused.value) == message
    assert ExperimentConfig(optimizers=("fullgd",), batch_size=None).batch_size is None
    optim.check_full_batch(["fullgd", "lookahead:fullgd"], None)
    with pytest.raises(ValueError, match="fullgd is full-batch"):
        optim.check_full_batch(["lookahead:fullgd"], 8)


def test_the_playground_names_the_batch_size_a_full_batch_optimizer_refuses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from descentlab.optim import registry
    from descentlab.web.limits import Limits
    from descentlab.web.race_config import race_request
    from descentlab.web.requests import FieldError

    full = registry.OptimizerSpec("fullgd", optim.gd, family="gradient", needs={"full_batch"})
    monkeypatch.setattr(registry, "REGISTRY", {**registry.REGISTRY, "fullgd": full})
    body = {"optimizers": [{"name": "adam"}, {"name": "fullgd"}], "batch_size": 64}
    with pytest.raises(FieldError) as refused:
        race_request(body, Limits())
    assert refused.value.field == "config.batch_size"
    assert "fullgd is full-batch" in refused.value.message
    accepted = race_request({**body, "batch_size": "full"}, Limits())
    assert accepted.config.batch_size is None
