"""descentlab.course against the course's published numbers.

Every input is rebuilt the way the course's ``testCases.py`` builds it, from a legacy
``RandomState(seed)`` stream drawn in the course's order (the same numbers as
``np.random.seed(seed); np.random.randn(...)``, without touching numpy's global state), and
every output is compared with the value the notebook printed, to the printed precision.
The values and where they come from are in ``fixtures/course_test_cases.json``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from descentlab import course, nn, optim
from descentlab.train import train

FIXTURE = json.loads(
    (Path(__file__).parent / "fixtures" / "course_test_cases.json").read_text(encoding="utf-8")
)

pytestmark = pytest.mark.exact
CASES: dict[str, Any] = FIXTURE["cases"]

Tree = dict[str, np.ndarray]
Outputs = dict[str, Tree]
"""What a course function returned, grouped as the fixture groups it: "parameters", "v", "s"."""


@pytest.fixture(autouse=True)
def _global_random_state_untouched() -> Iterator[None]:
    # Reading numpy's legacy global state is the point: nothing here may draw from it.
    before = np.random.get_state()  # noqa: NPY002
    yield
    after = np.random.get_state()  # noqa: NPY002
    assert before[0] == after[0] and before[2:] == after[2:]
    np.testing.assert_array_equal(before[1], after[1])


# --- the course's inputs -------------------------------------------------------------


def course_case(*, with_grads: bool = True) -> tuple[Tree, Tree]:
    """``update_parameters_with_*_test_case()``: seed 1, parameters then gradients."""
    rng = np.random.RandomState(1)
    shapes = {"W1": (2, 3), "b1": (2, 1), "W2": (3, 3), "b2": (3, 1)}
    parameters = {name: rng.randn(*shape) for name, shape in shapes.items()}
    if not with_grads:
        return parameters, {}
    grads = {"d" + name: rng.randn(*shape) for name, shape in shapes.items()}
    return parameters, grads


def zeros_like_grads(parameters: Tree) -> Tree:
    """The course's literal zero velocities / moments, keyed like the gradients."""
    return {"d" + name: np.zeros_like(array) for name, array in parameters.items()}


# --- the published values ----------------------------------------------------------------


