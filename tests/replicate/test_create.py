"""A create is never blindly re-sent: ambiguous failures are settled by listing predictions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from demo_app.replicate import (
    ConnectFailed,
    ConnectionDropped,
    CreateOutcomeUnknown,
    RateLimited,
    ReplicateClient,
    ServerError,
)
from tests.replicate.fakes import (
    DROPPED_AFTER_CREATE,
    DROPPED_BEFORE_CREATE,
    GATEWAY_ERROR,
    REFUSED,
    THROTTLED,
    TIMED_OUT_AFTER_CREATE,
    TOKEN,
    Fault,
    Handler,
    MiniReplicate,
    SleepRecorder,
)

MakeClient = Callable[[Handler], ReplicateClient]
INPUT = {
    "image": "https://api.replicate.test/v1/files/img-1",
    "audio": "https://api.replicate.test/v1/files/a-1",
}


async def _create(client: ReplicateClient) -> str:
    prediction = await client.create_prediction(model="wan-video/wan-2.2-s2v", input=INPUT)
    return prediction.id


async def test_refused_connection_is_simply_retried(make_client: MakeClient, sleeps: SleepRecorder) -> None:
    fake = MiniReplicate(create_faults=[REFUSED, REFUSED])
    assert await _create(make_client(fake)) == "p1"
    assert (fake.calls["create"], fake.calls["list"]) == (3, 0)
    assert sleeps.waits == [0.5, 1.0]
    assert len(fake.predictions) == 1


async def test_throttled_create_waits_as_told(make_client: MakeClient, sleeps: SleepRecorder) -> None:
    fake = MiniReplicate(create_faults=[THROTTLED])
    assert await _create(make_client(fake)) == "p1"
    assert (fake.calls["create"], fake.calls["list"]) == (2, 0)
    assert sleeps.waits == [2.0]


async def test_throttled_until_the_end_raises_rate_limited(
    make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    fake = MiniReplicate(create_faults=[THROTTLED] * 4)
    with pytest.raises(RateLimited):
        await _create(make_client(fake))
    assert fake.calls["create"] == 4 and sleeps.waits == [2.0, 2.0, 2.0]
    assert fake.predictions == []


@pytest.mark.parametrize(
    "fault", [DROPPED_AFTER_CREATE, TIMED_OUT_AFTER_CREATE, Fault(creates=True, status=500)]
)
async def test_ambiguous_create_that_arrived_is_found_not_resent(
    make_client: MakeClient, sleeps: SleepRecorder, fault: Fault
) -> None:
    fake = MiniReplicate(create_faults=[fault])
    assert await _create(make_client(fake)) == "p1"
    assert fake.calls["create"] == 1, "never re-sent"
    assert fake.calls["list"] == 1 and fake.calls["get"] == 1  # list summaries lack input: fetched
    assert len(fake.predictions) == 1
    assert sleeps.waits == [0.5]  # one pause before asking, to let the list catch up


@pytest.mark.parametrize("fault", [DROPPED_BEFORE_CREATE, GATEWAY_ERROR])
async def test_ambiguous_create_proven_absent_is_sent_once_more(
    make_client: MakeClient, sleeps: SleepRecorder, fault: Fault
) -> None:
    fake = MiniReplicate(create_faults=[fault])
    assert await _create(make_client(fake)) == "p1"
    assert (fake.calls["create"], fake.calls["list"]) == (2, 1)
    assert len(fake.predictions) == 1


async def test_proven_absent_twice_raises_the_failure_without_a_third_send(make_client: MakeClient) -> None:
    fake = MiniReplicate(create_faults=[DROPPED_BEFORE_CREATE, DROPPED_BEFORE_CREATE])
    with pytest.raises(ConnectionDropped):
        await _create(make_client(fake))
    assert (fake.calls["create"], fake.calls["list"]) == (2, 2)
    assert fake.predictions == []


async def test_resend_after_absence_can_still_be_found(make_client: MakeClient) -> None:
    fake = MiniReplicate(create_faults=[DROPPED_BEFORE_CREATE, DROPPED_AFTER_CREATE])
    assert await _create(make_client(fake)) == "p1"
    assert (fake.calls["create"], fake.calls["list"]) == (2, 2)
    assert len(fake.predictions) == 1


async def test_unresolvable_when_the_list_keeps_failing(
    make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    fake = MiniReplicate(create_faults=[DROPPED_AFTER_CREATE], list_faults=[GATEWAY_ERROR] * 4)
    with pytest.raises(CreateOutcomeUnknown) as caught:
        await _create(make_client(fake))
    assert fake.calls["create"] == 1 and fake.calls["list"] == 4
    assert isinstance(caught.value.__cause__, ServerError)
    assert "dashboard" in str(caught.value) and TOKEN not in str(caught.value)
    assert sleeps.waits == [0.5, 0.5, 1.0, 2.0]


async def test_lookup_survives_a_transient_list_failure(make_client: MakeClient) -> None:
    fake = MiniReplicate(create_faults=[DROPPED_AFTER_CREATE], list_faults=[THROTTLED])
    assert await _create(make_client(fake)) == "p1"
    assert (fake.calls["create"], fake.calls["list"]) == (1, 2)


async def test_a_connection_that_never_opens_is_not_ambiguous(make_client: MakeClient) -> None:
    fake = MiniReplicate(create_faults=[REFUSED] * 4)
    with pytest.raises(ConnectFailed):
        await _create(make_client(fake))
    assert (fake.calls["create"], fake.calls["list"]) == (4, 0)


async def test_lookup_matches_only_the_same_input_in_the_window(make_client: MakeClient) -> None:
    fake = MiniReplicate(create_faults=[DROPPED_BEFORE_CREATE])
    fake.add(INPUT, created_at=datetime.now(UTC) - timedelta(minutes=10))  # same input, long ago
    fake.add({**INPUT, "seed": 7})  # recent, different input
    assert await _create(make_client(fake)) == "p3"
    assert fake.calls["create"] == 2


async def test_lookup_skips_predictions_this_client_already_returned(make_client: MakeClient) -> None:
    """Same small inputs twice (data: URLs are not unique): the first answer is not the second."""
    fake = MiniReplicate(create_faults=[None, DROPPED_BEFORE_CREATE])
    client = make_client(fake)
    assert await _create(client) == "p1"
    assert await _create(client) == "p2"
    assert fake.calls["create"] == 3


async def test_find_prediction_reads_inputs_from_the_list_when_present(make_client: MakeClient) -> None:
    fake = MiniReplicate()
    fake.page_size = 1
    fake.list_has_input = True
    fake.add(INPUT)
    fake.add({"other": 1})
    fake.add({"other": 2})
    client = make_client(fake)
    found = await client.find_prediction(
        dict(reversed(INPUT.items())), created_after=datetime.now(UTC) - timedelta(minutes=1)
    )
    assert found is not None and found.id == "p1"
    assert (fake.calls["list"], fake.calls["get"]) == (3, 0)
    assert (
        await client.find_prediction({"nope": 0}, created_after=datetime.now(UTC) - timedelta(minutes=1))
        is None
    )


async def test_find_stops_at_older_predictions_even_if_the_server_ignores_the_filter(
    make_client: MakeClient,
) -> None:
    fake = MiniReplicate()
    old = fake.add(INPUT, created_at=datetime.now(UTC) - timedelta(hours=2))

    def ignores_filter(request: httpx.Request) -> httpx.Response:
        return fake(httpx.Request(request.method, request.url.copy_remove_param("created_after")))

    found = await make_client(ignores_filter).find_prediction(
        INPUT, created_after=datetime.now(UTC) - timedelta(minutes=5)
    )
    assert found is None and old["id"] == "p1" and fake.calls["get"] == 0
