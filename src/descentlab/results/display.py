"""What the results objects share: a table as text and HTML, the check of a picture's name,
pandas imported on demand, figures Jupyter can show."""

from __future__ import annotations

import importlib
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Record = dict[str, Any]
"""One row of ``to_pandas``: column name -> value."""


@dataclass(frozen=True)
class Table:
    """A table of text cells, for ``__repr__`` (aligned columns) and ``_repr_html_``."""

    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    numeric: Sequence[int] = ()
    """The columns aligned right."""

    def text(self) -> str:
        from descentlab.report.tables import aligned

        return aligned([self.header, *self.rows], right=frozenset(self.numeric))

    def html(self, caption: str) -> str:
        def cells(tag: str, row: Sequence[str]) -> str:
            return "".join(
                f'<{tag} style="text-align: {"right" if i in self.numeric else "left"}">'
                f"{escape(cell)}</{tag}>"
                for i, cell in enumerate(row)
            )

        lines = [
            "<table>",
            f'<caption style="text-align: left">{escape(caption)}</caption>',
            f"<thead><tr>{cells('th', self.header)}</tr></thead>",
            "<tbody>",
            *(f"<tr>{cells('td', row)}</tr>" for row in self.rows),
            "</tbody>",
            "</table>",
        ]
        return "\n".join(lines)


def number(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}" if math.isfinite(value) else str(value)


def check_kind(kind: str, pictures: Sequence[str]) -> None:
    if kind not in pictures:
        raise ValueError(f"unknown picture {kind!r}; choose from: {', '.join(pictures)}")


def pandas_module() -> Any:
    """The pandas module; an ImportError of one line when it is not installed."""
    try:
        return importlib.import_module("pandas")
    except ImportError:
        raise ImportError(
            "to_pandas and history_frame need pandas, which is not installed: pip install pandas"
        ) from None


def shown(figure: Figure) -> Figure:
    """``figure``, displayable in Jupyter: descentlab draws on ``Figure`` objects without
    pyplot, so IPython is told (once, unless it already knows how) to show them as PNG."""
    ipython = sys.modules.get("IPython")
    shell = None if ipython is None else ipython.get_ipython()
    if shell is not None:
        from descentlab.report.plots import figure_png_bytes

        png = shell.display_formatter.formatters["image/png"]
        try:
            png.lookup_by_type(type(figure))
        except KeyError:
            png.for_type(type(figure), figure_png_bytes)
    return figure
