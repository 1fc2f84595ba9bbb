"""The benchmark's tables, report.md and pictures, from hand-built and from real task records."""

from __future__ import annotations

import re
from pathlib import Path

from benchmark_records import NAN, config, filled, problem, record
from descentlab.atomic import is_temporary
from descentlab.benchmark.config import BenchmarkConfig
from descentlab.benchmark.summary import Summary, summarize
from descentlab.benchmark.tasks import TaskRecord, run_task
from descentlab.benchmark.verdict import verdict
from descentlab.report.benchmark_plots import sensitivity_figure
from descentlab.report.benchmark_report import (
    problem_markdown,
    problem_table,
    ranking_markdown,
    ranking_table,
)
from descentlab.runs.benchmark_report import write_report
from descentlab.runs.names import INTERVALS_FILE, PROFILE_FILE, REPORT_MD_FILE, SENSITIVITY_FILE

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def two_problems() -> tuple[BenchmarkConfig, list[TaskRecord], Summary]:
    cfg = config(problem("acc"), problem("loss", "loss", 0.25), defaults=True)
    given = [
        record("acc", "gd", [0.50, 0.52, 0.51], epochs=[None, None, None]),
        record("acc", "momentum", [0.90, 0.91, 0.92], epochs=[4, 6, 5]),
        record("acc", "adam", [0.905, 0.915, 0.92], epochs=[2, 2, None]),
        record("acc", "adam", [0.6, 0.6, 0.6], kind="defaults"),
        record("loss", "gd", [0.2, 0.21, 0.22], epochs=[3, 3, 3], metric="loss"),
        record("loss", "momentum", [NAN, 0.3, NAN], metric="loss", diverged_configurations=2),
        record("loss", "adam", [0.25, 0.25, 0.26], metric="loss"),
    ]
    records = filled(cfg, given)
    return cfg, records, summarize(cfg, records)


def test_ranking_table_is_aligned_and_sorted_by_mean_rank() -> None:
    _, _, summary = two_problems()
    lines = ranking_table(summary).splitlines()
    assert lines[0].split("  ")[0] == "optimizer"
    # ranks on acc (adam, momentum, gd) and on the loss (gd, adam, momentum)
    assert [line.split()[0] for line in lines[1:]] == ["adam", "gd", "momentum"]
    assert lines[2].split() == ["gd", "2.00", "1/2", "1/2", "1/2"]
    assert lines[3].split()[1] == "2.50"
    ends = {line.index(line.split()[1]) + len(line.split()[1]) for line in lines[1:]}
    assert ends == {len("optimizer  mean rank")}  # the mean-rank column is right-aligned


def test_ranking_markdown_has_a_header_a_rule_and_a_row_per_optimizer() -> None:
    _, _, summary = two_problems()
    lines = ranking_markdown(summary).splitlines()
    assert lines[0] == (
        "| optimizer | mean rank | tied with best | reached target | fastest to target |"
    )
    assert lines[1] == "| --- | --- | --- | --- | --- |"
    assert len(lines) == 2 + 3


def test_problem_table_shows_interval_epochs_diverged_gap_and_ties() -> None:
    _, _, summary = two_problems()
    acc, loss = summary.problems
    rows = {line.split()[0]: line for line in problem_table(acc, defaults=True).splitlines()}
    assert "0.9133 [" in rows["adam"] and rows["adam"].endswith("best")
    assert "2 (2/3)" in rows["adam"]
    assert "+0.3133" in rows["adam"]  # tuned 0.9133 - defaults 0.6
    assert rows["momentum"].endswith("tied")
    assert "- (0/3)" in rows["gd"]
    markdown = problem_markdown(loss, defaults=False)
    momentum = next(line for line in markdown.splitlines() if line.startswith("| momentum"))
    assert "0.3 [0.3, 0.3] (1/3 finite)" in momentum
    assert "| 50% |" in momentum
    assert momentum.endswith("| left out |")
    assert "tuning gap" not in markdown


