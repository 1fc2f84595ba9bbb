"""numba's start-up in a process of its own (a ``descentlab`` command): without scipy's BLAS.

numba offers ``np.dot`` and ``np.linalg`` in compiled code through scipy's BLAS bindings. At the
first compiled call of a process it imports ``numba.np.arraymath``, which imports
``scipy.linalg.cython_blas`` to find them when scipy is installed: 0.2 to 0.3 s, a twentieth of
a ``compare`` (measured, docs/benchmarks.md). descentlab's kernels compute their products in
loops and use no BLAS, so a command imports that module with ``scipy.linalg.cython_blas``
hidden: numba then offers no BLAS to compiled code in this process, and scipy stays
importable as ever. The library never does this (a program that imports descentlab may compile
its own ``np.dot``); only the commands call ``import_numba_without_blas``.
"""

from __future__ import annotations

import sys

SCIPY_BLAS = "scipy.linalg.cython_blas"


def import_numba_without_blas() -> None:
    """Import numba and ``numba.np.arraymath`` with scipy's BLAS bindings hidden, unless either
    is imported already (then nothing changes). Raises numba's ``ImportError``."""
    if "numba.np.arraymath" in sys.modules or SCIPY_BLAS in sys.modules:
        import numba

        return
    sys.modules[SCIPY_BLAS] = None  # type: ignore[assignment]  # import it: ImportError
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        if sys.modules.get(SCIPY_BLAS, 0) is None:
            del sys.modules[SCIPY_BLAS]
