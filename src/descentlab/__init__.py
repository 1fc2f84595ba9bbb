"""descentlab: train small neural networks with classic optimizers and compare how each learns.

The Python API, for notebooks and scripts (``descentlab.api``; results in ``descentlab.results``):

    import descentlab as dl
    r = dl.compare(optimizers=["gd", "adam"], epochs=2000)
    r                    # a short table; in Jupyter an HTML one
    r.plot()             # the cost curves, a matplotlib figure
    r.to_pandas()        # one row per run
    r.save("runs/mine")  # the run folder ``descentlab compare --out runs/mine`` writes

``dl.train``, ``dl.sweep`` and ``dl.landscape`` do what the commands of those names do. The API
is imported on first use, so ``import descentlab`` stays light (matplotlib is imported only to
draw, pandas only by ``to_pandas``).

``train`` and ``sweep`` are also the names of two submodules, ``descentlab.train`` (the training
loop) and the package ``descentlab.sweep``, and a package has one attribute per name. So those
two modules are made callable (``_CallableModule``) when they are imported: ``dl.train(...)``
calls ``descentlab.api.train``, while ``descentlab.train`` stays the very module object that
``import descentlab.train`` gives, whichever is imported first.
"""

from __future__ import annotations

import importlib as _importlib
import sys as _sys
import types as _types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inspect import Signature

__version__ = "0.1.0"

_API = {
    "compare": "descentlab.api",
    "train": "descentlab.api",
    "sweep": "descentlab.api",
    "landscape": "descentlab.api",
    "ExperimentResults": "descentlab.results",
    "SweepResults": "descentlab.results",
    "LandscapeResults": "descentlab.results",
}
"""The public names, each with the module that defines it (imported on first access)."""

_CALLABLE_MODULES = ("train", "sweep")
"""API names that are also submodules: those modules call the API function of their name."""

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name in _CALLABLE_MODULES:
        return _importlib.import_module(f"{__name__}.{name}")  # made callable on import
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names and the submodules imported so far."""
    submodules = [
        name
        for name, value in globals().items()
        if isinstance(value, _types.ModuleType) and value.__name__ == f"{__name__}.{name}"
    ]
    return sorted({*__all__, *submodules})


class _CallableModule(_types.ModuleType):
    """A submodule whose name is also an API function: calling the module calls
    ``descentlab.api.<name>`` (see the package docstring)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call ``descentlab.api.<name>`` (``help(descentlab.api.<name>)`` documents it)."""
        return self._entry_point()(*args, **kwargs)

    @property
    def __signature__(self) -> Signature:
        """The API function's signature, for ``help`` and Jupyter's ``?``."""
        import inspect

        return inspect.signature(self._entry_point())

    def _entry_point(self) -> Any:
        api = _importlib.import_module(f"{__name__}.api")
        return getattr(api, self.__name__.rpartition(".")[2])


class _Package(_types.ModuleType):
    """The ``descentlab`` package's module type: it makes the submodules named in
    ``_CALLABLE_MODULES`` callable as the import system attaches them to the package."""

    def __setattr__(self, name: str, value: Any) -> None:
        if (
            name in _CALLABLE_MODULES
            and isinstance(value, _types.ModuleType)
            and value.__name__ == f"{__name__}.{name}"
            and type(value) is _types.ModuleType
        ):
            value.__class__ = _CallableModule
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package
