"""Good uploads in every format people send are accepted, measured and converted; the converted
files decode again (PIL for pictures, Python's wave module and FFmpeg for audio)."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image

from demo_app.catalog import CATALOG, ModelSpec
from demo_app.media import MediaError, audio_duration, prepare_audio, prepare_image
from tests.media import makers

MB = 1024 * 1024


def prepare(src: Path, tmp: Path, *, min_side: int = 256, max_side: int = 1280) -> Image.Image:
    prepared = prepare_image(src, tmp / "out", min_side=min_side, max_side=max_side, max_bytes=25 * MB)
    assert prepared.content_type == "image/jpeg"
    with Image.open(prepared.path) as image:
        image.load()
        assert image.format == "JPEG" and image.mode == "RGB"
        assert image.size == (prepared.width, prepared.height)
        return image.copy()


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as wav:
        assert wav.getnchannels() == 1 and wav.getsampwidth() == 2
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        return samples, wav.getframerate()


# --- pictures ------------------------------------------------------------------------------


def test_the_sample_face_is_accepted_as_is(tmp_path: Path) -> None:
    image = prepare(makers.FACE_PNG, tmp_path)
    assert image.size == (512, 512)
    with Image.open(makers.FACE_PNG) as original:
        before = np.asarray(original.convert("RGB"), dtype=np.int16)
    assert np.abs(np.asarray(image, dtype=np.int16) - before).mean() < 3  # JPEG, not a different picture


@pytest.mark.parametrize(
    ("name", "params", "mode"),
    [
        ("photo.jpg", {"quality": 90}, "RGB"),
        ("grey.jpg", {}, "L"),
        ("print.jpg", {}, "CMYK"),
        ("webcam.webp", {"quality": 80}, "RGB"),
        ("lossless.webp", {"lossless": True}, "RGB"),
        ("clipboard.png", {}, "RGBA"),
        ("palette.png", {}, "P"),
    ],
)
def test_still_pictures_in_every_everyday_format_are_accepted(
    name: str, params: dict[str, Any], mode: str, tmp_path: Path
) -> None:
    src = tmp_path / name
    makers.photo((640, 480), mode=mode).save(src, **params)
    image = prepare(src, tmp_path)
    assert image.size == (640, 480)
    # The darker centre square survived the conversion (colours are not garbled).
    centre, corner = np.asarray(image)[240, 320].astype(int), np.asarray(image)[10, 10].astype(int)
    assert corner.sum() - centre.sum() > 150


def test_a_phone_photo_with_a_depth_frame_is_not_taken_for_an_animation(tmp_path: Path) -> None:
    src = tmp_path / "phone.jpg"
    makers.photo((640, 480)).save(src, format="MPO", save_all=True, append_images=[makers.photo((320, 240))])
    with Image.open(src) as check:
        assert check.format == "MPO" and getattr(check, "n_frames", 1) == 2
    assert prepare(src, tmp_path).size == (640, 480)


@pytest.mark.parametrize("name", ["wave.webp", "wave.png"])
def test_an_animated_picture_gives_its_first_frame(name: str, tmp_path: Path) -> None:
    src = tmp_path / name
    first = makers.photo((640, 480), color=(200, 30, 30))
    rest = [makers.photo((640, 480), color=(30, 30 + 100 * i, 200)) for i in range(2)]
    first.save(src, save_all=True, append_images=rest, duration=100, loop=0)
    with Image.open(src) as check:
        assert getattr(check, "n_frames", 1) == 3
    corner = np.asarray(prepare(src, tmp_path))[10, 10].astype(int)
    assert corner[0] > 150 and corner[2] < 80, "the first (red) frame, not a later (blue) one"


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    # Stored landscape: red left half, blue right half; EXIF 6 says "rotate 90° clockwise to view".
    stored = Image.new("RGB", (600, 400), (220, 20, 20))
    stored.paste((20, 20, 220), (300, 0, 600, 400))
    exif = Image.Exif()
    exif[0x0112] = 6
    src = tmp_path / "sideways.jpg"
    stored.save(src, exif=exif, quality=95)
    image = prepare(src, tmp_path)
    assert image.size == (400, 600)
    top, bottom = np.asarray(image)[50, 200], np.asarray(image)[550, 200]
    assert top[0] > 150 and top[2] < 80, "the left (red) half should now be on top"
    assert bottom[2] > 150 and bottom[0] < 80


def test_metadata_such_as_the_camera_and_location_is_dropped(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0)}  # GPS
    src = tmp_path / "holiday.jpg"
    makers.photo((640, 480)).save(src, exif=exif)
    prepared = prepare_image(src, tmp_path / "out", min_side=256, max_side=1280, max_bytes=25 * MB)
    with Image.open(prepared.path) as image:
        assert len(image.getexif()) == 0


def test_transparency_becomes_white_not_black(tmp_path: Path) -> None:
    sticker = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    sticker.paste((200, 30, 30, 255), (100, 100, 300, 300))
    src = tmp_path / "sticker.png"
    sticker.save(src)
    pixels = np.asarray(prepare(src, tmp_path))
    assert pixels[5, 5].min() > 240
    assert pixels[200, 200][0] > 150


def test_a_sixteen_bit_grey_png_keeps_its_tones(tmp_path: Path) -> None:
    levels = np.full((300, 300), 32_768, dtype=np.uint16)  # mid-grey in 16 bits
    src = tmp_path / "scan16.png"
    Image.fromarray(levels).save(src)
    with Image.open(src) as check:
        assert check.mode.startswith("I")
    value = np.asarray(prepare(src, tmp_path))[150, 150]
    assert 110 < value[0] < 145  # not clipped to white


def test_a_sixteen_bit_colour_png_keeps_its_colours(tmp_path: Path) -> None:
    src = tmp_path / "photo48.png"
    makers.png_16bit_rgb(src, 400, 300)
    with Image.open(src) as check:
        assert check.info.get("bitdepth", 16) == 16 or check.mode == "RGB"
    pixels = np.asarray(prepare(src, tmp_path))
    assert pixels[5, 5][0] > 150 and pixels[5, 5][2] < 80  # red, as written at 16 bits


@pytest.mark.parametrize(("size", "expected"), [((3000, 2000), (1280, 853)), ((2000, 4000), (640, 1280))])
def test_oversized_pictures_are_scaled_down_to_the_models_limit(
    size: tuple[int, int], expected: tuple[int, int], tmp_path: Path
) -> None:
    src = tmp_path / "big.jpg"
    makers.photo(size).save(src, quality=85)
    assert prepare(src, tmp_path).size == expected


@pytest.mark.parametrize("model", CATALOG.values(), ids=list(CATALOG))
def test_each_models_image_limits_are_honoured(model: ModelSpec, tmp_path: Path) -> None:
    src = tmp_path / "big.png"
    makers.photo((3000, 3000)).save(src)
    image = prepare(src, tmp_path, min_side=model.min_image_side, max_side=model.max_image_side)
    assert image.size == (model.max_image_side, model.max_image_side)


# --- audio ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(makers.AUDIO_FORMATS))
def test_every_audio_format_is_decoded_measured_and_converted(name: str, tmp_path: Path) -> None:
    src = makers.write_format(tmp_path, name, 1.5)
    prepared = prepare_audio(src, tmp_path / "out", max_seconds=60, max_bytes=25 * MB)
    assert prepared.content_type == "audio/wav"
    # Raw ADTS AAC has no edit list, so its encoder priming (~0.09 s) stays in.
    assert prepared.duration_s == pytest.approx(1.5, abs=0.1)
    assert audio_duration(src) == pytest.approx(prepared.duration_s, abs=0.01)
    samples, rate = read_wav(prepared.path)
    assert rate == min(max(makers.AUDIO_FORMATS[name][3], 16_000), 48_000)
    assert len(samples) / rate == pytest.approx(prepared.duration_s, abs=0.001)
    # Still a 220 Hz tone at about the same level (0.3 of full scale -> RMS about 0.21).
    rms = float(np.sqrt(np.mean((samples[rate // 4 : -rate // 4] / 32768.0) ** 2)))
    assert 0.17 < rms < 0.25
    spectrum = np.abs(np.fft.rfft(samples[:rate]))
    assert np.argmax(spectrum) == pytest.approx(220, abs=2)


def test_the_converted_wav_decodes_with_ffmpeg_too(tmp_path: Path) -> None:
    prepared = prepare_audio(
        makers.write_format(tmp_path, "webm-opus", 1.0), tmp_path / "out", max_seconds=60, max_bytes=25 * MB
    )
    with av.open(str(prepared.path)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.name == "pcm_s16le" and stream.channels == 1
        total = sum(frame.samples for frame in container.decode(stream))
    assert total / stream.rate == pytest.approx(1.0, abs=0.03)


def test_the_sample_voice_keeps_its_rate_and_length(tmp_path: Path) -> None:
    prepared = prepare_audio(makers.VOICE_WAV, tmp_path, max_seconds=60, max_bytes=25 * MB)
    samples, rate = read_wav(prepared.path)
    assert rate == 22_050
    assert prepared.duration_s == pytest.approx(12.685, abs=0.01)
    with wave.open(str(makers.VOICE_WAV)) as original:
        assert np.array_equal(samples, np.frombuffer(original.readframes(original.getnframes()), "<i2"))


def test_audio_over_a_models_file_limit_is_sent_as_aac_that_fits(tmp_path: Path) -> None:
    """Kling takes audio files of at most 5 MB: 30 s at 48 kHz is a 2.9 MB WAV, so a 1 MB limit
    here stands for it. The compressed file is real AAC, as long as the speech."""
    src = makers.write_audio(
        tmp_path / "long.wav", makers.tone(30.0, 48_000), rate=48_000, container="wav", codec="pcm_s16le"
    )
    kept = prepare_audio(src, tmp_path / "wav", max_seconds=60, max_bytes=25 * MB, max_result_bytes=5 * MB)
    assert kept.content_type == "audio/wav" and kept.path.stat().st_size > MB
    small = prepare_audio(src, tmp_path / "aac", max_seconds=60, max_bytes=25 * MB, max_result_bytes=MB)
    assert small.content_type == "audio/mp4" and small.path.suffix == ".m4a"
    assert small.path.stat().st_size <= MB
    assert small.duration_s == pytest.approx(30.0, abs=0.01)
    with av.open(str(small.path)) as container:
        assert container.streams.audio[0].codec_context.name == "aac"
    assert audio_duration(small.path) == pytest.approx(30.0, abs=0.1)
    assert [path.name for path in (tmp_path / "aac").iterdir()] == [small.path.name]


def test_audio_that_does_not_fit_even_compressed_is_refused_in_a_sentence(tmp_path: Path) -> None:
    src = makers.write_audio(
        tmp_path / "long.wav", makers.tone(30.0, 48_000), rate=48_000, container="wav", codec="pcm_s16le"
    )
    with pytest.raises(MediaError) as refused:
        prepare_audio(src, tmp_path / "out", max_seconds=60, max_bytes=25 * MB, max_result_bytes=100_000)
    assert refused.value.code == "audio_too_large"
    assert "does not fit even compressed; use a shorter clip" in str(refused.value)
    assert list((tmp_path / "out").iterdir()) == []


def test_the_length_comes_from_the_samples_not_the_header(tmp_path: Path) -> None:
    src = makers.write_wav_claiming(tmp_path / "cut.wav", claimed_s=40.0, actual_s=2.0)
    assert audio_duration(src) == pytest.approx(2.0, abs=0.01)
    assert prepare_audio(src, tmp_path, max_seconds=10, max_bytes=25 * MB).duration_s == pytest.approx(
        2.0, abs=0.01
    )


@pytest.mark.parametrize(("source_rate", "expected_rate"), [(8_000, 16_000), (96_000, 48_000)])
def test_unusual_sample_rates_are_brought_into_range(
    source_rate: int, expected_rate: int, tmp_path: Path
) -> None:
    src = makers.write_audio(
        tmp_path / "odd.wav",
        makers.tone(1.0, source_rate),
        rate=source_rate,
        container="wav",
        codec="pcm_s16le",
    )
    prepared = prepare_audio(src, tmp_path / "out", max_seconds=60, max_bytes=25 * MB)
    samples, rate = read_wav(prepared.path)
    assert rate == expected_rate
    assert len(samples) == expected_rate  # exactly one second: the resampler's tail is flushed


def test_stereo_is_mixed_down_to_mono(tmp_path: Path) -> None:
    src = makers.write_audio(
        tmp_path / "stereo.m4a",
        makers.tone(1.0, 44_100),
        rate=44_100,
        container="ipod",
        codec="aac",
        channels=2,
    )
    samples, _ = read_wav(prepare_audio(src, tmp_path / "out", max_seconds=60, max_bytes=25 * MB).path)
    assert np.abs(samples).max() > 5_000


def test_the_sound_track_of_a_video_is_used(tmp_path: Path) -> None:
    src = makers.write_video(tmp_path / "selfie.mp4", seconds=1.0, with_audio=True)
    prepared = prepare_audio(src, tmp_path / "out", max_seconds=60, max_bytes=25 * MB)
    assert prepared.duration_s == pytest.approx(1.0, abs=0.06)


def test_audio_at_the_limit_is_accepted_despite_encoder_padding(tmp_path: Path) -> None:
    src = makers.write_format(tmp_path, "m4a", 2.0)  # AAC adds priming samples: decodes to ~2.02 s
    assert audio_duration(src) > 2.0
    assert prepare_audio(src, tmp_path / "out", max_seconds=2.0, max_bytes=25 * MB).duration_s <= 2.1
