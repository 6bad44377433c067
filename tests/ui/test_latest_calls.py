"""A tab's newest call of an event is the one whose answer shows (`demo_app.ui._latest`)."""

from __future__ import annotations

import asyncio

from demo_app.ui._latest import LatestCalls


def test_an_older_call_overtaken_by_a_newer_one_of_the_same_tab_is_not_the_newest() -> None:
    calls = LatestCalls()
    older = calls.begin("tab-a")
    newer = calls.begin("tab-a")
    assert calls.is_newest("tab-a", newer)
    assert not calls.is_newest("tab-a", older)  # it ended after the newer one began: it changes nothing


def test_another_tabs_calls_do_not_overtake() -> None:
    calls = LatestCalls()
    mine = calls.begin("tab-a")
    calls.begin("tab-b")
    calls.begin("tab-b")
    assert calls.is_newest("tab-a", mine)


def test_a_call_that_ended_before_the_next_began_was_the_newest_when_it_ended() -> None:
    calls = LatestCalls()
    first = calls.begin("tab-a")
    assert calls.is_newest("tab-a", first)
    second = calls.begin("tab-a")
    assert calls.is_newest("tab-a", second)


def test_tabs_are_bounded_and_a_forgotten_tabs_call_shows() -> None:
    calls = LatestCalls(max_tabs=2)
    old_tab = calls.begin("tab-a")
    calls.begin("tab-a")  # tab-a's first call is overtaken...
    calls.begin("tab-b")
    calls.begin("tab-c")  # ...and tab-a, the least recent, is forgotten
    assert len(calls) == 2
    assert calls.is_newest("tab-a", old_tab)  # nothing known against it: its answer shows, as before


async def test_answer_gives_the_result_unless_a_newer_call_began_meanwhile() -> None:
    calls = LatestCalls()
    older_waits, newer_began = asyncio.Event(), asyncio.Event()

    async def overtaken() -> str:
        older_waits.set()
        await newer_began.wait()
        return "older inputs"

    older = asyncio.create_task(calls.answer("tab-a", overtaken()))
    await older_waits.wait()  # the older call has begun
    newer = await calls.answer("tab-a", asyncio.sleep(0, result="newer inputs"))
    newer_began.set()
    assert (newer, await older) == ("newer inputs", None)
