"""CPU time of the media checks a job runs (in a media worker process) before anything is held.

Run from the repository root:

    python -m bench.media_prepare            # 5 timed runs of each case, median and max
    python -m bench.media_prepare --runs 20

Inputs are made once in a temporary folder: the sample face, a 12-megapixel phone JPEG, a
60-second MP3 and a 60-second WebM/Opus (what a browser microphone records), plus a 10-minute
MP3 for the duration probe the live estimate runs on every upload (it decodes the whole file,
so its time grows with the length: about 2 s for a 25 MB upload).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from demo_app.catalog import DEFAULT_MODEL, get_model
from demo_app.media import audio_duration, prepare_audio, prepare_image
from tests.media import makers

MB = 1024 * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    model = get_model(DEFAULT_MODEL)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        out = tmp / "out"
        phone = tmp / "phone.jpg"
        makers.photo((4000, 3000)).save(phone, quality=90)
        mp3 = makers.write_format(tmp, "mp3", 60.0)
        webm = makers.write_format(tmp, "webm-opus", 60.0)
        big_mp3 = makers.write_audio(
            tmp / "long.mp3", makers.tone(600.0, 44_100), rate=44_100, container="mp3", codec="mp3"
        )

        def image(src: Path) -> Callable[[], object]:
            return lambda: prepare_image(
                src, out, min_side=model.min_image_side, max_side=model.max_image_side, max_bytes=25 * MB
            )

        def audio(src: Path) -> Callable[[], object]:
            return lambda: prepare_audio(src, out, max_seconds=model.max_audio_s, max_bytes=25 * MB)

        cases: dict[str, Callable[[], object]] = {
            "prepare_image face-512.png": image(makers.FACE_PNG),
            "prepare_image 4000x3000 JPEG": image(phone),
            "prepare_audio voice-12s.wav": audio(makers.VOICE_WAV),
            "prepare_audio 60 s MP3": audio(mp3),
            "prepare_audio 60 s WebM/Opus": audio(webm),
            f"audio_duration 10 min MP3 ({big_mp3.stat().st_size / MB:.1f} MB)": lambda: audio_duration(
                big_mp3
            ),
        }
        print(f"{'case':<44} {'median ms':>10} {'max ms':>10}")
        for name, call in cases.items():
            call()  # warm-up
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                call()
                times.append((time.perf_counter() - start) * 1000)
            print(f"{name:<44} {statistics.median(times):>10.1f} {max(times):>10.1f}")


if __name__ == "__main__":
    main()
