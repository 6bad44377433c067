"""The faces found in a visitor's picture, remembered so one job does not look for them twice.

A job's picture is judged twice: by the pre-flight that answers the estimate (or the API call
before any hold) and by the job's own checks after it starts, on the same bytes with the same
limits. Finding faces is the costly part of both (about 100 ms of a worker's CPU for a 512 px
photo), so the first answer is kept, keyed by who asked, the file's SHA-256 and the limits, and
handed to the second check, which then only prepares the picture. Keys carry the asker, so one
visitor's picture never answers for another's; the memo is bounded and forgets the oldest.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from pathlib import Path

from demo_app.media._faces import Box

KEPT = 4096
"""Pictures remembered: a crowd's worth of visitors between their estimate and their job."""
READ_CHUNK = 1 << 20

MemoKey = tuple[str, str, int, int]


class FaceMemo:
    """(asker, file digest, min side, max side) -> the faces the check found."""

    def __init__(self, kept: int = KEPT) -> None:
        self._kept = kept
        self._faces: OrderedDict[MemoKey, tuple[Box, ...]] = OrderedDict()

    @staticmethod
    def key(scope: str, src: Path, min_side: int, max_side: int, max_bytes: int) -> MemoKey | None:
        """The picture's key (blocking: reads the file), or None when it is not a readable
        regular file within `max_bytes` (the check itself then says what is wrong)."""
        digest = hashlib.sha256()
        seen = 0
        try:
            with src.open("rb") as file:
                while chunk := file.read(READ_CHUNK):
                    seen += len(chunk)
                    if seen > max_bytes:
                        return None
                    digest.update(chunk)
        except OSError:
            return None
        return (scope, digest.hexdigest(), min_side, max_side)

    def get(self, key: MemoKey) -> tuple[Box, ...] | None:
        faces = self._faces.get(key)
        if faces is not None:
            self._faces.move_to_end(key)
        return faces

    def put(self, key: MemoKey, faces: tuple[Box, ...]) -> None:
        self._faces[key] = faces
        self._faces.move_to_end(key)
        while len(self._faces) > self._kept:
            self._faces.popitem(last=False)
