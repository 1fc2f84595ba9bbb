"""Every example in README.md and docs/**/*.md runs here, and its output must be the page's.

How a page says what runs (docs/development.md explains it to writers):

- A ```` ```console ```` block is a terminal session: each ``$ descentlab ...`` line (``\\`` joins
  lines) is run in-process through ``descentlab.cli.main(argv)``, and the lines under it, up to
  the next ``$``, are what it prints (stdout and stderr together). It must exit 0, or 2 when
  the output it shows is an error (``: error: ``).
- A ```` ```sh ```` block holds commands only; each must exit 0. A ```` ```text ```` block right
  after it (blank lines between are fine) is what the whole block prints.
- A ```` ```pycon ```` block (``>>>``) runs under doctest; a ```` ```python ```` block runs as
  a script, and a ```` ```text ```` block right after it is what it prints. A page's Python
  blocks share one namespace, in page order.
- A block with ``title="NAME"`` that is not an example (```` ```csv title="fruit.csv" ````) is a
  file: it is written into the working folder of every example, on every page.
- HTML comments right above a block: ``<!-- no-run: REASON -->`` (never run, e.g. ``make run``;
  counted and listed by ``test_every_example_runs_or_says_why``), ``<!-- slow -->`` (marked
  ``slow``, so ``pytest -m "not slow"`` leaves it out), and, above a ```` ```text ```` block,
  ``<!-- output-of: descentlab compare -->`` (the block is what that command prints).
- ``<!-- file: PATH -->`` above a ```` ```text ```` or ```` ```json ```` block: the block shows
  the file PATH (a glob) that the page's last shell example before it wrote. Text is compared
  as an output; of JSON, every key shown must be in the file at the same place (the values
  are examples).

Outputs are compared line by line. A line that is only ``...`` stands for any number of lines,
and ``...`` inside a line for any text. Runs of spaces match any run of spaces. Numbers match
within a relative 1e-4 (or 1e-9 absolute): the published numbers are printed to 6 digits, so
this allows for the last bits of another CPU's kernels and nothing more. Timings are masked: a
number followed by " s" and the column under a "seconds" header. The time stamps of run
folders (``runs/compare-20261125-213501/``) are masked too.

The published comparison (``descentlab compare``, 10000 epochs) runs once per test session, in
``published_run``, and every block that shows it is compared with that one run.

Each example runs in its own empty folder (``tmp_path``) holding the pages' files; commands run
in-process, so the whole check costs no interpreter start-up.
"""

from __future__ import annotations

import contextlib
import doctest
import io
import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from descentlab.cli import main

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
EXAMPLES = {"console", "sh", "python", "pycon"}
PUBLISHED = "descentlab compare"
MARKER = re.compile(r"^<!--\s*(no-run|slow|output-of|file)\s*(?::\s*(.*?))?\s*-->$")
FENCE = re.compile(r"^(`{3,})\s*([\w+-]*)(.*)$")
TITLE = re.compile(r'title="([^"]+)"')

REL_TOL = 1e-4
ABS_TOL = 1e-9
NUMBER = r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?"
TIMING = re.compile(rf"{NUMBER}(?= ?s\b)")
RUN_STAMP = re.compile(r"\d{8}-\d{6}")


# --- reading the pages ------------------------------------------------------------------------


@dataclass
class Block:
    page: Path
    line: int  # the opening fence's line, 1-based
    lang: str
    title: str | None
    text: str
    markers: dict[str, str] = field(default_factory=dict)
    output: Block | None = None  # the ```text block that shows what this one prints
    files_shown: list[Block] = field(default_factory=list)  # blocks marked <!-- file: PATH -->

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def is_example(self) -> bool:
        return self.lang in EXAMPLES and self.title is None

    @property
    def runs(self) -> bool:
        return self.is_example and "no-run" not in self.markers

    @property
    def slow(self) -> bool:
        return "slow" in self.markers or (
            self.lang in {"console", "sh"} and PUBLISHED in [c for c, _ in commands(self)]
        )


