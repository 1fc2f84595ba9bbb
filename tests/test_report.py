"""The report's pictures and HTML page, drawn from short real training runs."""

from __future__ import annotations

import base64
import dataclasses
import io
import itertools
import json
import re
import subprocess
import sys
import warnings
from html.parser import HTMLParser
from pathlib import Path
from typing import IO, Any

import numpy as np
import pytest
from matplotlib import colormaps
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.image import imread

from descentlab import datasets, metrics
from descentlab.datasets import Dataset
from descentlab.experiment import ExperimentConfig, RunOutcome, run_experiment
from descentlab.history import History
from descentlab.nn import Network, predict_proba
from descentlab.report import html as html_module
from descentlab.report import plots
from descentlab.report.charts import (
    COST_CAPTION,
    LEARNING_RATE_CAPTION,
    PALETTE,
    cost_chart,
    learning_rate_chart,
    report_charts,
)
from descentlab.report.html import (
    format_accuracy,
    png_data_uri,
    render_html,
    script_json,
    static_text,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CONFIG = ExperimentConfig(epochs=50)
MALICIOUS = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def moons() -> Dataset:
    return datasets.moons()


@pytest.fixture(scope="module")
def network() -> Network:
    return CONFIG.network(2)


@pytest.fixture(scope="module")
def outcomes(moons: Dataset) -> list[RunOutcome]:
    return run_experiment(CONFIG, moons)


def results_dict(outcomes: list[RunOutcome], dataset: Dataset) -> dict[str, Any]:
    """A results.json dict in the documented shape."""
    runs = []
    for outcome in outcomes:
        oscillation = outcome.oscillation
        runs.append(
            {
                "optimizer": outcome.optimizer.name,
                "hyperparameters": dict(outcome.optimizer.hyperparameters),
                "status": "finished",
                "train_accuracy": outcome.train_accuracy,
                "train_correct": outcome.train_correct,
                "n_examples": outcome.n_examples,
                "final_cost": outcome.final_cost,
                "cost_shape": outcome.cost_shape,
                "oscillation": oscillation if np.isfinite(oscillation) else None,
                "seconds": outcome.seconds,
                "cost_every": 100,
                "costs": outcome.result.history.costs_every(100).tolist(),
            }
        )
    return {
        "descentlab_version": "0.1.0",
        "command": "compare",
        "status": "finished",
        "created": "2024-01-01T00:00:00+00:00",
        "dataset": {"name": dataset.name, **dataset.params},
        "config": CONFIG.to_dict(),
        "runs": runs,
    }


def renamed(outcome: RunOutcome, name: str) -> RunOutcome:
    return dataclasses.replace(outcome, optimizer=outcome.optimizer._replace(name=name))


def png_shape(path: Path) -> tuple[int, ...]:
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    return tuple(imread(path).shape)


# --- pictures ---------------------------------------------------------------------------


def test_color_for_is_the_tab10_cycle() -> None:
    tab10 = [to_hex(color) for color in colormaps["tab10"].colors]
    assert [plots.color_for(i) for i in range(12)] == tab10 + tab10[:2]


def test_cost_curves_png_has_the_documented_size(
    tmp_path: Path, outcomes: list[RunOutcome]
) -> None:
    path = tmp_path / "cost.png"
    plots.plot_cost_curves(path, outcomes)
    height, width, _ = png_shape(path)
    assert (width, height) == (990, 550)  # 9 x 5 in at 110 dpi
    assert sorted(tmp_path.iterdir()) == [path]  # no temporary file left behind


def savefig_bytes(fig: Figure, dpi: int) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


@pytest.mark.parametrize("picture", ["cost", "boundaries", "confusion"])
@pytest.mark.parametrize("dpi", [plots.DPI, 72])
def test_write_png_writes_the_bytes_savefig_writes(
    picture: str, dpi: int, moons: Dataset, network: Network, outcomes: list[RunOutcome]
) -> None:
    """One draw at the figure's dpi (savefig draws a laid-out figure twice), savefig's
    bytes all the same; another dpi goes through savefig."""

    def build() -> Figure:
        if picture == "cost":
            return plots.cost_curves_figure(outcomes)
        if picture == "boundaries":
            return plots.decision_boundaries_figure(network, outcomes, moons)
        return plots.confusion_matrices_figure(outcomes, moons.classes)

    buffer = io.BytesIO()
    fig = build()
    canvas = fig.canvas
    plots.write_png(buffer, fig, dpi)
    assert fig.canvas is canvas  # the figure keeps its canvas, as savefig leaves it
    assert buffer.getvalue() == savefig_bytes(build(), dpi)
    assert plots.figure_png_bytes(build(), dpi) == buffer.getvalue()


def test_a_short_legend_is_left_out_of_the_layout_and_the_picture_is_the_same(
    outcomes: list[RunOutcome],
) -> None:
    fig = plots.cost_curves_figure(outcomes)
    legend = fig.axes[0].get_legend()
    assert len(legend.get_texts()) == 3 <= plots.LEGEND_INSIDE_MAX_ENTRIES
    assert not legend.get_in_layout()
    in_layout = plots.cost_curves_figure(outcomes)
    in_layout.axes[0].get_legend().set_in_layout(True)
    assert plots.figure_png_bytes(fig) == plots.figure_png_bytes(in_layout)


def test_a_long_legend_stays_in_the_layout(outcomes: list[RunOutcome]) -> None:
    many = [
        renamed(outcomes[i % 3], f"run {i}") for i in range(plots.LEGEND_INSIDE_MAX_ENTRIES + 1)
    ]
    legend = plots.cost_curves_figure(many).axes[0].get_legend()
    assert len(legend.get_texts()) == plots.LEGEND_INSIDE_MAX_ENTRIES + 1
    assert legend.get_in_layout()


def test_cost_curves_draw_each_optimizer_in_its_colour(outcomes: list[RunOutcome]) -> None:
    fig = plots.cost_curves_figure(outcomes)
    (ax,) = fig.axes
    lines = ax.get_lines()
    assert len(lines) == 2 * len(outcomes)
    for index, outcome in enumerate(outcomes):
        faint, solid = lines[2 * index], lines[2 * index + 1]
        assert faint.get_color() == solid.get_color() == plots.color_for(index)
        assert faint.get_alpha() is not None and faint.get_alpha() < 0.5
        np.testing.assert_array_equal(solid.get_ydata(), outcome.result.history.epoch_costs)
        assert solid.get_label() == (
            f"{outcome.optimizer.name} ({outcome.cost_shape}, index {outcome.oscillation:.3f})"
        )
    legend = ax.get_legend()
    assert [text.get_text() for text in legend.get_texts()] == [
        line.get_label() for line in lines[1::2]
    ]
    assert plots.figure_png_bytes(fig).startswith(PNG_SIGNATURE)
    assert ax.get_xlabel() == "epoch"
    assert ax.get_ylabel() == "cost (cross-entropy)"
    assert ax.get_title()


def test_minibatch_trace_short_runs_are_drawn_point_by_point(
    outcomes: list[RunOutcome],
) -> None:
    history = outcomes[0].result.history
    x, cost = plots.minibatch_trace(history)
    np.testing.assert_array_equal(cost, history.minibatch_costs)
    np.testing.assert_array_equal(x, np.arange(cost.size) / history.batches_per_epoch)


def test_minibatch_trace_keeps_every_bins_extremes_on_long_runs() -> None:
    rng = np.random.default_rng(0)
    batches_per_epoch, epochs = 5, 10000
    minibatch = np.exp(-np.arange(epochs * batches_per_epoch) / 20000) + rng.normal(
        0, 0.05, epochs * batches_per_epoch
    )
    history = History(
        epoch_costs=minibatch.reshape(epochs, batches_per_epoch).mean(axis=1),
        minibatch_costs=minibatch,
        batches_per_epoch=batches_per_epoch,
    )
    x, cost = plots.minibatch_trace(history, max_points=4000)
    assert cost.size <= 4000
    assert np.all(np.diff(x) > 0)
    # Every drawn point is a real mini-batch cost at its own x.
    np.testing.assert_array_equal(cost, minibatch[np.rint(x * batches_per_epoch).astype(int)])
    # The band is exactly as wide as the full curve's, bin by bin.
    edges = np.linspace(0, minibatch.size, 2001).astype(int)
    for start, stop in itertools.pairwise(edges):
        in_bin = (x * batches_per_epoch >= start) & (x * batches_per_epoch < stop)
        assert cost[in_bin].max() == minibatch[start:stop].max()
        assert cost[in_bin].min() == minibatch[start:stop].min()


def test_cost_curves_survive_non_finite_costs(tmp_path: Path, outcomes: list[RunOutcome]) -> None:
    history = outcomes[0].result.history
    broken = np.array(history.minibatch_costs)
    broken[10:20] = np.nan
    broken[30] = np.inf
    bad = dataclasses.replace(
        outcomes[0],
        result=dataclasses.replace(
            outcomes[0].result, history=dataclasses.replace(history, minibatch_costs=broken)
        ),
        oscillation=float("inf"),
        cost_shape="no decrease",
    )
    path = tmp_path / "cost.png"
    plots.plot_cost_curves(path, [bad, outcomes[1]])
    assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_decision_boundaries_have_one_panel_per_outcome(
    tmp_path: Path, network: Network, outcomes: list[RunOutcome], moons: Dataset
) -> None:
    for count in (1, len(outcomes)):
        fig = plots.decision_boundaries_figure(network, outcomes[:count], moons)
        assert len(fig.axes) == count
        for index, (ax, outcome) in enumerate(zip(fig.axes, outcomes, strict=False)):
            accuracy = format_accuracy(outcome.train_correct, outcome.n_examples)
            assert ax.get_title() == f"{outcome.optimizer.name}\ntrain accuracy {accuracy}"
            assert to_hex(ax.title.get_color()) == plots.color_for(index)
            assert ax.get_xlim() == (-1.5, 2.5)  # the course's view of the moons
            assert ax.get_ylim() == (-1.0, 1.5)
    path = tmp_path / "boundaries.png"
    plots.plot_decision_boundaries(path, network, outcomes, moons)
    height, width, _ = png_shape(path)
    assert width == round(plots.PANEL_WIDTH * plots.DPI * len(outcomes))
    assert 200 < height < width
    assert sorted(tmp_path.iterdir()) == [path]


def test_title_shows_the_accuracy_as_the_course_reports_it() -> None:
    assert format_accuracy(239, 300) == "79.7% (239/300)"
    assert format_accuracy(282, 300) == "94.0% (282/300)"


def test_decision_grid_is_the_networks_prediction(
    network: Network, outcomes: list[RunOutcome]
) -> None:
    params = outcomes[-1].result.params
    xx, yy, classes = plots.decision_grid(network, params, (-1.5, 2.5), (-1.0, 1.5))
    assert xx.shape == yy.shape == classes.shape == (251, 401)  # 0.01 spacing
    assert xx[0, 1] - xx[0, 0] == pytest.approx(0.01)
    rows, cols = np.random.default_rng(1).integers(0, xx.shape, size=(50, 2)).T
    points = np.vstack([xx[rows, cols], yy[rows, cols]])
    expected = (predict_proba(network, params, points) > 0.5).ravel()
    np.testing.assert_array_equal(classes[rows, cols], expected)


def test_other_datasets_are_viewed_over_their_range_padded(
    network: Network, outcomes: list[RunOutcome]
) -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(2, 40)) * [[3.0], [0.5]] + [[10.0], [-4.0]]
    blobs = Dataset("blobs", X, (X[0:1] > 10).astype(np.float64), params={})
    xlim, ylim = plots.boundary_view(blobs)
    assert xlim == (X[0].min() - 0.5, X[0].max() + 0.5)
    assert ylim == (X[1].min() - 0.5, X[1].max() + 0.5)
    fig = plots.decision_boundaries_figure(network, outcomes[:2], blobs)
    assert [ax.get_xlim() for ax in fig.axes] == [xlim, xlim]


