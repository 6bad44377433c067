"""The cache sweeper on real files in a folder of the test's own, with a clock it moves forward.

Each sweep runs on an event loop of its own in a worker thread, as in the server (Gradio's loop
thread), whatever loop the test session's other fixtures (the browser's) hold on this thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import time
from pathlib import Path

from demo_app.uploads import CacheSweeper, Sweep

HOUR = 3600.0


class Clock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def put(folder: Path, name: str, size: int = 10) -> str:
    path = folder / os.urandom(6).hex() / name
    path.parent.mkdir(parents=True)
    path.write_bytes(b"x" * size)
    return str(path)


def swept_by(made: CacheSweeper) -> Sweep:
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, made.sweep()).result()


def sweeper(folder: Path, clock: Clock, **overrides: object) -> tuple[CacheSweeper, set[str], set[str]]:
    uploads: set[str] = set()
    copies: set[str] = set()
    options: dict[str, object] = {
        "upload_age_s": HOUR,
        "copy_age_s": 6 * HOUR,
        "orphan_age_s": 24 * HOUR,
        "max_bytes": 10**9,
        "keep": frozenset,
    }
    options.update(overrides)
    made = CacheSweeper(str(folder), tracked=[uploads, copies], uploads=uploads, clock=clock, **options)  # type: ignore[arg-type]
    return made, uploads, copies


def test_uploads_go_after_their_age_copies_later_and_kept_files_never(tmp_path: Path) -> None:
    clock = Clock()
    example = put(tmp_path, "sample-face.png")
    made, uploads, copies = sweeper(tmp_path, clock, keep=lambda: {example})
    upload, video = put(tmp_path, "voice.wav"), put(tmp_path, "video.mp4")
    uploads.update({upload, example})
    copies.add(video)

    assert (swept_by(made)).removed == []
    clock.offset = HOUR + 60
    swept = swept_by(made)
    assert swept.removed == [upload]
    assert not os.path.exists(upload) and not os.path.exists(os.path.dirname(upload))
    assert uploads == {example}  # Gradio's set forgets the file too
    assert os.path.exists(video) and os.path.exists(example)
    clock.offset = 6 * HOUR + 60
    assert (swept_by(made)).removed == [video]
    assert os.path.exists(example) and copies == set()
    made.close()


def test_past_the_size_bound_the_oldest_files_go_first(tmp_path: Path) -> None:
    clock = Clock()
    made, uploads, _ = sweeper(tmp_path, clock, max_bytes=250)
    first = put(tmp_path, "a.wav", 100)
    time.sleep(0.02)  # the kernel's ctime clock is coarse (a few ms): two arrivals, two instants
    second, third = put(tmp_path, "b.wav", 100), put(tmp_path, "c.wav", 100)
    uploads.update({first, second, third})
    swept = swept_by(made)
    assert swept.removed == [first]
    assert swept.kept_bytes == 200 and swept.upload_bytes == 200
    made.close()


def test_leftovers_of_an_earlier_run_go_but_no_live_apps_files(tmp_path: Path) -> None:
    clock = Clock()
    leftover, recent = put(tmp_path, "old.wav"), put(tmp_path, "recent.wav")
    day_ago = time.time() - 25 * HOUR
    os.utime(leftover, (day_ago, day_ago))
    other, other_uploads, _ = sweeper(tmp_path, clock)
    others_file = put(tmp_path, "theirs.wav")
    os.utime(others_file, (day_ago, day_ago))
    other_uploads.add(others_file)
    made, _, _ = sweeper(tmp_path, clock)
    late = put(tmp_path, "after-start.wav")  # written after this sweeper started: a live app's
    os.utime(late, (day_ago, day_ago))

    swept = swept_by(made)
    assert swept.removed == [leftover]
    assert all(os.path.exists(path) for path in (recent, others_file, late))
    other.close()
    made.close()


def test_files_already_gone_are_only_forgotten(tmp_path: Path) -> None:
    made, uploads, _ = sweeper(tmp_path, Clock())
    uploads.add(str(tmp_path / "nowhere" / "gone.wav"))
    assert (swept_by(made)).removed == [str(tmp_path / "nowhere" / "gone.wav")]
    assert uploads == set()
    made.close()
