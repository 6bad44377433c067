"""Progress read from a prediction's logs, the only progress signal Replicate gives.

Models print tqdm bars (`76%|███▌ | 7568/10000 [00:33<00:10, 2.3it/s]`, also `#` bars, prefixed
bars and `?` totals) or their own `frame 45/100` lines. tqdm separates updates with `\\r` on a
terminal and `\\n` in captured logs, so lines are split on both and read newest first: the newest
progress line is the truth, older ones are stale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_LINES = re.compile(r"[\r\n]+")
_TQDM = re.compile(r"(?P<pct>\d{1,3}(?:\.\d+)?)%\s*\|[^|\r\n]*\|\s*(?P<cur>\d+)/(?P<tot>\d+|\?)")
_TQDM_NO_PCT = re.compile(r"\|[^|\r\n]*\|\s*(?P<cur>\d+)/(?P<tot>\d+|\?)\s*\[")
_COUNTER = re.compile(
    r"\b(?:frames?|steps?|chunks?)\b\s*[:#]?\s*(?P<cur>\d+)\s*/\s*(?P<tot>\d+)", re.IGNORECASE
)


@dataclass(frozen=True)
class Progress:
    """How far a prediction is: `fraction` in [0, 1], with the counts it came from when known."""

    fraction: float
    current: int | None
    total: int | None


def parse_progress(logs: str | None) -> Progress | None:
    """The progress shown by the newest progress line of `logs`, or None if it cannot be told."""
    if not logs:
        return None
    for line in reversed(_LINES.split(logs)):
        if not line.strip():
            continue
        match = _TQDM.search(line) or _TQDM_NO_PCT.search(line) or _COUNTER.search(line)
        if match is None:
            continue
        return _progress(match)
    return None


def _progress(match: re.Match[str]) -> Progress | None:
    """None for a bar with an unknown total: the newest bar says nothing about how far along."""
    current = int(match["cur"])
    if match["tot"] == "?":
        return None
    total = int(match["tot"])
    if total > 0:
        fraction = current / total
    elif "pct" in match.re.groupindex:
        fraction = float(match["pct"]) / 100
    else:
        return None
    return Progress(fraction=min(1.0, max(0.0, fraction)), current=current, total=total)
