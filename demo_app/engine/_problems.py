"""Errors the engine answers with, as Replicate does: `application/problem+json`.

A handler raises `Problem`; the route wrapper turns it into the response. The constructors
below give the texts Replicate uses where they are known (401, 422) and readable ones elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse


class Problem(Exception):
    """An HTTP error with an RFC 7807 body: `title`, `detail`, `status` (+ extra members)."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.status = status
        self.title = title
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def response(self) -> JSONResponse:
        body = {"title": self.title, "detail": self.detail, "status": self.status, **self.extra}
        return JSONResponse(body, self.status, headers=self.headers, media_type="application/problem+json")


def unauthenticated(*, token_given: bool) -> Problem:
    """Replicate's two 401 texts: a wrong token and no token at all differ."""
    if token_given:
        return Problem(401, "Unauthenticated", "You did not pass a valid authentication token")
    return Problem(401, "Unauthenticated", "You did not pass an authentication token")


def not_found(detail: str) -> Problem:
    return Problem(404, "Not found", detail)


def invalid_request(title: str, detail: str) -> Problem:
    """A request the engine understood but refuses (bad header, bad body): 422."""
    return Problem(422, title, detail)


def rate_limited(retry_after_s: int) -> Problem:
    """Replicate's documented throttle text, plus the `Retry-After` both official clients read."""
    return Problem(
        429,
        "Request was throttled",
        f"Request was throttled. Your rate limit resets in ~{retry_after_s}s.",
        headers={"Retry-After": str(retry_after_s)},
    )
