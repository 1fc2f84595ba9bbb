"""The machine's available memory, from which readers derive their size limits."""

from __future__ import annotations

import os
import resource


def available_memory() -> int | None:
    """The bytes this process may still allocate: the kernel's ``MemAvailable`` (Linux), else
    the free physical pages, lowered to the address-space limit (``ulimit -v``) if one is
    set; None when neither is known."""
    available: int | None = None
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    available = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    if available is None:
        try:
            available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, AttributeError):
            available = None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        available = soft if available is None else min(available, soft)
    return available
