"""Error responses become typed, readable errors: recorded bodies, 422 fields, 429 waits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from demo_app.replicate import (
    APIError,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServerError,
    Unauthorized,
)
from demo_app.replicate._problem import error_from_response, parse_retry_after
from tests.replicate.fakes import TOKEN, recorded


def _from_recorded(name: str) -> APIError:
    exchange = recorded(name)
    body = exchange["body"]
    content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    headers = {k.lower(): v for k, v in exchange["headers"].items()}
    return error_from_response(exchange["status"], headers, content, secret=TOKEN)


def _problem(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> APIError:
    return error_from_response(status, headers or {}, json.dumps(body).encode(), secret=TOKEN)


def test_recorded_401_invalid_token() -> None:
    error = _from_recorded("error-401-invalid-token.http.json")
    assert type(error) is Unauthorized
    assert (error.status, error.title) == (401, "Unauthenticated")
    assert error.detail == "You did not pass a valid authentication token"
    assert str(error) == "401 Unauthenticated: You did not pass a valid authentication token"


def test_recorded_401_missing_token() -> None:
    error = _from_recorded("error-401-missing-token.http.json")
    assert type(error) is Unauthorized and error.detail == "You did not pass an authentication token"


def test_recorded_404_problem_without_title() -> None:
    error = _from_recorded("error-404-training-destination.http.json")
    assert type(error) is NotFound
    assert error.title == "Not found"
    assert error.detail == "The specified training destination does not exist"


def test_recorded_404_plain_text_from_the_load_balancer() -> None:
    error = _from_recorded("error-404-wrong-path-text-plain.http.json")
    assert type(error) is NotFound
    assert error.detail == "response 404 (backend NotFound), service rules for the path non-existent"


def test_recorded_429_with_retry_after_header() -> None:
    error = _from_recorded("handwritten-fixture-error-429-retry-after.http.json")
    assert type(error) is RateLimited
    assert error.retry_after_s == 1.0
    assert "Too many requests" in str(error) and "1 s" in str(error)


def test_429_wait_from_the_documented_body_text() -> None:
    error = _problem(429, {"detail": "Request was throttled. Your rate limit resets in ~30s."})
    assert isinstance(error, RateLimited) and error.retry_after_s == 30.0


def test_429_header_wins_over_body_and_http_date_is_read() -> None:
    now = datetime(2025, 5, 1, 12, 0, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=42), usegmt=True)
    error = error_from_response(
        429,
        {"retry-after": header},
        b'{"detail": "Your rate limit resets in ~30s."}',
        secret=None,
        now=now,
    )
    assert isinstance(error, RateLimited) and error.retry_after_s == 42.0


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("3", 3.0), ("0.5", 0.5), (" 7 ", 7.0), ("-4", 0.0), ("soon", None), ("", None), (None, None)],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value) == seconds


def test_retry_after_date_in_the_past_means_now() -> None:
    now = datetime(2025, 5, 1, tzinfo=UTC)
    assert parse_retry_after(format_datetime(now - timedelta(minutes=5), usegmt=True), now=now) == 0.0


def test_429_without_any_wait() -> None:
    error = _problem(429, {"detail": "Too many requests"})
    assert isinstance(error, RateLimited) and error.retry_after_s is None


def test_422_keeps_field_messages_from_invalid_fields() -> None:
    error = _problem(
        422,
        {
            "title": "Input validation failed",
            "detail": "- input.image: Does not match format 'uri'\n"
            "- input.num_frames_per_chunk: Must be <= 121\n",
            "status": 422,
            "invalid_fields": [
                {"type": "format", "field": "input.image", "description": "Does not match format 'uri'"},
                {"type": "maximum", "field": "input.num_frames_per_chunk", "description": "Must be <= 121"},
            ],
        },
    )
    assert isinstance(error, InvalidInput)
    assert error.field_messages == {
        "input.image": "Does not match format 'uri'",
        "input.num_frames_per_chunk": "Must be <= 121",
    }
    assert "input.image: Does not match format 'uri'" in str(error)


def test_422_field_messages_from_detail_lines_when_no_list() -> None:
    error = _problem(
        422, {"title": "Input validation failed", "detail": "- audio: audio is required\n", "status": 422}
    )
    assert isinstance(error, InvalidInput) and error.field_messages == {"audio": "audio is required"}


def test_other_statuses() -> None:
    assert type(_problem(413, {"detail": "Files must be less than 100MB in size"})) is PayloadTooLarge
    assert type(_problem(503, {"detail": "Service unavailable"})) is ServerError
    assert type(error_from_response(502, {}, b"<html>bad gateway</html>", secret=None)) is ServerError
    payment = _problem(402, {"title": "Insufficient credit", "detail": "Add a payment method"})
    assert type(payment) is APIError and payment.status == 402
    assert "Insufficient credit: Add a payment method" in str(payment)


def test_an_echoed_token_is_scrubbed_from_every_text() -> None:
    error = _problem(
        422,
        {
            "title": f"Bad {TOKEN}",
            "detail": f"token {TOKEN} invalid",
            "invalid_fields": [{"field": f"input.{TOKEN}", "description": f"is {TOKEN}"}],
        },
    )
    assert isinstance(error, InvalidInput)
    texts = [str(error), error.title, error.detail, *error.field_messages, *error.field_messages.values()]
    assert all(TOKEN not in text for text in texts)
    assert "[secure]" in str(error)


def test_long_bodies_are_cut_to_one_readable_line() -> None:
    error = error_from_response(500, {}, ("x" * 5000 + "\n\n" + "y").encode(), secret=None)
    assert len(error.detail) <= 300 and "\n" not in str(error)
