"""The Files API's storage: uploads kept on disk until they expire (24 h, as recorded).

A file lives in `<root>/<id>/content` with its metadata in memory. Reads check expiry, so
an expired file answers 404 at once; `sweep` deletes the bytes.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from demo_app.engine._clock import Clock
from demo_app.engine._predictions import iso, new_id
from demo_app.engine._problems import Problem

_CHUNK = 1 << 20


class TooLarge(Exception):
    """The upload passed the size limit; nothing was kept."""


@dataclass
class StoredFile:
    id: str
    name: str
    content_type: str
    size: int
    sha256: str
    md5: str
    metadata: dict[str, Any]
    created_at: datetime
    expires_at: datetime
    path: Path = field(repr=False)

    def to_json(self, base_url: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "content_type": self.content_type,
            "size": self.size,
            "etag": self.md5,
            "checksums": {"sha256": self.sha256, "md5": self.md5},
            "metadata": self.metadata,
            "created_at": iso(self.created_at),
            "expires_at": iso(self.expires_at),
            "urls": {"get": f"{base_url}/v1/files/{self.id}"},
        }


class FileStore:
    def __init__(self, root: Path, clock: Clock, *, ttl_s: float = 24 * 3600) -> None:
        self._root = root
        self._clock = clock
        self._ttl = timedelta(seconds=ttl_s)
        self._files: dict[str, StoredFile] = {}

    def save(
        self, source: IO[bytes], *, name: str, content_type: str, metadata: dict[str, Any], max_bytes: int
    ) -> StoredFile:
        """Copy `source` in, hashing as it goes (blocking: call it from a thread)."""
        file_id = new_id()
        folder = self._root / file_id
        folder.mkdir(parents=True)
        path = folder / "content"
        sha256, md5, size = hashlib.sha256(), hashlib.md5(), 0
        try:
            with path.open("wb") as out:
                while chunk := source.read(_CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge
                    sha256.update(chunk)
                    md5.update(chunk)
                    out.write(chunk)
        except TooLarge:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        now = self._clock.now()
        stored = StoredFile(
            id=file_id,
            name=name,
            content_type=content_type,
            size=size,
            sha256=sha256.hexdigest(),
            md5=md5.hexdigest(),
            metadata=metadata,
            created_at=now,
            expires_at=now + self._ttl,
            path=path,
        )
        self._files[file_id] = stored
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        stored = self._files.get(file_id)
        if stored is None or self._clock.now() >= stored.expires_at:
            return None
        return stored

    def require(self, file_id: str) -> StoredFile:
        stored = self.get(file_id)
        if stored is None:
            raise Problem(
                404, "Not found", f"File {file_id} was not found; it may have expired or been deleted."
            )
        return stored

    def live(self) -> list[StoredFile]:
        """Unexpired files, newest first."""
        now = self._clock.now()
        files = [f for f in self._files.values() if now < f.expires_at]
        return sorted(files, key=lambda f: f.created_at, reverse=True)

    def next_expiry(self) -> datetime | None:
        return min((f.expires_at for f in self._files.values()), default=None)

    def delete(self, file_id: str) -> bool:
        stored = self._files.pop(file_id, None)
        if stored is None:
            return False
        shutil.rmtree(stored.path.parent, ignore_errors=True)
        return True

    def sweep(self) -> None:
        """Delete the bytes of expired files."""
        now = self._clock.now()
        for stored in [f for f in self._files.values() if now >= f.expires_at]:
            self.delete(stored.id)
