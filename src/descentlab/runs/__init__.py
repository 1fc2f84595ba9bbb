"""Run folders: the one writer of every file a command leaves behind.

``names``      every file name, as a constant
``folder``     the folder: created and checked, locked (temporary files of a killed process
               removed), its status; the one results.json writer
``header``     what every results.json begins with; the dataset block
``training``   the body of ``compare`` and ``train`` (histories, pictures, report.html)
``sweep``      the body of ``sweep`` (sensitivity.png)
``landscape``  the body of ``landscape`` (trajectories, loss, animation)
``benchmark_report``  a benchmark's report.md and its pictures
``model``      the model file ``train --save`` writes

Computation (training, experiments, sweeps) never imports this package; it hands its results
here.
"""

from descentlab.runs.folder import (
    FolderLock,
    RunFolder,
    check_reusable,
    claimed,
    default_out_dir,
    prepare_out_dir,
    read_results,
    read_status,
    to_json,
    write_results,
)

__all__ = [
    "FolderLock",
    "RunFolder",
    "check_reusable",
    "claimed",
    "default_out_dir",
    "prepare_out_dir",
    "read_results",
    "read_status",
    "to_json",
    "write_results",
]
