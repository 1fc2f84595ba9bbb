"""A benchmark's report in its run folder: report.md and its three pictures.

It lives with the run-folder writers because it names their files (``runs.names``), which the
report package must not import; the tables and pictures themselves are
``report.benchmark_report`` and ``report.benchmark_plots``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from descentlab.atomic import write_text_atomic
from descentlab.benchmark.config import BenchmarkConfig
from descentlab.benchmark.summary import Summary
from descentlab.benchmark.tasks import TaskRecord
from descentlab.report.benchmark_plots import plot_intervals, plot_profile, plot_sensitivity
from descentlab.report.benchmark_report import render_markdown
from descentlab.runs.names import INTERVALS_FILE, PROFILE_FILE, REPORT_MD_FILE, SENSITIVITY_FILE

__all__ = ["write_report"]


def write_report(
    folder: Path, config: BenchmarkConfig, records: Sequence[TaskRecord], summary: Summary
) -> list[str]:
    """Write the pictures (``PROFILE_FILE``, ``INTERVALS_FILE``, ``SENSITIVITY_FILE``), then
    ``REPORT_MD_FILE`` linking them, each atomically, into ``folder``; return their names in
    that order. ``summary`` is ``summarize(config, records)``."""
    folder = Path(folder)
    plot_profile(folder / PROFILE_FILE, summary)
    plot_intervals(folder / INTERVALS_FILE, summary)
    plot_sensitivity(folder / SENSITIVITY_FILE, summary, records)
    text = render_markdown(
        config,
        summary,
        profile=PROFILE_FILE,
        intervals=INTERVALS_FILE,
        sensitivity=SENSITIVITY_FILE,
    )
    write_text_atomic(folder / REPORT_MD_FILE, text)
    return [PROFILE_FILE, INTERVALS_FILE, SENSITIVITY_FILE, REPORT_MD_FILE]
