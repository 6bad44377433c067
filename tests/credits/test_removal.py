"""Deletions from async code: done, missing is fine, and a cancelled caller does not stop them."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from demo_app.storage import remove_file, remove_tree


def _tree(root: Path) -> Path:
    folder = root / "job"
    (folder / "inner").mkdir(parents=True)
    (folder / "face.png").write_bytes(b"x" * 1000)
    (folder / "inner" / "voice.wav").write_bytes(b"y" * 1000)
    return folder


async def test_a_tree_and_a_file_are_removed_and_missing_ones_are_fine(tmp_path: Path) -> None:
    folder = _tree(tmp_path)
    single = tmp_path / "video.mp4"
    single.write_bytes(b"z")
    await remove_tree(folder)
    await remove_file(single)
    assert not folder.exists() and not single.exists()
    await remove_tree(folder)
    await remove_file(single)
    await remove_tree(tmp_path / "never-made")


async def test_a_caller_cancelled_while_the_deletion_waits_for_a_thread_still_removes(tmp_path: Path) -> None:
    folder = _tree(tmp_path)
    loop = asyncio.get_running_loop()
    executor = ThreadPoolExecutor(max_workers=1)
    loop.set_default_executor(executor)
    release = threading.Event()
    busy = loop.run_in_executor(None, release.wait)  # the only thread is taken: the deletion queues
    caller = asyncio.create_task(remove_tree(folder))
    for _ in range(3):
        await asyncio.sleep(0)  # the caller hands the deletion to the executor
    caller.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await caller
    release.set()
    await busy
    await loop.shutdown_default_executor()  # waits for every job it was given
    assert not folder.exists()
