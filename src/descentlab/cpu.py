"""Which numpy kernel family this process runs, so results can say where their bits came from.

numpy compiles its math kernels (``exp``, ``power``, ``sin``, ...) for several instruction-set
targets and picks one at run time ("dispatch"). The last bit of a result may depend on the pick:
on a CPU with AVX-512, ``np.power(0.8, 2)`` computed inside an array differs from the scalar
call. ``NPY_DISABLE_CPU_FEATURES`` turns targets off before numpy is imported, which lets one
machine run an older family too.
"""

from __future__ import annotations

from numpy._core._multiarray_umath import (  # type: ignore[import-not-found]
    __cpu_baseline__,
    __cpu_dispatch__,
    __cpu_features__,
)


def dispatch_targets() -> list[str]:
    """The dispatch targets numpy was built with that this CPU has and that are enabled, oldest
    first (for example ``["X86_V3", "X86_V4", "AVX512_ICL"]``)."""
    return [name for name in __cpu_dispatch__ if __cpu_features__.get(name, False)]


def newest_targets() -> list[str]:
    """The targets to disable to run the next older kernel family: every enabled dispatch
    target but the oldest when there are several (AVX-512 machines fall back to AVX2), or the
    only one (an AVX2 machine falls back to numpy's baseline). Baseline features are never
    listed: numpy refuses to disable them."""
    targets = [name for name in dispatch_targets() if name not in __cpu_baseline__]
    return targets[1:] if len(targets) > 1 else targets


def describe() -> dict[str, list[str]]:
    """numpy's baseline and the enabled dispatch targets, as a results file records them."""
    return {"baseline": list(__cpu_baseline__), "dispatch": dispatch_targets()}
