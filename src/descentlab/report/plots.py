"""The report's pictures: cost curves and decision boundaries, drawn with matplotlib.

matplotlib is imported inside the functions, so importing this module (and the CLI) stays
cheap. Figures are built with ``matplotlib.figure.Figure`` directly, which renders with Agg
and keeps no global pyplot state; ``*_figure`` builds a figure, ``plot_*`` writes it as a PNG.
Optimizer ``i`` of ``outcomes`` is drawn in ``color_for(i)`` in every picture.
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, BinaryIO, cast

import numpy as np

from descentlab.atomic import write_atomic
from descentlab.datasets import Dataset
from descentlab.experiment import RunOutcome
from descentlab.history import History
from descentlab.nn import Network, predict_classes
from descentlab.report.envelope import bin_extremes
from descentlab.report.html import format_accuracy

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

TAB10 = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
"""matplotlib's tab10 cycle, spelled out so choosing a colour does not import matplotlib."""

LINESTYLES = ("-", "--", ":", "-.")
DPI = 110
COST_FIGSIZE = (9.0, 5.0)
PANEL_WIDTH = 4.0
"""Inches per decision-boundary panel."""
LEGEND_INSIDE_MAX_ENTRIES = 6
"""A curve plot's legend of at most this many entries (about 1.5 in tall) lies inside its axes
(at least 2.4 in tall in every picture ``finish_axes`` finishes), so the constrained layout
leaves it out; a longer one may pass the axes' edges and stays in the layout."""
MINIBATCH_MAX_POINTS = 4000
"""Above this many mini-batch costs, the faint curve is drawn from per-bin extremes."""
MIN_PANEL_ASPECT, MAX_PANEL_ASPECT = 0.5, 1.25
"""Height / width of a decision-boundary panel's view beyond which the scales are not equal."""
GRID_STEP = 0.01
GRID_MAX_POINTS_PER_AXIS = 600
VIEW_LIMIT = float(np.finfo(np.float64).max) / 4
"""The largest magnitude of a decision-boundary view's limits (about 4.5e307): a view's span,
at most twice this plus padding, stays a finite float64."""
PLOT_UNIT_ABOVE = 1e100
"""A decision-boundary axis whose limits pass this magnitude is drawn in units of a power of
ten (matplotlib's arithmetic on coordinates near float64's limit overflows)."""
COURSE_MOONS_VIEW = ((-1.5, 2.5), (-1.0, 1.5))
"""The course's ``plot_decision_boundary`` view of the moons data: (x limits, y limits)."""


def plot_text(text: str) -> str:
    """``text`` as a picture writes it: each character the plot font (matplotlib's default,
    DejaVu Sans) has no glyph for, and each control character, as its escape (``\\u82f9``,
    ``\\U0001f34a``, ``\\n``), and ``$`` as ``\\$`` so that no label is read as mathtext.
    Without this matplotlib warns "Glyph ... missing" and draws a box. Only the pictures
    change: results.json, predictions and report.html keep the exact text."""
    glyphs = _plot_font_characters()
    pieces = []
    for character in text:
        if character == "$":
            pieces.append("\\$")
        elif ord(character) in glyphs and character.isprintable():
            pieces.append(character)
        else:
            pieces.append(character.encode("unicode_escape").decode("ascii"))
    return "".join(pieces)


