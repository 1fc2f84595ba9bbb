"""A griffe extension: descentlab's plain-text docstrings, shown as they read in the source.

descentlab's docstrings write update rules as aligned lines of plain text
(``m = beta1 m + (1 - beta1) g;   s = ...``). Read as Markdown, those lines would run together
into one paragraph and a pair of ``*`` would turn into emphasis. So before mkdocstrings renders a
docstring, this extension puts every paragraph that is laid out with runs of spaces into a code
block, starts a list where a paragraph breaks into ``- `` items, and escapes ``<`` in prose (a
name such as ``pixel_<row>_<column>`` is not an HTML tag). Numpy-style sections (a title
underlined with dashes, as in ``descentlab.sklearn``) and everything after them are left to
mkdocstrings' numpy parser. The docstrings themselves stay the one source; nothing is copied.
"""

from __future__ import annotations

import re
from typing import Any

from griffe import Extension, Object

_ALIGNED = re.compile(r"\S {2,}\S")
_SECTION_UNDERLINE = re.compile(r"^\s*-{3,}\s*$")
_CODE_SPAN = re.compile(r"(``.+?``|`[^`]+`)")


def _is_aligned(line: str) -> bool:
    """A line laid out with runs of spaces between words: a formula or a small table."""
    return bool(_ALIGNED.search(line.strip()))


def _escape_prose(line: str) -> str:
    """``<`` outside code spans becomes ``&lt;``."""
    parts = _CODE_SPAN.split(line)
    return "".join(
        part if index % 2 else part.replace("<", "&lt;") for index, part in enumerate(parts)
    )


def _paragraph(lines: list[str]) -> list[str]:
    if any(_is_aligned(line) for line in lines):
        body = [line.replace("``", "") for line in lines]
        return ["```text", *body, "```"]
    out: list[str] = []
    for line in lines:
        if line.startswith("- ") and out and not out[-1].startswith(("- ", "  ")):
            out.append("")  # Markdown starts a list only after a blank line
        out.append(_escape_prose(line))
    return out


def to_markdown(docstring: str) -> str:
    """The docstring with its plain-text layout kept under Markdown rendering."""
    lines = docstring.splitlines()
    cut = next(
        (
            i - 1
            for i in range(1, len(lines))
            if _SECTION_UNDERLINE.match(lines[i]) and lines[i - 1].strip()
        ),
        len(lines),
    )
    head, tail = lines[:cut], lines[cut:]
    out: list[str] = []
    paragraph: list[str] = []
    for line in [*head, ""]:
        if line.strip():
            paragraph.append(line)
            continue
        if paragraph:
            out.extend(_paragraph(paragraph))
            paragraph = []
        out.append("")
    return "\n".join([*out[:-1], *tail]).strip("\n")


class PlainDocstrings(Extension):
    """Rewrites each object's docstring with ``to_markdown`` once the tree is loaded."""

    def __init__(self) -> None:
        super().__init__()
        self._done: set[int] = set()  # an object reached twice (through an alias) is done once

    def on_object(self, *, obj: Object, **kwargs: Any) -> None:
        docstring = obj.docstring
        if docstring is not None and id(docstring) not in self._done:
            self._done.add(id(docstring))
            docstring.value = to_markdown(docstring.value)
