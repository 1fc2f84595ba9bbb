"""Muon: the hidden matrices' step is the orthogonal factor of their momentum, the biases and
the output layer are descentlab's AdamW bit for bit, a stack equals its runs alone bit for bit,
and a point without layers (a landscape's) is refused in one line."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from conftest import run_cli
from descentlab import optim
from descentlab.optim import drive
from descentlab.optim.layout import Layout
from descentlab.optim.stack import stacked

SHALLOW = Layout.of_network((3, 4, 2))  # W1 (4, 3) hidden and tall; W2 (2, 4) the output
DEEP = Layout.of_network((3, 5, 4, 2))  # W1 (5, 3) tall, W2 (4, 5) wide; W3 the output


def _gradients(steps: int, shape: tuple[int, ...]) -> list[np.ndarray]:
    rng = np.random.default_rng(17)
    return [rng.normal(size=shape) for _ in range(steps)]


def _run(
    opt: optim.Optimizer, params: np.ndarray, grads: list[np.ndarray], layout: Layout
) -> tuple[np.ndarray, Any]:
    state = drive.start(opt, params, layout)
    for gradient in grads:
        params, state, _ = drive.step(
            opt, state, params, lambda points, g=gradient: (np.zeros(1), g), layout
        )
    return params, state


def test_the_hidden_step_is_the_orthogonal_factor_of_the_gradient() -> None:
    # momentum 0: B = g; the cubic iteration (1.5, -0.5, 0) run long converges to U V^T.
    opt = optim.muon(
        0.1, momentum=0.0, nesterov=False, weight_decay=0.0, ns_a=1.5, ns_b=-0.5, ns_c=0.0,
        ns_steps=60,
    )  # fmt: skip
    params = np.random.default_rng(1).normal(size=DEEP.n_params)
    grads = np.random.default_rng(2).normal(size=DEEP.n_params)
    state = opt.init(params, layout=DEEP)
    updates, _ = opt.update(grads, state, params, layout=DEEP)
    for slot in DEEP.slots[:4:2]:  # W1 and W2, the hidden matrices
        u, _, vt = np.linalg.svd(slot.view(grads), full_matrices=False)
        rows, columns = slot.shape
        expected = -0.1 * math.sqrt(max(1, rows / columns)) * (u @ vt)
        np.testing.assert_allclose(slot.view(updates), expected, rtol=0, atol=1e-12)


def test_match_rms_adamw_scales_by_a_fifth_of_the_root_of_the_larger_side() -> None:
    kwargs: dict[str, Any] = {"momentum": 0.0, "weight_decay": 0.0}
    params = np.zeros(DEEP.n_params)
    grads = np.random.default_rng(2).normal(size=DEEP.n_params)
    original, _ = _run(optim.muon(0.1, **kwargs), params, [grads], DEEP)
    matched, _ = _run(optim.muon(0.1, match_rms_adamw=True, **kwargs), params, [grads], DEEP)
    w1, w2 = DEEP.slots[0], DEEP.slots[2]  # (5, 3): sqrt(5/3) against 0.2 sqrt(5)
    np.testing.assert_allclose(
        w1.view(matched), w1.view(original) * (0.2 * math.sqrt(5) / math.sqrt(5 / 3)), rtol=1e-14
    )
    np.testing.assert_allclose(w2.view(matched), w2.view(original) * 0.2 * math.sqrt(5), rtol=1e-14)


@pytest.mark.exact
def test_biases_and_the_output_layer_are_adamw_bit_for_bit() -> None:
    settings = {"adam_beta1": 0.8, "adam_beta2": 0.99, "adam_epsilon": 1e-6}
    opt = optim.muon(0.02, adam_lr_ratio=0.5, adam_weight_decay=0.1, **settings)
    inner = optim.adamw(0.01, beta1=0.8, beta2=0.99, epsilon=1e-6, weight_decay=0.1)
    params = np.random.default_rng(4).normal(size=DEEP.n_params)
    grads = _gradients(20, (DEEP.n_params,))
    final, state = _run(opt, params, grads, DEEP)
    others = [slot for slot in DEEP.slots if slot.role != "weight"]
    index = np.concatenate([np.arange(slot.start, slot.stop) for slot in others])
    alone = params[index]
    alone_state = inner.init(alone)
    for gradient in grads:
        updates, alone_state = inner.update(gradient[index], alone_state, alone)
        alone = alone + updates
    assert np.array_equal(final[index], alone)
    assert np.array_equal(state.adam_mu, alone_state.mu)
    assert state.momentum_buffer.shape == (5 * 3 + 4 * 5,)  # one entry per hidden weight only


STACK: list[dict[str, Any]] = [
    {"learning_rate": 0.02, "momentum": 0.95, "ns_a": 3.4445, "weight_decay": 0.1},
    {"learning_rate": 0.01, "momentum": 0.4, "ns_a": 3.0, "weight_decay": 0.0},
    {"learning_rate": 0.05, "momentum": 0.9, "ns_a": 2.5, "weight_decay": 0.3},
]


@pytest.mark.exact
@pytest.mark.parametrize("nesterov", [True, False])
def test_a_stack_equals_its_runs_alone_bit_for_bit(nesterov: bool) -> None:
    runs = [{**settings, "nesterov": nesterov, "adam_beta1": 0.9 - i / 10} for i, settings in
            enumerate(STACK)]  # fmt: skip
    start = np.random.default_rng(6).normal(size=(len(runs), DEEP.n_params))
    grads = _gradients(25, (len(runs), DEEP.n_params))
    together, state = _run(stacked("muon", runs), start, grads, DEEP)
    assert state.momentum_buffer.shape == (len(runs), 35)
    for run, settings in enumerate(runs):
        alone, alone_state = _run(
            optim.get("muon", **settings), start[run], [g[run] for g in grads], DEEP
        )
        np.testing.assert_array_equal(together[run], alone)
        np.testing.assert_array_equal(state.momentum_buffer[run], alone_state.momentum_buffer)


def test_it_lowers_a_quadratic_of_the_network_weights() -> None:
    target = np.random.default_rng(8).normal(size=SHALLOW.n_params)
    opt = optim.muon(lambda step: 0.05 / (1 + step / 50), weight_decay=0.0)
    params = np.zeros(SHALLOW.n_params)
    state = drive.start(opt, params, SHALLOW)

    def value_and_grad(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return 0.5 * np.sum((x - target) ** 2, axis=-1, keepdims=True), x - target

    first = None
    for _ in range(400):
        params, state, value = drive.step(opt, state, params, value_and_grad, SHALLOW)
        first = value if first is None else first
    assert value_and_grad(params)[0][0] < 1e-2 * first[0]


def test_float32_parameters_keep_float32_state() -> None:
    opt = optim.muon(0.02)
    params = np.ones((2, SHALLOW.n_params), dtype=np.float32)
    state = opt.init(params, layout=SHALLOW)
    for scale in (0.5, -1.0, 2.0):
        grads = np.random.default_rng(1).normal(size=params.shape).astype(np.float32) * scale
        updates, state = opt.update(grads, state, params, layout=SHALLOW)
        params = params + updates
        assert updates.dtype == np.float32
    for field in ("momentum_buffer", "adam_mu", "adam_nu"):
        assert getattr(state, field).dtype == np.float32, field


def test_it_needs_the_layout_and_is_adamw_on_a_vector_without_layers() -> None:
    assert optim.get("muon", learning_rate=0.02).needs == frozenset({"layout"})
    assert optim.spec("muon").needs == frozenset({"layout"})
    assert "muon" not in optim.names("landscape") and "muon" in optim.names("train")
    # No layout: Layout.vector, no hidden matrix, every entry AdamW's (Keras's rule).
    grads = _gradients(10, (2, 5))
    start = np.random.default_rng(9).normal(size=(2, 5))
    state = drive.start(optim.muon(0.02, adam_lr_ratio=0.5), start)
    assert state.momentum_buffer.shape == (2, 0)
    alone, _ = _run(optim.muon(0.02, adam_lr_ratio=0.5), start, grads, Layout.vector(5))
    params = start
    adamw = optim.adamw(0.01)
    adam_state = adamw.init(params)
    for gradient in grads:
        updates, adam_state = adamw.update(gradient, adam_state, params)
        params = params + updates
    assert np.array_equal(alone, params)


def test_the_landscape_command_refuses_it_in_one_line(tmp_path: Any) -> None:
    code, _, err = run_cli("landscape", "--optimizers", "adam,muon", "--out", str(tmp_path / "out"))
    assert code == 2
    message = (
        "argument --optimizers: optimizer 'muon' does not apply to landscape (muon applies to "
        "compare, estimator, sweep, train); choose one of: "
    )
    assert message in err and err.count("\n") <= 2
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ns_steps": 100}, "ns_steps must be an integer in 0..99, got 100"),
        ({"ns_steps": 2.5}, "ns_steps must be an integer >= 0, got 2.5"),
        ({"ns_a": float("nan")}, "ns_a must be a finite number, got nan"),
        ({"momentum": 1.0}, r"momentum must be a number in \[0, 1\), got 1.0"),
        ({"adam_beta1": 1.0}, r"adam_beta1 must be a number in \[0, 1\), got 1.0"),
        ({"adam_lr_ratio": 0.0}, "adam_lr_ratio must be a finite number > 0, got 0.0"),
        ({"match_rms_adamw": "yes"}, "match_rms_adamw must be True or False, got 'yes'"),
    ],
)
def test_bad_hyperparameters_are_refused_in_one_line(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        optim.muon(0.02, **kwargs)


def test_a_layout_that_does_not_tile_the_buffer_is_refused() -> None:
    opt = optim.muon(0.02)
    with pytest.raises(ValueError, match="the layout covers 26 parameters, the buffer has 5"):
        opt.init(np.zeros(5), layout=SHALLOW)


@pytest.mark.exact
def test_a_stack_may_iterate_a_different_number_of_times_per_run() -> None:
    runs = [{"learning_rate": 0.02, "ns_steps": 5}, {"learning_rate": 0.02, "ns_steps": 9}]
    start = np.tile(np.random.default_rng(6).normal(size=DEEP.n_params), (2, 1))
    grads = [np.tile(g, (2, 1)) for g in _gradients(5, (DEEP.n_params,))]  # the same for both
    together, _ = _run(stacked("muon", runs), start, grads, DEEP)
    for run, settings in enumerate(runs):
        alone, _ = _run(optim.get("muon", **settings), start[run], [g[run] for g in grads], DEEP)
        np.testing.assert_array_equal(together[run], alone)
    assert not np.array_equal(together[0], together[1])  # only ns_steps differs
    with pytest.raises(ValueError, match=r"^ns_steps must be an integer in 0..99, got 100$"):
        stacked(
            "muon",
            [{"learning_rate": 0.02, "ns_steps": 5}, {"learning_rate": 0.02, "ns_steps": 100}],
        )