def test_a_failed_png_write_leaves_the_old_file_untouched(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    network: Network,
    outcomes: list[RunOutcome],
    moons: Dataset,
) -> None:
    def broken_write(file: IO[bytes], fig: Figure, dpi: int = plots.DPI) -> None:
        file.write(PNG_SIGNATURE)  # part of a picture, then the disk is full
        raise RuntimeError("disk full")

    monkeypatch.setattr(plots, "write_png", broken_write)
    path = tmp_path / "picture.png"
    path.write_bytes(b"the old picture")
    with pytest.raises(RuntimeError, match="disk full"):
        plots.plot_cost_curves(path, outcomes)
    with pytest.raises(RuntimeError, match="disk full"):
        plots.plot_decision_boundaries(path, network, outcomes, moons)
    assert path.read_bytes() == b"the old picture"
    assert sorted(tmp_path.iterdir()) == [path]


def test_importing_the_report_does_not_import_matplotlib() -> None:
    code = (
        "import sys, descentlab.report, descentlab.report.plots, descentlab.report.html; "
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- HTML -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def images(
    tmp_path_factory: pytest.TempPathFactory,
    network: Network,
    outcomes: list[RunOutcome],
    moons: Dataset,
) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("images")
    plots.plot_cost_curves(folder / "cost.png", outcomes)
    plots.plot_decision_boundaries(folder / "boundaries.png", network, outcomes, moons)
    return {
        "Cost per epoch and per mini-batch": folder / "cost.png",
        "Decision boundaries": folder / "boundaries.png",
    }


class _Tags(HTMLParser):
    """Collects start tags with their attributes and the page's text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    parser.close()
    return parser


def table_rows(page: str) -> list[list[str]]:
    return [
        [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", page)
    ]


def test_page_title_and_results_table(
    outcomes: list[RunOutcome], moons: Dataset, images: dict[str, Path]
) -> None:
    results = results_dict(outcomes, moons)
    page = render_html(results, images)
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>descentlab compare — moons</title>" in page
    rows = table_rows(page)
    for outcome in outcomes:
        accuracy = f"{100 * outcome.train_correct / outcome.n_examples:.1f}%"
        expected = [
            outcome.optimizer.name,
            f"{accuracy} ({outcome.train_correct}/{outcome.n_examples})",
            f"{outcome.final_cost:.6f}",
            f"{outcome.oscillation:.3f} ({outcome.cost_shape})",
            f"{outcome.seconds:.1f}",
        ]
        assert expected in rows
    assert f"above {metrics.OSCILLATION_THRESHOLD:g}" in page


def test_page_shows_the_exact_configuration(
    outcomes: list[RunOutcome], moons: Dataset, images: dict[str, Path]
) -> None:
    rows = table_rows(render_html(results_dict(outcomes, moons), images))
    assert ["learning_rate", "0.0007"] in rows
    assert ["hidden_layers", "[5, 2]"] in rows
    assert ["eps_inside_sqrt", "false"] in rows
    assert ["noise", "0.2"] in rows
    adam = next(row for row in rows if row[0] == "adam" and len(row) == 2)
    assert adam[1] == (
        "learning_rate=0.0007, beta1=0.9, beta2=0.999, epsilon=1e-08, amsgrad=false, "
        "weight_decay=0.0, eps_inside_sqrt=false"
    )


def test_images_are_embedded_as_data_uris(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    outcomes: list[RunOutcome],
    moons: Dataset,
    images: dict[str, Path],
) -> None:
    monkeypatch.chdir(tmp_path)  # a stray relative write would land here
    image_folder = next(iter(images.values())).parent
    before = {path: path.stat().st_mtime_ns for path in image_folder.iterdir()}
    page = render_html(results_dict(outcomes, moons), images)
    assert {path: path.stat().st_mtime_ns for path in image_folder.iterdir()} == before
    assert list(tmp_path.iterdir()) == []  # render_html writes nothing
    tags = parse(page).tags
    sources = [attrs["src"] for tag, attrs in tags if tag == "img"]
    assert len(sources) == len(images)
    for (caption, path), source in zip(images.items(), sources, strict=True):
        assert source is not None and source.startswith("data:image/png;base64,")
        assert base64.b64decode(source.split(",", 1)[1]) == path.read_bytes()
        assert f"<figcaption>{caption}</figcaption>" in page
    assert not [tag for tag, _ in tags if tag in {"script", "link", "iframe"}]
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|file:|//|/)""", page)
    assert str(next(iter(images.values())).parent) not in page


