"""The body of ``benchmark``'s run folder: report.md and its pictures, then results.json."""

from __future__ import annotations

import platform
from pathlib import Path

import numpy as np

from descentlab import cpu
from descentlab.benchmark.runner import BenchmarkOutcome
from descentlab.benchmark.summary import Summary, summarize
from descentlab.benchmark.verdict import verdict
from descentlab.runs.folder import write_results
from descentlab.runs.header import engine_record, results_header


def results_dict(outcome: BenchmarkOutcome, summary: Summary) -> dict[str, object]:
    """The whole results.json document of a benchmark: the protocol, every task's full record
    (every configuration and trial, so the scores can be recomputed), the scores, the
    verdict, and where it ran (with ``cluster`` when on a Dask cluster)."""
    execution = outcome.execution
    where = {} if execution.cluster is None else {"cluster": execution.cluster}
    return {
        **results_header("benchmark"),
        "config": outcome.config.to_dict(),
        "tasks": [record.to_dict() for record in outcome.records],
        "summary": summary.to_dict(),
        "verdict": verdict(summary),
        "execution": {
            "processes": execution.processes,
            "seconds": round(execution.seconds, 3),
            "resumed_tasks": execution.resumed_tasks,
        },
        "engine": engine_record(
            outcome.engine, [name for record in outcome.records for name in record.numpy_updates]
        ),
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "cpu": cpu.describe(),
        },
        **where,
    }


def write_benchmark_folder(
    out_dir: Path, outcome: BenchmarkOutcome
) -> tuple[dict[str, object], str]:
    """Write report.md and its pictures, then results.json (last, atomically); return the
    document and the text the command prints (the ranking table and the verdict)."""
    from descentlab.report.benchmark_report import ranking_table
    from descentlab.runs.benchmark_report import write_report

    summary = summarize(outcome.config, outcome.records)
    write_report(Path(out_dir), outcome.config, outcome.records, summary)
    results = results_dict(outcome, summary)
    write_results(Path(out_dir), results)
    return results, f"{headline(outcome)}\n\n{ranking_table(summary)}\n\n{verdict(summary)}"


def headline(outcome: BenchmarkOutcome) -> str:
    """What was benchmarked, in one line: the first line the command prints."""
    config = outcome.config
    where = f"suite {config.suite}" if config.suite is not None else "problem files"
    execution = outcome.execution
    ran = _count(execution.processes, "process")
    if execution.cluster is not None:
        ran = f"{_count(execution.processes, 'Dask worker')} ({execution.cluster['scheduler']})"
    resumed = execution.resumed_tasks
    return (
        f"descentlab benchmark: {_count(len(config.problems), 'problem')} ({where}), "
        f"{_count(len(config.optimizers), 'optimizer')}, "
        f"{_count(config.budget, 'configuration')} each, {_count(config.seeds, 'seed')} "
        f"(search seed {config.seed}); {ran}" + (f", {resumed} tasks read back" if resumed else "")
    )


def _count(n: int, noun: str) -> str:
    plural = noun + ("es" if noun.endswith("s") else "s")
    return f"{n} {noun if n == 1 else plural}"
