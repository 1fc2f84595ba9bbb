"""charts.js (the cost chart of the playground and of report.html) in a real headless browser.

The chart runs on a blank page that loads the vendored uPlot and charts.js from the package's
static folder, as the playground serves them; each test drives ``window.chart`` through the
API in its header comment and reads back what uPlot was given to draw."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser import requires_chromium, watched_page

pytestmark = requires_chromium

STATIC = Path(__file__).resolve().parents[1] / "src" / "descentlab" / "web" / "static"
UPLOT = STATIC / "vendor" / "uplot"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TWO_SERIES = '[{name: "gd", colour: "#0072B2"}, {name: "adam", colour: "#D55E00"}]'


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A blank page with uPlot and charts.js loaded; page errors fail the test."""
    with watched_page(browser, 900, 700) as page:
        page.set_content('<!DOCTYPE html><html><body><div id="chart" style="width: 640px"></div>')
        page.add_style_tag(path=UPLOT / "uPlot.min.css")
        page.add_script_tag(path=UPLOT / "uPlot.iife.min.js")
        page.add_script_tag(path=STATIC / "charts.js")
        yield page


def make_chart(page: Any, extra: str = "") -> None:
    page.evaluate(
        "window.chart = DescentCharts.costChart(document.getElementById('chart'), "
        f"{{series: {TWO_SERIES}, title: 'cost', height: 300{extra}}})"
    )


def wait_for_points(page: Any, points: int) -> None:
    page.wait_for_function(f"chart.element.dataset.points === '{points}'")


def drawn_table(page: Any) -> list[list[float | None]]:
    """What uPlot draws: [x, gd mini-batch, adam mini-batch, gd epoch, adam epoch]; a cell
    without a point of that series comes back as None, as a gap does."""
    return page.evaluate("chart.uplot.data.map(column => Array.from(column))")  # type: ignore[no-any-return]


def test_the_palette_is_okabe_ito(page: Any) -> None:
    palette = page.evaluate("DescentCharts.PALETTE")
    assert palette == ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]


def test_append_in_two_calls_draws_every_epoch_at_its_x(page: Any) -> None:
    make_chart(page)
    page.evaluate(
        "chart.append({gd: {costs: [0.9, 0.8], first_epoch: 0,"
        " minibatch: {x: [0, 0.5, 1, 1.5], costs: [1.0, 0.95, 0.85, 0.82]}},"
        " adam: {costs: [0.7, 0.5], first_epoch: 0}})"
    )
    wait_for_points(page, 4)
    page.evaluate("chart.append({gd: {costs: [0.75], first_epoch: 2}, adam: {costs: [0.4]}})")
    wait_for_points(page, 6)
    x, gd_minibatch, adam_minibatch, gd, adam = drawn_table(page)
    assert x == [0, 0.5, 1, 1.5, 2, 3]
    assert gd == [None, None, 0.9, None, 0.8, 0.75]
    assert adam == [None, None, 0.7, None, 0.5, 0.4]
    assert gd_minibatch == [1.0, 0.95, 0.85, 0.82, None, None]
    assert adam_minibatch == [None] * 6
    assert page.locator(".descent-chart-where").inner_text() == "epoch 3"


def test_set_data_replaces_everything_and_an_overlapping_append_replaces_epochs(
    page: Any,
) -> None:
    make_chart(page)
    page.evaluate("chart.append({gd: {costs: [5, 4, 3]}, adam: {costs: [5, 4, 3]}})")
    wait_for_points(page, 6)
    page.evaluate("chart.setData({gd: {costs: [0.9, 0.8]}})")
    wait_for_points(page, 2)
    page.evaluate("chart.append({gd: {costs: [0.6, 0.5], first_epoch: 1}})")
    wait_for_points(page, 3)
    x, _, _, gd, adam = drawn_table(page)
    assert x == [1, 2, 3]
    assert gd == [0.9, 0.6, 0.5]
    assert adam == [None, None, None]


def test_non_finite_costs_leave_gaps(page: Any) -> None:
    make_chart(page)
    page.evaluate(
        "chart.append({gd: {costs: [1, NaN, Infinity, null, 0.5]},"
        " adam: {costs: [1, -Infinity, 0.4, 0.3, 0.2]}})"
    )
    wait_for_points(page, 10)
    _, _, _, gd, adam = drawn_table(page)
    assert gd == [1, None, None, None, 0.5]
    assert adam == [1, None, 0.4, 0.3, 0.2]
    is_gap = page.evaluate("chart.uplot.data[3][1] === null")  # a gap, not a missing point
    assert is_gap is True


def test_epochs_never_given_leave_a_gap(page: Any) -> None:
    make_chart(page)
    page.evaluate("chart.append({gd: {costs: [0.9]}})")
    wait_for_points(page, 1)
    page.evaluate("chart.append({gd: {costs: [0.5], first_epoch: 3}})")  # epochs 2 and 3 missing
    wait_for_points(page, 4)
    x, _, _, gd, _ = drawn_table(page)
    assert x == [1, 2, 3, 4]
    assert gd == [0.9, None, None, 0.5]
    assert page.evaluate("chart.uplot.data[3][1] === null && chart.uplot.data[3][2] === null")


def test_a_log_scale_leaves_gaps_for_costs_at_or_below_zero(page: Any) -> None:
    make_chart(page, ", logY: true")
    page.evaluate("chart.append({gd: {costs: [10, 1, 0, 0.01]}, adam: {costs: [10, -1, 1, 0.1]}})")
    wait_for_points(page, 8)
    assert page.evaluate("chart.uplot.scales.y.distr") == 3
    _, _, _, gd, adam = drawn_table(page)
    assert gd == [10, 1, None, 0.01]
    assert adam == [10, None, 1, 0.1]
    assert page.evaluate("[chart.uplot.scales.y.min, chart.uplot.scales.y.max]") == [0.01, 10]