def test_every_string_is_escaped(
    outcomes: list[RunOutcome], moons: Dataset, images: dict[str, Path]
) -> None:
    results = results_dict([renamed(outcomes[0], MALICIOUS), *outcomes[1:]], moons)
    results["dataset"]["name"] = MALICIOUS
    results["runs"][0]["cost_shape"] = MALICIOUS
    results["runs"][0]["hyperparameters"][MALICIOUS] = MALICIOUS
    results["config"][MALICIOUS] = MALICIOUS
    results["command"] = MALICIOUS
    page = render_html(results, {MALICIOUS: next(iter(images.values()))})
    assert "<script" not in page
    assert not [tag for tag, _ in parse(page).tags if tag == "script"]
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page


def test_missing_numbers_are_shown_as_a_dash(outcomes: list[RunOutcome], moons: Dataset) -> None:
    results = results_dict(outcomes, moons)
    results["runs"][0].update(oscillation=None, cost_shape="no decrease", final_cost=None)
    rows = table_rows(render_html(results, {}))
    row = next(row for row in rows if row[0] == outcomes[0].optimizer.name)
    assert row[2:4] == ["—", "— (no decrease)"]


def test_a_non_png_image_is_refused(
    tmp_path: Path, outcomes: list[RunOutcome], moons: Dataset
) -> None:
    fake = tmp_path / "fake.png"
    fake.write_text("<svg/>")
    with pytest.raises(ValueError, match="not a PNG"):
        render_html(results_dict(outcomes, moons), {"fake": fake})


