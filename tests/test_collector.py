"""Full collections freeze their survivors; a walk of everything still finds cycles among them;
every generation is collected on a clock."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from demo_app.collector import FullCollections, Pace, WalkRule


class Node:
    other: Node | None = None


def _cycle() -> weakref.ref[Node]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


@pytest.fixture
def thawed() -> Iterator[None]:
    gc.collect()
    gc.unfreeze()
    yield
    gc.unfreeze()


async def test_survivors_of_a_full_collection_are_frozen_and_young_cycles_still_go(thawed: None) -> None:
    kept = [Node() for _ in range(1000)]
    async with FullCollections(tasks=lambda: 10_000).running(every_s=3600):
        gc.collect()
        frozen = gc.get_freeze_count()
        assert frozen >= len(kept)
        gone = _cycle()  # made after the freeze: young, so collected as usual
        gc.collect(1)
        assert gone() is None
    assert kept


async def test_a_cycle_among_frozen_objects_waits_for_a_walk(thawed: None) -> None:
    a, b = Node(), Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    async with FullCollections(tasks=lambda: 10_000).running(every_s=3600) as collections:
        gc.collect()  # a and b survive (still named here) and are frozen
        del a, b
        gc.collect()
        assert gone() is not None  # frozen: not walked by a full collection
        assert collections.walk() >= 2
        assert gone() is None
    assert gc.get_freeze_count() > 0  # the walk froze its survivors again


def test_a_walk_is_due_when_quiet_and_grown_or_when_the_frozen_set_doubled() -> None:
    rule = WalkRule(quiet_tasks=100, growth_when_quiet=0.05, max_growth=1.0)
    assert not rule.due(frozen=1_040, after_last_walk=1_000, tasks=10)  # quiet, hardly grown
    assert rule.due(frozen=1_060, after_last_walk=1_000, tasks=10)  # quiet and grown
    assert not rule.due(frozen=1_900, after_last_walk=1_000, tasks=5_000)  # busy, under the bound
    assert rule.due(frozen=2_001, after_last_walk=1_000, tasks=5_000)  # busy, doubled


async def test_walk_if_due_walks_only_when_the_rule_says_so(thawed: None) -> None:
    tasks = 10_000
    collections = FullCollections(WalkRule(quiet_tasks=100, growth_when_quiet=0.0), tasks=lambda: tasks)
    gc.collect()
    gc.freeze()  # as start-up does: growth counts from here
    async with collections.running(every_s=3600):
        extra = [Node() for _ in range(100)]
        gc.collect()  # the new survivors freeze too: the frozen set grew
        assert not collections.walk_if_due()  # busy
        tasks = 5
        assert collections.walk_if_due()
        assert collections.walks == 1
        assert not collections.walk_if_due()  # nothing grew since
    assert extra


async def test_generations_are_collected_on_the_clock_the_older_ones_every_nth_beat(
    thawed: None,
) -> None:
    generations: list[int] = []
    six = asyncio.Event()

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            generations.append(info["generation"])
            if len(generations) == 6:
                six.set()

    gc.disable()  # only the clock collects now
    gc.callbacks.append(seen)
    try:
        gone = _cycle()
        pace = asyncio.create_task(Pace(every_s=0.005, middle_every=3, full_every=6).run())
        await asyncio.wait_for(six.wait(), timeout=10)
        pace.cancel()
        await asyncio.gather(pace, return_exceptions=True)
    finally:
        gc.callbacks.remove(seen)
        gc.enable()
    assert gone() is None
    assert generations[:6] == [0, 0, 1, 0, 0, 2]
