"""Share links: an owner's succeeded video opened by an unguessable, revocable token."""

from demo_app.shares._desk import NOT_SHAREABLE, CannotShare, ShareDesk, SharedVideo
from demo_app.shares._route import SHARE_PREFIX, share_path, share_routes
from demo_app.shares._store import Share, ShareStore
from demo_app.shares._view import NOT_SHARED

__all__ = [
    "NOT_SHAREABLE",
    "NOT_SHARED",
    "SHARE_PREFIX",
    "CannotShare",
    "Share",
    "ShareDesk",
    "ShareStore",
    "SharedVideo",
    "share_path",
    "share_routes",
]
