"""Share links on disk: one per shared job, found by the hash of its token.

A token is 32 URL-safe characters from `secrets` (192 bits). Lookups go by the token's sha256
in a dictionary, so how long an answer takes says nothing about how close a guess came; a
malformed, unknown or revoked token gets the same None. `ShareStore` is TinyDB on the same
crash-safe journaled storage as the job records; `PgShareStore` keeps them in the database, so a
link made on one replica opens on every one.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime
from pathlib import Path
from typing import Protocol, cast

from pydantic import BaseModel
from tinydb import Query, TinyDB

from demo_app.credits import utc_now
from demo_app.storage import GroupCommit, JournaledJSONStorage

TOKEN_BYTES = 24
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{32}")


class Share(BaseModel):
    """One live share link: whose job it shows, and since when."""

    token: str
    job_id: str
    owner: str
    created_at: datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Shares(Protocol):
    """Where the live share links are kept."""

    async def of(self, job_id: str) -> Share | None:
        """The job's live share link, if it has one."""
        ...

    async def find(self, token: str) -> Share | None:
        """The share a token opens; None for any token that opens nothing."""
        ...

    async def create(self, owner: str, job_id: str) -> Share:
        """The job's share link: the live one, else a new token (stored when this returns)."""
        ...

    async def revoke(self, job_id: str) -> bool:
        """Stop the job's share link at once (True if there was one)."""
        ...

    def close(self) -> None: ...


def new_share(owner: str, job_id: str) -> Share:
    """A share of the job with a fresh random token."""
    return Share(token=secrets.token_urlsafe(TOKEN_BYTES), job_id=job_id, owner=owner, created_at=utc_now())


class ShareStore:
    """Every live share link of this data directory."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = TinyDB(path, storage=JournaledJSONStorage, autocommit=False)
        self._table = self._db.table("shares")
        shares = [Share.model_validate(doc) for doc in self._table.all()]
        self._by_job = {share.job_id: share for share in shares}
        self._by_hash = {token_hash(share.token): share for share in shares}
        self._group = GroupCommit(cast(JournaledJSONStorage, self._db.storage))

    async def of(self, job_id: str) -> Share | None:
        """The job's live share link, if it has one."""
        return self._by_job.get(job_id)

    async def find(self, token: str) -> Share | None:
        """The share a token opens; None for any token that opens nothing."""
        if not TOKEN_SHAPE.fullmatch(token):
            return None
        return self._by_hash.get(token_hash(token))

    async def create(self, owner: str, job_id: str) -> Share:
        """The job's share link: the live one, else a new token (on disk when this returns)."""
        share = self._by_job.get(job_id)
        if share is not None:
            return share
        share = new_share(owner, job_id)
        self._by_job[job_id] = share
        self._by_hash[token_hash(share.token)] = share
        doc = share.model_dump(mode="json")
        async with self._group.change():
            self._table.insert(doc)
        return share

    async def revoke(self, job_id: str) -> bool:
        """Stop the job's share link at once (True if there was one)."""
        share = self._by_job.pop(job_id, None)
        if share is None:
            return False
        self._by_hash.pop(token_hash(share.token), None)
        async with self._group.change():
            self._table.remove(Query().job_id == job_id)
        return True

    def close(self) -> None:
        """Write what is pending, then release the file (and its lock)."""
        self._group.close()
        self._db.close()
