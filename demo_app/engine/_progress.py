"""tqdm-style progress lines, as a Cog model prints them into a prediction's `logs`.

The format follows tqdm's default meter without a terminal (10-character bar of eighth
blocks), e.g. `` 45%|████▌     | 113/250 [00:02<00:03, 48.10it/s]``, so clients that parse
real Replicate logs parse ours the same way.
"""

from __future__ import annotations

_BLOCKS = " ▏▎▍▌▋▊▉█"
_BAR_WIDTH = 10


def tqdm_line(done: int, total: int, elapsed_s: float) -> str:
    """One meter line for `done` of `total` after `elapsed_s` seconds."""
    fraction = min(1.0, done / total) if total > 0 else 0.0
    rate = done / elapsed_s if elapsed_s > 0 and done > 0 else None
    remaining = (total - done) / rate if rate else None
    rate_text = "?it/s" if rate is None else _rate(rate)
    remaining_text = _interval(remaining) if remaining is not None else "?"
    return (
        f"{int(fraction * 100):3d}%|{_bar(fraction)}| {done}/{total} "
        f"[{_interval(elapsed_s)}<{remaining_text}, {rate_text}]"
    )


def _rate(rate: float) -> str:
    """tqdm turns the rate over when it falls below one step a second."""
    return f"{rate:5.2f}it/s" if rate >= 1 else f"{1 / rate:5.2f}s/it"


def _bar(fraction: float) -> str:
    steps = len(_BLOCKS) - 1
    full, partial = divmod(int(fraction * _BAR_WIDTH * steps), steps)
    if full >= _BAR_WIDTH:
        return _BLOCKS[-1] * _BAR_WIDTH
    return _BLOCKS[-1] * full + _BLOCKS[partial] + " " * (_BAR_WIDTH - full - 1)


def _interval(seconds: float) -> str:
    """tqdm's `format_interval`: MM:SS, or H:MM:SS past an hour."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:d}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