# --- report.html's interactive charts -------------------------------------------------------


class _Scripts(HTMLParser):
    """Each <script> element's attributes and text."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._open: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self._open = dict(attrs)
            self.scripts.append((self._open, ""))

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._open = None


def scripts(page: str) -> list[tuple[dict[str, str | None], str]]:
    parser = _Scripts()
    parser.feed(page)
    parser.close()
    return parser.scripts


def chart_specs(page: str) -> list[dict[str, Any]]:
    """The charts' JSON of a report page, parsed back."""
    (text,) = [text for attrs, text in scripts(page) if attrs.get("type") == "application/json"]
    return json.loads(text)  # type: ignore[no-any-return]


def test_a_report_with_charts_is_still_one_offline_file(
    outcomes: list[RunOutcome], moons: Dataset, images: dict[str, Path]
) -> None:
    page = render_html(
        results_dict(outcomes, moons), images, report_charts(outcomes, learning_rates=True)
    )
    found = scripts(page)
    assert [attrs for attrs, _ in found] == [
        {"type": "application/json", "id": "report-charts"},
        {},
        {},
        {},
    ]
    # The same files the playground serves, inlined: uPlot, then charts.js, then the drawing.
    assert found[1][1] == static_text("vendor/uplot/uPlot.iife.min.js")
    assert found[2][1] == static_text("charts.js")
    assert "DescentCharts.costChart" in found[3][1]
    assert static_text("vendor/uplot/uPlot.min.css") in page
    tags = parse(page).tags
    assert not [tag for tag, _ in tags if tag in {"link", "iframe"}]
    links = [value for _, attrs in tags for key, value in attrs.items() if key in {"src", "href"}]
    assert links and all(str(link).startswith("data:image/png;base64,") for link in links)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|file:|//|/)""", page)


