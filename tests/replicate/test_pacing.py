"""The budgets' token buckets on a virtual clock: never above the ceiling in any sliding minute,
nothing dropped, first come first served, cancels first, a waiter that leaves takes nothing."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from demo_app.replicate import Call, Pacing, Priority, TokenBucket
from tests.virtual_time import ManualTime, VirtualTime


def most_in_any_minute(times: list[float]) -> int:
    """The largest count of grants inside one closed 60 s window, over every window."""
    times = sorted(times)
    most, start = 0, 0
    for end, moment in enumerate(times):
        while times[start] < moment - 60.0:
            start += 1
        most = max(most, end - start + 1)
    return most


@pytest.mark.parametrize("per_minute", [600, 500, 3000, 2400, 37])
async def test_a_burst_of_arrivals_never_exceeds_the_ceiling_in_any_minute(per_minute: int) -> None:
    clock = VirtualTime()
    bucket = TokenBucket(per_minute, clock=clock, sleep=clock.sleep)
    granted: list[float] = []
    order: list[int] = []

    async def call(n: int) -> None:
        await bucket.acquire()
        granted.append(clock.now)
        order.append(n)

    arrivals = per_minute * 3
    await asyncio.gather(*(call(n) for n in range(arrivals)))
    assert len(granted) == arrivals  # nobody dropped
    assert order == list(range(arrivals))  # first come first served
    assert most_in_any_minute(granted) <= per_minute
    # ... and the bucket does not idle either: the steady rate is used to the full.
    expected_s = (arrivals - bucket.burst) / bucket.rate_per_s
    assert granted[-1] == pytest.approx(expected_s, rel=1e-6)


async def test_arrivals_spread_over_time_stay_under_the_ceiling_too() -> None:
    """Waves that come back just as the bucket refills are the worst case for a sliding window."""
    clock = VirtualTime()
    bucket = TokenBucket(600, clock=clock, sleep=clock.sleep)
    granted: list[float] = []

    async def call() -> None:
        await bucket.acquire()
        granted.append(clock.now)

    for _wave in range(12):
        await asyncio.gather(*(call() for _ in range(200)))
        clock.now += 7.0  # idle long enough for the burst to come back
    assert most_in_any_minute(granted) <= 600


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    per_minute=st.integers(min_value=10, max_value=600),
    waves=st.lists(
        st.tuples(st.floats(min_value=0.0, max_value=90.0), st.integers(min_value=0, max_value=400)),
        min_size=1,
        max_size=8,
    ),
    urgent_every=st.integers(min_value=2, max_value=50),
)
def test_any_arrivals_stay_under_the_ceiling_in_every_minute(
    per_minute: int, waves: list[tuple[float, int]], urgent_every: int
) -> None:
    """Waves of any size after any pause, normal and urgent mixed: never above the ceiling."""

    async def run() -> list[float]:
        clock = VirtualTime()
        bucket = TokenBucket(per_minute, clock=clock, sleep=clock.sleep)
        granted: list[float] = []

        async def call(n: int) -> None:
            await bucket.acquire(Priority.URGENT if n % urgent_every == 0 else Priority.NORMAL)
            granted.append(clock.now)

        for pause, count in waves:
            clock.now += pause
            await asyncio.gather(*(call(n) for n in range(count)))
        return granted

    granted = asyncio.run(run())
    assert len(granted) == sum(count for _, count in waves)
    assert most_in_any_minute(granted) <= per_minute


async def test_a_cancel_goes_before_a_thousand_waiting_polls() -> None:
    clock = VirtualTime()
    bucket = TokenBucket(120, clock=clock, sleep=clock.sleep)
    served: list[str] = []

    async def call(name: str, priority: Priority) -> None:
        await bucket.acquire(priority)
        served.append(name)

    polls = [asyncio.create_task(call(f"poll-{n}", Priority.NORMAL)) for n in range(1000)]
    await asyncio.sleep(0)
    waiting = bucket.waiting()
    assert waiting >= 1000 - bucket.burst
    cancel = asyncio.create_task(call("cancel", Priority.URGENT))
    await cancel
    # Only the polls granted before the cancel arrived went ahead of it.
    assert served.index("cancel") == 1000 - waiting
    await asyncio.gather(*polls)
    assert len(served) == 1001


async def test_a_waiter_that_leaves_takes_nothing_and_the_next_moves_up() -> None:
    clock = ManualTime()
    bucket = TokenBucket(60, clock=clock, sleep=clock.sleep)  # burst 6, then 0.9 a second
    for _ in range(bucket.burst):
        await bucket.acquire()
    served: list[str] = []

    async def call(name: str) -> None:
        await bucket.acquire()
        served.append(name)

    first = asyncio.create_task(call("first"))
    second = asyncio.create_task(call("second"))
    await asyncio.sleep(0)
    assert bucket.waiting() == 2
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    assert bucket.waiting() == 1  # left at once
    clock.advance(60 / (60 - bucket.burst))  # one token's worth
    await second
    assert served == ["second"]  # it got the token the first one left


async def test_pacing_sends_creates_and_reads_to_their_own_buckets() -> None:
    clock = VirtualTime()
    pacing = Pacing.per_minute(reads=100, creates=20, clock=clock, sleep=clock.sleep)
    assert pacing.creates.per_minute == 20 and pacing.reads.per_minute == 100
    assert pacing.reads.rate_per_s == pytest.approx(90 / 60)
    assert pacing.creates.available() == 2  # a tenth of the minute as burst


def test_a_bucket_needs_room_for_a_steady_rate() -> None:
    with pytest.raises(ValueError):
        TokenBucket(1)


async def test_spare_calls_go_only_when_no_other_call_waits() -> None:
    """Deletes (spare) queued before the polls still go after them; a poll arriving while spare
    calls wait goes first too; and once nothing else waits the spare calls are served."""
    clock = VirtualTime()
    bucket = TokenBucket(60, clock=clock, sleep=clock.sleep)  # burst 6
    for _ in range(bucket.burst):
        await bucket.acquire()
    served: list[str] = []

    async def call(name: str, priority: Priority) -> None:
        await bucket.acquire(priority)
        served.append(name)

    spares = [asyncio.create_task(call(f"delete-{n}", Priority.SPARE)) for n in range(5)]
    polls = [asyncio.create_task(call(f"poll-{n}", Priority.NORMAL)) for n in range(20)]
    await asyncio.sleep(0)
    assert bucket.waiting() == 25
    await polls[0]
    late = asyncio.create_task(call("late poll", Priority.NORMAL))
    await asyncio.gather(*polls, late, *spares)
    assert served[:21] == [f"poll-{n}" for n in range(20)] + ["late poll"]
    assert served[21:] == [f"delete-{n}" for n in range(5)]


async def test_a_spare_call_on_an_idle_budget_goes_at_once() -> None:
    clock = ManualTime()
    bucket = TokenBucket(60, clock=clock, sleep=clock.sleep)
    await asyncio.wait_for(bucket.acquire(Priority.SPARE), timeout=1.0)  # the clock never moved
    assert bucket.available() == bucket.burst - 1


async def test_a_cancel_goes_before_waiting_polls_and_deletes() -> None:
    clock = VirtualTime()
    bucket = TokenBucket(60, clock=clock, sleep=clock.sleep)
    for _ in range(bucket.burst):
        await bucket.acquire()
    served: list[str] = []

    async def call(name: str, priority: Priority) -> None:
        await bucket.acquire(priority)
        served.append(name)

    waiting = [
        asyncio.create_task(call(name, priority))
        for name, priority in [("delete", Priority.SPARE), ("poll", Priority.NORMAL)] * 10
    ]
    await asyncio.sleep(0)
    await call("cancel", Priority.URGENT)
    await asyncio.gather(*waiting)
    assert served[0] == "cancel"
    assert served[1:] == ["poll"] * 10 + ["delete"] * 10


async def test_pacing_sends_spare_calls_to_the_read_budget_last() -> None:
    clock = VirtualTime()
    pacing = Pacing.per_minute(reads=60, creates=60, clock=clock, sleep=clock.sleep)
    for _ in range(pacing.reads.per_minute // 10):
        await pacing.admit(Call.READ)
    served: list[Call] = []

    async def admit(call: Call) -> None:
        await pacing.admit(call)
        served.append(call)

    calls = [Call.SPARE, Call.READ, Call.SPARE, Call.CANCEL, Call.READ]
    tasks = [asyncio.create_task(admit(call)) for call in calls]
    await asyncio.gather(*tasks)
    assert served == [Call.CANCEL, Call.READ, Call.READ, Call.SPARE, Call.SPARE]
    assert pacing.creates.available() == 6  # nothing taken from the create budget
