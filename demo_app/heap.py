"""The C heap under many waiting visitors: give large freed buffers back to the system.

Each visitor's upload (a face and a voice, about a megabyte) passes through buffers of a few
hundred kilobytes, many at once on Gradio's worker threads. glibc's malloc raises its mmap
threshold after such buffers are freed, so later ones come from the heap, and spreads threads
over up to eight arenas per core; freed upload buffers then stay in the process as fragments.
Measured with `bench/visitor_memory.py` (200 visitors waiting): about 0.85 MiB of RSS per
visitor with the defaults, about 0.5 MiB with a fixed threshold and two arenas.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
MMAP_THRESHOLD_BYTES = 128 * 1024
"""glibc's own starting threshold, kept fixed: larger buffers are mapped and unmapped whole."""
ARENAS = 2


def keep_heap_small() -> bool:
    """Tune glibc's malloc as above (call before the server starts its threads); False where the
    C library is not glibc, which changes nothing."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    done = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1 and mallopt(M_ARENA_MAX, ARENAS) == 1
    if not done:
        log.info("malloc tuning not applied; memory per waiting visitor will be higher")
    return done
