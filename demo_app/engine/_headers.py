"""Parsing of Replicate's request headers `Cancel-After` and `Prefer: wait`.

Both grammars come from Replicate's OpenAPI description (`parameters_cancel_after_header`,
`parameters_prefer_header`). A malformed header raises `ValueError` with a sentence the API
returns to the caller as the 422 detail.
"""

from __future__ import annotations

import re

MIN_CANCEL_AFTER_S = 5.0
MAX_PREFER_WAIT_S = 60

_DURATION = re.compile(r"^(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+(?:\.\d+)?)m)?(?:(?P<s>\d+(?:\.\d+)?)s)?$")
_BARE_SECONDS = re.compile(r"^\d+(?:\.\d+)?$")
_WAIT = re.compile(r"^wait(?:=(?P<n>[1-9]|[1-9][0-9]|60))?$")


def parse_cancel_after(value: str) -> float:
    """Seconds from `30s`, `5m`, `1h30m45s` or a bare number of seconds; at least 5 s."""
    text = value.strip().lower()
    if _BARE_SECONDS.match(text):
        seconds = float(text)
    else:
        match = _DURATION.match(text)
        if not text or match is None:
            raise ValueError(
                f"Cancel-After {value!r} is not a duration: use e.g. 30s, 5m, 1h30m45s or plain seconds."
            )
        hours, minutes, secs = (float(match.group(k) or 0) for k in ("h", "m", "s"))
        seconds = hours * 3600 + minutes * 60 + secs
    if seconds < MIN_CANCEL_AFTER_S:
        raise ValueError(f"Cancel-After must be at least {MIN_CANCEL_AFTER_S:g} seconds, got {value!r}.")
    return seconds


def parse_prefer_wait(value: str) -> int | None:
    """Seconds to hold a create request open, from `Prefer: wait` / `wait=n`; None if not asked.

    Other preferences in the same header (RFC 7240 lists them comma-separated) are ignored.
    """
    for token in (part.strip().lower() for part in value.split(",")):
        if not token.startswith("wait"):
            continue
        match = _WAIT.match(token.replace(" ", ""))
        seconds = int(match.group("n") or MAX_PREFER_WAIT_S) if match else 0
        if not 1 <= seconds <= MAX_PREFER_WAIT_S:  # the spec's pattern alone would let 61..99 through
            raise ValueError(f"Prefer {token!r} is not valid: use 'wait' or 'wait=n' with n from 1 to 60.")
        return seconds
    return None
