"""The pre-flight's picture folders: bounded on disk, never removed while an estimate uses one."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

from demo_app.jobs._preflight import PREVIEWS_KEPT, Previews


def _fill(folder: Path) -> Path:
    folder.mkdir(parents=True)
    picture = folder / "face.jpg"
    picture.write_bytes(b"prepared picture")
    return picture


async def test_a_folder_in_use_outlives_any_number_of_later_estimates(tmp_path: Path) -> None:
    previews = Previews(tmp_path / "previews")
    async with previews.fresh() as slow:
        picture = _fill(slow)
        for _ in range(PREVIEWS_KEPT + 20):  # a crowd's estimates start and end meanwhile
            async with previews.fresh() as quick:
                _fill(quick)
        await previews.removed()
        assert picture.read_bytes() == b"prepared picture"
    async with AsyncExitStack() as later:
        for _ in range(PREVIEWS_KEPT):
            _fill(await later.enter_async_context(previews.fresh()))
    await previews.removed()
    assert not slow.exists()  # once finished, it is the oldest and goes first
    assert len(list((tmp_path / "previews").iterdir())) == PREVIEWS_KEPT
