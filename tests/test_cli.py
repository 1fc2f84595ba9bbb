"""The command line, called in-process (``main(argv)``) with the words a user types; the entry
point itself (``python -m descentlab``) and the terminal check run as fresh processes."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import cli_command, run_cli, run_cli_on_terminal, run_cli_process
from descentlab import __version__
from helpers import mini_batch_names


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"descentlab {__version__}"


def test_python_m_descentlab_is_the_command() -> None:
    """The entry point itself, in a fresh process: the exit code and output reach the shell."""
    result = run_cli_process("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"descentlab {__version__}"
    usage = run_cli_process()
    assert usage.returncode == 2 and "usage: descentlab" in usage.stdout


def test_help_teaches_the_commands_and_defaults() -> None:
    top = run_cli("--help")
    assert top.returncode == 0
    assert "compare" in top.stdout and "train" in top.stdout
    compare = run_cli("compare", "--help")
    for option in ("--optimizers", "--learning-rate", "--batch-size", "--layers", "--seed"):
        assert option in compare.stdout
    assert "'full' is batch gradient descent" in " ".join(compare.stdout.split())


def test_no_command_prints_help_and_exits_2() -> None:
    result = run_cli()
    assert result.returncode == 2
    assert "usage: descentlab" in result.stdout


BAD_INPUTS = [
    (["--optimizers", "gd,nesterov"], "unknown optimizer 'nesterov'; choose one of: gd, momentum"),
    (["--optimizers", "gd,gd"], "optimizer 'gd' is listed twice"),
    (["--learning-rate", "0"], "learning rate must be a finite number > 0, got 0.0"),
    (["--learning-rate", "-1"], "learning rate must be a finite number > 0, got -1.0"),
    (["--learning-rate", "fast"], "learning rate must be a number, got 'fast'"),
    (["--learning-rate", "nan"], "learning rate must be a finite number > 0, got nan"),
    (["--batch-size", "0"], "batch size must be a positive integer or 'full', got '0'"),
    (["--batch-size", "-64"], "batch size must be a positive integer or 'full', got '-64'"),
    (["--batch-size", "big"], "batch size must be a positive integer or 'full', got 'big'"),
    (["--beta", "1"], r"beta must be a number in [0, 1), got 1.0"),
    (["--beta1", "-0.1"], r"beta1 must be a number in [0, 1), got -0.1"),
    (["--beta2", "1.5"], r"beta2 must be a number in [0, 1), got 1.5"),
    (["--epsilon", "-1"], "epsilon must be a finite number >= 0, got -1.0"),
    (["--epochs", "0"], "epochs must be an integer >= 1, got 0"),
    (["--epochs", "ten"], "epochs must be an integer >= 1, got 'ten'"),
    (["--layers", "5,,2"], "layers must be comma-separated positive integers"),
    (["--layers", "5,0"], "layers must be comma-separated positive integers"),
    (["--layers", "five"], "layers must be comma-separated positive integers"),
    (["--layers", "5,²"], "layers must be comma-separated positive integers in ASCII digits"),
    (["--layers", "5,٣"], "in ASCII digits (hidden sizes, e.g. 5,2), got '5,٣'"),
    (["--epochs", "٣"], "epochs must be an integer >= 1 in ASCII digits, got '٣'"),
    (["--epochs", "1_000"], "epochs must be an integer >= 1, got '1_000'"),
    (["--seed", "-3"], "seed must be an integer >= 0, got -3"),
    (["--colour", "red"], "unrecognized arguments: --colour red"),
    (["--learning-rate", "gd=0.1,adam=0.01"], "--learning-rate gives no rate for 'momentum'"),
    (["--learning-rate", "gd=-1"], "learning rate of gd must be a finite number > 0, got -1.0"),
    (["--learning-rate", "0.1,0.2"], "learning rate '0.1,0.2' gives more than one default rate"),
    (["--learning-rate", "gdd=0.1"], "unknown optimizer 'gdd'"),
    (
        ["--optimizers", "gd", "--learning-rate", "adam=0.1"],
        "--learning-rate names 'adam', which is not among the optimizers (gd)",
    ),
    (["-H", "nesterov=true"], "no chosen optimizer has a hyperparameter 'nesterov'; allowed: "),
    (["-H", "momentum"], "hyperparameter must look like NAME=VALUE or OPTIMIZER.NAME=VALUE"),
    (["-H", "beta=1.5"], r"beta must be a number in [0, 1), got 1.5"),
    (["-H", "adam.beta1=x"], "beta1 must be a number, got 'x'"),
    (["--schedule", "linear"], "argument --schedule: invalid choice: 'linear'"),
    (["--schedule", "inverse-time", "--decay-every", "0"], "decay every must be an integer >= 1"),
    (["--schedule", "exponential", "--decay-rate", "2"], "decay rate must be in (0, 1]"),
    (
        ["--schedule", "cosine", "--warmup", "5"],
        "warmup must be shorter than the run (1 epoch), got 5",
    ),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUTS)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    args: list[str], message: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    # A later --epochs in args overrides the short default, as argparse keeps the last one.
    result = run_cli("compare", "--epochs", "1", *args, "--out", str(out), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("descentlab compare: error: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr
    assert not (out / "results.json").exists()


def test_schedule_command_prints_and_plots(tmp_path: Path) -> None:
    out = tmp_path / "schedule.png"
    result = run_cli(
        "schedule", "--schedule", "inverse-time", "--decay-every", "1000", "--length", "3000",
        "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "inverse-time schedule, lr0 0.1, per epoch"
    table = dict(line.split() for line in lines[2:-1])
    assert (table["0"], table["900"], table["1200"], table["2100"]) == (
        "0.1",
        "0.1",
        "0.05",
        "0.0333333",
    )
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = run_cli("schedule", "--out", str(tmp_path / "schedule.txt"))
    assert bad.returncode == 2 and "--out must name a .png file" in bad.stderr


def test_unknown_train_optimizer(tmp_path: Path) -> None:
    result = run_cli("train", "--optimizer", "bfgs", "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert "unknown optimizer 'bfgs'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unwritable_out_is_refused_before_training(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run_cli("compare", "--epochs", "1", "--out", str(blocker / "run"))
    assert result.returncode == 2
    assert result.stderr.startswith(f"descentlab compare: error: --out '{blocker / 'run'}'")
    assert "is not a writable folder" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert blocker.read_text() == "not a folder"


def test_out_that_already_holds_a_run_is_refused_and_left_intact(tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = run_cli("train", "--optimizer", "gd", "--epochs", "2", "--out", str(out), "--quiet")
    assert first.returncode == 0, first.stderr
    before = (out / "results.json").read_bytes()
    second = run_cli("train", "--optimizer", "gd", "--epochs", "2", "--out", str(out))
    assert second.returncode == 2
    assert "already holds a run" in second.stderr
    assert (out / "results.json").read_bytes() == before


def test_train_writes_one_run_with_the_same_schema(tmp_path: Path) -> None:
    out = tmp_path / "train"
    result = run_cli(
        "train", "--optimizer", "momentum", "--epochs", "250", "--batch-size", "full",
        "--learning-rate", "0.05", "--layers", "4", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    results = json.loads((out / "results.json").read_text())
    assert results["command"] == "train" and results["status"] == "finished"
    assert results["config"]["layers"] == [2, 4, 1]
    assert results["config"]["batch_size"] is None
    (run,) = results["runs"]
    assert run["optimizer"] == "momentum"
    assert run["hyperparameters"] == {"learning_rate": 0.05, "beta": 0.9}
    assert run["batches_per_epoch"] == 1 and run["cost_every"] == 100
    assert len(run["costs"]) == 3  # epochs 0, 100, 200
    assert "momentum" in result.stdout and "final cost" in result.stdout
    for name in ("report.html", "cost_curves.png", "decision_boundaries.png"):
        assert (out / name).stat().st_size > 0


def test_json_flag_prints_exactly_the_results_document(tmp_path: Path) -> None:
    out = tmp_path / "j"
    result = run_cli("compare", "--epochs", "3", "--json", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == json.loads((out / "results.json").read_text())


def test_quiet_prints_nothing(tmp_path: Path) -> None:
    result = run_cli("compare", "--epochs", "2", "--quiet", "--out", str(tmp_path / "q"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""


def test_default_out_is_a_timestamped_folder_under_runs(tmp_path: Path) -> None:
    result = run_cli("train", "--optimizer", "gd", "--epochs", "1", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (folder,) = (tmp_path / "runs").iterdir()
    assert folder.name.startswith("train-")
    assert (folder / "results.json").exists()


def test_progress_bar_only_on_a_terminal(tmp_path: Path) -> None:
    code, shown, stderr = run_cli_on_terminal(
        "train", "--optimizer", "gd", "--epochs", "300", "--out", str(tmp_path / "tty")
    )
    assert code == 0
    # tqdm draws on stderr; on a terminal it shows "gd:" and the epoch counter.
    assert b"epoch" in stderr and b"gd" in stderr
    piped = run_cli_process(
        "train", "--optimizer", "gd", "--epochs", "300", "--out", str(tmp_path / "p")
    )
    assert piped.stderr == ""
    assert b"final cost" in shown


def test_every_optimizer_runs_from_the_cli_with_scoped_hyperparameters(tmp_path: Path) -> None:

    out = tmp_path / "all"
    result = run_cli(
        "compare", "--optimizers", ",".join(mini_batch_names()), "--learning-rate", "0.01",
        "-H", "sgd.momentum=0.9", "-H", "sgd.nesterov=true", "-H", "weight_decay=0.001",
        "--epochs", "20", "--quiet", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    runs = {run["optimizer"]: run for run in json.loads((out / "results.json").read_text())["runs"]}
    assert list(runs) == mini_batch_names()
    assert runs["sgd"]["hyperparameters"]["momentum"] == 0.9
    assert runs["sgd"]["hyperparameters"]["nesterov"] is True
    assert runs["rmsprop"]["hyperparameters"]["momentum"] == 0.0  # the scoped one stayed in sgd
    for name in ("sgd", "rmsprop", "adagrad", "adam", "adamw"):
        assert runs[name]["hyperparameters"]["weight_decay"] == 0.001
    assert "weight_decay" not in runs["nadam"]["hyperparameters"]


def test_a_diverging_run_is_reported_while_the_others_finish(tmp_path: Path) -> None:
    out = tmp_path / "div"
    result = run_cli(
        "compare", "--learning-rate", "gd=1000,momentum=0.1,adam=0.01", "--epochs", "60",
        "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no numpy warnings
    assert "diverged at epoch 0" in result.stdout
    runs = {run["optimizer"]: run for run in json.loads((out / "results.json").read_text())["runs"]}
    assert runs["gd"]["status"] == "diverged" and runs["gd"]["diverged_epoch"] == 0
    assert "rose above 100 times its initial value" in runs["gd"]["diverged_cause"]
    assert runs["gd"]["epochs"] == 1
    assert runs["adam"]["status"] == "finished" and runs["adam"]["epochs"] == 60


@pytest.mark.parametrize("word", ["\x1e", "a\nb", "\x1bx", "\u2028"])
def test_control_characters_in_arguments_keep_errors_on_one_line(word: str) -> None:
    result = run_cli("compare", "--learning-rate", word)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, repr(result.stderr)


# --- output paths: checked before any work ----------------------------------------------------


def _output_case(tmp_path: Path, where: str, suffix: str) -> tuple[Path, str]:
    """An output path that cannot be written, even by root, and the reason named."""
    if where == "proc":
        return Path(f"/proc/descentlab-test{suffix}"), "cannot write in folder '/proc' ("
    if where == "directory":
        folder = tmp_path / f"folder{suffix}"
        folder.mkdir()
        return folder, "is a directory; name a file to write"
    return tmp_path / "missing" / f"out{suffix}", f"folder '{tmp_path / 'missing'}' does not exist"


OUTPUTS = [
    # (the command's arguments before the output option, the option, the file's suffix)
    (["predict", "--model", "never-read.npz", "--data", "never-read.csv"], "--out", ".csv"),
    (["schedule", "--length", "10"], "--out", ".png"),
    (["train", "--epochs", "1"], "--save", ".npz"),
]


@pytest.mark.parametrize("where", ["proc", "directory", "missing-folder"])
@pytest.mark.parametrize(("args", "option", "suffix"), OUTPUTS)
def test_unwritable_outputs_are_refused_before_any_work(
    args: list[str], option: str, suffix: str, where: str, tmp_path: Path
) -> None:
    path, reason = _output_case(tmp_path, where, suffix)
    run_folder = tmp_path / "run"
    extra = ["--out", str(run_folder)] if args[0] == "train" else []
    result = run_cli(*args, *extra, option, str(path), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""  # nothing computed, nothing printed
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"descentlab {args[0]}: error: {option} {str(path)!r}")
    assert reason in line and "Traceback" not in result.stderr
    assert not run_folder.exists()  # train: no run folder started


@pytest.mark.skipif(
    os.geteuid() == 0, reason="root writes into a read-only folder; /proc is the root-proof case"
)
def test_a_read_only_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    result = run_cli("schedule", "--out", str(folder / "s.png"))
    assert result.returncode == 2
    assert "cannot write in folder" in result.stderr and "Permission denied" in result.stderr


# --- a closed stdout --------------------------------------------------------------------------


def _run_with_stdout_closed(*args: str) -> subprocess.CompletedProcess[str]:
    """``descentlab ARGS >&-``: fd 1 closed in the child (``stdout=DEVNULL`` would leave it
    open)."""
    return subprocess.run(
        cli_command(*args),
        stdin=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=300,
        preexec_fn=lambda: os.close(1),
    )


def test_a_closed_stdout_loses_the_printout_not_the_run(tmp_path: Path) -> None:
    printed = _run_with_stdout_closed("train", "--epochs", "2", "--out", str(tmp_path / "a"))
    assert printed.returncode == 141, printed.stderr
    (line,) = printed.stderr.splitlines()
    assert line.startswith("descentlab: stdout is closed, so ") and line.endswith(" were lost")
    assert json.loads((tmp_path / "a" / "results.json").read_text())["status"] == "finished"
    quiet = _run_with_stdout_closed(
        "train", "--epochs", "2", "--quiet", "--out", str(tmp_path / "b")
    )
    assert (quiet.returncode, quiet.stderr) == (0, "")
    refused = _run_with_stdout_closed("train", "--layers", "5,²")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "in ASCII digits" in refused.stderr and len(refused.stderr.splitlines()) == 1


# --- wrappers: WRAPPER:INNER everywhere an optimizer is named ------------------------------


def test_compare_takes_wrapper_chains_and_scopes_their_settings(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = run_cli(
        "compare", "--optimizers", "adam,lookahead:adam,sam:sgd", "--epochs", "3",
        "--learning-rate", "0.01,lookahead:adam=0.05", "-H", "lookahead:adam.beta1=0.8",
        "-H", "beta2=0.99", "-H", "sync_period=2", "-H", "sam:sgd.radius=0.1",
        "--quiet", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    runs = {run["optimizer"]: run for run in json.loads((out / "results.json").read_text())["runs"]}
    assert list(runs) == ["adam", "lookahead:adam", "sam:sgd"]
    assert runs["adam"]["hyperparameters"]["beta1"] == 0.9  # scoped to the chain only
    assert runs["adam"]["hyperparameters"]["beta2"] == 0.99  # unscoped: every one that has it
    chain = runs["lookahead:adam"]["hyperparameters"]
    assert chain["learning_rate"] == 0.05 and chain["beta1"] == 0.8 and chain["beta2"] == 0.99
    assert chain["sync_period"] == 2 and chain["slow_step_size"] == 0.5
    assert runs["sam:sgd"]["hyperparameters"]["radius"] == 0.1
    # file names write the chain's ':' as '+' (Windows refuses ':')
    assert runs["lookahead:adam"]["params_file"] == "lookahead+adam-params.npy"
    assert (out / "sam+sgd-epoch-costs.npy").is_file()
    assert not any(":" in path.name for path in out.iterdir())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--optimizers", "adam,lookahead"],
         "lookahead wraps another optimizer: name it lookahead:INNER, e.g. lookahead:adam"),
        (["--optimizers", "sam:nesterov"], "unknown optimizer 'nesterov'; choose one of: gd, "),
        (["--optimizers", "adam:sgd"], "optimizer 'adam' wraps no other optimizer, in 'adam:sgd'"),
        (["--optimizers", "lookahead:adam", "-H", "radius=0.1"],
         "no chosen optimizer has a hyperparameter 'radius'; allowed: amsgrad, beta1, "),
        (["--optimizers", "lookahead:adam", "-H", "lookahead:sgd.momentum=0.9"],
         "'lookahead:sgd' is not among the optimizers (lookahead:adam)"),
        (["--optimizers", "lookahead:adam", "-H", "sync_period=0"],
         "sync_period must be an integer >= 1, got 0"),
    ],
)  # fmt: skip
def test_a_bad_wrapper_chain_is_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    result = run_cli("compare", *args, "--epochs", "1", "--out", str(tmp_path / "run"))
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2  # usage line + the one-line error
    assert not (tmp_path / "run").exists()


def test_train_saves_and_predicts_with_a_wrapper_chain(tmp_path: Path) -> None:
    model = tmp_path / "model.npz"
    result = run_cli(
        "train", "--optimizer", "lookahead:sam:adam", "--epochs", "3", "--learning-rate",
        "0.01", "--quiet", "--save", str(model), "--out", str(tmp_path / "run"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (run,) = json.loads((tmp_path / "run" / "results.json").read_text())["runs"]
    assert run["optimizer"] == "lookahead:sam:adam"
    assert run["hyperparameters"]["radius"] == 0.05 and run["hyperparameters"]["sync_period"] == 5


def test_the_help_documents_the_wrapper_syntax() -> None:
    text = " ".join(run_cli("compare", "--help").stdout.split())
    assert "WRAPPER:INNER" in text and "lookahead:adam" in text
