"""The playground's page in a real headless browser: Debian's chromium driven by Playwright's
Python package (never ``playwright install``, which downloads a browser). Without
/usr/bin/chromium these tests are skipped, and ``pytest -ra`` says why."""

from __future__ import annotations

import json
import re
import shlex
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from browser import requires_chromium, watched_page
from conftest import FRUIT, free_port, run_cli, start_cli_process, wait_for_page

pytestmark = requires_chromium


@pytest.fixture(scope="module")
def playground() -> Iterator[str]:
    """``descentlab playground`` on a free port, stopped with Ctrl-C afterwards."""
    port = free_port()
    process = start_cli_process("playground", "--port", str(port))
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_page(url)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    with watched_page(browser) as page:
        yield page


def drawn(page: Any) -> int:
    return int(page.locator("#map").get_attribute("data-drawn") or 0)


def test_clicking_the_map_moves_the_start_and_redraws_the_paths(playground: str, page: Any) -> None:
    page.goto(playground + "?view=landscape")
    page.wait_for_selector("#map[data-drawn]")
    assert page.locator("#summary tbody tr").count() == 4  # gd, momentum, adam, rmsprop
    before = drawn(page)
    page.locator("#map").click(position={"x": 400, "y": 120})
    page.wait_for_function(f"Number(document.querySelector('#map').dataset.drawn) > {before}")
    x, y = (float(page.input_value(f"#start-{axis}")) for axis in "xy")
    assert 0.5 < x < 2.0 and 1.5 < y < 2.5  # rosenbrock's view: x in [-2.2, 2.2], y in [-1.2, 3.2]
    assert "start=" in page.url
    assert page.locator("#status").inner_text().startswith("rosenbrock: 4 paths")


def test_a_shared_url_reproduces_the_configuration(playground: str, page: Any) -> None:
    page.goto(playground + "?function=quadratic&optimizers=gd,adam&lr.gd=0.05&steps=40")
    page.wait_for_selector("#map[data-drawn]")
    assert page.input_value("#function") == "quadratic"
    checked = page.eval_on_selector_all(
        "input[name=use]:checked", "boxes => boxes.map(b => b.value)"
    )
    assert checked == ["gd", "adam"]
    assert page.input_value("input[data-optimizer=gd]") == "0.05"
    assert page.locator("#summary tbody tr").count() == 2
    assert page.locator("#status").inner_text() == "quadratic: 2 paths of 40 steps"


def test_an_invalid_value_is_refused_next_to_its_field(playground: str, page: Any) -> None:
    page.goto(playground + "?function=quadratic&optimizers=gd,adam")
    page.wait_for_selector("#map[data-drawn]")
    page.fill("input[data-optimizer=adam]", "-1")
    message = page.locator("[data-error-for-optimizer=adam]")
    message.wait_for(state="visible")
    assert "optimizers[1].learning_rate" in message.inner_text()
    assert "> 0" in message.inner_text()
    assert page.get_attribute("input[data-optimizer=adam]", "aria-invalid") == "true"


def test_copy_as_command_and_the_downloads(playground: str, page: Any, tmp_path: Path) -> None:
    page.goto(playground + "?function=quadratic&optimizers=gd,adam&lr.gd=0.05&steps=40")
    page.wait_for_selector("#map[data-drawn]")
    page.click("#copy-command")
    page.wait_for_function("document.querySelector('#share-status').textContent !== ''")
    command = page.input_value("#command")
    copied = page.locator("#share-status").inner_text() == f"copied: {command}"
    assert copied or page.locator("#command").is_visible()  # the clipboard, or the box
    _, name, *args = shlex.split(command)
    code, _, stderr = run_cli(name, *args, "--out", str(tmp_path / "run"))
    assert code == 0, stderr
    written = (tmp_path / "run" / "results.json").read_text()
    runs = json.loads(written)["runs"]
    shown = page.evaluate("state.result.runs")
    assert [{key: run[key] for key in record} for run, record in zip(
        shown, runs, strict=True)] == runs  # fmt: skip
    with page.expect_download() as download:
        page.click("#download-results")
    assert download.value.suggested_filename == "results.json"
    created = re.compile(r'"created": "[^"]*"')
    saved = Path(download.value.path()).read_text()
    assert created.sub("", saved) == created.sub("", written)
    for button, filename in [("#download-map", "quadratic-trajectories.png"),
                             ("#download-loss", "quadratic-loss.png")]:  # fmt: skip
        with page.expect_download() as download:
            page.click(button)
        assert download.value.suggested_filename == filename
        assert Path(download.value.path()).read_bytes().startswith(b"\x89PNG")


