"""Share links: an owner's succeeded video opened by an unguessable, revocable token."""

from demo_app.shares._desk import NOT_SHAREABLE, CannotShare, ShareDesk, SharedVideo
from demo_app.shares._pg_store import PgShareStore
from demo_app.shares._route import SHARE_PREFIX, share_path, share_routes
from demo_app.shares._store import Share, Shares, ShareStore
from demo_app.shares._view import NOT_SHARED

__all__ = [
    "NOT_SHAREABLE",
    "NOT_SHARED",
    "SHARE_PREFIX",
    "CannotShare",
    "PgShareStore",
    "Share",
    "ShareDesk",
    "ShareStore",
    "SharedVideo",
    "Shares",
    "share_path",
    "share_routes",
]