def test_charts_draw_over_their_pictures_which_stay_for_readers_without_javascript(
    outcomes: list[RunOutcome], moons: Dataset, images: dict[str, Path], tmp_path: Path
) -> None:
    cost_png = next(iter(images.values()))
    pictures = {COST_CAPTION: cost_png, "Decision boundaries": cost_png}
    charts = report_charts(outcomes, learning_rates=True)  # no learning-rate picture given
    page = render_html(results_dict(outcomes, moons), pictures, charts)
    figures = re.findall(r"<figure[^>]*>.*?</figure>", page)
    assert len(figures) == 3
    rates, cost, boundaries = figures
    assert rates.startswith('<figure data-chart="1"><div class="chart" hidden></div><figcaption>')
    assert LEARNING_RATE_CAPTION in rates and "<img" not in rates
    assert cost.startswith('<figure data-chart="0"><div class="chart" hidden></div><img src="')
    assert png_data_uri(cost_png) in cost and COST_CAPTION in cost
    assert "data-chart" not in boundaries and "<img" in boundaries


def test_the_charts_data_is_the_runs_numbers(
    outcomes: list[RunOutcome], moons: Dataset, images: dict[str, Path]
) -> None:
    with_validation = [
        dataclasses.replace(outcomes[0], validation_costs=np.array([0.7, np.nan, 0.5])),
        *outcomes[1:],
    ]
    charts = report_charts(with_validation, learning_rates=True)
    cost, rates = chart_specs(render_html(results_dict(outcomes, moons), images, charts))
    names = [outcome.optimizer.name for outcome in outcomes]
    first = names[0]
    assert [s["name"] for s in cost["options"]["series"]] == [
        first,
        f"{first} validation",
        *names[1:],
    ]
    assert cost["options"]["series"][1] == {
        "name": f"{first} validation",
        "colour": "#0072B2",
        "dash": [6, 4],
    }
    assert rates["options"]["series"] == [
        {"name": names[0], "colour": "#0072B2"},  # solid, the next ones dashed, dotted
        {"name": names[1], "colour": "#D55E00", "dash": [8, 4]},
        {"name": names[2], "colour": "#009E73", "dash": [2, 3]},
    ]
    assert cost["data"][f"{first} validation"] == {"costs": [0.7, None, 0.5]}
    for outcome in outcomes:
        history = outcome.result.history
        drawn = cost["data"][outcome.optimizer.name]
        assert drawn["costs"] == history.epoch_costs.tolist()  # exactly, every epoch
        x, minibatch = plots.minibatch_trace(history)
        assert drawn["minibatch"] == {"x": x.tolist(), "costs": minibatch.tolist()}
        assert rates["data"][outcome.optimizer.name] == {"costs": outcome.learning_rates.tolist()}
    assert cost["options"]["logY"] is False and rates["options"]["logY"] is False