# --- the race view ------------------------------------------------------------------------------

RACE = "?view=race&dataset=moons&optimizers=gd,momentum,adam&epochs=300"
LONG_RACE = "?view=race&dataset=moons&optimizers=gd,adam&epochs=100000"


def epoch(page: Any) -> int:
    return int(page.get_attribute("#race-epoch", "data-epoch") or 0)


def wait_for_state(page: Any, state: str) -> None:
    page.wait_for_selector(f"#panel-race[data-state={state}]")


def wait_for_epoch_above(page: Any, epochs: int) -> None:
    page.wait_for_function(
        f"Number(document.querySelector('#race-epoch').dataset.epoch) > {epochs}"
    )


def test_a_race_draws_the_cost_chart_and_a_boundary_map_per_optimizer(
    playground: str, page: Any
) -> None:
    page.goto(playground + RACE)
    wait_for_state(page, "done")
    page.wait_for_function("Number(document.querySelector('#cost-chart').dataset.drawn) > 0")
    maps = page.locator("#race-cards canvas.boundary")
    assert maps.count() == 3
    page.wait_for_function(
        "[...document.querySelectorAll('canvas.boundary')].every(m => Number(m.dataset.drawn) > 0)"
    )
    page.wait_for_function("document.querySelector('.descent-chart').dataset.points === '900'")
    assert page.locator("#race-epoch").inner_text() == "epoch 300 / 300"
    assert (
        "starts from the same initial weights and sees the same mini-batches in the same order"
        in (page.locator("#panel-race .intro").inner_text())
    )
    for name in ("gd", "momentum", "adam"):
        card = page.locator(f"#race-cards .card[data-race-optimizer={name}]")
        assert re.fullmatch(
            r"\d+\.\d{3}, (oscillates|smoother)", card.locator("[data-oscillation]").inner_text()
        )
        assert re.fullmatch(r"\d+\.\d %", card.locator("[data-accuracy]").inner_text())


def test_copy_as_command_reproduces_the_race_and_the_downloads(
    playground: str, page: Any, tmp_path: Path
) -> None:
    page.goto(playground + RACE)
    wait_for_state(page, "done")
    page.click("#race-copy-command")
    page.wait_for_function("document.querySelector('#race-share-status').textContent !== ''")
    command = page.input_value("#race-command")
    _, name, *args = shlex.split(command)
    assert name == "compare"
    code, _, stderr = run_cli(name, *args, "--out", str(tmp_path / "run"))
    assert code == 0, stderr
    runs = json.loads((tmp_path / "run" / "results.json").read_text())["runs"]
    shown = {
        run["optimizer"]: page.eval_on_selector(
            f"#race-cards .card[data-race-optimizer={run['optimizer']}]",
            "card => [Number(card.querySelector('[data-cost]').dataset.cost),"
            " Number(card.querySelector('[data-accuracy]').dataset.accuracy)]",
        )
        for run in runs
    }
    assert shown == {run["optimizer"]: [run["final_cost"], run["train_accuracy"]] for run in runs}
    with page.expect_download() as download:
        page.click("#race-download-results")
    assert download.value.suggested_filename == "results.json"
    saved = json.loads(Path(download.value.path()).read_text())["runs"]
    assert [(run["final_cost"], run["train_accuracy"]) for run in saved] == [
        (run["final_cost"], run["train_accuracy"]) for run in runs
    ]
    for button, filename in [("#race-download-chart", "cost_curves.png"),
                             ("#race-cards .card[data-race-optimizer=adam] .map-png",
                              "decision_boundary-adam.png")]:  # fmt: skip
        with page.expect_download() as download:
            page.click(button)
        assert download.value.suggested_filename == filename
        assert Path(download.value.path()).read_bytes().startswith(b"\x89PNG")


