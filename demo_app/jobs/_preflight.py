"""The pre-flight's verdicts on a checked picture and clip, shared by the estimate and the job.

The estimate and the job ask the same questions in the same order, so Generate is enabled
exactly when the job would pass its checks, and a refusal reads the same on both.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import secrets
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

from demo_app import media
from demo_app.catalog import ModelSpec
from demo_app.jobs._types import Problem
from demo_app.storage import remove_tree

FACE_PROBLEMS = frozenset({"image_no_face", "image_many_faces", "image_no_such_face"})
"""Problems a choice answers (use anyway, which face) rather than another file."""
PREVIEWS_KEPT = 256
"""Finished pre-flight folders kept: the page copies each preview into its cache as it answers."""


def picture_problem(spec: ModelSpec, picture: media.FramedPicture) -> str | None:
    """Why this picture cannot go to this model as chosen (one sentence), or None.

    The model's own limits come first (no choice of face mends them); then the faces; then the
    limits again for the framed picture."""
    whole = picture.whole
    problem = spec.image_problem(whole.width, whole.height, whole.path.stat().st_size)
    if problem is not None or picture.problem is not None:
        return problem or picture.problem
    sent = picture.sent
    assert sent is not None
    return spec.image_problem(sent.width, sent.height, sent.path.stat().st_size)


def picture_problems(spec: ModelSpec, picture: media.FramedPicture) -> list[Problem]:
    """`picture_problem` with its code, for callers that branch on it."""
    text = picture_problem(spec, picture)
    if text is None:
        return []
    code = picture.problem_code if text == picture.problem and picture.problem_code else "image_model_limit"
    return [Problem(code, text)]


class Previews:
    """Folders for the pre-flight's pictures: the newest `PREVIEWS_KEPT` finished ones stay,
    older ones go. A folder in use is never removed, however many estimates start meanwhile
    (a crowd arriving at once starts hundreds while the first are still being judged)."""

    def __init__(self, root: Path) -> None:
        self._root = root
        shutil.rmtree(root, ignore_errors=True)
        self._finished: collections.deque[Path] = collections.deque()
        self._removing: set[asyncio.Task[None]] = set()

    @contextlib.asynccontextmanager
    async def fresh(self) -> AsyncIterator[Path]:
        """A new, unguessable folder (created by the media worker that writes in it), kept at
        least until the block ends. Older folders go on a thread, after the block: the estimate
        the visitor waits for does not wait for the deletions."""
        folder = self._root / secrets.token_urlsafe(12)
        try:
            yield folder
        finally:
            self._finished.append(folder)
            while len(self._finished) > PREVIEWS_KEPT:
                removal = asyncio.create_task(remove_tree(self._finished.popleft()))
                self._removing.add(removal)
                removal.add_done_callback(self._removing.discard)

    async def removed(self) -> None:
        """Wait until the deletions started so far are done."""
        await asyncio.gather(*self._removing)