@functools.cache
def _plot_font_characters() -> frozenset[int]:
    """The code points the plot font has glyphs for."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    return frozenset(FT2Font(font_manager.findfont(font_manager.FontProperties())).get_charmap())


def color_for(index: int) -> str:
    """The colour of the ``index``-th optimizer of a comparison (tab10, cycling after 10)."""
    return TAB10[index % len(TAB10)]


MARKERS = ("o", "s", "^", "D")


def line_style_for(index: int) -> str:
    """The line style of the ``index``-th optimizer: solid for the first 10 (``color_for``'s
    cycle), dashed for the next 10, then dotted, then dash-dotted: no two of 40 lines look
    alike."""
    return LINESTYLES[(index // len(TAB10)) % len(LINESTYLES)]


def marker_for(index: int) -> str:
    """The scatter marker of the ``index``-th optimizer, as ``line_style_for``: circles for
    the first 10, squares for the next 10, then triangles, then diamonds."""
    return MARKERS[(index // len(TAB10)) % len(MARKERS)]


def make_headroom(ax: Axes, share: float = 0.12) -> None:
    """Raise the top of ``ax``'s y axis by ``share`` of its span (of its decades on a log
    axis), so marks drawn at the top (diverged runs) sit above every point and line."""
    bottom, top = ax.get_ylim()
    if ax.get_yscale() == "log":
        ax.set_ylim(bottom, top * (top / bottom) ** share)
    else:
        ax.set_ylim(bottom, top + share * (top - bottom))


def write_png(file: IO[bytes], fig: Figure, dpi: int = DPI) -> None:
    """Write ``fig`` to the binary ``file`` as a PNG: the bytes ``fig.savefig(file,
    format="png", dpi=dpi)`` writes. At the figure's own dpi it is drawn once on an Agg
    canvas and that canvas saved; otherwise through ``savefig``. The figure keeps its own
    canvas (an interactive one stays interactive), as with ``savefig``."""
    if fig.dpi != dpi:
        fig.savefig(file, format="png", dpi=dpi)
        return
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.image import imsave

    # savefig draws a figure with a layout engine twice (once to lay it out, once to render);
    # one draw lays it out and renders the same pixels.
    own = fig.canvas
    canvas = FigureCanvasAgg(fig)
    try:
        canvas.draw()  # type: ignore[no-untyped-call]
        pixels = canvas.buffer_rgba()  # type: ignore[no-untyped-call]
        imsave(cast(BinaryIO, file), pixels, format="png", origin="upper", dpi=dpi)
    finally:
        fig.set_canvas(own)


def figure_png_bytes(fig: Figure, dpi: int = DPI) -> bytes:
    """``fig`` rendered as PNG bytes (``write_png``)."""
    buffer = io.BytesIO()
    write_png(buffer, fig, dpi)
    return buffer.getvalue()


def save_png(path: Path, fig: Figure, dpi: int = DPI) -> None:
    """Write ``fig`` to ``path`` as a PNG (``write_png``), atomically: on any error the old
    file stays."""
    try:
        write_atomic(Path(path), lambda f: write_png(f, fig, dpi))
    finally:
        fig.clear()


def minibatch_trace(
    history: History, max_points: int = MINIBATCH_MAX_POINTS
) -> tuple[np.ndarray, np.ndarray]:
    """The mini-batch cost curve as (x, cost), x = k / batches_per_epoch, for drawing.

    Up to ``max_points`` costs come back unchanged. Longer runs are cut into
    ``max_points // 2`` bins of consecutive mini-batches and each bin gives its lowest and
    highest cost, in the order they occurred: a line through them covers exactly the band a
    line through every point covers at screen resolution (every peak and trough is kept), at a
    fraction of the drawing time.
    """
    costs = np.asarray(history.minibatch_costs, dtype=np.float64)
    x = np.arange(costs.size) / history.batches_per_epoch
    if costs.size <= max_points:
        return x, costs
    n_bins = max(1, max_points // 2)
    edges = np.linspace(0, costs.size, n_bins + 1).astype(np.intp)
    bins = np.searchsorted(edges, np.arange(costs.size), side="right") - 1
    return bin_extremes(x, costs, bins)


def cost_curves_figure(outcomes: Sequence[RunOutcome]) -> Figure:
    """One axes: each optimizer's epoch cost as a solid line (x = epoch) over its mini-batch
    cost drawn thin and faint in the same colour (x = k / batches_per_epoch), so the
    mini-batch oscillation shows behind the trend. The legend names optimizer and cost shape."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=COST_FIGSIZE, dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    for index, outcome in enumerate(outcomes):
        color = color_for(index)
        history = outcome.result.history
        x, minibatch = minibatch_trace(history)
        ax.plot(x, minibatch, color=color, linewidth=0.6, alpha=0.25, zorder=1)
        ax.plot(
            np.arange(history.epochs),
            history.epoch_costs,
            color=color,
            linewidth=2.0,
            zorder=2,
            label=f"{outcome.optimizer.name} ({_shape_label(outcome)})",
        )
        if outcome.validation_costs is not None:
            ax.plot(
                np.arange(outcome.validation_costs.size), outcome.validation_costs,
                color=color, linewidth=1.4, linestyle="--", zorder=3,
                label=f"{outcome.optimizer.name} validation",
            )  # fmt: skip
    diverged = [o for o in outcomes if o.result.diverged_epoch is not None]
    healthy = [o for o in outcomes if o.result.diverged_epoch is None]
    top = None
    if diverged and healthy:
        # Keep the readable runs readable: a diverged run's cost would set the scale. Only
        # finite costs count (a run can start at an infinite cost without being called
        # diverged), and the top stays a finite float64 with its margin.
        finite = [
            costs[np.isfinite(costs)]
            for costs in (np.asarray(o.result.history.minibatch_costs) for o in healthy)
        ]
        highest = max((float(c.max()) for c in finite if c.size), default=None)
        if highest is not None and highest > 0:
            top = min(highest, float(np.finfo(np.float64).max) / 1.1)
            ax.set_ylim(0, 1.1 * top)
    for outcome in diverged:  # an x where the run stopped (on the upper edge when clipped)
        epoch = int(outcome.result.diverged_epoch)  # type: ignore[arg-type]
        cost = outcome.result.history.epoch_costs[epoch]
        height = 1.08 * top if top is not None else cost
        ax.plot(
            [epoch], [height], marker="x", markersize=10, linestyle="none",
            color=color_for(outcomes.index(outcome)),
            label=f"{outcome.optimizer.name} diverged at epoch {epoch}",
        )  # fmt: skip
    ax.set_title("Training cost: per epoch (solid) and per mini-batch (faint)")
    finish_axes(ax, "epoch", "cost (cross-entropy)", legend=bool(outcomes))
    return fig


