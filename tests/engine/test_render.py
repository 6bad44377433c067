"""The talking-face renderer, checked on the MP4 it writes, decoded again with PyAV."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from demo_app.engine._loudness import mouth_openness, read_audio
from demo_app.engine._render import RenderReport, render_talking_face

ASSETS = Path(__file__).resolve().parents[2] / "assets"
SAMPLE_FACE = ASSETS / "sample-face.png"
SAMPLE_VOICE = ASSETS / "sample-voice.wav"
FPS = 25
# 4 s: silence, a loud tone, silence, a loud tone; one second each
BURSTS = ((0.0, 1.0, False), (1.0, 2.0, True), (2.0, 3.0, False), (3.0, 4.0, True))


@dataclass
class Decoded:
    """What a player would see: the streams' codecs, sizes and durations, every picture as RGB."""

    video_codec: str
    audio_codec: str
    width: int
    height: int
    duration_s: float
    audio_s: float
    frames: list[npt.NDArray[np.uint8]]


def decode(path: Path) -> Decoded:
    with av.open(str(path)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert container.duration is not None
        assert audio.duration is not None and audio.time_base is not None
        decoded = Decoded(
            video_codec=video.codec_context.name,
            audio_codec=audio.codec_context.name,
            width=video.codec_context.width,
            height=video.codec_context.height,
            duration_s=container.duration / av.time_base,
            audio_s=float(audio.duration * audio.time_base),
            frames=[
                np.asarray(frame.to_ndarray(format="rgb24"), np.uint8) for frame in container.decode(video)
            ],
        )
    return decoded


def write_audio(
    path: Path, samples: npt.NDArray[np.float32], rate: int, *, codec: str = "pcm_s16le", channels: int = 1
) -> Path:
    """Encode float mono samples with a real ffmpeg encoder, duplicated to `channels`."""
    layout = "mono" if channels == 1 else "stereo"
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate, layout=layout)
        assert isinstance(stream, av.AudioStream)
        fmt, planar = stream.codec_context.format.name, stream.codec_context.format.is_planar
        block = stream.codec_context.frame_size or 1024
        for start in range(0, len(samples), block):
            chunk = np.repeat(samples[None, start : start + block], channels, axis=0)
            if fmt.startswith("s16"):
                chunk = (chunk * 32767).astype(np.int16)
            elif fmt.startswith("s32"):
                chunk = (chunk * 2147483000).astype(np.int32)
            data = chunk if planar else chunk.T.reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data), format=fmt, layout=layout)
            frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def tone_bursts(rate: int = 22050) -> npt.NDArray[np.float32]:
    t = np.arange(int(BURSTS[-1][1] * rate)) / rate
    loud = np.zeros_like(t, dtype=bool)
    for start, end, is_loud in BURSTS:
        loud |= is_loud & (t >= start) & (t < end)
    return (0.5 * np.sin(2 * np.pi * 220 * t) * loud).astype(np.float32)


def mouth_box(report: RenderReport) -> tuple[slice, slice]:
    assert report.face_box is not None
    x, y, w, h = report.face_box
    return slice(y + round(0.65 * h), y + round(1.0 * h)), slice(x + round(0.2 * w), x + round(0.8 * w))


