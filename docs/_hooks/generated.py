"""An MkDocs hook: the parts of pages that are read from the code when the site is built.

- ``<!-- optimizers -->`` (docs/optimizers.md) becomes a summary table (each optimizer's
  signature and the first line of its docstring) and one mkdocstrings block per optimizer, in
  the order ``descentlab.optim.names()`` gives: adding an optimizer adds it to the page, and
  editing a docstring edits the page.
- ``<!-- modules -->`` (docs/architecture.md) becomes the table of every module under
  src/descentlab/ with its length and the first line of its docstring, so the map of the house
  lists the modules that exist.
- ``<!-- search-spaces -->`` and ``<!-- default-learning-rates -->`` (docs/benchmark.md) become
  the benchmark's search space of every optimizer (``descentlab.benchmark.search_space.table``)
  and its untuned learning rates, each with its source.

Nothing is downloaded and nothing is written to docs/.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

OPTIMIZERS = "<!-- optimizers -->"
MODULES = "<!-- modules -->"
SEARCH_SPACES = "<!-- search-spaces -->"
DEFAULT_LEARNING_RATES = "<!-- default-learning-rates -->"
SOURCE = Path(__file__).resolve().parents[2] / "src" / "descentlab"


def _arguments(function: Any) -> str:
    """``learning_rate, beta=0.9``: the parameters and defaults, without the annotations."""
    return ", ".join(
        name if p.default is inspect.Parameter.empty else f"{name}={p.default!r}"
        for name, p in inspect.signature(function).parameters.items()
    )


def optimizers_section() -> str:
    from descentlab import optim

    rows = [
        "| optimizer | family | needs | applies to | evaluates | the rule in one line |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    blocks = []
    for name, runnable in zip(optim.names(), optim.runnable_names(), strict=True):
        entry = optim.spec(name)
        factory = entry.factory
        path = f"{factory.__module__}.{factory.__qualname__}"
        summary = (inspect.getdoc(factory) or "").splitlines()[0].replace("|", "\\|")
        needs = ", ".join(need for need in optim.NEEDS if need in entry.needs) or "-"
        if entry.wraps_inner:
            needs = f"{needs} and its inner's" if entry.needs else "its inner's"
        places = set(optim.COMMANDS) - entry.commands
        applies = "all" if not places else "not " + ", ".join(sorted(places))
        reports = optim.get(runnable, learning_rate=0.01).report is not None
        evaluates = "reported weights" if reports else "params"
        rows.append(
            f"| [`{name}({_arguments(factory)})`](#{path}) | {entry.family} | {needs} | "
            f"{applies} | {evaluates} | {summary} |"
        )
        blocks.append(f"::: {path}\n    options:\n      heading_level: 3\n")
    return "\n".join(rows) + "\n\n" + "\n".join(blocks)


def modules_section() -> str:
    rows = ["| module | lines | what it is |", "| --- | ---: | --- |"]
    for path in sorted(SOURCE.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        docstring = ast.get_docstring(ast.parse(text)) or ""
        first = " ".join(docstring.split("\n\n")[0].split()).replace("|", "\\|")
        name = path.relative_to(SOURCE).as_posix()
        rows.append(f"| `{name}` | {len(text.splitlines())} | {first} |")
    return "\n".join(rows)


def search_spaces_section() -> str:
    from descentlab.benchmark import search_space

    rows = ["| optimizer | hyperparameter | space | source |", "| --- | --- | --- | --- |"]
    for name, key, space, source in search_space.table():
        rows.append(f"| {name} | `{key}` | {space} | {source} |")
    return "\n".join(rows)


def default_learning_rates_section() -> str:
    from descentlab.benchmark import search_space

    rows = ["| optimizer | learning rate | source |", "| --- | ---: | --- |"]
    for name, (rate, source) in search_space.DEFAULT_LEARNING_RATES.items():
        rows.append(f"| {name} | {rate:g} | {source} |")
    return "\n".join(rows)


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    if OPTIMIZERS in markdown:
        markdown = markdown.replace(OPTIMIZERS, optimizers_section())
    if MODULES in markdown:
        markdown = markdown.replace(MODULES, modules_section())
    if SEARCH_SPACES in markdown:
        markdown = markdown.replace(SEARCH_SPACES, search_spaces_section())
    if DEFAULT_LEARNING_RATES in markdown:
        markdown = markdown.replace(DEFAULT_LEARNING_RATES, default_learning_rates_section())
    return markdown
