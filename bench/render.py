"""Render figures: wall time of the built-in talking-face renderer for 10 s of speech at 512 px.

Run from the repository root:

    python -m bench.render               # 5 runs after one warm-up, on the first 10 s of the sample voice
    python -m bench.render --runs 9 --seconds 10 --max-side 512

Goal: 10 s of audio rendered in at most 10 s on a 2-core machine. Each run is the whole call:
decode the picture and sound, find the face, animate, encode H.264 + AAC, write the MP4.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import wave
from pathlib import Path

from demo_app.engine import render_talking_face

ROOT = Path(__file__).resolve().parents[1]
FACE = ROOT / "assets" / "sample-face.png"
VOICE = ROOT / "assets" / "sample-voice.wav"


def clip(src: Path, dest: Path, seconds: float) -> Path:
    with wave.open(str(src)) as reader, wave.open(str(dest), "wb") as writer:
        writer.setparams(reader.getparams())
        writer.writeframes(reader.readframes(int(reader.getframerate() * seconds)))
    return dest


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--max-side", type=int, default=512)
    parser.add_argument("--fps", type=int, default=25)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        audio = clip(VOICE, tmp / "voice.wav", args.seconds)
        render_talking_face(FACE, audio, tmp / "warm-up.mp4", fps=args.fps, max_side=args.max_side)
        walls: list[float] = []
        for run in range(args.runs):
            started = time.perf_counter()
            report = render_talking_face(
                FACE, audio, tmp / f"run-{run}.mp4", fps=args.fps, max_side=args.max_side
            )
            walls.append(time.perf_counter() - started)
        size = (tmp / "run-0.mp4").stat().st_size

    median = statistics.median(walls)
    print(
        f"audio {report.duration_s:.2f} s, {report.frames} frames at {args.fps} fps, "
        f"max side {args.max_side} px, face found: {report.face_found}, output {size / 1024:.0f} KiB"
    )
    print(
        f"render wall time over {args.runs} runs: min {min(walls):.2f} s, median {median:.2f} s, "
        f"max {max(walls):.2f} s"
    )
    print(
        f"throughput (median): {report.frames / median:.0f} frames/s, "
        f"{report.duration_s / median:.1f}x real time (goal: 10 s of audio in <= 10 s)"
    )


if __name__ == "__main__":
    main()