def test_pause_holds_step_trains_one_epoch_and_a_new_rate_restarts(
    playground: str, page: Any
) -> None:
    page.goto(playground + LONG_RACE)
    wait_for_state(page, "running")
    wait_for_epoch_above(page, 20)
    page.click("#race-pause")
    wait_for_state(page, "paused")
    held = epoch(page)
    page.wait_for_timeout(300)  # long enough for several progress messages, had it gone on
    assert epoch(page) == held
    page.click("#race-step")
    wait_for_state(page, "paused")
    assert epoch(page) == held + 1
    assert page.locator("#race-pause").inner_text() == "Resume"
    # Every epoch shown from now on, to see the restart begin at 0.
    page.evaluate("""() => {
      window.epochsSeen = [];
      const shown = document.querySelector('#race-epoch');
      new MutationObserver(() => epochsSeen.push(Number(shown.dataset.epoch)))
        .observe(shown, { attributes: true, attributeFilter: ['data-epoch'] });
    }""")
    page.fill("input[name=race-lr][data-race-optimizer=adam]", "0.01")
    page.wait_for_function("document.querySelector('#panel-race').dataset.race === '2'")
    wait_for_state(page, "running")
    wait_for_epoch_above(page, 0)
    seen = page.evaluate("epochsSeen")
    assert 0 in seen
    restarted = seen[seen.index(0) :]
    assert restarted == sorted(restarted)  # from 0 on, the new race only goes forward
    assert "lr.adam=0.01" in page.url
    assert "adam=0.01" in page.input_value("#race-command")


def test_an_invalid_race_setting_is_refused_next_to_its_field(playground: str, page: Any) -> None:
    page.goto(playground + RACE)
    wait_for_state(page, "done")
    page.fill("input[name=race-lr][data-race-optimizer=momentum]", "-1")
    message = page.locator("[data-error-for='optimizers.momentum']")
    message.wait_for(state="visible")
    assert "optimizers[1].learning_rate" in message.inner_text()
    assert "> 0" in message.inner_text()
    rate = "input[name=race-lr][data-race-optimizer=momentum]"
    assert page.get_attribute(rate, "aria-invalid") == "true"
    wait_for_state(page, "idle")
    page.fill(rate, "")
    page.fill("#race-hidden", "5,0")
    message = page.locator("[data-error-for=hidden_layers]")
    message.wait_for(state="visible")
    assert "hidden_layers[1]" in message.inner_text()
    assert page.get_attribute("#race-hidden", "aria-invalid") == "true"
    assert page.get_attribute(rate, "aria-invalid") is None


SHARED_RACE = {
    "view": "race",
    "dataset": "circles",
    "n_samples": "200",
    "noise": "0.1",
    "data_seed": "4",
    "hidden": "4",
    "batch_size": "full",
    "epochs": "40",
    "seed": "3",
    "schedule": "exponential",
    "schedule.decay_rate": "0.5",
    "schedule.every": "10",
    "optimizers": "momentum,adam",
    "lr.momentum": "0.05",
    "h.momentum.beta": "0.5",
    "lr.adam": "0.01",
    "h.adam.beta1": "0.8",
    "h.adam.amsgrad": "true",
}


def test_a_shared_race_url_restores_the_form_and_starts_that_race(
    playground: str, page: Any
) -> None:
    query = "&".join(f"{key}={value}" for key, value in SHARED_RACE.items())
    page.goto(f"{playground}?{query}")
    wait_for_state(page, "done")
    assert page.url == f"{playground}?{query}"  # the form writes back the same address
    values = {
        "#race-dataset": "circles", "#race-n-samples": "200", "#race-noise": "0.1",
        "#race-data-seed": "4", "#race-hidden": "4", "#race-batch-size": "full",
        "#race-epochs": "40", "#race-seed": "3", "#race-schedule": "exponential",
        "#race-schedule-decay_rate": "0.5", "#race-schedule-every": "10",
        "input[name=race-lr][data-race-optimizer=momentum]": "0.05",
        "input[name=race-lr][data-race-optimizer=adam]": "0.01",
        "input[name=race-h][data-race-optimizer=momentum][data-key=beta]": "0.5",
        "input[name=race-h][data-race-optimizer=adam][data-key=beta1]": "0.8",
    }  # fmt: skip
    assert {selector: page.input_value(selector) for selector in values} == values
    assert page.is_checked("input[name=race-h][data-race-optimizer=adam][data-key=amsgrad]")
    checked = page.eval_on_selector_all(
        "input[name=race-use]:checked", "boxes => boxes.map(b => b.value)"
    )
    assert checked == ["momentum", "adam"]
    command = page.evaluate("RaceView.view.started.command")
    for words in ("--dataset circles", "--layers 4", "--batch-size full", "--epochs 40",
                  "--seed 3", "--schedule exponential", "-H momentum.beta=0.5",
                  "-H adam.beta1=0.8", "-H adam.amsgrad=true"):  # fmt: skip
        assert words in command
    assert page.locator("#race-cards .card").count() == 2


