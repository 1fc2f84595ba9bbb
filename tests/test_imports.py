"""How descentlab's parts depend on each other: no import cycle between its modules and
packages, and nothing flows backwards (computation never imports the command line or the
run-folder writers)."""

from __future__ import annotations

import ast
import functools
import itertools
import subprocess
import sys
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parent.parent / "src" / "descentlab"


def _unit(module: str) -> str:
    """The part of descentlab a module belongs to: ``descentlab.sweep.engine`` -> ``sweep``,
    ``descentlab.train`` -> ``train``, the package itself -> ``descentlab``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _modules() -> dict[str, Path]:
    modules = {}
    for path in SOURCE.rglob("*.py"):
        parts = list(path.relative_to(SOURCE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Every descentlab module ``path`` imports, at the top or inside a function, for type
    checking or at run time."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # "from descentlab import optim" imports the module descentlab.optim.
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(name for name in names if name in modules)
    return found


@functools.cache
def dependencies() -> dict[str, set[str]]:
    """unit -> the other units it imports."""
    modules = _modules()
    graph: dict[str, set[str]] = {_unit(name): set() for name in modules}
    for name, path in modules.items():
        for imported in _imports(path, modules):
            if _unit(imported) != _unit(name):
                graph[_unit(name)].add(_unit(imported))
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of ``graph`` as the list of its nodes (the first repeated at the end), or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for successor in sorted(graph.get(node, ())):
            if state.get(successor) == "open":
                return [*stack[stack.index(successor) :], successor]
            if successor not in state and (cycle := visit(successor)):
                return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_cycle_finder_finds_cycles() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_import_cycle_between_modules_and_packages() -> None:
    cycle = find_cycle(dependencies())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


COMPUTATION = [
    "batching", "checkpoint", "dataset", "datasets", "evaluation", "experiment",
    "experiment_config", "history", "landscapes", "loaders", "losses", "metrics", "nn", "optim",
    "resume", "schedules", "seeds", "splits", "sweep", "train", "cluster",
]  # fmt: skip


@pytest.mark.parametrize(
    ("unit", "forbidden"),
    [
        *((unit, "cli") for unit in COMPUTATION),
        *((unit, "runs") for unit in COMPUTATION),
        *((unit, "report") for unit in COMPUTATION),
        ("runs", "cli"),
        ("report", "runs"),
    ],
)
def test_nothing_flows_backwards(unit: str, forbidden: str) -> None:
    graph = dependencies()
    reachable, frontier = set(), [unit]
    while frontier:
        for successor in graph.get(frontier.pop(), ()):
            if successor not in reachable:
                reachable.add(successor)
                frontier.append(successor)
    assert forbidden not in reachable, f"{unit} imports {forbidden}"


def test_every_module_is_in_the_graph() -> None:
    units = set(dependencies())
    assert {"cli", "runs", "sweep", "report", "train"} <= units
    assert all(a != b for a, b in itertools.pairwise(sorted(units)))


DASK_FREE = """
import sys
import descentlab, descentlab.sweep, descentlab.cluster.scheduler, descentlab.cluster.tasks
import descentlab.sweep.on_cluster, descentlab.benchmark.on_cluster
from descentlab.cli import main
for argv in (["--help"], ["sweep", "--help"], ["resume", "--help"], ["benchmark", "--help"]):
    try:
        main(argv)
    except SystemExit:
        pass
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("dask", "distributed"))
print("loaded:", loaded, file=sys.stderr)
sys.exit(1 if loaded else 0)
"""


def test_dask_is_imported_only_when_a_cluster_is_asked_for() -> None:
    """``import descentlab``, the cluster and sweep modules, and ``--help`` (the top one, the
    sweep's and resume's, which name ``--scheduler``) import neither dask nor distributed."""
    result = subprocess.run(
        [sys.executable, "-c", DASK_FREE], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


NUMBA_FREE = """
import sys
import descentlab, descentlab.engines, descentlab.train, descentlab.sweep, descentlab.api
from descentlab.cli import main
from descentlab.cli.commands import COMMANDS
for argv in (["--help"], *([name, "--help"] for name in COMMANDS)):
    try:
        main(argv)
    except SystemExit:
        pass
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("numba", "llvmlite"))
print("loaded:", loaded, file=sys.stderr)
sys.exit(1 if loaded else 0)
"""


def test_numba_is_imported_only_when_the_compiled_engine_trains() -> None:
    """``import descentlab`` (its engine setting, the training loop, sweeps, the Python API)
    and every command's ``--help`` import neither numba nor llvmlite: importing them costs a
    third of a second, which only a compiled run should pay."""
    result = subprocess.run(
        [sys.executable, "-c", NUMBA_FREE], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
