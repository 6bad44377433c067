"""Cleaning Gradio's file cache: uploads soon, copies later, earlier runs' leftovers, a size bound.

Gradio keeps every upload, and a copy of every file it serves, in its cache folder
(`GRADIO_TEMP_DIR`). Its own cleaner, `gr.Blocks(delete_cache=(every, age))`, is not used here:

- At shutdown it deletes every file it tracks, whatever its age, including uploads a job that
  resumes after the restart may still read.
- It tracks files in memory, so what an earlier run (or a crash) left is never deleted.
- It has no bound on the folder's size.

This sweeper runs on a schedule instead, and removes, in order:

1. this app's uploads older than `upload_age_s`: a started job copies its inputs into the app's
   own data directory, so an upload is needed only while a visitor is choosing;
2. this app's other cached files (copies of served videos) older than `copy_age_s`;
3. the oldest of the rest, while they together exceed `max_bytes`;
4. orphans: files no live app in this process tracks, last changed before this sweeper started
   and not modified for `orphan_age_s` (left by an earlier run).

It never removes example files or files Gradio keeps on purpose (`keep_in_cache`), and it
removes what it deleted from Gradio's in-memory sets, which would otherwise grow for ever.

The folder is shared by every Gradio app of the machine (tests launch several): steps 1 to 3
touch only this app's files, and step 4 only files older than a day by default and tracked by no
app in this process. A deployment that shares its machine points `GRADIO_TEMP_DIR` at a folder of
its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import weakref
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

_LIVE: weakref.WeakSet[CacheSweeper] = weakref.WeakSet()


@dataclass
class Sweep:
    """What one pass removed and what this app's files weigh afterwards."""

    removed: list[str] = field(default_factory=list)
    kept_bytes: int = 0
    upload_bytes: int = 0


@dataclass(frozen=True)
class _Entry:
    path: str
    size: int
    changed: float
    upload: bool


class CacheSweeper:
    """Removes one app's stale files (and earlier runs' leftovers) from Gradio's cache folder."""

    def __init__(
        self,
        folder: str,
        *,
        tracked: Sequence[set[str]],
        uploads: set[str],
        keep: Callable[[], Collection[str]],
        upload_age_s: float,
        copy_age_s: float,
        orphan_age_s: float,
        max_bytes: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._folder = os.path.abspath(folder)
        self._tracked = tracked
        self._uploads = uploads
        self._keep = keep
        self._upload_age_s = upload_age_s
        self._copy_age_s = copy_age_s
        self._orphan_age_s = orphan_age_s
        self._max_bytes = max_bytes
        self._clock = clock
        self._started = clock()
        _LIVE.add(self)

    def close(self) -> None:
        """Stop counting this app's files as live (its own files become orphans for later runs)."""
        _LIVE.discard(self)

    async def run(self, every_s: float, on_sweep: Callable[[Sweep], None]) -> None:
        """Sweep now and then every `every_s` seconds until cancelled."""
        while True:
            try:
                on_sweep(await self.sweep())
            except Exception:
                log.exception("sweeping Gradio's cache failed; trying again later")
            await asyncio.sleep(every_s)

    async def sweep(self) -> Sweep:
        """One pass. The sets are read here, on the event loop that changes them; disk work runs
        in a thread."""
        mine = {path for paths in self._tracked for path in list(paths)}
        uploads = set(list(self._uploads))
        keep = set(self._keep())
        live = mine | keep
        for other in list(_LIVE):
            if other is not self:
                live |= other._live_paths()
        result = await asyncio.to_thread(self._sweep_files, mine - keep, uploads, live)
        for path in result.removed:
            for paths in self._tracked:
                paths.discard(path)
        return result

    def _live_paths(self) -> set[str]:
        return {path for paths in self._tracked for path in list(paths)} | set(self._keep())

    def _sweep_files(self, mine: set[str], uploads: set[str], live: set[str]) -> Sweep:
        now = self._clock()
        sweep = Sweep()
        entries: list[_Entry] = []
        for path in mine:
            entry = _stat(path, upload=path in uploads)
            if entry is None:
                sweep.removed.append(path)  # already gone: only forget it
                continue
            age_limit = self._upload_age_s if entry.upload else self._copy_age_s
            if now - entry.changed > age_limit:
                self._remove(entry.path, sweep)
            else:
                entries.append(entry)
        entries.sort(key=lambda entry: entry.changed)
        total = sum(entry.size for entry in entries)
        while entries and total > self._max_bytes:
            oldest = entries.pop(0)
            total -= oldest.size
            self._remove(oldest.path, sweep)
        for path in self._orphans(live, now):
            self._remove(path, sweep)
        sweep.kept_bytes = total
        sweep.upload_bytes = sum(entry.size for entry in entries if entry.upload)
        return sweep

    def _orphans(self, live: set[str], now: float) -> Iterable[str]:
        for root, _dirs, files in os.walk(self._folder):
            for name in files:
                path = os.path.join(root, name)
                if path in live:
                    continue
                try:
                    st = os.stat(path, follow_symlinks=False)
                except OSError:
                    continue
                if st.st_ctime < self._started and now - st.st_mtime > self._orphan_age_s:
                    yield path

    def _remove(self, path: str, sweep: Sweep) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
        sweep.removed.append(path)
        parent = os.path.dirname(path)
        if parent != self._folder and os.path.commonpath([parent, self._folder]) == self._folder:
            with contextlib.suppress(OSError):
                os.rmdir(parent)  # Gradio keeps each file in a folder of its own; drop it when empty


def _stat(path: str, *, upload: bool) -> _Entry | None:
    try:
        st = os.stat(path, follow_symlinks=False)
    except OSError:
        return None
    # ctime: when the file arrived in the cache (a copy keeps the source's mtime).
    return _Entry(path=path, size=st.st_size, changed=st.st_ctime, upload=upload)