def test_a_link_to_a_race_on_a_csv_asks_for_the_file_again(
    playground: str, page: Any, tmp_path: Path
) -> None:
    page.goto(playground + "?view=race&upload=fruit.csv&epochs=30&optimizers=gd,adam")
    asked = page.locator("[data-error-for=file]")
    asked.wait_for(state="visible")
    assert "choose it again" in asked.inner_text()
    assert "fruit.csv" in page.locator("#race-upload-note").inner_text()
    assert page.get_attribute("#panel-race", "data-state") == "idle"
    broken = tmp_path / "fruit.csv"
    broken.write_text(FRUIT.replace("150,7.1", "150,x"))
    page.set_input_files("#race-file", str(broken))
    page.wait_for_function(
        "document.querySelector('[data-error-for=file]').textContent.includes('row 2')"
    )
    assert "'x' is not a number" in asked.inner_text()
    assert page.get_attribute("#race-file", "aria-invalid") == "true"
    assert page.get_attribute("#panel-race", "data-state") == "idle"
    csv = tmp_path / "good" / "fruit.csv"
    csv.parent.mkdir()
    csv.write_text(FRUIT)
    page.set_input_files("#race-file", str(csv))
    wait_for_state(page, "done")
    assert (
        "fruit.csv: 12 examples, 2 features, 3 classes"
        in page.locator("#race-upload-note").inner_text()
    )
    assert page.url.endswith("?view=race&upload=fruit.csv&epochs=30&optimizers=gd,adam")
    assert "--data=fruit.csv" in page.evaluate("RaceView.view.started.command")


def test_landscape_hyperparameters_are_in_the_form_and_the_url(playground: str, page: Any) -> None:
    page.goto(
        playground + "?view=landscape&function=quadratic&optimizers=gd,momentum&h.momentum.beta=0.5"
    )
    page.wait_for_selector("#map[data-drawn]")
    beta = "input[name=h][data-owner=momentum][data-key=beta]"
    assert page.input_value(beta) == "0.5"
    assert "-H momentum.beta=0.5" in page.evaluate("state.result.command")
    before = drawn(page)
    page.fill(beta, "0.7")
    page.wait_for_function(f"Number(document.querySelector('#map').dataset.drawn) > {before}")
    assert "h.momentum.beta=0.7" in page.url
    assert "-H momentum.beta=0.7" in page.evaluate("state.result.command")
    page.fill(beta, "2")
    message = page.locator("[data-error-for-optimizer=momentum]")
    message.wait_for(state="visible")
    assert "optimizers[1].hyperparameters" in message.inner_text()
    assert page.get_attribute(beta, "aria-invalid") == "true"


def test_a_phone_sized_page_does_not_scroll_sideways_and_works_from_the_keyboard(
    browser: Any, playground: str
) -> None:
    with watched_page(browser, 390, 844) as page:
        page.goto(playground + "?view=race&optimizers=gd,momentum,adam&epochs=200")
        wait_for_state(page, "done")
        width = "document.scrollingElement.scrollWidth"
        assert page.evaluate(width) <= 390
        page.focus("#tab-race")
        page.keyboard.press("ArrowRight")
        assert page.evaluate("document.activeElement.id") == "tab-landscape"
        assert page.get_attribute("#tab-landscape", "aria-selected") == "true"
        assert page.locator("#panel-race").is_hidden()
        page.wait_for_selector("#map[data-drawn]")
        assert "view=landscape" in page.url
        assert page.evaluate(width) <= 390
        before = drawn(page)
        x = float(page.get_attribute("#start-x", "placeholder") or 0)
        page.focus("#map")
        page.keyboard.press("ArrowRight")
        page.wait_for_function(f"Number(document.querySelector('#map').dataset.drawn) > {before}")
        assert float(page.input_value("#start-x")) > x
        page.keyboard.press("Shift+Tab")
        page.focus("#tab-landscape")
        page.keyboard.press("ArrowLeft")
        assert page.get_attribute("#tab-race", "aria-selected") == "true"
        assert "view=race" in page.url


TEACHERS_GUIDE = Path(__file__).resolve().parents[1] / "docs" / "teachers.md"


def teachers_links() -> list[str]:
    """The page addresses docs/teachers.md gives, as `?view=...` code spans."""
    return re.findall(r"`(\?view=[^`]+)`", TEACHERS_GUIDE.read_text())