def test_the_mini_batch_costs_are_thinned_as_in_cost_curves_png(
    outcomes: list[RunOutcome],
) -> None:
    history = outcomes[0].result.history
    long = dataclasses.replace(
        outcomes[0],
        result=dataclasses.replace(
            outcomes[0].result,
            history=History(np.tile(history.epoch_costs, 40), np.tile(
                history.minibatch_costs, 40), history.batches_per_epoch),
        ),
    )  # fmt: skip
    assert long.result.history.minibatch_costs.size > plots.MINIBATCH_MAX_POINTS
    drawn = cost_chart([long])["data"][long.optimizer.name]["minibatch"]
    x, minibatch = plots.minibatch_trace(long.result.history)
    assert len(drawn["x"]) <= plots.MINIBATCH_MAX_POINTS
    assert drawn == {"x": x.tolist(), "costs": minibatch.tolist()}


def test_learning_rates_spanning_more_than_ten_times_are_drawn_on_a_log_scale(
    outcomes: list[RunOutcome],
) -> None:
    decaying = [
        dataclasses.replace(o, learning_rates=np.geomspace(1.0, 0.01, o.learning_rates.size))
        for o in outcomes
    ]
    assert learning_rate_chart(decaying)["options"]["logY"] is True


def test_names_in_the_charts_cannot_end_their_script(
    outcomes: list[RunOutcome], moons: Dataset, images: dict[str, Path]
) -> None:
    evil = [renamed(outcomes[0], MALICIOUS + "<!--"), *outcomes[1:]]
    page = render_html(results_dict(evil, moons), images, report_charts(evil, learning_rates=False))
    assert page.count("</script>") == 4  # the JSON, uPlot, charts.js, the drawing
    assert page.lower().count("<script") == 4
    (cost,) = chart_specs(page)
    assert cost["options"]["series"][0]["name"] == MALICIOUS + "<!--"
    assert MALICIOUS + "<!--" in cost["data"]


