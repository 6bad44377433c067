"""Turn an error response (problem+json, plain JSON or plain text) into one of our `APIError`s.

Replicate answers errors as `application/problem+json` with `title`, `detail`, `status` (sometimes
without `title`); its load balancer answers some 404s in plain text. Every text that ends up in an
exception passes through `scrub` so an echoed token can never reach a visitor.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from .errors import (
    APIError,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServerError,
    Unauthorized,
)

_MAX_TEXT = 300
_RESETS_IN = re.compile(r"resets in\s*~?\s*(\d+(?:\.\d+)?)\s*s", re.IGNORECASE)
_DETAIL_FIELD_LINE = re.compile(r"^\s*-\s*(?P<field>[\w.\[\]-]+)\s*:\s*(?P<message>.+?)\s*$")


def scrub(text: str, secret: str | None) -> str:
    """`text` without the token, shortened to one readable line."""
    if secret:
        text = text.replace(secret, "[secure]")
    text = " ".join(text.split())
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header: delta-seconds or an HTTP-date; None if absent/bad."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def retry_after_from_detail(detail: str) -> float | None:
    """The wait in Replicate's documented throttle text: "Your rate limit resets in ~30s."."""
    match = _RESETS_IN.search(detail)
    return float(match.group(1)) if match else None


def field_messages(body: Mapping[str, Any], detail: str) -> dict[str, str]:
    """Per-field messages of a 422: from `invalid_fields`, else from "- field: message" detail lines."""
    messages: dict[str, str] = {}
    invalid = body.get("invalid_fields")
    if isinstance(invalid, list):
        for item in invalid:
            if not isinstance(item, Mapping):
                continue
            field = item.get("field") or item.get("name") or item.get("loc") or "input"
            message = item.get("description") or item.get("message") or item.get("msg") or "is invalid"
            _add(messages, str(field), str(message))
    if not messages:
        for line in detail.splitlines():
            match = _DETAIL_FIELD_LINE.match(line)
            if match:
                _add(messages, match.group("field"), match.group("message"))
    return messages


def _add(messages: dict[str, str], field: str, message: str) -> None:
    messages[field] = f"{messages[field]}; {message}" if field in messages else message


_TYPES: dict[int, type[APIError]] = {
    401: Unauthorized,
    404: NotFound,
    413: PayloadTooLarge,
    422: InvalidInput,
    429: RateLimited,
}


def error_from_response(
    status: int,
    headers: Mapping[str, str],
    content: bytes,
    *,
    secret: str | None,
    now: datetime | None = None,
) -> APIError:
    """The typed error for an error response; texts are scrubbed of `secret`.

    Messages are terse and technical ("422 Unprocessable Entity: input.image: ..."): what to
    tell a visitor is decided by the jobs layer, from the type and its attributes.
    """
    body = _json_object(content)
    if body is not None:
        title = scrub(str(body.get("title") or ""), secret)
        detail_raw = str(body.get("detail") or body.get("error") or body.get("message") or "")
    else:
        title = ""
        detail_raw = content.decode("utf-8", errors="replace")
    detail = scrub(detail_raw, secret)
    title = title or _REASONS.get(status, f"HTTP {status}")
    summary = f"{status} {title}: {detail}" if detail and detail != title else f"{status} {title}"
    kind = _TYPES.get(status, ServerError if status >= 500 else APIError)
    if kind is InvalidInput:
        fields = field_messages(body or {}, detail_raw)
        fields = {scrub(k, secret): scrub(v, secret) for k, v in fields.items()}
        listed = "; ".join(f"{k}: {v}" for k, v in fields.items()) or detail or title
        return InvalidInput(
            f"{status} {title}: {listed}", status=status, title=title, detail=detail, field_messages=fields
        )
    if kind is RateLimited:
        wait = parse_retry_after(headers.get("retry-after"), now=now)
        if wait is None:
            wait = retry_after_from_detail(detail)
        after = f" (retry after {wait:.0f} s)" if wait is not None else ""
        return RateLimited(summary + after, status=status, title=title, detail=detail, retry_after_s=wait)
    return kind(summary, status=status, title=title, detail=detail)


def _json_object(content: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(content)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


_REASONS = {
    400: "Bad request",
    401: "Unauthenticated",
    402: "Payment required",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    410: "Gone",
    413: "Payload too large",
    422: "Input validation failed",
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}