def test_the_teachers_guide_has_links_to_both_views() -> None:
    views = [parse_qs(link[1:])["view"][0] for link in teachers_links()]
    assert views == ["race", "landscape"]


@pytest.mark.parametrize("link", teachers_links())
def test_every_link_of_the_teachers_guide_opens_what_it_says(
    playground: str, page: Any, link: str
) -> None:
    query = {key: values[0] for key, values in parse_qs(link[1:]).items()}
    page.goto(playground + link)
    if query["view"] == "race":
        page.wait_for_selector("#panel-race[data-state=running], #panel-race[data-state=done]")
        checked = page.eval_on_selector_all(
            "input[name=race-use]:checked", "boxes => boxes.map(b => b.value)"
        )
        assert page.input_value("#race-dataset") == query["dataset"]
        assert page.input_value("#race-epochs") == query["epochs"]
        assert page.input_value("#race-batch-size") == query["batch_size"]
    else:
        page.wait_for_selector("#map[data-drawn]")
        checked = page.eval_on_selector_all(
            "input[name=use]:checked", "boxes => boxes.map(b => b.value)"
        )
        assert page.input_value("#function") == query["function"]
    assert checked == query["optimizers"].split(",")
    page.goto("about:blank")  # closes the race's websocket, which stops its training


def test_a_wrapper_and_its_inner_optimizer_in_the_landscape_form_and_its_url(
    playground: str, page: Any, tmp_path: Path
) -> None:
    page.goto(
        playground + "?view=landscape&function=quadratic&optimizers=adam,lookahead:sgd,sam:adam"
        "&h.lookahead:sgd.sync_period=3&steps=40"
    )
    page.wait_for_selector("#map[data-drawn]")
    assert page.input_value("select[name=inner][data-optimizer=lookahead]") == "sgd"
    assert page.input_value("select[name=inner][data-optimizer=sam]") == "adam"
    assert page.input_value("input[name=h][data-owner=lookahead][data-key=sync_period]") == "3"
    shown = page.evaluate("state.result.runs.map(r => r.optimizer)")
    assert shown == ["adam", "lookahead:sgd", "sam:adam"]
    # the chain's default rate is its inner optimizer's (sgd's on the quadratic)
    rates = page.evaluate("state.options.functions.find(f => f.name === 'quadratic')")
    placeholder = page.get_attribute("input[name=lr][data-optimizer=lookahead]", "placeholder")
    assert placeholder == str(rates["learning_rates"]["sgd"])
    page.select_option("select[name=inner][data-optimizer=lookahead]", "momentum")
    page.wait_for_function(
        "state.result && state.result.runs[1].optimizer === 'lookahead:momentum'"
    )
    shared = parse_qs(page.url.split("?", 1)[1])
    assert shared["optimizers"] == ["adam,lookahead:momentum,sam:adam"]
    assert shared["h.lookahead:momentum.sync_period"] == ["3"]
    assert not any(key.startswith("lr.") for key in shared)  # the defaults stay unwritten
    command = page.evaluate("state.result.command")
    assert "-H lookahead:momentum.sync_period=3" in command
    _, name, *args = shlex.split(command)
    code, _, stderr = run_cli(name, *args, "--out", str(tmp_path / "run"))
    assert code == 0, stderr
    runs = json.loads((tmp_path / "run" / "results.json").read_text())["runs"]
    assert [run["optimizer"] for run in runs] == ["adam", "lookahead:momentum", "sam:adam"]
    shown_runs = page.evaluate("state.result.runs")
    assert [{key: run[key] for key in record} for run, record in zip(
        shown_runs, runs, strict=True)] == runs  # fmt: skip


