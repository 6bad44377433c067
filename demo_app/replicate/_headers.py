"""The request header a create carries, in the exact syntax Replicate accepts."""

from __future__ import annotations

import math

MIN_CANCEL_AFTER_S = 5


def cancel_after(seconds: float) -> str:
    """`Cancel-After` value: whole seconds rounded up, written `90s`, `10m`, `1h30m`, `2m5s`."""
    if not math.isfinite(seconds) or seconds < MIN_CANCEL_AFTER_S:
        raise ValueError(f"Cancel-After must be at least {MIN_CANCEL_AFTER_S} seconds, got {seconds!r}")
    total = math.ceil(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "", f"{secs}s" if secs else ""]
    return "".join(parts)