def test_script_json_escapes_every_angle_bracket_and_refuses_nan() -> None:
    value = {"name": "</script><!-- <b>", "costs": [1.5, None]}
    text = script_json(value)
    assert "<" not in text
    assert json.loads(text) == value
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        script_json([float("nan")])


def test_a_static_file_that_would_end_its_element_is_refused(
    monkeypatch: pytest.MonkeyPatch, outcomes: list[RunOutcome], moons: Dataset
) -> None:
    monkeypatch.setattr(html_module, "static_text", lambda name: "var s = '</SCRIPT>';")
    # The style sheet may hold "</script>"; the first script may not.
    message = "static/vendor/uplot/uPlot.iife.min.js cannot be inlined: it holds </script or <!--"
    with pytest.raises(ValueError, match=re.escape(message)):
        render_html(
            results_dict(outcomes, moons), {}, report_charts(outcomes, learning_rates=False)
        )


def test_the_report_palette_is_charts_js_palette() -> None:
    declared = re.search(r"const PALETTE = (\[.*?\]);", static_text("charts.js"))
    assert declared is not None
    assert tuple(json.loads(declared.group(1))) == PALETTE


def test_compare_writes_a_report_whose_charts_are_its_runs(tmp_path: Path) -> None:
    from conftest import run_cli

    code, _, stderr = run_cli(
        "compare", "--epochs", "30", "--schedule", "exponential", "--decay-rate", "0.5",
        "--out", str(tmp_path), "--quiet",
    )  # fmt: skip
    assert code == 0, stderr
    results = json.loads((tmp_path / "results.json").read_text())
    cost, rates = chart_specs((tmp_path / "report.html").read_text())
    for run in results["runs"]:
        name = run["optimizer"]
        epoch_costs = np.load(tmp_path / run["epoch_costs_file"])
        assert cost["data"][name]["costs"] == epoch_costs.tolist()
        assert cost["data"][name]["costs"][-1] == run["final_cost"]
        drawn_rates = rates["data"][name]["costs"]
        assert len(drawn_rates) == 30
        assert drawn_rates[:: run["cost_every"]] == run["learning_rates"]  # every rate drawn
        assert drawn_rates[3] == drawn_rates[2] * 0.5  # exponential, halved every epoch


