"""Gradio's queue without the per-frame work this page never uses.

Profiled on the event loop with 1,000 visitors waiting (`py-spy record` on the app during
`python -m bench.crowd`), two pieces of Gradio's own bookkeeping took about 13 % of the loop:

- The queue checks every open event for a pending `gr.Progress` update every 10 ms. With a
  thousand events open that walk was 11 % of the loop. No event of this page reports through
  `gr.Progress` (progress travels in the job's snapshot), so the check can run rarely.
- Around every call and every streamed frame Gradio tries `import matplotlib` twice, to switch
  its backend. Where matplotlib is not installed, each failed import searches the whole
  `sys.path` again (2.8 % of the loop). Marking the module absent makes the failure immediate.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)

PROGRESS_CHECK_EVERY_S = 1.0
"""How often Gradio's queue looks for `gr.Progress` updates (its own default is every 10 ms)."""

GRADIO_OPTIONAL_IMPORTS = ("matplotlib",)
"""Modules Gradio tries to import around every call, and does without."""

_PROGRESS_CHECK = "progress_update_sleep_when_free"


def check_progress_rarely(demo: Any, every_s: float = PROGRESS_CHECK_EVERY_S) -> bool:
    """Make the queued `demo` look for `gr.Progress` updates only every `every_s`; False (and a log
    line) if this Gradio has no such setting, which leaves its default in place."""
    queue = getattr(demo, "_queue", None)
    if queue is None or not hasattr(queue, _PROGRESS_CHECK):
        log.warning("Gradio's queue has no %s; its progress check stays at its default", _PROGRESS_CHECK)
        return False
    setattr(queue, _PROGRESS_CHECK, every_s)
    return True


def mark_absent(names: Iterable[str]) -> list[str]:
    """Record each top-level module in `names` that cannot be imported as absent in `sys.modules`,
    so later `import name` fails at once instead of searching `sys.path`; the names marked."""
    marked = []
    for name in names:
        if name in sys.modules or importlib.util.find_spec(name) is not None:
            continue
        sys.modules[name] = None  # type: ignore[assignment]
        marked.append(name)
    return marked
