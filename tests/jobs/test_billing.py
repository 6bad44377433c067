"""What a job holds and charges, through the whole stack on the engine: the worst case of a padded
video, the price of the option chosen, the owner's price file, the run time a time-billed hold
buys, and the models the Space offers."""

from __future__ import annotations

import wave
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from demo_app.catalog import CATALOG
from demo_app.jobs import JobStatus
from demo_app.jobs._refusals import ModelNotOffered
from demo_app.presenters import model_info
from tests.jobs.checks import assert_playable, settlement_lines
from tests.jobs.conftest import OWNER, StackFactory

WAN = "wan-video/wan-2.2-s2v"
KLING = "kwaivgi/kling-avatar-v2"
SADTALKER = "cjwbw/sadtalker"
WAV2LIP = "devxpy/cog-wav2lip"


async def test_a_padded_output_is_covered_by_the_hold(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    """Wan pads its video to whole chunks of 81 frames at 16 fps: 2 s of audio make 5.06 s of
    video, billed per second. The hold covers that bill, so the capture is the whole bill."""
    stack = await make_stack("padded_output")
    await stack.ledger.open_account(OWNER)
    first = await stack.jobs.start(OWNER, str(face), str(voice), WAN, {})
    final = await stack.jobs.wait(OWNER, first.job_id)
    assert final.status is JobStatus.SUCCEEDED, final.message
    seconds = assert_playable(final.video_path)
    assert abs(seconds - 81 / 16) < 0.1
    bill = CATALOG[WAN].pricing.bill(output_s=seconds, predict_time_s=None, held=0)
    assert bill > CATALOG[WAN].pricing.estimate(2.0), "the audio alone would not have covered it"
    assert final.held == 102 and final.charged == bill <= final.held
    assert (await stack.ledger.spend()).spent == bill


async def test_the_chosen_options_price_is_quoted_held_and_charged(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    stack = await make_stack("normal")
    await stack.ledger.open_account(OWNER)
    std = await stack.jobs.quote(OWNER, KLING, str(face), str(voice), {"mode": "std"})
    pro = await stack.jobs.quote(OWNER, KLING, str(face), str(voice), {"mode": "pro"})
    assert (std.estimate, pro.estimate) == (112, 220)  # 2 s at 56 and at 110 credits a second
    first = await stack.jobs.start(OWNER, str(face), str(voice), KLING, {"mode": "pro"})
    final = await stack.jobs.wait(OWNER, first.job_id)
    assert final.status is JobStatus.SUCCEEDED, final.message
    assert final.held == 220
    seconds = assert_playable(final.video_path)
    assert final.charged == CATALOG[KLING].pricing_for({"mode": "pro"}).bill(
        output_s=seconds, predict_time_s=None, held=220
    )
    assert final.charged > 200
    prediction = await stack.client.get_prediction(final.prediction_id or "")
    assert prediction.input["mode"] == "pro"


async def test_price_overrides_change_the_quote_the_hold_and_the_capture(
    make_stack: StackFactory, face: Path, voice: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "prices.toml").write_text(f'["{WAN}"]\nusd_per_output_second = "0.05"\nmargin_percent = 10\n')
    stack = await make_stack("normal")
    await stack.ledger.open_account(OWNER)
    quote = await stack.jobs.quote(OWNER, WAN, str(face), str(voice), {"num_frames_per_chunk": 1})
    assert quote.estimate == 110  # 2 s at $0.055 a second, not the catalog's 40
    first = await stack.jobs.start(OWNER, str(face), str(voice), WAN, {"num_frames_per_chunk": 1})
    final = await stack.jobs.wait(OWNER, first.job_id)
    assert final.status is JobStatus.SUCCEEDED, final.message
    assert final.held == 110
    seconds = assert_playable(final.video_path)
    assert final.charged == -(-round(seconds * 1000) * 55 // 1000)
    assert await settlement_lines(stack.ledger, OWNER, final.job_id) == [("capture", final.charged)]
    assert "Price: $0.055 per second of video — set by this Space." in model_info(WAN)


async def test_a_time_billed_run_is_sent_the_run_time_its_hold_buys(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    stack = await make_stack("normal", time_scale=1.0)
    await stack.ledger.open_account(OWNER)
    first = await stack.jobs.start(OWNER, str(face), str(voice), SADTALKER, {})
    final = await stack.jobs.wait(OWNER, first.job_id)
    assert final.status is JobStatus.SUCCEEDED, final.message
    prediction = await stack.client.get_prediction(final.prediction_id or "")
    assert prediction.created_at is not None and prediction.deadline is not None
    bought = timedelta(seconds=final.held // 2)  # 2 credits per predict second
    assert abs(prediction.deadline - prediction.created_at - bought) < timedelta(seconds=1)
    assert bought < timedelta(seconds=stack.settings.job_timeout_s)


async def test_the_default_offer_refuses_a_non_commercial_model(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    stack = await make_stack("normal", models=None)
    await stack.ledger.open_account(OWNER)
    with pytest.raises(ModelNotOffered, match="no model “devxpy/cog-wav2lip”"):
        await stack.jobs.start(OWNER, str(face), str(voice), WAV2LIP, {})
    assert (await stack.ledger.balance(OWNER)).held == 0


async def test_a_named_non_commercial_model_runs_labelled_as_research(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    stack = await make_stack("normal", models=f"{WAN},{WAV2LIP}", time_scale=1.0)
    await stack.ledger.open_account(OWNER)
    first = await stack.jobs.start(OWNER, str(face), str(voice), WAV2LIP, {})
    final = await stack.jobs.wait(OWNER, first.job_id)
    assert final.status is JobStatus.SUCCEEDED, final.message
    assert CATALOG[WAV2LIP].label == "Wav2Lip (non-commercial research model)"
    assert "Licence: non-commercial" in model_info(WAV2LIP)
    with pytest.raises(ModelNotOffered):
        await stack.jobs.start(OWNER, str(face), str(voice), KLING, {})


async def test_kling_refuses_a_picture_outside_its_aspect_ratios_before_the_hold(
    make_stack: StackFactory, voice: Path, tmp_path: Path
) -> None:
    wide = tmp_path / "wide.png"
    Image.new("RGB", (1200, 400), (180, 140, 120)).save(wide)
    stack = await make_stack("normal")
    await stack.ledger.open_account(OWNER)
    first = await stack.jobs.start(OWNER, str(wide), str(voice), KLING, {})
    final = await stack.jobs.wait(OWNER, first.job_id)
    assert final.status is JobStatus.REJECTED
    assert "between 1:2.5 and 2.5:1, and this one is 1200×400" in final.message
    assert await settlement_lines(stack.ledger, OWNER, final.job_id) == []


@pytest.mark.slow
async def test_kling_gets_audio_over_five_megabytes_compressed(
    make_stack: StackFactory, face: Path, tmp_path: Path
) -> None:
    """55 s of 48 kHz speech is a 5.3 MB WAV, which Kling (and so the engine) refuses: it is sent
    as AAC instead, and the run succeeds."""
    rate = 48_000
    t = np.arange(rate * 55) / rate
    tone = 0.3 * np.sin(2 * np.pi * 180 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
    long_voice = tmp_path / "long.wav"
    with wave.open(str(long_voice), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((tone * 32767).astype("<i2").tobytes())
    assert long_voice.stat().st_size > 5 * 1024 * 1024
    stack = await make_stack("normal", time_scale=1.0, starting_grant=5000)
    await stack.ledger.open_account(OWNER)
    first = await stack.jobs.start(OWNER, str(face), str(long_voice), KLING, {})
    final = await stack.jobs.wait(OWNER, first.job_id)
    assert final.status is JobStatus.SUCCEEDED, final.message
    assert abs(assert_playable(final.video_path) - 55.0) < 0.3


async def test_an_offer_without_the_default_model_opens_and_runs(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    stack = await make_stack("normal", models="veed/fabric-1.0")
    await stack.ledger.open_account(OWNER)
    first = await stack.jobs.start(OWNER, str(face), str(voice), "veed/fabric-1.0", {})
    final = await stack.jobs.wait(OWNER, first.job_id)
    assert final.status is JobStatus.SUCCEEDED, final.message
    with pytest.raises(ModelNotOffered):
        await stack.jobs.start(OWNER, str(face), str(voice), WAN, {})
