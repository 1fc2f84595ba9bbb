"""Which engine trains a stack: ``numpy`` (bit-exact with the course) or ``compiled``.

The numpy engine is ``descentlab.train.train_stack``'s loop of numpy calls: every published
number of the course, to the last bit. The compiled engine (the ``compiled`` extra, numba) runs
the same loop as machine code: forward, backward and the elementwise optimizer updates of a
whole stack, compiled once and cached on disk. It agrees with the numpy engine within a stated
tolerance (``descentlab.compiled``), not to the last bit: its exp and its sums are not numpy's.

The engine in force is, first rule that applies:

1. inside ``with using(SETTING)`` (what ``--engine`` does on the command line): SETTING;
2. the environment variable ``DESCENTLAB_ENGINE``: its setting;
3. otherwise the caller's default: ``numpy`` for the library (``train``, ``train_stack``),
   ``auto`` for the commands (``compare``, ``train``, ``sweep``, ``benchmark``).

``auto`` means ``compiled`` when numba is installed, else ``numpy``. Asking for ``compiled``
without numba is a ``EngineUnavailable`` (a ValueError) that says in one line how to install it.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal

NUMPY: Literal["numpy"] = "numpy"
COMPILED: Literal["compiled"] = "compiled"
AUTO: Literal["auto"] = "auto"

Engine = Literal["numpy", "compiled"]
"""An engine that trains."""

Setting = Literal["numpy", "compiled", "auto"]
"""What a user may ask for."""

SETTINGS: tuple[Setting, ...] = (AUTO, NUMPY, COMPILED)

ENVIRONMENT_VARIABLE = "DESCENTLAB_ENGINE"

INSTALL_HINT = "pip install 'descentlab[compiled]'"


class EngineUnavailable(ValueError):
    """``compiled`` was asked for and numba is not installed."""


_chosen: ContextVar[Setting | None] = ContextVar("descentlab_engine", default=None)


def parse_setting(value: object, name: str = "engine") -> Setting:
    """``auto``, ``numpy`` or ``compiled`` (any case, spaces around allowed); a ValueError
    naming ``name``, the value and the choices otherwise."""
    text = value.strip().lower() if isinstance(value, str) else None
    for setting in SETTINGS:
        if text == setting:
            return setting
    raise ValueError(f"{name} must be one of {', '.join(SETTINGS)}, got {value!r}")


def configured() -> Setting | None:
    """The setting here: the innermost ``using`` block's, else ``DESCENTLAB_ENGINE``'s (a
    ValueError naming the variable if it is bad), else None (the caller's default)."""
    chosen = _chosen.get()
    if chosen is not None:
        return chosen
    text = os.environ.get(ENVIRONMENT_VARIABLE, "")
    return parse_setting(text, ENVIRONMENT_VARIABLE) if text.strip() else None


@contextmanager
def using(setting: Setting | str | None) -> Iterator[None]:
    """Inside, training uses ``setting`` (it wins over ``DESCENTLAB_ENGINE``); None changes
    nothing. A bad value is a ValueError on entry."""
    if setting is None:
        yield
        return
    token = _chosen.set(parse_setting(setting))
    try:
        yield
    finally:
        _chosen.reset(token)


def compiled_available() -> bool:
    """True when numba can be imported (without importing it: that costs a third of a second)."""
    return importlib.util.find_spec("numba") is not None


def require_compiled() -> None:
    """An ``EngineUnavailable`` in one line unless numba is installed."""
    if not compiled_available():
        raise EngineUnavailable(
            f"the compiled engine needs numba, which is not installed: {INSTALL_HINT}"
        )


def check_importable() -> None:
    """Import numba as a command does (``compiled.startup``: without scipy's BLAS); an
    ``EngineUnavailable`` in one line when numba is installed but cannot be imported (a build
    for another numpy, say). The commands call it before any work."""
    from descentlab.compiled.startup import import_numba_without_blas

    try:
        import_numba_without_blas()
    except ImportError as error:
        raise cannot_import(error) from error


def cannot_import(error: ImportError) -> EngineUnavailable:
    """The one-line error for a numba that is installed but fails to import."""
    return EngineUnavailable(
        f"the compiled engine could not import numba ({error}); train with --engine numpy "
        "(or DESCENTLAB_ENGINE=numpy), or reinstall numba"
    )


def resolve(setting: Setting | str | None = None, default: Setting = NUMPY) -> Engine:
    """The engine that trains: ``setting``, else ``configured()``, else ``default``; ``auto``
    becomes ``compiled`` when numba is installed and ``numpy`` otherwise."""
    chosen = parse_setting(setting) if setting is not None else (configured() or default)
    if chosen == AUTO:
        return COMPILED if compiled_available() else NUMPY
    if chosen == COMPILED:
        require_compiled()
    return chosen
