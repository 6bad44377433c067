"""`RetryPolicy` waits and the request headers a create carries."""

from __future__ import annotations

import pytest

from demo_app.replicate import RateLimited, RetryPolicy, ServerError
from demo_app.replicate._headers import cancel_after


def _throttled(wait: float | None) -> RateLimited:
    return RateLimited("slow down", status=429, title="Too many requests", detail="", retry_after_s=wait)


def test_backoff_doubles_and_is_capped() -> None:
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=3.0, jitter=0.0)
    assert [policy.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


@pytest.mark.parametrize("draw", [0.0, 0.5, 0.999])
def test_jitter_stays_within_its_spread(draw: float) -> None:
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=60.0, jitter=0.2, random=lambda: draw)
    assert 0.8 * 4 <= policy.delay(3) <= 1.2 * 4


def test_jitter_actually_spreads_waits() -> None:
    draws = iter([0.0, 0.999])
    policy = RetryPolicy(base_delay_s=1.0, jitter=0.2, random=lambda: next(draws))
    assert policy.delay(1) != policy.delay(1)


def test_server_wait_is_honoured_over_backoff_and_capped() -> None:
    policy = RetryPolicy(base_delay_s=0.1, max_retry_after_s=20.0, jitter=0.1, random=lambda: 0.5)
    assert policy.delay(1, _throttled(5.0)) == pytest.approx(5.25)  # never less than asked
    assert policy.delay(1, _throttled(3600.0)) == 20.0
    assert policy.delay(1, _throttled(None)) == pytest.approx(0.1)
    server_error = ServerError("down", status=503, title="", detail="")
    assert policy.delay(2, server_error) == pytest.approx(0.2)


def test_policy_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="jitter"):
        RetryPolicy(jitter=1.5)


@pytest.mark.parametrize(
    ("seconds", "header"),
    [(5, "5s"), (59.2, "1m"), (90, "1m30s"), (600, "10m"), (3600, "1h"), (5445, "1h30m45s"), (7201, "2h1s")],
)
def test_cancel_after_format(seconds: float, header: str) -> None:
    assert cancel_after(seconds) == header


@pytest.mark.parametrize("seconds", [4.9, 0, -1, float("nan"), float("inf")])
def test_cancel_after_below_replicate_minimum(seconds: float) -> None:
    with pytest.raises(ValueError, match="at least 5"):
        cancel_after(seconds)