def read_blocks(page: Path) -> list[Block]:
    """The page's fenced blocks, each with the markers in the comments right above it."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    index, previous_end = 0, -1
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        fence, lang, rest = opening.groups()
        end = next(
            (i for i in range(index + 1, len(lines)) if lines[i].strip().startswith(fence)),
            len(lines),
        )
        markers: dict[str, str] = {}
        above = index - 1
        while above >= 0 and lines[above].strip().startswith("<!--"):
            found = MARKER.match(lines[above].strip())
            if found is None:
                raise AssertionError(f"{page.name}:{above + 1}: unknown marker {lines[above]!r}")
            markers[found.group(1)] = found.group(2) or ""
            above -= 1
        title = TITLE.search(rest)
        block = Block(
            page,
            index + 1,
            lang or "",
            title.group(1) if title else None,
            "\n".join(lines[index + 1 : end]),
            markers,
        )
        previous = blocks[-1] if blocks else None
        between = lines[previous_end + 1 : index]
        shell = [b for b in blocks if b.runs and b.lang in {"console", "sh"}]
        if "file" in markers and block.lang in {"text", "json"}:
            assert shell, f"{page.name}:{index + 1}: a file shown before any command wrote it"
            shell[-1].files_shown.append(block)
        if (
            previous is not None
            and block.lang == "text"
            and not markers
            and previous.is_example
            and not any(line.strip() for line in between)
        ):
            previous.output = block
        blocks.append(block)
        previous_end = end
        index = end + 1
    return blocks


BLOCKS = [block for page in PAGES for block in read_blocks(page)]


def files() -> dict[str, str]:
    """The files the pages define (```csv title="fruit.csv"```), by name."""
    defined: dict[str, str] = {}
    for block in BLOCKS:
        if block.title is not None and block.lang not in EXAMPLES:
            text = block.text + "\n"
            assert defined.setdefault(block.title, text) == text, (
                f"{block.where}: {block.title} is defined twice, differently"
            )
    return defined


def commands(block: Block) -> list[tuple[str, str | None]]:
    """(command, the output shown under it or None) for each command of a shell block."""
    joined: list[str] = []
    for line in block.text.splitlines():
        if joined and joined[-1].endswith("\\"):
            joined[-1] = joined[-1][:-1].rstrip() + " " + line.strip()
        else:
            joined.append(line)
    if block.lang == "sh":
        found = [(c, None) for c in (line.strip() for line in joined) if c and c[0] != "#"]
        return [(shlex.join(shlex.split(c, comments=True)), None) for c, _ in found]
    runs: list[tuple[str, str | None]] = []
    for line in joined:
        if line.startswith("$ "):
            runs.append((line[2:].strip(), ""))
        elif runs:
            runs[-1] = (runs[-1][0], f"{runs[-1][1]}{line}\n")
        elif line.strip():
            raise AssertionError(f"{block.where}: a console block starts with a $ command")
    return runs


# --- comparing outputs ------------------------------------------------------------------------


def _numbers_close(shown: str, printed: str) -> bool:
    a, b = float(shown), float(printed)
    return abs(a - b) <= max(ABS_TOL, REL_TOL * abs(a))


def _line_pattern(shown: str, timing_column: bool) -> tuple[re.Pattern[str], list[str | None]]:
    """A regex for one shown line, and the number each of its groups must be (None: any)."""
    if timing_column:  # the table's last column is seconds
        shown = re.sub(rf"{NUMBER}\s*$", "<TIMING>", shown)
    shown = TIMING.sub("<TIMING>", shown)
    pattern, expected = [], []
    for piece in re.split(rf"(\.\.\.|<TIMING>|\s+|{NUMBER})", shown.strip()):
        if not piece:
            continue
        if piece == "...":
            pattern.append(".*?")
        elif piece == "<TIMING>":
            pattern.append(r"(\S+?)")
            expected.append(None)
        elif piece.isspace():
            pattern.append(r"\s+")
        elif re.fullmatch(NUMBER, piece):
            pattern.append(f"({NUMBER})")
            expected.append(piece)
        else:
            pattern.append(re.escape(piece))
    return re.compile("".join(pattern)), expected


def _line_matches(shown: str, printed: str, timing_column: bool) -> bool:
    pattern, expected = _line_pattern(shown, timing_column)
    found = pattern.fullmatch(printed.strip())
    return found is not None and all(
        want is None or _numbers_close(want, got)
        for want, got in zip(expected, found.groups(), strict=True)
    )


def outputs_match(shown: str, printed: str) -> bool:
    """True when ``printed`` is what ``shown`` shows, by the rules in this module's docstring."""
    want = [line.rstrip() for line in RUN_STAMP.sub("<STAMP>", shown).strip("\n").splitlines()]
    got = [line.rstrip() for line in RUN_STAMP.sub("<STAMP>", printed).strip("\n").splitlines()]
    timing = [False] * len(want)
    in_table = False
    for index, line in enumerate(want):
        in_table = bool(line.strip()) and (in_table or line.split()[-1:] == ["seconds"])
        timing[index] = in_table and line.split()[-1:] != ["seconds"]

    def match(i: int, j: int) -> bool:
        if i == len(want):
            return j == len(got)
        if want[i].strip() == "...":
            return any(match(i + 1, k) for k in range(j, len(got) + 1))
        return j < len(got) and _line_matches(want[i], got[j], timing[i]) and match(i + 1, j + 1)

    return match(0, 0)