def test_the_legend_toggles_an_optimizer_and_hover_shows_its_values(page: Any) -> None:
    make_chart(page)
    page.evaluate(
        "chart.append({gd: {costs: [0.9, 0.8, 0.7], minibatch: {x: [0, 1, 2], costs: [1, 0.85, "
        "0.75]}}, adam: {costs: [0.6, 0.3, 0.1]}})"
    )
    wait_for_points(page, 6)
    gd = page.locator(".descent-chart-item[data-series=gd]")
    assert gd.locator(".descent-chart-value").inner_text() == "0.7"  # the latest, not hovering
    gd.click()
    assert gd.get_attribute("aria-pressed") == "false"
    assert page.evaluate("chart.uplot.series.map(s => s.show)") == [True, False, True, False, True]
    gd.press("Enter")  # the keyboard works too
    assert gd.get_attribute("aria-pressed") == "true"
    page.evaluate("chart.setVisible('adam', false)")
    adam = page.locator(".descent-chart-item[data-series=adam]")
    assert adam.get_attribute("aria-pressed") == "false"
    assert page.evaluate("chart.uplot.series.map(s => s.show)") == [True, True, False, True, False]
    # Hover over epoch 1 (x = 1, the left edge of the plot area).
    box = page.locator(".descent-chart .u-over").bounding_box()
    left = page.evaluate("chart.uplot.valToPos(1, 'x')")
    page.mouse.move(box["x"] + left + 1, box["y"] + box["height"] / 2)
    page.wait_for_function(
        "document.querySelector('.descent-chart-where').textContent === 'epoch 1'"
    )
    assert gd.locator(".descent-chart-value").inner_text() == "0.9 (mini-batch 0.85)"


def test_drag_zooms_new_data_keeps_the_zoom_and_double_click_resets(page: Any) -> None:
    make_chart(page)
    page.evaluate("chart.append({gd: {costs: Array.from({length: 100}, (_, i) => 1 / (i + 1))}})")
    wait_for_points(page, 100)
    assert page.evaluate("[chart.uplot.scales.x.min, chart.uplot.scales.x.max]") == [1, 100]
    box = page.locator(".descent-chart .u-over").bounding_box()
    start, stop = page.evaluate("[chart.uplot.valToPos(20, 'x'), chart.uplot.valToPos(40, 'x')]")
    middle = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + start, middle)
    page.mouse.down()
    page.mouse.move(box["x"] + stop, middle, steps=5)
    page.mouse.up()
    low, high = page.evaluate("[chart.uplot.scales.x.min, chart.uplot.scales.x.max]")
    assert 19 < low < 21 and 39 < high < 41
    page.evaluate("chart.append({gd: {costs: [0.001, 0.001]}})")
    wait_for_points(page, 102)
    assert page.evaluate("[chart.uplot.scales.x.min, chart.uplot.scales.x.max]") == [low, high]
    page.mouse.dblclick(box["x"] + start, middle)
    assert page.evaluate("[chart.uplot.scales.x.min, chart.uplot.scales.x.max]") == [1, 102]


def test_png_is_a_png_of_the_chart_with_its_legend_and_title(page: Any) -> None:
    make_chart(page)
    page.evaluate("chart.append({gd: {costs: [0.9, 0.8]}, adam: {costs: [0.6, 0.3]}})")
    data = bytes(
        page.evaluate(
            "chart.png().then(blob => blob.arrayBuffer()).then(b => Array.from(new Uint8Array(b)))"
        )
    )
    assert data.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    plot_width, plot_height = page.evaluate("[chart.uplot.width, chart.uplot.height]")
    assert width == plot_width  # device pixel ratio 1
    assert height > plot_height  # the title above, the legend below
    assert page.evaluate("chart.element.dataset.points") == "4"  # png() drew what was pending


def test_bad_calls_say_what_is_wrong(page: Any) -> None:
    make_chart(page)
    message = page.evaluate(
        "(() => { try { chart.append({sgd: {costs: [1]}}); } catch (e) { return e.message; } })()"
    )
    assert message == 'unknown series "sgd"; this chart has gd, adam'
    message = page.evaluate(
        "(() => { try { chart.setVisible('x', true); } catch (e) { return e.message; } })()"
    )
    assert message == 'unknown series "x"; this chart has gd, adam'
    page.evaluate("chart.append({gd: {costs: [1, 2]}})")
    wait_for_points(page, 2)
    for call, expected in [
        (
            "chart.append({adam: {costs: [1]}, gd: {costs: [3], minibatch: {x: [0, NaN], "
            "costs: [1, 2]}}})",
            "minibatch.x must be finite numbers, got NaN",
        ),
        (
            "chart.setData({gd: {minibatch: {x: [0, 1], costs: [1]}}})",
            "minibatch.x has 2 values but minibatch.costs 1",
        ),
        (
            "chart.append({gd: {costs: [3], first_epoch: -1}})",
            "first_epoch must be an integer >= 0, got -1",
        ),
    ]:
        message = page.evaluate(
            f"(() => {{ try {{ {call}; }} catch (e) {{ return e.message; }} }})()"
        )
        assert message == expected
    page.evaluate("chart.append({adam: {costs: [7]}})")  # the refused calls stored nothing:
    wait_for_points(page, 3)
    _, gd_minibatch, _, gd, adam = drawn_table(page)
    assert (gd, adam, gd_minibatch) == ([1, 2], [7, None], [None, None])


def test_destroy_removes_the_chart(page: Any) -> None:
    make_chart(page)
    page.evaluate("chart.destroy()")
    assert page.locator("#chart").inner_html() == ""