def test_a_wrappers_inner_settings_in_the_landscape_form_the_url_the_command_and_a_reload(
    playground: str, page: Any
) -> None:
    page.goto(playground + "?view=landscape&function=quadratic&optimizers=adam,lookahead:adam")
    page.wait_for_selector("#map[data-drawn]")
    row = ".optimizer:has(input[name=use][value=lookahead])"
    beta1 = "input[name=h][data-owner=lookahead][data-key=beta1]"
    assert page.get_attribute(beta1, "placeholder") == "0.9"  # adam's default, as adam's row
    assert page.locator(f"{row} input[data-key=sync_period]").count() == 1  # the wrapper's own
    page.select_option("select[name=inner][data-optimizer=lookahead]", "momentum")
    assert page.locator(beta1).count() == 0  # the inner's settings swap with the select
    assert page.get_attribute(f"{row} input[data-key=beta]", "placeholder") == "0.9"
    page.select_option("select[name=inner][data-optimizer=lookahead]", "adam")
    page.click(f"{row} details[data-inner-settings=adam] summary")
    page.fill(beta1, "0.8")
    # The switch back to adam may still be drawing: wait for the run of the new setting itself.
    page.wait_for_function(
        "state.result && state.result.runs[1].hyperparameters.beta1 === 0.8"
        " && document.querySelector('#map').dataset.animating === undefined"
    )
    assert parse_qs(page.url.split("?", 1)[1])["h.lookahead:adam.beta1"] == ["0.8"]
    assert page.evaluate("state.result.runs[0].hyperparameters.beta1") == 0.9  # adam's row
    page.click("#copy-command")
    page.wait_for_function("document.querySelector('#share-status').textContent !== ''")
    assert "-H lookahead:adam.beta1=0.8" in page.input_value("#command")
    page.reload()
    page.wait_for_selector("#map[data-drawn]")
    assert page.input_value(beta1) == "0.8"
    assert page.locator(f"{row} details[data-inner-settings=adam]").get_attribute("open") == ""
    page.fill(beta1, "2")  # refused next to the wrapper's row, naming the inner's field
    message = page.locator("[data-error-for-optimizer=lookahead]")
    message.wait_for(state="visible")
    assert "optimizers[1].hyperparameters.beta1: beta1 must be" in message.inner_text()
    assert page.get_attribute(beta1, "aria-invalid") == "true"


def test_a_wrappers_inner_settings_in_the_race_form_the_url_the_command_and_a_reload(
    playground: str, page: Any
) -> None:
    page.goto(f"{playground}?view=race&epochs=5&optimizers=adam,sam:sgd")
    wait_for_state(page, "done")
    row = ".optimizer[data-race-optimizer=sam]"
    beta1 = "input[name=race-h][data-race-optimizer=sam][data-key=beta1]"
    assert page.locator(f"{row} input[data-key=nesterov]").count() == 1  # sgd's settings
    page.select_option("select[name=race-inner][data-race-optimizer=sam]", "adam")
    assert page.locator(f"{row} input[data-key=nesterov]").count() == 0
    assert page.get_attribute(beta1, "placeholder") == "0.9"
    assert page.locator(f"{row} input[data-key=radius]").count() == 1  # the wrapper's own
    page.click(f"{row} details[data-inner-settings=adam] summary")
    page.fill(beta1, "0.8")
    page.click("#race-start")
    page.wait_for_function(
        "RaceView.view.started && RaceView.view.started.command.includes('beta1')"
    )
    wait_for_state(page, "done")
    shared = parse_qs(page.url.split("?", 1)[1])
    assert shared["optimizers"] == ["adam,sam:adam"]
    assert shared["h.sam:adam.beta1"] == ["0.8"]
    page.click("#race-copy-command")
    page.wait_for_function("document.querySelector('#race-share-status').textContent !== ''")
    assert "-H sam:adam.beta1=0.8" in page.input_value("#race-command")
    page.reload()
    wait_for_state(page, "done")
    assert page.input_value("select[name=race-inner][data-race-optimizer=sam]") == "adam"
    assert page.input_value(beta1) == "0.8"
    assert "-H sam:adam.beta1=0.8" in page.evaluate("RaceView.view.started.command")
    page.goto("about:blank")  # closes the race's websocket, which stops its training


def test_a_shared_race_url_with_a_wrapper_chain_restores_and_starts_it(
    playground: str, page: Any
) -> None:
    query = "view=race&epochs=5&optimizers=adam,sam:sgd&lr.sam:sgd=0.1&h.sam:sgd.radius=0.2"
    page.goto(f"{playground}?{query}")
    page.click("#race-start")
    wait_for_state(page, "done")
    assert page.input_value("select[name=race-inner][data-race-optimizer=sam]") == "sgd"
    assert page.input_value("input[name=race-lr][data-race-optimizer=sam]") == "0.1"
    assert page.input_value("input[name=race-h][data-race-optimizer=sam][data-key=radius]") == (
        "0.2"
    )
    assert parse_qs(page.url.split("?", 1)[1])["optimizers"] == ["adam,sam:sgd"]
    command = page.evaluate("RaceView.view.started.command")
    assert "-H sam:sgd.radius=0.2" in command and "sam:sgd=0.1" in command
    assert page.locator("#race-cards .card").count() == 2
