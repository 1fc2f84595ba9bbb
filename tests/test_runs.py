"""Run folders (``descentlab.runs``): one results header and one dataset block for every
command, every file name a constant, statuses and the lock."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from descentlab import datasets
from descentlab.experiment import ExperimentConfig, prepare_data, run_experiment
from descentlab.runs import FolderLock, RunFolder, read_status
from descentlab.runs.header import dataset_record
from descentlab.runs.names import RESULTS_FILE, SENSITIVITY_FILE
from descentlab.runs.sweep import write_sweep_folder
from descentlab.runs.training import write_run_folder
from descentlab.sweep import SweepConfig, run_sweep

HEADER = ["descentlab_version", "command", "status", "created"]


@pytest.fixture(scope="module")
def sweep_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    dataset = datasets.load("blobs")
    config = SweepConfig(optimizers=("adam",), learning_rate="0.01", seeds=(0,), epochs=2)
    out = tmp_path_factory.mktemp("sweep")
    results = write_sweep_folder(out, run_sweep(config, dataset), dataset)
    assert (out / SENSITIVITY_FILE).exists()
    assert json.loads((out / RESULTS_FILE).read_text()) == results
    return results


def test_the_sweeps_dataset_block_keeps_classes_and_feature_names(
    sweep_results: dict[str, object],
) -> None:
    dataset = datasets.load("blobs")
    block = sweep_results["dataset"]
    assert isinstance(block, dict)
    assert block["classes"] == list(dataset.classes)
    assert block["feature_names"] == list(dataset.feature_names)
    assert block == dataset_record(dataset)
    layers = sweep_results["config"]["layers"]  # type: ignore[index]
    assert layers[-1] == dataset.n_classes  # softmax: one output per class


def test_compare_and_sweep_share_the_header_and_the_dataset_block(
    sweep_results: dict[str, object], tmp_path: Path
) -> None:
    dataset = datasets.load("blobs")
    config = ExperimentConfig(optimizers="adam", epochs=2)
    data = prepare_data(config, dataset)
    results = write_run_folder(
        tmp_path, "train", config, dataset, run_experiment(config, dataset, data=data), data
    )
    assert list(results)[:4] == HEADER == list(sweep_results)[:4]
    compare_block = dict(results["dataset"])  # type: ignore[call-overload]
    for key in ("splits", "scaling"):  # what only a run with prepared splits knows
        compare_block.pop(key)
    assert compare_block == sweep_results["dataset"]


def test_a_run_folder_records_its_status_and_is_locked(tmp_path: Path) -> None:
    out = tmp_path / "run"
    folder = RunFolder(out, "train", {"epochs": 1}, {"argv": ["train"]})
    with folder:
        folder.started()
        assert read_status(out) == "running"
        with pytest.raises(ValueError, match="another descentlab process"), FolderLock(out):
            pass
        folder.interrupted(epochs_done=3)
    document = json.loads((out / RESULTS_FILE).read_text())
    assert document["status"] == "interrupted" and document["epochs_done"] == 3
    assert document["resume"] == f"descentlab resume {out}"
    with pytest.raises(ValueError, match="holds an unfinished run"):
        RunFolder(out, "train", {}, {})
    assert RunFolder(out, "train", {}, {}, resuming=True).checkpoint == out / "checkpoint.npz"


def test_no_results_file_name_is_typed_twice() -> None:
    source = Path(__file__).resolve().parent.parent / "src" / "descentlab"
    names = ('"results.json"', '"checkpoint.npz"', '"sensitivity.png"', '"report.html"')
    typed = {
        str(path.relative_to(source)): name
        for path in source.rglob("*.py")
        for name in names
        if name in path.read_text() and path.name != "names.py"
    }
    assert typed == {}