def assert_output(where: str, shown: str, printed: str) -> None:
    assert outputs_match(shown, printed), (
        f"{where}: the page shows\n{shown.rstrip()}\n--- but it printed ---\n{printed.rstrip()}"
    )


class NumberTolerantChecker(doctest.OutputChecker):
    """doctest's checker (ELLIPSIS, NORMALIZE_WHITESPACE), then ``outputs_match``."""

    def check_output(self, want: str, got: str, optionflags: int) -> bool:
        return super().check_output(want, got, optionflags) or outputs_match(want, got)


# --- running ----------------------------------------------------------------------------------


def run_command(command: str, folder: Path) -> tuple[int, str]:
    """``command`` run in-process in ``folder``: its exit code and what it printed."""
    argv = shlex.split(command, comments=True)
    assert argv[:1] == ["descentlab"], f"not a descentlab command (mark it no-run): {command}"
    printed = io.StringIO()
    with (
        contextlib.chdir(folder),
        contextlib.redirect_stdout(printed),
        contextlib.redirect_stderr(printed),
    ):
        try:
            code = main(argv[1:])
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
    return code, printed.getvalue().replace(str(folder) + "/", "")


def write_files(folder: Path) -> Path:
    for name, text in files().items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def published_run(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[int, str, Path]:
    """``descentlab compare`` with its defaults, run once for every page that shows it: its
    exit code, what it printed, and the folder it ran in (its run folder in runs/, as the
    pages show it). The suite's own published run (conftest's ``published_comparison``) is
    used when there is one, so the whole suite trains the published comparison once."""
    folder = tmp_path_factory.mktemp("published")
    try:
        shared, out = request.getfixturevalue("published_comparison")
    except pytest.FixtureLookupError:
        return (*run_command(PUBLISHED, folder), folder)
    run_folder = folder / "runs" / "compare-00000000-000000"
    run_folder.parent.mkdir()
    run_folder.symlink_to(out, target_is_directory=True)
    printed = (shared.stdout + shared.stderr).replace(
        str(out), run_folder.relative_to(folder).as_posix()
    )
    return shared.returncode, printed, folder


def _keys_shown_exist(where: str, shown: object, written: object) -> None:
    """Every key of the JSON a page shows is in the written document, at the same place (the
    values are examples; ``"..."`` stands for what the page leaves out)."""
    if isinstance(shown, dict):
        assert isinstance(written, dict), f"{where}: {written!r:.80} is not an object"
        for key, value in shown.items():
            if key != "...":
                assert key in written, f"{where}: no key {key!r}; it has {sorted(written)}"
                _keys_shown_exist(f"{where}.{key}", value, written[key])
    elif isinstance(shown, list) and shown and isinstance(written, list) and written:
        _keys_shown_exist(f"{where}[0]", shown[0], written[0])


def assert_files_shown(block: Block, folder: Path) -> None:
    """The files a page shows after a command (``<!-- file: PATH -->``) are what it wrote."""
    for shown in block.files_shown:
        found = sorted(folder.glob(shown.markers["file"]))
        assert len(found) == 1, f"{shown.where}: {shown.markers['file']} matches {found}"
        written = found[0].read_text(encoding="utf-8")
        if shown.lang == "json":
            _keys_shown_exist(shown.where, json.loads(shown.text), json.loads(written))
        else:
            assert_output(shown.where, shown.text, written)


def _params(blocks: Iterator[Block] | list[Block]) -> list[object]:
    return [
        pytest.param(block, id=block.where, marks=[pytest.mark.slow] if block.slow else [])
        for block in blocks
    ]


SHELL = [b for b in BLOCKS if b.runs and b.lang in {"console", "sh"}]
PYTHON = [b for b in BLOCKS if b.runs and b.lang in {"python", "pycon"}]
PYTHON_PAGES = sorted({b.page for b in PYTHON})
OUTPUT_OF = [b for b in BLOCKS if b.lang == "text" and "output-of" in b.markers]


@pytest.mark.parametrize("block", _params(SHELL))
def test_shell_example(block: Block, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    folder = write_files(tmp_path)
    printed_by_block = ""
    for command, shown in commands(block):
        if command == PUBLISHED:
            code, printed, folder = request.getfixturevalue("published_run")
        else:
            code, printed = run_command(command, folder)
        printed_by_block += printed
        expected_code = 2 if shown and ": error: " in shown else 0
        assert code == expected_code, f"{block.where}: `{command}` exited {code}:\n{printed}"
        if shown is not None:
            assert_output(f"{block.where}: `{command}`", shown, printed)
    if block.output is not None:
        assert_output(block.where, block.output.text, printed_by_block)
    assert_files_shown(block, folder)


def _run_python(page: Path, folder: Path, include_slow: bool) -> int:
    """Run the page's Python blocks in order in one namespace; return how many ran."""
    namespace: dict[str, object] = {"__name__": "__docs__"}
    parser = doctest.DocTestParser()
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    ran = 0
    for block in (b for b in PYTHON if b.page == page):
        if block.slow and not include_slow:
            continue
        ran += 1
        with contextlib.chdir(folder):
            if block.lang == "pycon" or block.text.lstrip().startswith(">>>"):
                test = parser.get_doctest(block.text, namespace, block.where, str(page), block.line)
                report = io.StringIO()
                runner = doctest.DocTestRunner(NumberTolerantChecker(), optionflags=flags)
                runner.run(test, out=report.write, clear_globs=False)
                assert runner.failures == 0, report.getvalue()
                namespace.update(test.globs)  # a DocTest runs in a copy of the namespace
                continue
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                exec(compile(block.text, block.where, "exec"), namespace)
        if block.output is not None:
            assert_output(block.where, block.output.text, printed.getvalue())
    return ran


# The scikit-learn page's cross-validation on iris warns, as MLPClassifier does, by design.
NOT_CONVERGED = "ignore::sklearn.exceptions.ConvergenceWarning"


@pytest.mark.filterwarnings(NOT_CONVERGED)
@pytest.mark.parametrize("page", PYTHON_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_python_examples(page: Path, tmp_path: Path) -> None:
    """The page's Python examples but those marked slow."""
    _run_python(page, write_files(tmp_path), include_slow=False)


@pytest.mark.slow
@pytest.mark.filterwarnings(NOT_CONVERGED)
@pytest.mark.parametrize(
    "page",
    [p for p in PYTHON_PAGES if any(b in PYTHON and b.page == p and b.slow for b in BLOCKS)],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_python_examples_with_the_slow_ones(page: Path, tmp_path: Path) -> None:
    """All of the page's Python examples, in order, the slow ones included."""
    _run_python(page, write_files(tmp_path), include_slow=True)


@pytest.mark.slow
@pytest.mark.parametrize("block", _params(OUTPUT_OF))
def test_shown_output_of(block: Block, published_run: tuple[int, str, Path]) -> None:
    """A ```text block that says whose output it is (``make run`` prints the published run)."""
    assert block.markers["output-of"] == PUBLISHED, f"{block.where}: output of what?"
    code, printed, _ = published_run
    assert code == 0, printed
    assert_output(block.where, block.text, printed)


def test_every_example_runs_or_says_why() -> None:
    """No example is skipped silently: each shell or Python block runs, or is marked no-run
    with a reason; a ```sh block holds only descentlab commands unless it is marked."""
    skipped = [b for b in BLOCKS if b.is_example and not b.runs]
    for block in skipped:
        assert block.markers["no-run"], f"{block.where}: no-run needs a reason"
    for block in SHELL:
        assert commands(block), f"{block.where}: a shell block with no command"
        for command, _ in commands(block):
            assert command.startswith("descentlab"), f"{block.where}: mark `{command}` no-run"
    ran = [b for b in BLOCKS if b.runs]
    assert len(ran) >= 30 and len(skipped) <= 10, (len(ran), [b.where for b in skipped])


def test_the_matcher_masks_timings_and_allows_a_stated_tolerance() -> None:
    shown = "optimizer  cost  seconds\nadam       0.128760    1.5\n\nwrote runs/x-20261125-213501/"
    assert outputs_match(
        shown, "optimizer cost seconds\nadam 0.12876001 9.9\n\nwrote runs/x-20270101-000000/"
    )
    assert not outputs_match(shown, "optimizer cost seconds\nadam 0.128800 1.5\n\nwrote runs/x-1/")
    assert outputs_match("a\n...\nz", "a\nb\nc\nz") and outputs_match("in 4.6 s", "in 12.0 s")
    assert not outputs_match("79.7% (239/300)", "79.3% (238/300)")
    _keys_shown_exist(
        "doc", {"a": 1, "b": [{"c": 2}], "...": {}}, {"a": 0, "b": [{"c": 0, "d": 1}]}
    )
    with pytest.raises(AssertionError, match="no key 'c'"):
        _keys_shown_exist("doc", {"b": [{"c": 2}]}, {"b": [{"d": 1}]})


def test_the_architecture_diagram_names_modules_that_exist() -> None:
    """docs/architecture.md draws the house with module names; each must be a real one."""
    diagram = next(b for b in BLOCKS if b.page.name == "architecture.md" and b.lang == "text")
    names = re.findall(r"[\w/]+\.py\b|\b\w+/(?:\w+/)*(?!\w)", diagram.text)
    assert len(names) >= 15, names
    for name in names:
        base = ROOT if name.startswith("tools/") else ROOT / "src" / "descentlab"
        assert (base / name).exists(), f"docs/architecture.md names {name}, which does not exist"


def test_the_newer_optimizers_table_covers_each_with_the_registrys_needs() -> None:
    from descentlab import optim

    text = (Path(__file__).parents[1] / "docs" / "optimizers.md").read_text()
    section = text.split("## The newer optimizers")[1].split("\n## ")[0]
    rows = {
        line.split(" | ")[0].strip("| `").removesuffix(":INNER"): line.split(" | ")[4]
        for line in section.splitlines()
        if line.startswith("| `")
    }
    assert set(rows) == set(optim.names()[9:])
    for name, needs in rows.items():
        entry = optim.spec(name)
        listed = [need for need in optim.NEEDS if need in entry.needs]
        assert needs.startswith(", ".join(listed) or ("the inner's" if entry.wraps_inner else "-"))
