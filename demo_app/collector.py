"""The collector paced for an event loop: full collections walk only what is new (everything
when it is cheap), and every generation is collected on a clock.

CPython 3.11's collector stops the event loop for a whole full collection, and a full collection
walks every tracked object. With a thousand visitors waiting, each holds about 400 (the
coroutines, frames and tasks of its stream through Gradio's queue and our follower), so each
full collection walked 400,000 objects and stopped the loop for 0.4 to 0.7 s of CPU, nine or ten
times a run (`LIPSYNC_LOOP_LAG_LOG` records them).

So what survives a full collection is frozen (moved to the permanent generation, which
collections skip): the next full collection walks only what arrived since. Frozen objects are
still freed by reference counting, which is how a finished visitor's stream goes; only a cycle
that forms among frozen objects waits. That garbage is found by a walk of everything (unfreeze,
collect, freeze) done when the loop is quiet, or in any case once the frozen set has grown past
a bound (four times what it was after the last walk), so memory stays bounded under a crowd
that never leaves.

Every generation is collected on a clock as well (`Pace`). CPython starts a young
collection once allocations minus deallocations pass 700, and every frozen object that dies
(a finished visitor's stream) counts as a deallocation: under a crowd the youngest generation
grew to 28,000 objects, half of them cyclic garbage, before a collection walked them all at once
and stopped the loop for up to 106 ms (`bench/crowd.py`, 1,000 visitors). Collected every 20 ms
(and the middle generation every tenth time, CPython's own ratio), each walk is small. CPython's
full collections, left to their own trigger, came every eight seconds or so and walked all that
had survived meanwhile: 30 to 155 ms each, the loop's longest stops. One every two seconds walks
a quarter of that.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WalkRule:
    """When a walk of everything is due."""

    quiet_tasks: int = 100
    """The loop counts as quiet with at most this many tasks (a waiting visitor keeps about ten)."""
    growth_when_quiet: float = 0.05
    """Quiet: walk once the frozen set has grown by this share since the last walk."""
    max_growth: float = 3.0
    """Busy or not: walk once the frozen set has grown by this share (here: quadrupled). A walk
    stops the loop for the whole heap (1.0-1.2 s with a thousand visitors waiting) and has found
    25 to 75 unreachable objects there: it waits for a quiet loop unless memory is at stake."""

    def due(self, frozen: int, after_last_walk: int, tasks: int) -> bool:
        """Whether to walk now, given the frozen count, that count after the last walk, and the tasks."""
        grown = frozen - after_last_walk
        if grown > self.max_growth * after_last_walk:
            return True
        return tasks <= self.quiet_tasks and grown > self.growth_when_quiet * after_last_walk


@dataclass(frozen=True)
class Pace:
    """How often each generation is collected besides CPython's own triggers."""

    every_s: float = 0.02
    """The youngest generation: a crowd's 20 ms of survivors walk in a few milliseconds."""
    middle_every: int = 10
    """The middle generation on every this-many-th beat instead (CPython collects it after ten
    young collections)."""
    full_every: int = 100
    """A full collection on every this-many-th beat instead (every 2 s): it walks only what is
    not frozen, so what arrived since the last one."""

    async def run(self) -> None:
        """Collect on the clock until cancelled."""
        beats = 0
        while True:
            await asyncio.sleep(self.every_s)
            beats += 1
            gc.collect(self.generation(beats))

    def generation(self, beat: int) -> int:
        """The generation collected on the `beat`-th beat (counting from 1)."""
        if beat % self.full_every == 0:
            return 2
        return 1 if beat % self.middle_every == 0 else 0


class FullCollections:
    """Freezes what each full collection leaves, walks everything when `rule` says so, and
    collects every generation at `Pace`'s."""

    def __init__(self, rule: WalkRule | None = None, tasks: Callable[[], int] | None = None) -> None:
        self._rule = rule or WalkRule()
        self._tasks = tasks or (lambda: len(asyncio.all_tasks()))
        self._after_last_walk = 0
        self.walks = 0

    @contextlib.asynccontextmanager
    async def running(self, every_s: float = 10.0) -> AsyncIterator[FullCollections]:
        """Freeze after full collections, check every `every_s` whether a walk is due (growth
        counts from what is frozen now: start-up's objects, see `heap.freeze_startup_objects`),
        and collect each generation at its pace."""
        self._after_last_walk = gc.get_freeze_count()
        gc.callbacks.append(self._after_collection)
        tasks = [
            asyncio.create_task(self._check(every_s), name="full-collections"),
            asyncio.create_task(Pace().run(), name="paced-collections"),
        ]
        try:
            yield self
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            gc.callbacks.remove(self._after_collection)

    async def _check(self, every_s: float) -> None:
        while True:
            await asyncio.sleep(every_s)
            self.walk_if_due()

    def walk_if_due(self) -> bool:
        """Walk everything if the rule says so now; whether it did."""
        if not self._rule.due(gc.get_freeze_count(), self._after_last_walk, self._tasks()):
            return False
        self.walk()
        return True

    def walk(self) -> int:
        """Collect over every object, frozen ones included, then freeze the survivors; how many
        were unreachable."""
        began = time.perf_counter()
        gc.unfreeze()
        found = gc.collect()
        gc.freeze()
        self._after_last_walk = gc.get_freeze_count()
        self.walks += 1
        log.info(
            "collected %d unreachable objects over the whole heap in %.0f ms; %d objects kept",
            found,
            (time.perf_counter() - began) * 1000,
            self._after_last_walk,
        )
        return found

    @staticmethod
    def _after_collection(phase: str, info: dict[str, Any]) -> None:
        # Right after a full collection the young generations are empty: only survivors freeze.
        if phase == "stop" and info["generation"] == 2:
            gc.freeze()