def finish_axes(ax: Axes, xlabel: str, ylabel: str, *, legend: bool) -> None:
    """The axis labels, x from 0, a light grid behind the curves and, if ``legend``, the
    legend at matplotlib's "best" place (left out of the layout when it has at most
    ``LEGEND_INSIDE_MAX_ENTRIES`` entries): the finish of every curve plot."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_xlim(left=0)
    ax.grid(True, color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    if legend:
        box = ax.legend(loc="best", frameon=True, framealpha=0.9)
        # A legend that surely fits inside the axes changes nothing in the constrained layout,
        # yet each layout pass would search its best place again (a count of every curve's
        # points under each candidate place): the layout leaves it out.
        box.set_in_layout(len(box.get_texts()) > LEGEND_INSIDE_MAX_ENTRIES)


def plot_cost_curves(path: Path, outcomes: Sequence[RunOutcome]) -> None:
    """Write ``cost_curves_figure(outcomes)`` to ``path`` as a PNG (atomically)."""
    save_png(path, cost_curves_figure(outcomes))


def learning_rates_figure(outcomes: Sequence[RunOutcome]) -> Figure:
    """One axes: the learning rate each optimizer's updates used, epoch by epoch (log scale
    when the rates span more than a factor of 10)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(COST_FIGSIZE[0], 3.2), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    for index, outcome in enumerate(outcomes):
        rates = outcome.learning_rates
        # Dashes keep optimizers that share a rate visible on top of each other.
        ax.plot(
            np.arange(rates.size), rates, color=color_for(index), linewidth=1.8,
            linestyle=LINESTYLES[index % len(LINESTYLES)], label=outcome.optimizer.name,
        )  # fmt: skip
    _finish_rate_axes(ax, [outcome.learning_rates for outcome in outcomes], "epoch")
    ax.set_title("Learning rate per epoch")
    return fig


def plot_learning_rates(path: Path, outcomes: Sequence[RunOutcome]) -> None:
    """Write ``learning_rates_figure(outcomes)`` to ``path`` as a PNG (atomically)."""
    save_png(path, learning_rates_figure(outcomes))


