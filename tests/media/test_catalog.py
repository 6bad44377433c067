"""The catalog: real field names, checked options, integer prices that never exceed the hold."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from demo_app.catalog import (
    CATALOG,
    DEFAULT_MODEL,
    ModelSpec,
    OptionError,
    OptionSpec,
    PricingRule,
    UnknownModel,
    get_model,
)
from demo_app.money import format_credits

# The input fields each model takes on Replicate (see the team contract and the models' predict.py).
REAL_FIELDS = {
    "wan-video/wan-2.2-s2v": {"image", "audio", "prompt", "seed", "num_frames_per_chunk"},
    "bytedance/omni-human": {"image", "audio"},
    "bytedance/omni-human-1.5": {"image", "audio", "prompt", "seed", "fast_mode"},
    "kwaivgi/kling-avatar-v2": {"image", "audio", "prompt", "mode"},
    "prunaai/p-video-avatar": {"image", "audio", "video_prompt", "resolution", "seed"},
    "veed/fabric-1.0": {"image", "audio", "resolution"},
    "cjwbw/sadtalker": {"source_image", "driven_audio", "enhancer", "preprocess", "still"},
    "devxpy/cog-wav2lip": {"face", "audio", "pads", "smooth", "fps", "resize_factor"},
}

WAN = CATALOG["wan-video/wan-2.2-s2v"]
SADTALKER = CATALOG["cjwbw/sadtalker"]
WAV2LIP = CATALOG["devxpy/cog-wav2lip"]
TIME_BILLED = [model for model in CATALOG.values() if model.pricing.time_billed]


def test_the_catalog_knows_the_eight_models_with_wan_as_default() -> None:
    assert set(CATALOG) == set(REAL_FIELDS)
    assert DEFAULT_MODEL == "wan-video/wan-2.2-s2v"
    assert get_model(DEFAULT_MODEL).endpoint == "model"


@pytest.mark.parametrize("model_id", sorted(REAL_FIELDS))
def test_every_model_builds_its_input_with_its_real_field_names(model_id: str) -> None:
    model = CATALOG[model_id]
    built = model.build_input("https://files.example/face.jpg", "https://files.example/voice.wav", {})
    assert built[model.image_field] == "https://files.example/face.jpg"
    assert built[model.audio_field] == "https://files.example/voice.wav"
    assert set(built) <= REAL_FIELDS[model_id]
    assert {model.image_field, model.audio_field} | {o.name for o in model.options} == REAL_FIELDS[model_id]


@pytest.mark.parametrize("model", CATALOG.values(), ids=list(CATALOG))
def test_version_models_carry_a_full_version_id_and_official_ones_none(model: ModelSpec) -> None:
    if model.endpoint == "version":
        assert model.version is not None and re.fullmatch(r"[0-9a-f]{64}", model.version)
        assert model.prediction_target() == {"version": model.version}
    else:
        assert model.version is None
        assert model.prediction_target() == {"model": model.id}


@pytest.mark.parametrize("model", CATALOG.values(), ids=list(CATALOG))
def test_every_model_states_its_limits_and_where_its_price_comes_from(model: ModelSpec) -> None:
    assert 0 < model.min_image_side < model.max_image_side
    assert model.max_audio_s > 0
    assert model.description and model.notes
    # No price was read on replicate.com; each says so, with its source.
    assert model.pricing.confirmed is False
    assert "unconfirmed" in model.pricing.source or "not read on replicate.com" in model.pricing.source


def test_unknown_model_is_refused_with_a_readable_sentence() -> None:
    with pytest.raises(UnknownModel) as caught:
        get_model("someone/deepfake-9000")
    assert isinstance(caught.value, ValueError)
    message = str(caught.value)
    assert "someone/deepfake-9000" in message and DEFAULT_MODEL in message


# --- pricing -------------------------------------------------------------------------------


def test_the_originals_estimate_holds_twenty_cents_for_ten_seconds() -> None:
    assert WAN.pricing.estimate(10.0) == 200
    assert format_credits(WAN.pricing.estimate(10.0)) == "$0.20"


@pytest.mark.parametrize(
    ("audio_s", "credits"),
    [(0.0, 0), (0.5, 10), (0.3, 6), (0.1 + 0.2, 6), (10.001, 201), (12.7, 254), (60.0, 1200)],
)
def test_output_billed_estimate_rounds_up_to_whole_credits_without_float_noise(
    audio_s: float, credits: int
) -> None:
    assert WAN.pricing.estimate(audio_s) == credits


def test_output_billed_actual_follows_the_output_length_and_never_exceeds_the_hold() -> None:
    rule = WAN.pricing
    assert rule.actual(output_s=8.0, predict_time_s=300.0, held=200) == 160
    assert rule.actual(output_s=9.96, predict_time_s=None, held=200) == 200  # 199.2 rounds up
    assert rule.actual(output_s=12.0, predict_time_s=None, held=200) == 200  # capped
    assert rule.actual(output_s=None, predict_time_s=5.0, held=200) == 200  # unknown length: the hold
    assert rule.actual(output_s=float("nan"), predict_time_s=None, held=200) == 200
    assert rule.actual(output_s=-1.0, predict_time_s=None, held=200) == 0


def test_time_billed_prices_use_predict_time() -> None:
    rule = SADTALKER.pricing  # 2 credits per predict second
    assert rule.per_predict_second == 2
    assert rule.estimate(10.0) == (60 + 8 * 10) * 2
    assert rule.actual(output_s=10.0, predict_time_s=37.3, held=280) == 75  # 74.6 rounds up
    assert rule.actual(output_s=10.0, predict_time_s=900.0, held=280) == 280
    assert rule.actual(output_s=10.0, predict_time_s=None, held=280) == 280
    assert WAV2LIP.pricing.actual(output_s=None, predict_time_s=12.2, held=70) == 13


@pytest.mark.parametrize("model", TIME_BILLED, ids=[m.id for m in TIME_BILLED])
@pytest.mark.parametrize("audio_s", [0.5, 5.0, 15.0, 30.0, 60.0])
def test_the_hold_of_a_time_billed_model_covers_a_run_half_again_as_slow_as_usual(
    model: ModelSpec, audio_s: float
) -> None:
    slow_cost = model.pricing.actual(
        output_s=None, predict_time_s=1.5 * model.typical_run_s(audio_s), held=10**9
    )
    assert slow_cost <= model.pricing.estimate(audio_s)


@given(
    model_id=st.sampled_from(sorted(CATALOG)),
    audio_s=st.floats(min_value=0, max_value=3600, allow_nan=False),
    output_s=st.none() | st.floats(min_value=0, max_value=7200, allow_nan=False),
    predict_s=st.none() | st.floats(min_value=0, max_value=7200, allow_nan=False),
)
def test_prices_are_integers_and_the_capture_never_exceeds_the_hold(
    model_id: str, audio_s: float, output_s: float | None, predict_s: float | None
) -> None:
    rule = CATALOG[model_id].pricing
    held = rule.estimate(audio_s)
    charged = rule.actual(output_s=output_s, predict_time_s=predict_s, held=held)
    assert isinstance(held, int) and isinstance(charged, int)
    assert 0 <= charged <= held


@given(audio_ms=st.integers(min_value=0, max_value=3_600_000))
def test_output_billed_estimate_is_the_exact_ceiling_of_milliseconds_times_rate(audio_ms: int) -> None:
    rate = WAN.pricing.per_output_second
    assert rate is not None
    exact = Fraction(audio_ms, 1000) * rate
    assert WAN.pricing.estimate(audio_ms / 1000) == -(-exact.numerator // exact.denominator)


@given(a=st.floats(0, 600), b=st.floats(0, 600))
def test_estimates_never_shrink_when_the_audio_grows(a: float, b: float) -> None:
    low, high = sorted((a, b))
    for model in CATALOG.values():
        assert model.pricing.estimate(low) <= model.pricing.estimate(high)


def test_a_rule_needs_exactly_one_rate() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        PricingRule(per_output_second=20, per_predict_second=1, estimate_predict_s_per_audio_s=1)
    with pytest.raises(ValueError, match="exactly one"):
        PricingRule()
    with pytest.raises(ValueError, match="estimate_predict_s_per_audio_s"):
        PricingRule(per_predict_second=1)
    with pytest.raises(ValueError, match="Cannot price"):
        WAN.pricing.estimate(float("inf"))


def test_typical_run_time_follows_the_audio_length() -> None:
    # Public runs of Wan 2.2 S2V took 112 to 531 s.
    assert 112 <= WAN.typical_run_s(15.0) <= 531
    assert WAN.typical_run_s(30.0) > WAN.typical_run_s(15.0)


# --- options -------------------------------------------------------------------------------


def test_defaults_are_filled_in() -> None:
    assert WAN.validate_options({}) == {"prompt": "", "seed": None, "num_frames_per_chunk": 81}
    assert SADTALKER.validate_options({}) == {"enhancer": "gfpgan", "preprocess": "full", "still": True}
    assert WAV2LIP.validate_options({})["pads"] == "0 10 0 0"


def test_values_are_brought_to_the_models_types() -> None:
    checked = WAN.validate_options({"num_frames_per_chunk": 97.0, "seed": "42", "prompt": "  smiling  "})
    assert checked == {"prompt": "smiling", "seed": 42, "num_frames_per_chunk": 97}
    assert isinstance(checked["num_frames_per_chunk"], int)
    assert SADTALKER.validate_options({"enhancer": "restoreformer", "still": "false"}) == {
        "enhancer": "RestoreFormer",
        "preprocess": "full",
        "still": False,
    }
    assert WAV2LIP.validate_options({"fps": 30})["fps"] == 30.0


def test_an_unset_seed_is_left_out_but_seed_zero_is_sent() -> None:
    assert "seed" not in WAN.build_input("i", "a", {"seed": None})
    assert "seed" not in WAN.build_input("i", "a", {"seed": ""})
    assert WAN.build_input("i", "a", {"seed": 0})["seed"] == 0


@pytest.mark.parametrize(
    ("model", "options", "option", "fragment"),
    [
        (WAN, {"num_frames_per_chunk": 122}, "num_frames_per_chunk", "between 1 and 121; got 122"),
        (WAN, {"num_frames_per_chunk": 0}, "num_frames_per_chunk", "between 1 and 121; got 0"),
        (WAN, {"num_frames_per_chunk": 80.5}, "num_frames_per_chunk", "whole number"),
        (WAN, {"num_frames_per_chunk": True}, "num_frames_per_chunk", "must be a number"),
        (WAN, {"seed": -1}, "seed", "between 0 and 2147483647"),
        (WAN, {"seed": "lucky"}, "seed", "must be a number; got “lucky”"),
        (WAN, {"seed": float("inf")}, "seed", "must be a number"),
        (WAN, {"prompt": "x" * 501}, "prompt", "501 characters long; shorten it to at most 500"),
        (WAN, {"prompt": 5}, "prompt", "must be text"),
        (WAN, {"guidance": 7}, "guidance", "no option “guidance”; use prompt, seed or num_frames_per_chunk"),
        (get_model("bytedance/omni-human"), {"seed": 1}, "seed", "takes no options; leave out “seed”"),
        (
            SADTALKER,
            {"enhancer": "codeformer"},
            "enhancer",
            "one of gfpgan or RestoreFormer; got “codeformer”",
        ),
        (SADTALKER, {"still": "maybe"}, "still", "on or off"),
        (WAV2LIP, {"pads": "0 10 0"}, "pads", "top bottom left right"),
        (WAV2LIP, {"fps": 120}, "fps", "between 1 and 60; got 120"),
        (WAV2LIP, {"resize_factor": 8}, "resize_factor", "between 1 and 4"),
        (WAN, {"seed": 10**5000}, "seed", "got a number of 5001 digits"),
        (WAN, {"seed": -(10**40)}, "seed", "got a negative number of 41 digits"),
        (WAN, {"seed": 1e300}, "seed", "got 1e+300"),
        (WAN, {"seed": "9" * 5000}, "seed", "must be a number; got “9999"),
        (WAN, {"seed": [1, 2]}, "seed", "must be a number; got a list or an object"),
        (WAN, {"seed": {"n": 1}}, "seed", "must be a number; got a list or an object"),
        (WAV2LIP, {"fps": 1e309}, "fps", "must be a number"),
        (WAV2LIP, {"fps": 10**400}, "fps", "between 1 and 60; got a number of 401 digits"),
        (WAV2LIP, {"pads": "1 2 3 4\x00" * 3}, "pads", "top bottom left right"),
        (SADTALKER, {"enhancer": ["gfpgan"]}, "enhancer", "got a list or an object"),
        (SADTALKER, {"still": "x" * 10_000}, "still", "got “xxxxxxxx"),
    ],
)
def test_bad_options_are_refused_with_one_readable_sentence(
    model: ModelSpec, options: dict[str, object], option: str, fragment: str
) -> None:
    with pytest.raises(OptionError) as caught:
        model.validate_options(options)
    assert isinstance(caught.value, ValueError)
    assert caught.value.option == option
    message = str(caught.value)
    assert fragment in message
    assert message.endswith(".") and message.count(". ") == 0
    assert len(message) < 250 and message.isprintable()
    with pytest.raises(OptionError):
        model.build_input("i", "a", options)


def test_numbers_keep_their_exact_value_at_the_bounds() -> None:
    assert WAN.validate_options({"seed": 2**31 - 1})["seed"] == 2**31 - 1
    assert WAN.validate_options({"seed": "2147483647"})["seed"] == 2**31 - 1
    with pytest.raises(OptionError, match="got 2147483648"):
        WAN.validate_options({"seed": 2**31})


def test_a_numeric_option_without_bounds_is_refused_at_import_time() -> None:
    with pytest.raises(ValueError, match="needs both a minimum and a maximum"):
        OptionSpec(name="steps", label="Steps", kind="int", minimum=1)


def test_a_spec_that_contradicts_itself_is_refused_at_import_time() -> None:
    with pytest.raises(ValueError, match="version id"):
        ModelSpec(**{**WAN.__dict__, "endpoint": "version"})
    with pytest.raises(ValueError, match="prompt field"):
        ModelSpec(**{**WAN.__dict__, "prompt_field": "text"})
