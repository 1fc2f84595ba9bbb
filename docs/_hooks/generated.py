"""An MkDocs hook: the parts of pages that are read from the code when the site is built.

- ``<!-- optimizers -->`` (docs/optimizers.md) becomes a summary table (each optimizer's
  signature and the first line of its docstring) and one mkdocstrings block per optimizer, in
  the order ``descentlab.optim.names()`` gives, then the wrappers (``wrapper_names()``): adding
  an optimizer adds it to the page, and editing a docstring edits the page.
- ``<!-- modules -->`` (docs/architecture.md) becomes the table of every module under
  src/descentlab/ with its length and the first line of its docstring, so the map of the house
  lists the modules that exist.

Nothing is downloaded and nothing is written to docs/.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

OPTIMIZERS = "<!-- optimizers -->"
MODULES = "<!-- modules -->"
SOURCE = Path(__file__).resolve().parents[2] / "src" / "descentlab"


def _arguments(function: Any) -> str:
    """``learning_rate, beta=0.9``: the parameters and defaults, without the annotations."""
    return ", ".join(
        name if p.default is inspect.Parameter.empty else f"{name}={p.default!r}"
        for name, p in inspect.signature(function).parameters.items()
    )


def optimizers_section() -> str:
    from descentlab import optim

    spec = getattr(optim, "spec", None)  # the registry: name -> factory, family, ...
    rows = ["| optimizer | family | the rule in one line |", "| --- | --- | --- |"]
    blocks = []
    wrappers = getattr(optim, "wrapper_names", list)()
    for name in optim.names() + wrappers:
        factory = spec(name).factory if spec else getattr(optim, name)
        family = spec(name).family if spec else ""
        path = f"{factory.__module__}.{factory.__qualname__}"
        summary = (inspect.getdoc(factory) or "").splitlines()[0].replace("|", "\\|")
        rows.append(f"| [`{name}({_arguments(factory)})`](#{path}) | {family} | {summary} |")
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


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    if OPTIMIZERS in markdown:
        markdown = markdown.replace(OPTIMIZERS, optimizers_section())
    if MODULES in markdown:
        markdown = markdown.replace(MODULES, modules_section())
    return markdown
