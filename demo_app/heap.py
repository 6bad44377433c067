"""The heap under many waiting visitors: large freed buffers go back to the system, and the
garbage collector does not walk what start-up made.

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
import gc
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


def freeze_startup_objects() -> int:
    """Move every object alive now into the collector's permanent generation; how many.

    Call once start-up is done. Imports, the page's blocks and the services live as long as the
    process, yet each full collection walked all of them while the event loop waited: with a
    thousand visitors arriving, full collections took seconds (`LIPSYNC_LOOP_LAG_LOG` records
    them). Frozen objects are still freed by reference counting, only not scanned for cycles.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
