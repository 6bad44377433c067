"""`Cancel-After` and `Prefer: wait`, read as Replicate's OpenAPI description defines them."""

from __future__ import annotations

import pytest

from demo_app.engine._headers import parse_cancel_after, parse_prefer_wait


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("30s", 30),
        ("5m", 300),
        ("1h30m45s", 5445),
        ("2h30m", 9000),
        ("90", 90),
        ("5", 5),
        ("1.5m", 90),
        (" 10S ", 10),
    ],
)
def test_cancel_after_durations(value: str, seconds: float) -> None:
    assert parse_cancel_after(value) == seconds


@pytest.mark.parametrize("value", ["4s", "0", "4.9"])
def test_cancel_after_below_five_seconds_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="at least 5 seconds"):
        parse_cancel_after(value)


@pytest.mark.parametrize("value", ["", "soon", "5 minutes", "1d", "m5", "-30s"])
def test_cancel_after_that_is_not_a_duration_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_cancel_after(value)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("wait", 60),
        ("wait=1", 1),
        ("wait=60", 60),
        ("respond-async, wait=10", 10),
        ("", None),
        ("return=minimal", None),
    ],
)
def test_prefer_wait(value: str, seconds: int | None) -> None:
    assert parse_prefer_wait(value) == seconds


@pytest.mark.parametrize("value", ["wait=0", "wait=61", "wait=abc", "wait=05"])
def test_prefer_wait_outside_one_to_sixty_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="from 1 to 60"):
        parse_prefer_wait(value)
