"""The numbers of report.html's interactive charts, and the code that draws them.

report.html draws its cost curves (and learning rates, with a schedule) with the playground's
own chart component, ``web/static/charts.js`` on the vendored uPlot, which ``report.html``
inlines from the package so the page stays one file that works offline. A chart is a
``ChartSpec``: the ``costChart`` options and the ``setData`` argument of charts.js, as JSON.
Each chart is keyed by the caption of the picture it makes interactive, as ``render_html``'s
images are; the picture stays in the page for readers without JavaScript.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from descentlab.experiment import RunOutcome
from descentlab.report.plots import minibatch_trace

COST_CAPTION = "Cost per epoch and per mini-batch"
"""The caption of cost_curves.png in report.html, and of the chart drawn over it."""
LEARNING_RATE_CAPTION = "Learning rate per epoch"
"""The caption of learning_rates.png in report.html, and of the chart drawn over it."""
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
"""charts.js's ``DescentCharts.PALETTE`` (Okabe & Ito, colour-blind safe): optimizer ``i`` is
drawn in ``PALETTE[i % 7]``."""
VALIDATION_DASH = (6, 4)
"""A validation cost is drawn dashed (6 px on, 4 off) in its optimizer's colour."""
RATE_DASHES: tuple[tuple[int, ...], ...] = ((), (8, 4), (2, 3), (8, 3, 2, 3))
"""Optimizer ``i``'s learning rate is drawn with ``RATE_DASHES[i % 4]`` (solid, dashed,
dotted, dash-dot, as learning_rates.png), so optimizers that share a rate all show."""
CHART_HEIGHT = 360

ChartSpec = dict[str, Any]
"""``{"options": costChart options, "data": setData argument}``: JSON-ready, no NaN."""


def finite_list(values: Sequence[float] | np.ndarray) -> list[float | None]:
    """``values`` as JSON-ready floats, None where not finite (charts.js leaves a gap)."""
    return [float(v) if math.isfinite(v) else None for v in np.asarray(values, dtype=np.float64)]


def cost_chart(outcomes: Sequence[RunOutcome]) -> ChartSpec:
    """What cost_curves.png shows, for charts.js: per optimizer its epoch costs (epoch cost
    ``e`` at x = e + 1, the epochs done), its mini-batch costs at x = k / batches_per_epoch,
    thinned exactly as cost_curves.png thins them (``plots.minibatch_trace``), and its
    validation cost per epoch (a dashed series "<name> validation") when it has one."""
    series: list[dict[str, Any]] = []
    data: dict[str, Any] = {}
    for index, outcome in enumerate(outcomes):
        name = outcome.optimizer.name
        colour = PALETTE[index % len(PALETTE)]
        history = outcome.result.history
        x, minibatch = minibatch_trace(history)
        series.append({"name": name, "colour": colour})
        data[name] = {
            "costs": finite_list(history.epoch_costs),
            "minibatch": {"x": [float(v) for v in x], "costs": finite_list(minibatch)},
        }
        if outcome.validation_costs is not None:
            validation = f"{name} validation"
            series.append({"name": validation, "colour": colour, "dash": list(VALIDATION_DASH)})
            data[validation] = {"costs": finite_list(outcome.validation_costs)}
    options = {
        "series": series,
        "title": "Training cost: per epoch (solid) and per mini-batch (faint)",
        "xLabel": "epoch",
        "yLabel": "cost (cross-entropy)",
        "logY": False,
        "height": CHART_HEIGHT,
    }
    return {"options": options, "data": data}


def learning_rate_chart(outcomes: Sequence[RunOutcome]) -> ChartSpec:
    """What learning_rates.png shows, for charts.js: the learning rate of each optimizer's
    updates per epoch (epoch ``e`` at x = e + 1), each in its colour and dash
    (``RATE_DASHES``), on a log scale when the positive rates span more than a factor of 10,
    as in the picture."""
    rates = [np.asarray(o.learning_rates, dtype=np.float64) for o in outcomes]
    values = np.concatenate(rates) if rates else np.ones(1)
    positive = values[values > 0]
    options = {
        "series": [_rate_series(i, o.optimizer.name) for i, o in enumerate(outcomes)],
        "title": "Learning rate per epoch",
        "xLabel": "epoch",
        "yLabel": "learning rate",
        "logY": bool(positive.size and positive.max() > 10 * positive.min()),
        "height": CHART_HEIGHT // 2 + 60,
    }
    data = {
        o.optimizer.name: {"costs": finite_list(r)} for o, r in zip(outcomes, rates, strict=True)
    }
    return {"options": options, "data": data}


def _rate_series(index: int, name: str) -> dict[str, Any]:
    series: dict[str, Any] = {"name": name, "colour": PALETTE[index % len(PALETTE)]}
    dash = RATE_DASHES[index % len(RATE_DASHES)]
    if dash:
        series["dash"] = list(dash)
    return series


def report_charts(outcomes: Sequence[RunOutcome], *, learning_rates: bool) -> dict[str, ChartSpec]:
    """The interactive charts of a compare/train report, keyed by the caption of the picture
    each one draws over: the cost curves, and the learning rates when ``learning_rates`` (the
    report has learning_rates.png, i.e. the schedule is not constant)."""
    charts = {COST_CAPTION: cost_chart(outcomes)}
    if learning_rates:
        charts[LEARNING_RATE_CAPTION] = learning_rate_chart(outcomes)
    return charts
