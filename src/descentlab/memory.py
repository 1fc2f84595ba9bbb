"""The machine's available memory, from which readers derive their size limits and
``descentlab.budget`` the limit every command's memory estimate is checked against."""

from __future__ import annotations

import os
import resource


def available_memory() -> int | None:
    """The bytes this process may still allocate: the kernel's ``MemAvailable`` (Linux), else
    the free physical pages, lowered to what the address-space limit (``ulimit -v``) leaves
    once the address space this process already maps is counted; None when neither is known."""
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
        left = max(soft - _mapped_bytes(), 0)
        available = left if available is None else min(available, left)
    return available


def _mapped_bytes() -> int:
    """The address space this process maps now (``VmSize``), which the address-space limit
    counts; 0 when it is not known."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0