def schedule_figure(rates: Mapping[str, np.ndarray], unit: str) -> Figure:
    """One axes: each named schedule's rate against t = 0, 1, ... in ``unit``s."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.0, 3.6), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    for index, (label, values) in enumerate(rates.items()):
        ax.plot(np.arange(values.size), values, color=color_for(index), linewidth=1.8, label=label)
    _finish_rate_axes(ax, list(rates.values()), unit)
    ax.set_title("Learning-rate schedule")
    return fig


def plot_schedule(path: Path, rates: Mapping[str, np.ndarray], unit: str) -> None:
    """Write ``schedule_figure(rates, unit)`` to ``path`` as a PNG (atomically)."""
    save_png(path, schedule_figure(rates, unit))


def _finish_rate_axes(ax: Axes, series: Sequence[np.ndarray], unit: str) -> None:
    values = np.concatenate([np.asarray(s, dtype=float) for s in series]) if series else np.ones(1)
    positive = values[values > 0]
    if positive.size and positive.max() > 10 * positive.min():
        ax.set_yscale("log")
    finish_axes(ax, unit, "learning rate", legend=bool(series))


def boundary_view(dataset: Dataset) -> tuple[tuple[float, float], tuple[float, float]]:
    """(x limits, y limits) of the decision-boundary panels: the course's view for "moons",
    otherwise the range of the first two features padded on every side (``axis_view``).

    The one rule of the view, for decision_boundaries.png and the playground's maps alike:
    its limits stay within +-``VIEW_LIMIT``, so its span, a grid over it and its aspect are
    finite numbers whatever finite features the data holds (the points beyond it are left
    out of the picture, which says how many)."""
    if dataset.name == "moons":
        return COURSE_MOONS_VIEW
    return axis_view(dataset.X[0]), axis_view(dataset.X[1])


def axis_view(values: np.ndarray) -> tuple[float, float]:
    """(low, high) of one axis of the view: the values' range, each end first clipped to
    +-``VIEW_LIMIT`` and then padded outwards by 0.5, or by 2**-40 of its magnitude where 0.5
    would be lost to rounding (above about 5e11), so that low < high even for one value."""
    low = min(max(float(np.min(values)), -VIEW_LIMIT), VIEW_LIMIT)
    high = min(max(float(np.max(values)), -VIEW_LIMIT), VIEW_LIMIT)
    return low - _view_padding(low), high + _view_padding(high)


def _view_padding(end: float) -> float:
    return max(0.5, abs(end) * 2.0**-40)


def decision_grid(
    network: Network,
    params: np.ndarray,
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    step: float = GRID_STEP,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(xx, yy, classes)`` over a grid of spacing ``step`` covering the view (coarser if
    a side would pass ``GRID_MAX_POINTS_PER_AXIS`` points); ``classes`` is 1 where the
    network's probability is > 0.5, as the course predicts (the most probable class with a
    softmax output). One forward pass over the whole grid; a grid point the network cannot
    take without overflow (features near float64's limit) gets the class its non-finite
    output gives, as every prediction does. Raises ``ValueError`` for limits whose span is
    not a finite float64 (``boundary_view``'s never are)."""
    axes = []
    for low, high in (xlim, ylim):
        with np.errstate(over="ignore", invalid="ignore"):
            span = np.float64(high) - np.float64(low)
        if not (np.isfinite(low) and np.isfinite(high) and np.isfinite(span) and span >= 0):
            raise ValueError(
                f"a decision grid needs finite limits low <= high whose span is finite, got "
                f"({low!r}, {high!r})"
            )
        intervals = float(span) / step
        count = (
            math.ceil(intervals) + 1
            if intervals <= GRID_MAX_POINTS_PER_AXIS - 1
            else GRID_MAX_POINTS_PER_AXIS
        )
        axes.append(np.linspace(low, high, max(count, 2)))
    xx, yy = np.meshgrid(*axes)
    points = np.vstack([xx.ravel(), yy.ravel()])
    with np.errstate(over="ignore", invalid="ignore", under="ignore", divide="ignore"):
        classes = predict_classes(network, params, points)
    return xx, yy, classes.astype(np.float64).reshape(xx.shape)


