"""What a database URL may be, and how to name one without its password."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

SCHEMES = ("postgresql", "postgres")


def check_database_url(url: str) -> None:
    """Refuse (`ValueError`, one sentence, the URL not in it) anything but a PostgreSQL URL."""
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in SCHEMES:
        raise ValueError(
            "LIPSYNC_DATABASE_URL must be a PostgreSQL URL starting with postgresql:// or postgres:// "
            "(or be left unset to keep the ledger and jobs in the data directory)"
        )


def describe_url(url: str) -> str:
    """`host:port/dbname` (or the socket directory) of `url`: safe for logs and errors."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host:
        host = parse_qs(parts.query).get("host", ["local socket"])[0]
    port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}{parts.path or '/'}"