def parse_printed(rows: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """An array as numpy printed it, and half a unit of its last printed digit per entry.

    The course printed with numpy's default precision 8: fixed-point entries carry 8 decimals
    (trailing zeros dropped), scientific ones 8 mantissa decimals. Rows opening with "[[" are
    a 2-D array, one row per printed line; a single "[...]" row is 1-D.
    """
    tokens = [row.replace("[", " ").replace("]", " ").split() for row in rows]
    values = np.array([[float(token) for token in row] for row in tokens])
    half_units = np.array(
        [
            [0.5 * 10.0 ** (int(token.split("e")[1]) - 8 if "e" in token else -8) for token in row]
            for row in tokens
        ]
    )
    if rows[0].startswith("[["):
        return values, half_units
    return values.ravel(), half_units.ravel()


def assert_printed(actual: np.ndarray, rows: list[str], what: str) -> None:
    expected, half_units = parse_printed(rows)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    off = np.abs(actual - expected) > half_units * (1 + 1e-9)
    assert not off.any(), (
        f"{what} does not print as published:\n{actual}\npublished:\n" + "\n".join(rows)
    )


def assert_published(outputs: Outputs, expected: dict[str, Any], what: str) -> None:
    """Every array the fixture lists under ``expected`` (groups "parameters", "v", "s")."""
    for group, tree in expected.items():
        for name, rows in tree.items():
            assert_printed(outputs[group][name], rows, f"{what}: {group}[{name!r}]")


def adam_expected(epsilon_variant: str) -> dict[str, Any]:
    """Adam's published values with W2 and b2 from one placement of epsilon."""
    case = CASES["update_parameters_with_adam"]
    expected = {group: dict(tree) for group, tree in case["expected"].items()}
    expected["parameters"].update(case[f"expected_{epsilon_variant}"]["parameters"])
    return expected


# --- the course functions under test, called as the notebook calls them -----------------


def run_gd(parameters: Tree, grads: Tree) -> Outputs:
    hp = CASES["update_parameters_with_gd"]["hyperparameters"]
    return {"parameters": course.update_parameters_with_gd(parameters, grads, hp["learning_rate"])}


def run_momentum(parameters: Tree, grads: Tree) -> Outputs:
    hp = CASES["update_parameters_with_momentum"]["hyperparameters"]
    v = zeros_like_grads(parameters)
    new_parameters, v = course.update_parameters_with_momentum(
        parameters, grads, v, beta=hp["beta"], learning_rate=hp["learning_rate"]
    )
    return {"parameters": new_parameters, "v": v}


def run_adam(parameters: Tree, grads: Tree) -> Outputs:
    hp = CASES["update_parameters_with_adam"]["hyperparameters"]
    v, s = zeros_like_grads(parameters), zeros_like_grads(parameters)
    new_parameters, v, s = course.update_parameters_with_adam(parameters, grads, v, s, **hp)
    return {"parameters": new_parameters, "v": v, "s": s}


def run_initialize_velocity(parameters: Tree, grads: Tree) -> Outputs:
    return {"v": course.initialize_velocity(parameters)}


def run_initialize_adam(parameters: Tree, grads: Tree) -> Outputs:
    v, s = course.initialize_adam(parameters)
    return {"v": v, "s": s}


Runner = Callable[[Tree, Tree], Outputs]

# (case, how to call it, the published values it must print)
COURSE_FUNCTIONS: list[tuple[str, Runner, dict[str, Any]]] = [
    ("update_parameters_with_gd", run_gd, CASES["update_parameters_with_gd"]["expected"]),
    (
        "update_parameters_with_momentum",
        run_momentum,
        CASES["update_parameters_with_momentum"]["expected"],
    ),
    # course.update_parameters_with_adam puts epsilon outside the square root, as the
    # notebook's formula does; see the fixture's "epsilon_placement" note.
    ("update_parameters_with_adam", run_adam, adam_expected("epsilon_outside_sqrt")),
    ("initialize_velocity", run_initialize_velocity, CASES["initialize_velocity"]["expected"]),
    ("initialize_adam", run_initialize_adam, CASES["initialize_adam"]["expected"]),
]
COURSE_FUNCTION_IDS = [name for name, _, _ in COURSE_FUNCTIONS]


@pytest.mark.parametrize(("case", "run", "expected"), COURSE_FUNCTIONS, ids=COURSE_FUNCTION_IDS)
def test_course_function_prints_published_values(
    case: str, run: Runner, expected: dict[str, Any]
) -> None:
    # The course's test dicts are not one network (W2 is 3x3 after a 2x3 W1); like the
    # course's functions, descentlab.course updates any dict of arrays key by key.
    parameters, grads = course_case(with_grads=case.startswith("update"))
    assert_published(run(parameters, grads), expected, case)


@pytest.mark.parametrize(
    ("eps_inside_sqrt", "variant"),
    [(True, "epsilon_inside_sqrt"), (False, "epsilon_outside_sqrt")],
    ids=["inside_sqrt_v1_v1b_expected_output", "outside_sqrt_notebook_formula"],
)
def test_adam_engine_prints_each_published_epsilon_variant(
    eps_inside_sqrt: bool, variant: str
) -> None:
    # Adam is elementwise, so the whole published dict goes through the engine as one flat
    # buffer; each placement of epsilon reproduces one version's published W2 and b2.
    hp = CASES["update_parameters_with_adam"]["hyperparameters"]
    parameters, grads = course_case()
    names = list(parameters)
    flat_params = np.concatenate([parameters[name].ravel() for name in names])
    flat_grads = np.concatenate([grads["d" + name].ravel() for name in names])
    opt = optim.adam(
        hp["learning_rate"], hp["beta1"], hp["beta2"], hp["epsilon"],
        eps_inside_sqrt=eps_inside_sqrt,
    )  # fmt: skip
    zeros = np.zeros_like(flat_params)
    state = optim.AdamState(step=hp["t"] - 1, mu=zeros, nu=zeros)
    updates, _ = opt.update(flat_grads, state, flat_params)
    pieces = np.split(
        optim.apply_updates(flat_params, updates),
        np.cumsum([parameters[name].size for name in names])[:-1],
    )
    new_parameters = {
        name: piece.reshape(parameters[name].shape)
        for name, piece in zip(names, pieces, strict=True)
    }
    expected = adam_expected(variant)
    assert_published(
        {"parameters": new_parameters}, {"parameters": expected["parameters"]}, variant
    )


# --- random_mini_batches -------------------------------------------------------------------


def test_random_mini_batches_prints_published_shapes_and_sanity_check() -> None:
    case = CASES["random_mini_batches"]
    rng = np.random.RandomState(1)
    X = rng.randn(12288, 148)
    Y = rng.randn(1, 148) < 0.5
    mini_batches = course.random_mini_batches(X, Y, 64)
    shapes = [[list(batch_X.shape), list(batch_Y.shape)] for batch_X, batch_Y in mini_batches]
    assert shapes == case["batch_shapes"]
    assert_printed(mini_batches[0][0][0][0:3], [case["expected_sanity_check"]], "sanity check")


def test_random_mini_batches_matches_published_index_check() -> None:
    expected = CASES["random_mini_batches_index_check"]["expected"]
    rng = np.random.RandomState(1)
    nx, m = 12288, 148
    X = np.arange(nx * m).reshape((m, nx)).T
    Y = rng.randn(1, m) < 0.5
    mini_batches = course.random_mini_batches(X, Y, 64, 0)
    picked = {
        "mini_batches[0][0][0][0:3]": mini_batches[0][0][0][0:3],
        "mini_batches[1][0][-1][0:3]": mini_batches[1][0][-1][0:3],
        "mini_batches[2][0][-1][0:3]": mini_batches[2][0][-1][0:3],
    }
    assert {key: values.tolist() for key, values in picked.items()} == expected


# --- model -----------------------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam"])
def test_model_prints_published_first_cost_line(
    optimizer: str, capsys: pytest.CaptureFixture[str]
) -> None:
    train_X, train_Y = course.load_dataset()
    course.model(train_X, train_Y, [train_X.shape[0], 5, 2, 1], optimizer, num_epochs=1)
    expected = CASES["model_first_cost_line"]["expected"][optimizer]
    assert capsys.readouterr().out == expected + "\n"


V1_OPTIMIZERS = {
    "gd": optim.gd(0.0007),
    "momentum": optim.momentum(0.0007, 0.9),
    "adam": optim.adam(0.0007, 0.9, 0.999, 1e-8),
}


@pytest.mark.parametrize("optimizer", list(V1_OPTIMIZERS))
def test_last_minibatch_cost_of_epoch_0_prints_published_v1_line(optimizer: str) -> None:
    # The original release printed the last mini-batch's mean cost, not the epoch's mean.
    train_X, train_Y = course.load_dataset()
    network = nn.Network((train_X.shape[0], 5, 2, 1))
    history = train(
        network, train_X, train_Y.astype(float), V1_OPTIMIZERS[optimizer], epochs=1
    ).history
    last_minibatch_cost = history.minibatch_costs[history.batches_per_epoch - 1]
    expected = CASES["model_first_cost_line_v1"]["expected"][optimizer]
    assert f"{last_minibatch_cost:f}" == expected
