"""Removing files and folders from async code, on a worker thread.

Deleting a file can block its thread for tens of milliseconds: on a file system mounted with
`discard` (as the machines of `bench/crowd.py` are), the kernel trims the freed blocks before `unlink`,
`rmdir` or the last `close` returns. Done on the event loop's thread, every visitor waits that
long. With a thousand jobs ending, each removing its inputs folder, those waits were the
loop's longest stalls that were not the collector's (`bench/crowd.py`).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Coroutine
from pathlib import Path
from typing import Any


async def remove_tree(folder: Path) -> None:
    """Delete `folder` and everything in it; already gone (or never made) is fine."""
    await _decided(asyncio.to_thread(shutil.rmtree, folder, True))


async def remove_file(path: Path) -> None:
    """Delete one file; already gone is fine."""
    await _decided(asyncio.to_thread(path.unlink, True))


async def _decided(deletion: Coroutine[Any, Any, None]) -> None:
    """Await `deletion`, which goes on if the caller is cancelled meanwhile (a stop, a visitor's
    cancel): the deletion was decided, and a cancelled `to_thread` that had not started would
    leave the files behind."""
    await asyncio.shield(asyncio.ensure_future(deletion))