def test_write_report_writes_real_pngs_and_a_report_that_links_them(tmp_path: Path) -> None:
    cfg, records, summary = two_problems()
    written = write_report(tmp_path, cfg, records, summary)
    assert written == [PROFILE_FILE, INTERVALS_FILE, SENSITIVITY_FILE, REPORT_MD_FILE]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(written)
    for name in (PROFILE_FILE, INTERVALS_FILE, SENSITIVITY_FILE):
        assert (tmp_path / name).read_bytes()[:8] == PNG_MAGIC
    text = (tmp_path / REPORT_MD_FILE).read_text()
    assert ranking_markdown(summary) in text
    for line in verdict(summary).splitlines():
        assert line in text
    for name in (PROFILE_FILE, INTERVALS_FILE, SENSITIVITY_FILE):
        assert re.search(rf"!\[[^\]]*\]\({re.escape(name)}\)", text)
    assert "4 configurations per optimizer and problem" in text
    assert "3 fresh seeds (8 to 10)" in text
    assert problem_markdown(summary.problems[1], defaults=True) in text
    assert not any(is_temporary(p.name) for p in tmp_path.iterdir())


def test_sensitivity_marks_diverged_configurations_apart_from_the_scores() -> None:
    cfg = config(problem("a"))
    records = filled(cfg, [record("a", "gd", [0.8] * 3, diverged_configurations=2)])
    figure = sensitivity_figure(summarize(cfg, records), records)
    collections = figure.axes[0].collections
    gd_points, gd_marks = collections[0], collections[1]
    assert len(gd_points.get_offsets()) == 2
    assert sorted(float(x) for x, _ in gd_marks.get_offsets()) == [0.01, 0.1]
    lows, highs = figure.axes[0].get_xlim()
    assert lows < 1e-4 and highs > 0.1


def test_report_from_real_runs_on_a_tiny_benchmark(tmp_path: Path) -> None:
    tiny = problem("tiny", target=0.8)
    cfg = BenchmarkConfig((tiny,), ("gd", "adam"), budget=3, seeds=2, seed=0, defaults=True)
    records = [run_task(task, cfg) for task in cfg.tasks]
    summary = summarize(cfg, records)
    written = write_report(tmp_path, cfg, records, summary)
    assert all((tmp_path / name).stat().st_size > 0 for name in written)
    text = (tmp_path / REPORT_MD_FILE).read_text()
    assert "### tiny" in text and "| gd |" in text and "| adam |" in text
    assert ranking_table(summary).splitlines()[0].startswith("optimizer")


def test_a_benchmark_where_everything_diverged_still_gets_a_report(tmp_path: Path) -> None:
    cfg = config(problem("a"), defaults=True)
    records = [
        record("a", name, [NAN] * 3, kind=kind, diverged_configurations=4)
        for name in ("gd", "momentum", "adam")
        for kind in ("tuned", "defaults")
    ]
    summary = summarize(cfg, records)
    first = summary.problems[0]
    assert first.best is None and first.left_out == ("gd", "momentum", "adam")
    assert summary.profile.rho == ((0.0,), (0.0,), (0.0,))
    assert [row.mean_rank for row in summary.ranking] == [2.0, 2.0, 2.0]
    text = verdict(summary)
    assert "- a: no optimizer had 2 finite test scores; nothing was compared." in text
    assert "No optimizer was the best or tied with the best on every problem." in text
    assert "- Tuning on a: no gap could be measured." in text
    write_report(tmp_path, cfg, records, summary)
    assert (
        "| gd | - (0/3 finite) | 0.5 [0.5, 0.5] | - (0/3) | 100% | - | - | left out |"
        in (tmp_path / REPORT_MD_FILE).read_text()
    )


def test_thirty_optimizers_get_thirty_distinct_looks() -> None:
    from descentlab.report.plots import color_for, line_style_for, marker_for

    assert len({(color_for(i), line_style_for(i)) for i in range(30)}) == 30
    assert len({(color_for(i), marker_for(i)) for i in range(30)}) == 30
    assert (line_style_for(0), marker_for(0)) == ("-", "o")
