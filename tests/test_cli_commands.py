"""The command registry: every command is listed, and its module is imported only when that
command runs, so ``descentlab --help`` stays fast."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from descentlab.cli import main
from descentlab.cli.commands import COMMANDS, load_command, resumable
from descentlab.cli.parser import build_parser, command_of


def _modules_after(argv: list[str]) -> set[str]:
    """The modules a fresh ``python -m descentlab ARGV`` has imported when it exits."""
    code = (
        "import json, runpy, sys\n"
        f"sys.argv = ['descentlab', *{argv!r}]\n"
        "try:\n"
        "    runpy.run_module('descentlab', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return set(json.loads(result.stderr.strip().splitlines()[-1]))


def test_help_imports_no_command_module_and_no_heavy_library() -> None:
    loaded = _modules_after(["--help"])
    assert "descentlab.cli.parser" in loaded
    commands = {info.module for info in COMMANDS.values()}
    assert not commands & loaded
    for heavy in ("numpy", "matplotlib", "tqdm", "descentlab.sweep.engine", "descentlab.train"):
        assert heavy not in loaded


def test_a_commands_help_imports_that_command_only() -> None:
    loaded = _modules_after(["schedule", "--help"])
    assert COMMANDS["schedule"].module in loaded
    assert not {info.module for name, info in COMMANDS.items() if name != "schedule"} & loaded
    assert "matplotlib" not in loaded and "descentlab.sweep.engine" not in loaded


def test_every_command_is_listed_in_the_help_with_its_summary(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    shown = " ".join(capsys.readouterr().out.split())
    for name, info in COMMANDS.items():
        assert name in shown
        assert " ".join(info.summary.split()) in shown


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_module_provides_the_protocol_and_its_help(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    module = load_command(name)
    assert module.__name__ == COMMANDS[name].module
    assert isinstance(module.DESCRIPTION, str) and module.DESCRIPTION
    assert callable(module.add_options) and callable(module.run)
    with pytest.raises(SystemExit) as exited:
        main([name, "--help"])
    assert exited.value.code == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert f"usage: descentlab {name}" in shown
    assert " ".join(module.DESCRIPTION.split())[:60] in shown


def test_resume_continues_exactly_the_commands_that_checkpoint() -> None:
    assert {name for name in COMMANDS if resumable(name)} == {
        "compare",
        "train",
        "sweep",
        "benchmark",
    }


def test_the_parser_builds_the_options_of_the_named_command_only() -> None:
    assert command_of(["--version"]) is None
    assert command_of(["compare", "--epochs", "3"]) == "compare"
    assert command_of(["-h", "sweep"]) == "sweep"
    assert command_of(["bogus"]) is None
    parser = build_parser("train")
    subparsers = next(
        action for action in parser._actions if isinstance(action, argparse._SubParsersAction)
    )
    built = {
        name
        for name, sub in subparsers.choices.items()
        if len(sub._actions) > 1  # --help only
    }
    assert built == {"train"}
    args = parser.parse_args(["train", "--epochs", "3"])
    assert args.command == "train" and args.epochs == 3


def test_an_unknown_command_is_a_one_line_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["bogus"])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "invalid choice: 'bogus'" in error and len(error.strip().splitlines()) == 1


def test_the_program_freezes_the_collector_when_the_command_ends() -> None:
    """``console`` (the program) skips the shutdown's scan of the long-lived heap; the exit
    code is the command's."""
    code = (
        "import gc, runpy, sys\n"
        "sys.argv = ['descentlab', 'schedule', '--length', '3']\n"
        "frozen_before = gc.get_freeze_count()\n"
        "try:\n"
        "    runpy.run_module('descentlab', run_name='__main__')\n"
        "except SystemExit as exit_:\n"
        "    print(exit_.code, frozen_before, gc.get_freeze_count() > 0, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stderr.strip().splitlines()[-1] == "0 0 True"


def test_the_installed_program_is_console_and_main_leaves_the_collector_alone() -> None:
    import gc
    from importlib.metadata import entry_points

    (script,) = entry_points(group="console_scripts", name="descentlab")
    assert script.value == "descentlab.cli:console"
    frozen = gc.get_freeze_count()
    assert main(["schedule", "--length", "3"]) == 0
    assert gc.get_freeze_count() == frozen