def mean_difference(a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


@dataclass
class Rendered:
    report: RenderReport
    decoded: Decoded
    progress: list[tuple[int, int]]
    out_dir: Path


@pytest.fixture(scope="module")
def bursts_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_audio(tmp_path_factory.mktemp("audio") / "bursts.wav", tone_bursts(), 22050)


@pytest.fixture(scope="module")
def bursts_render(tmp_path_factory: pytest.TempPathFactory, bursts_wav: Path) -> Rendered:
    out_dir = tmp_path_factory.mktemp("render")
    progress: list[tuple[int, int]] = []
    report = render_talking_face(
        SAMPLE_FACE,
        bursts_wav,
        out_dir / "talking.mp4",
        on_progress=lambda done, total: progress.append((done, total)),
    )
    return Rendered(report, decode(out_dir / "talking.mp4"), progress, out_dir)


def test_mp4_has_h264_video_and_aac_sound_as_long_as_the_audio(bursts_render: Rendered) -> None:
    decoded, report = bursts_render.decoded, bursts_render.report
    assert (decoded.video_codec, decoded.audio_codec) == ("h264", "aac")
    assert (decoded.width, decoded.height) == (512, 512)
    assert report.duration_s == pytest.approx(4.0, abs=0.001)
    assert decoded.duration_s == pytest.approx(report.duration_s, abs=0.1)
    assert decoded.audio_s == pytest.approx(report.duration_s, abs=0.1)
    assert len(decoded.frames) == report.frames == 100


def test_face_is_found_in_the_sample_portrait(bursts_render: Rendered) -> None:
    report = bursts_render.report
    assert report.face_found
    assert report.face_box is not None
    x, y, w, h = report.face_box
    # the astronaut's face sits left of centre in the upper half of the picture
    assert 100 < x + w / 2 < 260 and 120 < y + h / 2 < 240 and 100 < w < 220


def test_mouth_region_moves_in_loud_parts_and_rests_in_silent_ones(bursts_render: Rendered) -> None:
    frames, rows_cols = bursts_render.decoded.frames, mouth_box(bursts_render.report)

    def at(seconds: float) -> npt.NDArray[np.uint8]:
        return frames[round(seconds * FPS)][rows_cols]

    resting = at(0.9)
    silent_change = max(mean_difference(at(s), resting) for s in (0.6, 0.7, 0.8))
    loud_change = min(mean_difference(at(s), resting) for s in (1.3, 1.5, 1.7))
    assert loud_change > 5.0
    assert loud_change > 4 * silent_change
    # and it closes again: late in the second silence it looks like the first
    assert mean_difference(at(2.9), resting) < loud_change / 3


def test_mouth_opening_darkens_the_mouth(bursts_render: Rendered) -> None:
    frames, rows_cols = bursts_render.decoded.frames, mouth_box(bursts_render.report)
    silent, loud = frames[round(0.9 * FPS)][rows_cols], frames[round(1.5 * FPS)][rows_cols]
    dark = 60
    assert (loud.max(axis=2) < dark).sum() > 4 * max(1, int((silent.max(axis=2) < dark).sum()))


def test_progress_is_monotonic_and_ends_at_the_total(bursts_render: Rendered) -> None:
    progress = bursts_render.progress
    assert len(progress) >= 10
    assert all(total == 100 for _, total in progress)
    done = [d for d, _ in progress]
    assert done == sorted(set(done))
    assert done[0] > 0 and done[-1] == 100


def test_no_temporary_files_are_left_beside_the_output(bursts_render: Rendered) -> None:
    assert [p.name for p in bursts_render.out_dir.iterdir()] == ["talking.mp4"]


def test_openness_follows_the_bursts(bursts_wav: Path) -> None:
    openness = mouth_openness(read_audio(bursts_wav), 100, FPS)
    for start, end, loud in BURSTS:
        settled = openness[round((start + 0.3) * FPS) : round(end * FPS)]
        assert (settled > 0.9).all() if loud else (settled < 0.05).all()


def test_picture_without_a_face_still_animates_a_centre_region(tmp_path: Path, bursts_wav: Path) -> None:
    ramp = np.linspace(30, 220, 300, dtype=np.float32)
    channels = [np.tile(ramp, (200, 1)), np.tile(ramp[::-1], (200, 1)), np.full((200, 300), 128.0)]
    gradient = np.stack(channels, axis=2)
    Image.fromarray(gradient.astype(np.uint8)).save(tmp_path / "gradient.png")
    report = render_talking_face(tmp_path / "gradient.png", bursts_wav, tmp_path / "out.mp4")
    assert (report.face_found, report.face_box) == (False, None)
    decoded = decode(tmp_path / "out.mp4")
    assert (decoded.width, decoded.height) == (300, 200)
    silent, loud = decoded.frames[round(0.9 * FPS)], decoded.frames[round(1.5 * FPS)]
    quiet = decoded.frames[round(0.6 * FPS)]
    changed = np.abs(loud.astype(np.int16) - silent).max(axis=2) > 40
    assert changed.sum() > 150  # an open mouth's worth of pixels
    assert (np.abs(quiet.astype(np.int16) - silent).max(axis=2) > 40).sum() < 15
    rows, cols = np.nonzero(changed)
    assert 200 / 3 < rows.mean() < 2 * 200 / 3 and 300 / 3 < cols.mean() < 2 * 300 / 3


def test_large_odd_sized_picture_is_scaled_to_even_sides_within_max_side(
    tmp_path: Path, bursts_wav: Path
) -> None:
    with Image.open(SAMPLE_FACE) as face:
        face.convert("RGBA").resize((1001, 777)).save(tmp_path / "big.png")
    report = render_talking_face(tmp_path / "big.png", bursts_wav, tmp_path / "out.mp4", max_side=320)
    decoded = decode(tmp_path / "out.mp4")
    assert decoded.width == 320 and decoded.height % 2 == 0 and abs(decoded.height - 320 * 777 / 1001) <= 2
    assert report.face_found


@pytest.mark.parametrize(
    ("name", "codec", "rate", "channels"),
    [
        ("speech.mp3", "libmp3lame", 44100, 2),
        ("speech.ogg", "libopus", 48000, 1),
        ("speech.wav", "pcm_s16le", 37000, 1),
    ],
)
def test_sound_in_other_formats_and_rates_keeps_its_duration(
    tmp_path: Path, name: str, codec: str, rate: int, channels: int
) -> None:
    seconds = 1.5
    t = np.arange(int(seconds * rate)) / rate
    samples = (0.4 * np.sin(2 * np.pi * 300 * t) * (t > 0.5)).astype(np.float32)
    source = write_audio(tmp_path / name, samples, rate, codec=codec, channels=channels)
    report = render_talking_face(SAMPLE_FACE, source, tmp_path / "out.mp4", max_side=256)
    decoded = decode(tmp_path / "out.mp4")
    assert decoded.audio_codec == "aac"
    assert report.duration_s == pytest.approx(seconds, abs=0.05)
    assert decoded.duration_s == pytest.approx(report.duration_s, abs=0.1)


@pytest.mark.parametrize(
    ("make_image", "make_audio", "words"),
    [
        (lambda d: d / "notes.png", lambda d: SAMPLE_VOICE, "picture"),
        (lambda d: SAMPLE_FACE, lambda d: SAMPLE_FACE, "sound"),
        (lambda d: SAMPLE_FACE, lambda d: d / "notes.png", "sound"),
    ],
)
def test_unreadable_input_is_refused_readably_and_leaves_no_file(
    tmp_path: Path, make_image: Callable[[Path], Path], make_audio: Callable[[Path], Path], words: str
) -> None:
    (tmp_path / "notes.png").write_text("not a picture, not a sound")
    out = tmp_path / "out" / "talking.mp4"
    with pytest.raises(ValueError, match=words):
        render_talking_face(make_image(tmp_path), make_audio(tmp_path), out)
    assert not out.exists()
    assert not out.parent.exists() or list(out.parent.iterdir()) == []


class Stop(Exception):
    pass


def test_raising_from_progress_stops_the_render_and_leaves_nothing(tmp_path: Path, bursts_wav: Path) -> None:
    seen: list[int] = []

    def stop_at_half(done: int, total: int) -> None:
        seen.append(done)
        if done >= total // 2:
            raise Stop

    with pytest.raises(Stop):
        render_talking_face(SAMPLE_FACE, bursts_wav, tmp_path / "out.mp4", on_progress=stop_at_half)
    assert seen[-1] == 50
    assert list(tmp_path.iterdir()) == []


def test_renders_in_a_worker_process(tmp_path: Path, bursts_wav: Path) -> None:
    pickle.dumps(render_talking_face)
    with ProcessPoolExecutor(max_workers=1) as pool:
        job = pool.submit(render_talking_face, SAMPLE_FACE, bursts_wav, tmp_path / "out.mp4", max_side=128)
        report = job.result()
    assert report.frames == 100
    assert decode(tmp_path / "out.mp4").video_codec == "h264"


@pytest.mark.slow
def test_sample_voice_renders_to_its_full_length(tmp_path: Path) -> None:
    report = render_talking_face(SAMPLE_FACE, SAMPLE_VOICE, tmp_path / "voice.mp4")
    decoded = decode(tmp_path / "voice.mp4")
    assert report.face_found
    assert report.duration_s == pytest.approx(12.685, abs=0.01)
    assert decoded.duration_s == pytest.approx(report.duration_s, abs=0.1)
    assert decoded.audio_s == pytest.approx(report.duration_s, abs=0.1)
    assert len(decoded.frames) == report.frames == round(report.duration_s * FPS)
    mouth = mouth_box(report)
    first = decoded.frames[0][mouth]
    changes = [mean_difference(frame[mouth], first) for frame in decoded.frames]
    assert max(changes) > 5.0  # speech opens the mouth somewhere along the clip
