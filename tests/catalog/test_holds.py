"""Holds that cover the bill: whole chunks of padded video, the price of the option chosen, and
for time-billed models a run time (`Cancel-After`) no longer than the hold pays for."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from demo_app.catalog import CATALOG, ModelSpec, OptionSpec, PricingRule

WAN = CATALOG["wan-video/wan-2.2-s2v"]
KLING = CATALOG["kwaivgi/kling-avatar-v2"]
P_VIDEO = CATALOG["prunaai/p-video-avatar"]
FABRIC = CATALOG["veed/fabric-1.0"]
SADTALKER = CATALOG["cjwbw/sadtalker"]
WAV2LIP = CATALOG["devxpy/cog-wav2lip"]


def test_wan_holds_whole_chunks_of_sixteen_frames_per_second() -> None:
    # 2 s of audio = 32 frames: one chunk of 81 frames (5.0625 s) at 20 credits a second.
    assert WAN.longest_output_s(2.0, {}) == 81 / 16
    assert WAN.hold_for(2.0, {}) == 102
    assert WAN.hold_for(2.0, {"num_frames_per_chunk": 121}) == 152
    assert WAN.hold_for(10.0, {"num_frames_per_chunk": 1}) == 200  # no padding: the audio's length


@given(audio_ms=st.integers(min_value=500, max_value=60_000), chunk=st.integers(min_value=1, max_value=121))
def test_a_padded_wan_video_never_costs_more_than_its_hold(audio_ms: int, chunk: int) -> None:
    options = {"num_frames_per_chunk": chunk}
    held = WAN.hold_for(audio_ms / 1000, options)
    # The video Replicate returns: every frame of the audio (16 a second), padded to whole chunks.
    frames = -(-audio_ms * 16 // 1000)
    padded = -(-frames // chunk) * chunk
    bill = WAN.pricing.bill(output_s=padded / 16, predict_time_s=None, held=held)
    assert bill <= held
    assert held - bill <= 1  # and the hold is no larger than that bill (rounding aside)


@pytest.mark.parametrize(
    ("spec", "options", "per_second"),
    [
        (KLING, {}, 56),
        (KLING, {"mode": "pro"}, 110),
        (P_VIDEO, {"resolution": "720p"}, 25),
        (P_VIDEO, {"resolution": "1080p"}, 45),
        (FABRIC, {}, 80),
        (FABRIC, {"resolution": "720p"}, 150),
    ],
)
def test_an_option_priced_model_holds_and_charges_the_price_of_the_choice(
    spec: ModelSpec, options: dict[str, str], per_second: int
) -> None:
    assert spec.hold_for(10.0, options) == 10 * per_second
    rule = spec.pricing_for(options)
    assert rule.actual(output_s=9.5, predict_time_s=None, held=10 * per_second) == round(
        9.5 * per_second + 0.4999
    )


@pytest.mark.parametrize("spec", [SADTALKER, WAV2LIP], ids=lambda s: s.id)
@pytest.mark.parametrize("audio_s", [0.5, 2.0, 30.0])
def test_a_time_billed_hold_buys_the_run_time_sent_as_cancel_after(spec: ModelSpec, audio_s: float) -> None:
    held = spec.hold_for(audio_s, {})
    run_s = spec.cancel_after_s(held, {}, 10_000.0)
    # Replicate stops the run at Cancel-After: the longest bill is then within the hold.
    assert spec.pricing.bill(output_s=None, predict_time_s=run_s, held=held) <= held
    assert spec.cancel_after_s(held, {}, 60.0) == min(60.0, run_s)


def test_output_billed_models_keep_the_jobs_time_out() -> None:
    assert WAN.cancel_after_s(WAN.hold_for(2.0, {}), {}, 600.0) == 600.0


def test_a_bill_above_the_hold_is_reported_while_the_capture_stops_at_the_hold() -> None:
    rule = PricingRule(per_output_second=20)
    assert rule.bill(output_s=12.0, predict_time_s=None, held=200) == 240
    assert rule.actual(output_s=12.0, predict_time_s=None, held=200) == 200


def test_a_blank_prompt_sends_wans_default_prompt() -> None:
    sent = WAN.build_input("https://f/i", "https://f/a", {"prompt": "   "})
    assert sent["prompt"] == "A person talking naturally to the camera."
    assert WAN.build_input("https://f/i", "https://f/a", {"prompt": "smile"})["prompt"] == "smile"


@pytest.mark.parametrize(
    ("size", "problem"),
    [
        ((1000, 1000), None),
        ((1000, 400), None),  # 2.5:1 exactly
        ((1001, 400), "between 1:2.5 and 2.5:1, and this one is 1001×400"),
        ((300, 800), "between 1:2.5 and 2.5:1, and this one is 300×800"),
    ],
)
def test_kling_refuses_pictures_outside_its_aspect_ratios(size: tuple[int, int], problem: str | None) -> None:
    found = KLING.image_problem(*size, 1000)
    assert found == problem or (problem is not None and found is not None and problem in found)


def test_kling_refuses_pictures_over_ten_megabytes() -> None:
    assert "at most 10 MB" in (KLING.image_problem(1000, 1000, 10 * 1024 * 1024 + 1) or "")
    assert WAN.image_problem(5000, 100, 10**9) is None


def test_a_price_that_follows_an_option_needs_a_price_for_every_choice() -> None:
    mode = OptionSpec(name="mode", label="Mode", kind="choice", default="a", choices=("a", "b"))
    rule = PricingRule(per_output_second=1)
    with pytest.raises(ValueError, match="every choice of mode needs its own price"):
        ModelSpec(
            id="x/y",
            title="X",
            description="x",
            endpoint="model",
            version=None,
            image_field="image",
            audio_field="audio",
            prompt_field=None,
            options=(mode,),
            max_audio_s=10,
            min_image_side=1,
            max_image_side=2,
            typical_run_s_per_audio_s=1,
            typical_overhead_s=1,
            pricing=rule,
            priced_by="mode",
            choice_pricing=(("a", rule),),
        )
