"""Allocator settings for long-running Tidings processes (glibc's malloc, Linux).

Two glibc behaviours made a delivery worker's peak RSS wander between 140 and 152 MB from run to run
(bench/README §8), while what it holds at once is two batches of ~10 MB:

- every thread that allocates gets its own arena (up to eight per core), and memory freed in one arena is
  not reused by another; the worker's event loop, projection runner and pool threads all allocate;
- the mmap threshold is dynamic: once a large block (a 13 MB Postmark request) is freed, blocks up to that
  size come from the heap afterwards, where freed space lingers instead of going back to the system.

So the processes cap the arenas at two and fix the mmap threshold at 4 MiB (a fixed threshold also turns
the dynamic one off), as ``MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=4194304`` would: the worker's peak fell
to 124-126 MB in every round. A 256 KiB threshold held the same peak but cost a few percent of throughput
(page faults on every medium buffer). An operator's own environment variables win.
"""

from __future__ import annotations

import ctypes
import sys

from interfaces.config import allocator_overrides

# From glibc's malloc.h.
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
ARENAS = 2
MMAP_THRESHOLD = 4 * 1024 * 1024  # the ~13 MB request buffers go back at once; 60-110 KB messages stay in the heap


def tune_malloc() -> list[str]:
    """Apply the settings above where they apply; returns the names of those applied.

    Call it before threads start allocating: arenas already created stay.
    """
    if not sys.platform.startswith("linux"):
        return []
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # another C library (musl): no arenas to cap
        return []
    applied, overridden = [], allocator_overrides()
    for name, option, value in (("MALLOC_ARENA_MAX", M_ARENA_MAX, ARENAS),
                                ("MALLOC_MMAP_THRESHOLD_", M_MMAP_THRESHOLD, MMAP_THRESHOLD)):  # fmt: skip
        if name not in overridden and mallopt(option, value):
            applied.append(name)
    return applied
