"""numba's start-up in a command (``descentlab.compiled.startup``): without scipy's BLAS, which
the kernels do not use, and only in the commands. scipy comes with the test extra (through
scikit-learn), so each case runs in a fresh process where it is installed."""

from __future__ import annotations

import subprocess
import sys

KERNEL_RUNS = (
    "import numpy as np\n"
    "from descentlab.compiled.shuffle import legacy_permutation\n"
    "out = np.empty(5, np.int64)\n"
    "legacy_permutation(11, out)\n"
    "assert out.tolist() == np.random.RandomState(11).permutation(5).tolist()\n"
)


def _loaded_after(code: str) -> bool:
    """Whether scipy.linalg is imported after ``code`` runs in a fresh process."""
    result = subprocess.run(
        [sys.executable, "-c", code + "import sys\nprint('scipy.linalg' in sys.modules)\n"],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    return result.stdout.split()[-1] == "True"


def test_a_command_starts_numba_without_scipy_linalg_and_scipy_stays_importable() -> None:
    start = "from descentlab import engines\nengines.check_importable()\n"
    assert not _loaded_after(start + KERNEL_RUNS)
    assert _loaded_after(start + KERNEL_RUNS + "import scipy.linalg.cython_blas\n")


def test_the_library_leaves_numba_its_blas() -> None:
    assert _loaded_after(KERNEL_RUNS)


def test_numba_already_started_is_left_as_it_is() -> None:
    start = (
        "import numba.np.arraymath\nfrom descentlab import engines\nengines.check_importable()\n"
    )
    assert _loaded_after(start + KERNEL_RUNS)


def test_compare_on_the_compiled_engine_never_imports_scipy_linalg() -> None:
    code = (
        "import runpy, sys, tempfile\n"
        "sys.argv = ['descentlab', 'compare', '--engine', 'compiled', '--epochs', '3',\n"
        "            '--quiet', '--out', tempfile.mkdtemp() + '/run']\n"
        "try:\n"
        "    runpy.run_module('descentlab', run_name='__main__')\n"
        "except SystemExit as exit_:\n"
        "    assert exit_.code == 0\n"
    )
    assert not _loaded_after(code)
