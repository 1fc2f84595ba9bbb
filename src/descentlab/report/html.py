"""The report as one self-contained HTML page: results table, pictures, exact configuration.

Standard library only. Every string from the results goes through ``html.escape``; pictures
are embedded as base64 ``data:image/png`` URIs, so the page needs no other file. Interactive
charts (``descentlab.report.charts``) draw over their pictures with the playground's
charts.js and uPlot, inlined from the package's static folder, their numbers embedded as JSON;
without JavaScript the pictures show instead.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

from descentlab.metrics import OSCILLATION_THRESHOLD

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHART_STYLE_FILE = "vendor/uplot/uPlot.min.css"
CHART_SCRIPT_FILES = ("vendor/uplot/uPlot.iife.min.js", "charts.js")
"""Files of ``descentlab.web``'s static folder that a page with charts inlines, in order."""
CHART_DATA_ID = "report-charts"
CHART_HINT = "Drag across the chart to zoom, double-click to zoom out; click a name to hide it."
DRAW_CHARTS = """
(function () {
  var specs = JSON.parse(document.getElementById("report-charts").textContent);
  document.querySelectorAll("figure[data-chart]").forEach(function (figure) {
    var spec = specs[Number(figure.dataset.chart)];
    var holder = figure.querySelector(".chart");
    var picture = figure.querySelector("img");
    holder.hidden = false;
    try {
      var chart = DescentCharts.costChart(holder, spec.options);
      chart.setData(spec.data);
      if (picture) picture.hidden = true;
      figure.querySelector(".hint").hidden = false;
      figure.chart = chart;
    } catch (error) {
      holder.hidden = true;
      throw error;
    }
  });
})();
"""
"""Draws each ``figure[data-chart]`` with charts.js, hides its picture and shows how to use the
chart; on any error the picture stays."""
MISSING = "—"
"""Shown where a number is null or not finite."""

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       color: #222; background: #fff; max-width: 62rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
.meta { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { padding: 0.3rem 0.8rem; border-bottom: 1px solid #e4e4e4; text-align: left;
         vertical-align: top; }
th { background: #f5f5f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
       font-size: 0.92em; }
figure { margin: 1rem 0 2rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.95rem; margin-top: 0.3rem; }
figcaption .hint { color: #777; font-size: 0.85rem; }
"""


def format_accuracy(correct: int, n_examples: int) -> str:
    """Training accuracy as the report shows it, e.g. "79.7% (239/300)"."""
    if n_examples <= 0:
        return f"{MISSING} ({correct}/{n_examples})"
    return f"{100.0 * correct / n_examples:.1f}% ({correct}/{n_examples})"


def png_data_uri(path: Path) -> str:
    """The PNG at ``path`` as a ``data:image/png;base64,...`` URI."""
    data = Path(path).read_bytes()
    if not data.startswith(PNG_SIGNATURE):
        raise ValueError(f"{path} is not a PNG file")
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def render_html(
    results: Mapping[str, Any],
    images: Mapping[str, Path],
    charts: Mapping[str, Mapping[str, Any]] | None = None,
) -> str:
    """One self-contained HTML page for a results.json dict.

    Title "descentlab <command> — <dataset>", a table of the runs (accuracy, final cost,
    oscillation index and cost shape, seconds), each picture of ``images`` (caption -> PNG
    path) embedded with its caption, what the oscillation index means, and the exact
    configuration: dataset parameters, settings, and each run's hyperparameters.

    ``charts`` (caption -> ``{"options": ..., "data": ...}``, see
    ``descentlab.report.charts``) become interactive charts drawn by charts.js: a chart
    whose caption is a picture's is drawn in that picture's place (the picture stays for
    readers without JavaScript), any other comes first among the pictures. Without charts the
    page has no script at all. Reads the image and static files; writes nothing.
    """
    charts = dict(charts or {})
    dataset = results.get("dataset", {})
    dataset_name = str(dataset.get("name", "?"))
    title = f"descentlab {results.get('command', '?')} — {dataset_name}"
    runs = list(results.get("runs", []))
    meta = ", ".join(
        f"{label} {results[key]}"
        for label, key in (
            ("created", "created"),
            ("descentlab", "descentlab_version"),
            ("status", "status"),
        )
        if key in results
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{STYLE}</style>",
        *([f"<style>{_inline(CHART_STYLE_FILE, 'style')}</style>"] if charts else []),
        "</head>",
        "<body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">{escape(meta)}</p>',
        "<h2>Results</h2>",
        _results_table(runs),
        _oscillation_paragraph(),
    ]
    if images or charts:
        parts.append("<h2>Pictures</h2>")
        order = list(charts)
        for caption in [c for c in charts if c not in images]:
            parts.append(_chart_figure(caption, order.index(caption), None))
        for caption, path in images.items():
            if caption in charts:
                parts.append(_chart_figure(caption, order.index(caption), path))
            else:
                parts.append(
                    f'<figure><img src="{png_data_uri(path)}" alt="{escape(caption)}">'
                    f"<figcaption>{escape(caption)}</figcaption></figure>"
                )
    parts += [
        "<h2>Configuration</h2>",
        "<h3>Dataset</h3>",
        _settings_table(
            {"name": dataset_name, **{k: v for k, v in dataset.items() if k != "name"}}
        ),
        "<h3>Settings</h3>",
        _settings_table(results.get("config", {})),
        "<h3>Hyperparameters of each run</h3>",
        _hyperparameters_table(runs),
    ]
    if charts:
        parts += [
            f'<script type="application/json" id="{CHART_DATA_ID}">'
            f"{script_json(list(charts.values()))}</script>",
            *(f"<script>{_inline(name, 'script')}</script>" for name in CHART_SCRIPT_FILES),
            f"<script>{DRAW_CHARTS}</script>",
        ]
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"


def script_json(value: object) -> str:
    """``value`` as JSON that is safe inside a ``<script>`` element: strict JSON (NaN and
    infinities are refused) with every "<" written as the escape \\u003c, so no "</script>"
    or "<!--" can end or bend the element; ``JSON.parse`` gives ``value`` back."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).replace(
        "<", "\\u003c"
    )


def static_text(name: str) -> str:
    """The text of ``descentlab/web/static/<name>``, the file the playground serves."""
    return (resources.files("descentlab.web") / "static" / name).read_text(encoding="utf-8")


def _inline(name: str, element: str) -> str:
    """The static file ``name`` to inline in a ``<element>``; ValueError if it would end it."""
    text = static_text(name)
    if f"</{element}" in text.lower() or "<!--" in text:
        raise ValueError(f"static/{name} cannot be inlined: it holds </{element} or <!--")
    return text


def _chart_figure(caption: str, index: int, picture: Path | None) -> str:
    """A figure that charts.js draws chart ``index`` into; ``picture`` shows until it does
    (and for good without JavaScript)."""
    image = (
        "" if picture is None else f'<img src="{png_data_uri(picture)}" alt="{escape(caption)}">'
    )
    return (
        f'<figure data-chart="{index}"><div class="chart" hidden></div>{image}'
        f'<figcaption>{escape(caption)} <span class="hint" hidden>{escape(CHART_HINT)}</span>'
        "</figcaption></figure>"
    )


def _results_table(runs: list[Mapping[str, Any]]) -> str:
    held_out = [
        name for name in ("validation", "test") if any(f"{name}_accuracy" in run for run in runs)
    ]
    header = (
        "<tr><th>optimizer</th><th>train accuracy</th>"
        + "".join(f"<th>{name} accuracy</th>" for name in held_out)
        + "<th>final cost</th><th>oscillation index</th><th>seconds</th></tr>"
    )
    rows = []
    for run in runs:
        accuracy = format_accuracy(int(run["train_correct"]), int(run["n_examples"]))
        oscillation = f"{_number(run.get('oscillation'), 3)} ({run.get('cost_shape', '?')})"
        extra = "".join(
            f'<td class="num">{escape(_percent(run.get(f"{name}_accuracy")))}</td>'
            for name in held_out
        )
        rows.append(
            "<tr>"
            f"<td>{escape(str(run['optimizer']))}</td>"
            f'<td class="num">{escape(accuracy)}</td>'
            + extra
            + f'<td class="num">{escape(_number(run.get("final_cost"), 6))}</td>'
            f'<td class="num">{escape(oscillation)}</td>'
            f'<td class="num">{escape(_number(run.get("seconds"), 1))}</td>'
            "</tr>"
        )
    return "<table>\n" + "\n".join([header, *rows]) + "\n</table>"


def _oscillation_paragraph() -> str:
    return (
        "<p>The <strong>oscillation index</strong> is the mean absolute change of the "
        "mini-batch cost from one mini-batch to the next, divided by the net decrease of the "
        "epoch cost from the first epoch to the last. A run whose index is above "
        f"{OSCILLATION_THRESHOLD:g} is labelled &ldquo;oscillates&rdquo;, otherwise "
        "&ldquo;smoother&rdquo;; when the epoch cost did not decrease the index is not defined "
        "and the run is labelled &ldquo;no decrease&rdquo;.</p>"
    )


def _settings_table(settings: Mapping[str, Any]) -> str:
    rows = [
        f"<tr><th>{escape(str(key))}</th><td><code>{escape(_exact(value))}</code></td></tr>"
        for key, value in settings.items()
    ]
    return "<table>\n" + "\n".join(rows) + "\n</table>"


def _hyperparameters_table(runs: list[Mapping[str, Any]]) -> str:
    rows = []
    for run in runs:
        settings = ", ".join(
            f"{key}={_exact(value)}" for key, value in dict(run.get("hyperparameters", {})).items()
        )
        rows.append(
            f"<tr><th>{escape(str(run['optimizer']))}</th>"
            f"<td><code>{escape(settings)}</code></td></tr>"
        )
    return "<table>\n" + "\n".join(rows) + "\n</table>"


def _percent(value: object) -> str:
    if not isinstance(value, int | float) or not math.isfinite(value):
        return MISSING
    return f"{100.0 * value:.1f}%"


def _number(value: object, decimals: int) -> str:
    """``value`` to ``decimals`` places; MISSING for null, NaN or infinity."""
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return MISSING
    return f"{value:.{decimals}f}"


def _exact(value: object) -> str:
    """A setting spelled exactly as results.json has it (0.0007, 1e-08, true, [5, 2])."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)