def decision_boundaries_figure(
    network: Network, outcomes: Sequence[RunOutcome], dataset: Dataset
) -> Figure:
    """One panel per optimizer, side by side: the predicted class over the view (filled,
    Spectral colours) with the training points on top coloured by their label. Each panel is
    titled with the optimizer's name (in its colour) and its training accuracy."""
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    if dataset.n_features != 2:
        raise ValueError(
            f"decision boundaries need 2 features, dataset {dataset.name!r} has "
            f"{dataset.n_features}"
        )
    xlim, ylim = boundary_view(dataset)
    n_panels = max(len(outcomes), 1)
    aspect = (ylim[1] - ylim[0]) / (xlim[1] - xlim[0])
    # Equal scales on both axes, unless the view is so long or tall that the panel would be
    # a sliver; then the panel takes the nearest reasonable shape.
    equal_scales = MIN_PANEL_ASPECT <= aspect <= MAX_PANEL_ASPECT
    aspect = min(max(aspect, MIN_PANEL_ASPECT), MAX_PANEL_ASPECT)
    # The drawing area of a panel is about 0.85 of its width; titles and labels take ~1 in.
    height = 0.85 * PANEL_WIDTH * aspect + 1.0
    # A little space between panels keeps neighbouring tick labels (2.5 | -1.5) apart.
    layout = ConstrainedLayoutEngine(wspace=0.06)
    fig = Figure(figsize=(PANEL_WIDTH * n_panels, height), dpi=DPI, layout=layout)
    if not outcomes:
        return fig
    axes = fig.subplots(1, len(outcomes), sharex=True, sharey=True, squeeze=False)[0]
    # matplotlib's own arithmetic overflows near float64's limit: such an axis is drawn in
    # units of a power of ten, named in its label.
    x_exponent, y_exponent = _plot_exponent(xlim), _plot_exponent(ylim)
    x_unit, y_unit = 10.0**x_exponent, 10.0**y_exponent
    inside = (
        (dataset.X[0] >= xlim[0]) & (dataset.X[0] <= xlim[1])
        & (dataset.X[1] >= ylim[0]) & (dataset.X[1] <= ylim[1])
    )  # fmt: skip
    labels = dataset.labels[inside]
    top = max(dataset.n_classes - 1, 1)
    for index, (ax, outcome) in enumerate(zip(axes, outcomes, strict=True)):
        xx, yy, classes = decision_grid(network, outcome.result.params, xlim, ylim)
        _fill_classes(ax, xx / x_unit, yy / y_unit, classes, dataset.n_classes)
        ax.scatter(
            dataset.X[0][inside] / x_unit,
            dataset.X[1][inside] / y_unit,
            c=labels,
            cmap="Spectral",
            vmin=0.0,
            vmax=top,
            s=14,
            edgecolors="black",
            linewidths=0.4,
        )
        ax.set_xlim(xlim[0] / x_unit, xlim[1] / x_unit)
        ax.set_ylim(ylim[0] / y_unit, ylim[1] / y_unit)
        if equal_scales:
            ax.set_aspect(y_unit / x_unit)  # 1.0, "equal", unless the units differ
        ax.set_title(
            f"{outcome.optimizer.name}\n"
            f"train accuracy {format_accuracy(outcome.train_correct, outcome.n_examples)}",
            color=color_for(index),
            fontsize=11,
        )
        ax.set_xlabel(_axis_label(1, x_exponent))
    axes[0].set_ylabel(_axis_label(2, y_exponent))
    outside = int(inside.size - np.count_nonzero(inside))
    if outside:
        fig.suptitle(
            f"{outside} of {inside.size} points lie beyond the view's limit "
            f"±{VIEW_LIMIT:.3g} and are not drawn",
            fontsize=9,
        )
    return fig


def _plot_exponent(limits: tuple[float, float]) -> int:
    """0, or for an axis whose limits pass ``PLOT_UNIT_ABOVE`` the power of ten it is drawn
    in units of."""
    largest = max(abs(limits[0]), abs(limits[1]))
    return 0 if largest <= PLOT_UNIT_ABOVE else math.floor(math.log10(largest))


