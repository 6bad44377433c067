"""How a model's run is priced, in whole credits (1 credit = $0.001).

Two kinds of rule exist on Replicate: official models bill per second of output video, and
community models bill the seconds the GPU spent (`metrics.predict_time`). The Space's owner may
also charge a fixed price per run (see `_prices`). The estimate is what is held before the run;
the bill is what the run cost, and the capture is the bill, never above the hold.

All arithmetic is on integers: seconds become whole milliseconds once, then every division
rounds up, so a price never depends on float rounding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class PricingRule:
    """Exactly one of `per_output_second` / `per_predict_second` (credits per second) / `per_run`."""

    per_output_second: int | None = None
    per_predict_second: int | None = None
    per_run: int | None = None
    confirmed: bool = False
    """True only when the price was read on replicate.com itself."""
    source: str = ""
    """Where the price comes from, and what is unsure about it."""
    estimate_predict_overhead_s: int = 0
    """Time-billed rules: predict seconds held for any run, on top of ..."""
    estimate_predict_s_per_audio_s: int = 0
    """... this many predict seconds per second of audio (a generous bound, not a typical run)."""
    bills_unsuccessful_runs: bool = False
    """Output-billed rules: True when Replicate bills a run that ran but made no video (failed,
    canceled, timed out). Time-billed runs are always billed for the seconds they ran."""
    set_by_space: bool = False
    """True when the Space's owner set this price (a price override), not the catalog."""

    def __post_init__(self) -> None:
        given = (self.per_output_second, self.per_predict_second, self.per_run)
        rates = [rate for rate in given if rate is not None]
        if len(rates) != 1 or rates[0] < 0:
            raise ValueError("A pricing rule needs exactly one non-negative rate.")
        if self.per_predict_second is not None and self.estimate_predict_s_per_audio_s <= 0:
            raise ValueError("A time-billed rule needs estimate_predict_s_per_audio_s > 0.")

    @property
    def time_billed(self) -> bool:
        return self.per_predict_second is not None

    def estimate(self, audio_s: float, *, output_s: float | None = None) -> int:
        """Credits to hold for `audio_s` seconds of audio whose video may run to `output_s`
        seconds (the longest the model can return for it; default: as long as the audio)."""
        if not math.isfinite(audio_s) or (output_s is not None and not math.isfinite(output_s)):
            raise ValueError(f"Cannot price {audio_s} seconds of audio.")
        audio_ms = _ms(audio_s)
        if self.per_run is not None:
            return self.per_run
        if self.per_output_second is not None:
            return _credits(max(audio_ms, _ms(output_s or 0.0)), self.per_output_second)
        assert self.per_predict_second is not None
        predict_ms = self.estimate_predict_overhead_s * 1000 + self.estimate_predict_s_per_audio_s * audio_ms
        return _credits(predict_ms, self.per_predict_second)

    def actual(self, *, output_s: float | None, predict_time_s: float | None, held: int) -> int:
        """Credits to capture after a successful run: the bill, at most `held`."""
        return min(self.bill(output_s=output_s, predict_time_s=predict_time_s, held=held), max(held, 0))

    def bill(self, *, output_s: float | None, predict_time_s: float | None, held: int) -> int:
        """What a successful run cost, even above the hold (the owner's spend counts it all).

        When the figure the rule needs is missing (or not a finite number), the hold stands: it
        was computed from the same audio the output follows, and Replicate billed the run anyway.
        """
        if self.per_run is not None:
            return self.per_run
        measure = predict_time_s if self.time_billed else output_s
        rate = self.per_predict_second if self.time_billed else self.per_output_second
        assert rate is not None
        if measure is None or not math.isfinite(measure):
            return max(held, 0)
        return max(0, _credits(_ms(measure), rate))

    def run_seconds(self, held: int) -> float | None:
        """Time-billed rules: the predict seconds `held` credits pay for (None: not time-billed).

        Sent as the prediction's `Cancel-After`, so Replicate stops the run before it costs more
        than was held.
        """
        if self.per_predict_second is None:
            return None
        if self.per_predict_second == 0:
            return math.inf
        return max(held, 0) / self.per_predict_second

    def with_margin(self, percent: int) -> PricingRule:
        """The same rule with every rate raised by `percent` (rounded up), set by the Space."""

        def raise_(rate: int | None) -> int | None:
            return None if rate is None else -(-rate * (100 + percent) // 100)

        return replace(
            self,
            per_output_second=raise_(self.per_output_second),
            per_predict_second=raise_(self.per_predict_second),
            per_run=raise_(self.per_run),
            set_by_space=True,
        )

    def smallest_charge(self, min_audio_s: float) -> int:
        """The least a run can hold: the estimate for the shortest audio a model takes."""
        return self.estimate(min_audio_s)

    def upstream_cost(self, *, ran_s: float | None, held: int) -> int:
        """What Replicate bills for a run that ended without a video, in credits.

        `ran_s` is the time it spent running (`metrics.predict_time`, else measured); None means
        it never started (queued, then aborted or canceled), which costs nothing. A run that
        started but whose time is unknown counts as its hold: the owner's budget must not
        under-count the bill. Unlike a capture, this is not capped by the hold.
        """
        if ran_s is None:
            return 0
        if self.per_run is not None:
            return 0
        if not self.time_billed:
            return max(held, 0) if self.bills_unsuccessful_runs else 0
        assert self.per_predict_second is not None
        if not math.isfinite(ran_s):
            return max(held, 0)
        return _credits(_ms(ran_s), self.per_predict_second)


def _ms(seconds: float) -> int:
    """Whole milliseconds of a finite duration (negative counts as zero)."""
    return max(0, round(seconds * 1000))


def _credits(milliseconds: int, credits_per_second: int) -> int:
    """ceil(milliseconds × rate / 1000) in integers."""
    return -(-milliseconds * credits_per_second // 1000)
