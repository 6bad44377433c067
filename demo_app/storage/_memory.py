"""A storage that commits to memory only: the ledger and the job store without files, for tests.

It follows the file storages' rules to the letter — a commit encodes the data as JSON (so what
cannot be written to a file fails here too), a failed commit or transaction returns memory to
the last commit — but nothing outlives the process and there is no lock: two opens of the same
name are two independent stores. TinyDB's own suite runs on its memory storage the same way.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from demo_app.storage._base import Commit, CommittingStorage
from demo_app.storage._files import encode_json


class MemoryStorage(CommittingStorage):
    """`CommittingStorage` whose commits are kept as encoded JSON in memory."""

    def __init__(self, path: str | os.PathLike[str] = "memory.json", *, autocommit: bool = True) -> None:
        super().__init__(Path(path).absolute(), autocommit=autocommit)
        self._committed: bytes | None = None

    def prepare(self) -> Commit:
        """The whole data, encoded (refuses what a file storage would refuse)."""
        return Commit(None, encode_json(self._data or {}))

    def persist(self, commit: Commit) -> None:
        """Keep the encoded data as the last commit."""
        if commit.snapshot is not None:
            self._committed = commit.snapshot
        self.commits += 1

    def reload(self) -> None:
        """Memory becomes a fresh copy of the last commit."""
        self._data = json.loads(self._committed) if self._committed is not None else None

    def close(self) -> None:
        """Nothing to release."""