def _axis_label(feature: int, exponent: int) -> str:
    return f"$x_{feature}$" if exponent == 0 else f"$x_{feature}$ ($\\times 10^{{{exponent}}}$)"


def confusion_matrices_figure(outcomes: Sequence[RunOutcome], classes: Sequence[object]) -> Figure:
    """A grid of confusion matrices: one row per optimizer, one column per split (train,
    validation, test), counts written in each cell; rows are true classes, columns predicted."""
    from matplotlib.figure import Figure

    splits = [
        name
        for name in ("train", "validation", "test")
        if outcomes and name in outcomes[0].confusion
    ]
    n_rows, n_cols = max(len(outcomes), 1), max(len(splits), 1)
    size = 1.2 + 0.45 * len(classes)
    fig = Figure(figsize=(size * n_cols + 0.5, size * n_rows + 0.3), dpi=DPI, layout="constrained")
    if not outcomes:
        return fig
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    names = [plot_text(str(c)) for c in classes]
    for row, outcome in enumerate(outcomes):
        for col, split_name in enumerate(splits):
            ax = axes[row][col]
            matrix = outcome.confusion[split_name]
            ax.imshow(matrix, cmap="Blues", vmin=0, vmax=max(int(matrix.max()), 1))
            for (true, predicted), count in np.ndenumerate(matrix):
                dark = count > 0.6 * matrix.max()
                ax.text(predicted, true, str(count), ha="center", va="center", fontsize=8,
                        color="white" if dark else "black")  # fmt: skip
            ax.set_xticks(
                range(len(names)), names, fontsize=7, rotation=45 if len(names) > 4 else 0
            )
            ax.set_yticks(range(len(names)), names, fontsize=7)
            accuracy = outcome.accuracies.get(split_name, float("nan"))
            ax.set_title(f"{outcome.optimizer.name}, {split_name}: {100 * accuracy:.1f}%",
                         fontsize=9, color=color_for(row))  # fmt: skip
            if col == 0:
                ax.set_ylabel("true class", fontsize=8)
            ax.set_xlabel("predicted class", fontsize=8)
    return fig


def plot_confusion_matrices(
    path: Path, outcomes: Sequence[RunOutcome], classes: Sequence[object]
) -> None:
    """Write ``confusion_matrices_figure(outcomes, classes)`` to ``path`` as a PNG."""
    save_png(path, confusion_matrices_figure(outcomes, classes))


def plot_decision_boundaries(
    path: Path, network: Network, outcomes: Sequence[RunOutcome], dataset: Dataset
) -> None:
    """Write ``decision_boundaries_figure(network, outcomes, dataset)`` to ``path`` as a PNG."""
    save_png(path, decision_boundaries_figure(network, outcomes, dataset))


def _fill_classes(
    ax: Axes, xx: np.ndarray, yy: np.ndarray, classes: np.ndarray, n_classes: int = 2
) -> None:
    """Fill each predicted class with a light tint of its Spectral colour (the two end
    colours for two classes, evenly spaced ones for more)."""
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap

    spectral = colormaps["Spectral"]
    positions = np.linspace(0.0, 1.0, max(n_classes, 2))
    tints = ListedColormap([_lighten(spectral(float(p))) for p in positions])
    levels = np.arange(max(n_classes, 2) + 1) - 0.5
    ax.contourf(xx, yy, classes, levels=levels, cmap=tints)
    if classes.min() != classes.max():  # draw the boundary lines only where there are some
        ax.contour(xx, yy, classes, levels=levels[1:-1], colors="#444444", linewidths=0.8)


def _lighten(rgba: tuple[float, float, float, float], amount: float = 0.7) -> tuple[float, ...]:
    """Mix a colour with white: 0 keeps it, 1 gives white."""
    return tuple(channel + (1.0 - channel) * amount for channel in rgba[:3])


def _shape_label(outcome: RunOutcome) -> str:
    if np.isfinite(outcome.oscillation):
        return f"{outcome.cost_shape}, index {outcome.oscillation:.3f}"
    return outcome.cost_shape
