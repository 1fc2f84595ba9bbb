"""report.html's interactive charts in a real headless browser, opened as a file with every
http(s) request refused: the page must draw from what it holds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser import requires_chromium, watched_page
from descentlab import datasets
from descentlab.experiment import ExperimentConfig, RunOutcome, run_experiment
from descentlab.report import plots
from descentlab.report.charts import COST_CAPTION, report_charts
from descentlab.report.html import render_html
from descentlab.schedules import ScheduleSpec

pytestmark = requires_chromium

EPOCHS = 40
SCHEDULED = ExperimentConfig(epochs=EPOCHS, schedule=ScheduleSpec("inverse-time", decay_rate=1.0))


@pytest.fixture(scope="module")
def outcomes() -> list[RunOutcome]:
    return run_experiment(SCHEDULED, datasets.moons())


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, outcomes: list[RunOutcome]) -> Path:
    """A report.html with the cost and learning-rate charts, the cost picture under them."""
    folder = tmp_path_factory.mktemp("report")
    plots.plot_cost_curves(folder / "cost_curves.png", outcomes)
    results = {"command": "compare", "dataset": {"name": "moons"}, "config": {}, "runs": []}
    charts = report_charts(outcomes, learning_rates=True)
    page = render_html(results, {COST_CAPTION: folder / "cost_curves.png"}, charts)
    (folder / "report.html").write_text(page, encoding="utf-8")
    return folder / "report.html"


@pytest.fixture
def page(browser: Any, report: Path) -> Iterator[Any]:
    """report.html opened from its file, the network blocked; page errors and any attempt to
    reach the network fail the test."""
    requested: list[str] = []

    def refuse(route: Any) -> None:
        requested.append(route.request.url)
        route.abort()

    with watched_page(browser, 1100, 900) as page:
        page.route("http://**/*", refuse)
        page.route("https://**/*", refuse)
        page.goto(report.as_uri())
        yield page
    assert requested == []


def test_the_charts_draw_over_the_pictures(page: Any, outcomes: list[RunOutcome]) -> None:
    cost = page.locator('figure[data-chart="0"]')
    rates = page.locator('figure[data-chart="1"]')  # no picture of its own: the first figure
    assert page.locator("figure").first.get_attribute("data-chart") == "1"
    points = str(EPOCHS * len(outcomes))
    for figure in (cost, rates):
        chart = figure.locator(".descent-chart")
        assert chart.get_attribute("data-points", timeout=5000) is not None
        page.wait_for_function(
            f"figure => figure.querySelector('.descent-chart').dataset.points === '{points}'",
            arg=figure.element_handle(),
        )
        assert figure.locator("canvas").is_visible()
    assert not cost.locator("img").is_visible()  # the picture, kept for no JavaScript
    assert cost.locator(".hint").is_visible()  # how to zoom, only where it works
    assert cost.locator("img").count() == 1


def test_hovering_shows_each_optimizers_values(page: Any, outcomes: list[RunOutcome]) -> None:
    figure = page.locator('figure[data-chart="0"]')
    over = figure.locator(".u-over")
    over.wait_for()
    box = over.bounding_box()
    left = figure.evaluate("figure => figure.chart.uplot.valToPos(10, 'x')")
    page.mouse.move(box["x"] + left, box["y"] + box["height"] / 2)
    where = figure.locator(".descent-chart-where")
    page.wait_for_function(
        "element => element.textContent === 'epoch 10'", arg=where.element_handle()
    )
    for outcome in outcomes:
        value = figure.locator(
            f".descent-chart-item[data-series={outcome.optimizer.name}] .descent-chart-value"
        ).inner_text()
        shown, minibatch = value.split(" (mini-batch ")
        # epoch 10 is epoch_costs[9]: the cost of the tenth epoch, shown to 4 digits
        assert float(shown) == pytest.approx(outcome.result.history.epoch_costs[9], rel=1e-3)
        assert minibatch.endswith(")")


def test_clicking_a_name_hides_that_optimizer(page: Any, outcomes: list[RunOutcome]) -> None:
    figure = page.locator('figure[data-chart="0"]')
    name = outcomes[1].optimizer.name
    item = figure.locator(f".descent-chart-item[data-series={name}]")
    item.click()
    assert item.get_attribute("aria-pressed") == "false"
    shown = figure.evaluate("figure => figure.chart.uplot.series.map(s => s.show)")
    n = len(outcomes)
    expected = [True] + [k != 1 for k in range(n)] * 2  # x, the mini-batch series, the epochs'
    assert shown == expected


def test_without_javascript_the_pictures_show(browser: Any, report: Path) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(report.as_uri())
    cost = page.locator('figure[data-chart="0"]')
    assert cost.locator("img").is_visible()
    assert not cost.locator(".chart").is_visible()
    assert not cost.locator(".hint").is_visible()
    context.close()
