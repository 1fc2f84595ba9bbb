"""Drawing a run folder's pictures on two cores (``descentlab.report.drawing``): the first
picture in a forked child, the others here, the same files as drawing them one by one."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from descentlab.cli import main
from descentlab.report import drawing


def _writes_pid(path: Path) -> drawing.Picture:
    return lambda: path.write_text(str(os.getpid()))


def test_the_first_picture_is_drawn_in_a_child_and_the_others_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(drawing, "can_fork", lambda: True)
    files = [tmp_path / f"{index}.txt" for index in range(3)]
    drawing.draw_pictures([_writes_pid(file) for file in files], parallel=True)
    pids = [int(file.read_text()) for file in files]
    assert pids[0] != os.getpid()
    assert pids[1:] == [os.getpid(), os.getpid()]


@pytest.mark.parametrize("parallel", [False, True])
def test_without_a_second_core_or_when_not_asked_every_picture_is_drawn_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parallel: bool
) -> None:
    monkeypatch.setattr(drawing, "can_fork", lambda: False)
    files = [tmp_path / f"{index}.txt" for index in range(2)]
    drawing.draw_pictures([_writes_pid(file) for file in files], parallel=parallel)
    assert [int(file.read_text()) for file in files] == [os.getpid()] * 2


def test_a_picture_the_child_could_not_draw_is_drawn_again_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(drawing, "can_fork", lambda: True)
    here = os.getpid()
    tries: list[int] = []
    target = tmp_path / "first.txt"

    def fails_in_the_child() -> None:
        if os.getpid() != here:
            raise OSError(28, "No space left on device")
        tries.append(os.getpid())
        target.write_text("drawn here")

    drawing.draw_pictures([fails_in_the_child, _writes_pid(tmp_path / "b")], parallel=True)
    assert target.read_text() == "drawn here" and tries == [here]


def test_a_picture_that_fails_everywhere_raises_its_own_error_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(drawing, "can_fork", lambda: True)

    def broken() -> None:
        raise ValueError("no such colour map 'nope'")

    with pytest.raises(ValueError, match="no such colour map 'nope'"):
        drawing.draw_pictures([broken, _writes_pid(tmp_path / "b")], parallel=True)


def test_the_child_has_finished_when_a_picture_drawn_here_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(drawing, "can_fork", lambda: True)
    slow_file = tmp_path / "slow.txt"

    def slow() -> None:
        import time

        time.sleep(0.3)
        slow_file.write_text("done")

    def broken() -> None:
        raise RuntimeError("disk gone")

    with pytest.raises(RuntimeError, match="disk gone"):
        drawing.draw_pictures([slow, broken], parallel=True)
    assert slow_file.read_text() == "done"  # waited for before the error left


def test_a_process_with_another_thread_or_one_cpu_is_not_forked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert drawing.can_fork()
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    assert not drawing.can_fork()
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert not drawing.can_fork()


def test_compare_writes_the_same_pictures_on_two_cores_as_on_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pictures = {}
    for forks in (True, False):
        monkeypatch.setattr(drawing, "can_fork", lambda forks=forks: forks)
        out = tmp_path / str(forks)
        assert main(["compare", "--epochs", "30", "--quiet", "--out", str(out)]) == 0
        pictures[forks] = {png.name: png.read_bytes() for png in sorted(out.glob("*.png"))}
    assert sorted(pictures[True]) == [
        "confusion_matrices.png",
        "cost_curves.png",
        "decision_boundaries.png",
    ]
    assert pictures[True] == pictures[False]


def test_the_progress_bar_leaves_no_thread_behind(tmp_path: Path) -> None:
    from descentlab.cli.interrupt import train_interruptibly

    def train(interrupted: object, advance: object) -> int:
        assert callable(advance)
        advance(3)
        return 7

    before = {thread.name for thread in threading.enumerate()}
    result = train_interruptibly(
        "compare", tmp_path, train, bar={"total": 3}, on_interrupt=lambda stopped: None
    )
    assert result == 7
    assert {thread.name for thread in threading.enumerate()} == before


def _ended(pid: int) -> bool:
    """Whether process ``pid`` has ended (gone, or a zombie no one has reaped yet)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in "ZX"
    except FileNotFoundError:
        return True


def test_the_drawing_child_ends_with_a_command_killed_while_drawing(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"

    def slow() -> None:
        pid_file.write_text(str(os.getpid()))
        signal.pause()  # drawn for ever, unless the child is killed

    def dies() -> None:
        while not pid_file.exists():
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGKILL)

    command = os.fork()
    if command == 0:  # the command, which the kill ends while its child draws
        try:
            drawing.can_fork = lambda: True  # type: ignore[assignment]  # (in this process only)
            drawing.draw_pictures([slow, dies], parallel=True)
        finally:
            os._exit(3)
    _, status = os.waitpid(command, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while not _ended(child) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _ended(child)