def test_the_table_shows_an_unmeasurable_oscillation_as_results_json_does(tmp_path: Path) -> None:
    from conftest import run_cli

    # One epoch: the epoch cost cannot have decreased, so the index is not defined.
    code, stdout, stderr = run_cli("train", "--optimizer", "gd", "--epochs", "1", "--out",
                                   str(tmp_path))  # fmt: skip
    assert code == 0, stderr
    (run,) = json.loads((tmp_path / "results.json").read_text())["runs"]
    assert run["oscillation"] is None
    (row,) = [line for line in stdout.splitlines() if line.startswith("gd ")]
    assert row.split()[4:7] == ["n/a", "no", "decrease"] and "inf" not in row


# --- hostile values: labels the font lacks, features near float64's limit ---------------------


@pytest.mark.parametrize(
    "classes",
    [("苹果", "🍊"), ("$\\frac{$", "a$b$c"), ("line\nbreak", "nul\x00tab\t")],
    ids=["cjk-and-emoji", "mathtext", "control-characters"],
)
def test_class_names_the_font_lacks_draw_without_a_warning(
    classes: tuple[str, str], tmp_path: Path, outcomes: list[RunOutcome]
) -> None:
    path = tmp_path / "confusion.png"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plots.plot_confusion_matrices(path, outcomes[:1], classes)
    assert [str(w.message) for w in caught] == []
    assert png_shape(path)[0] > 100


def test_plot_text_escapes_only_what_the_font_cannot_draw() -> None:
    assert plots.plot_text("apple, pomme, Äpfel ± \u03b1") == "apple, pomme, Äpfel ± \u03b1"
    assert plots.plot_text("苹果🍊") == "\\u82f9\\u679c\\U0001f34a"
    assert plots.plot_text("$x$\n") == "\\$x\\$\\n"


def test_features_near_the_float64_limit_give_a_finite_view_and_a_picture(
    tmp_path: Path, network: Network, outcomes: list[RunOutcome]
) -> None:
    X = np.array([[1e308, -1e308, 5e307, 1.0, 2.0], [0.1, 0.2, -1.7e308, 0.3, 0.4]])
    data = Dataset("huge", X, np.array([[0.0, 1.0, 0.0, 1.0, 0.0]]), params={})
    (x0, x1), (y0, y1) = plots.boundary_view(data)
    assert -plots.VIEW_LIMIT > x0 > -1.01 * plots.VIEW_LIMIT
    assert plots.VIEW_LIMIT < x1 < 1.01 * plots.VIEW_LIMIT
    assert np.isfinite(x1 - x0) and np.isfinite(y1 - y0) and (y0, y1)[1] == 0.4 + 0.5
    path = tmp_path / "boundaries.png"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = plots.decision_boundaries_figure(network, outcomes[:1], data)
        plots.plot_decision_boundaries(path, network, outcomes[:1], data)
    assert [str(w.message) for w in caught] == []
    assert fig.get_suptitle() == (
        "3 of 5 points lie beyond the view's limit ±4.49e+307 and are not drawn"
    )
    assert "10^{307}" in fig.axes[0].get_xlabel()
    assert png_shape(path)[0] > 100


def test_one_value_near_the_limit_still_gives_a_view_of_some_width() -> None:
    data = Dataset("one", np.array([[1e308, 1e308], [3e15, 3e15]]), np.array([[0.0, 1.0]]), {})
    (x0, x1), (y0, y1) = plots.boundary_view(data)
    assert x0 < plots.VIEW_LIMIT < x1 and y0 < 3e15 < y1


def test_a_decision_grid_refuses_limits_whose_span_overflows(
    network: Network, outcomes: list[RunOutcome]
) -> None:
    with pytest.raises(ValueError, match=r"a decision grid needs finite limits .* got \(-1e\+308"):
        plots.decision_grid(network, outcomes[0].result.params, (-1e308, 1e308), (0.0, 1.0))
