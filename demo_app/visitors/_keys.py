"""Who owns the credits and jobs of a request: a signed-in HF user, a browser, or an API key.

Owners are plain strings: `hf:<username>` for a visitor signed in with Hugging Face, and
`browser:<random hex>` for everyone else. An API key is `<owner>.<signature>`, the signature an
HMAC of the owner under a server secret. Admitting a page visitor (`Visitors.admit`) is the only
way an owner is minted (and so the only place a starting grant can come from); the API accepts
only keys the server signed, so a caller can neither invent an owner nor reach someone else's jobs.
The browser keeps its own key (in `gr.BrowserState`): a value the browser forged or altered is
simply replaced by a new owner.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

HF_PREFIX = "hf:"
BROWSER_PREFIX = "browser:"


class ForgedKey(ValueError):
    """An API key this server did not issue; `str()` tells the caller where to get a real one."""


class KeyRing:
    """Signs owners into API keys and checks keys back into owners."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("The API key secret must be at least 16 bytes long.")
        self._secret = secret

    def __repr__(self) -> str:
        return "KeyRing(secret=[secure])"

    @classmethod
    def from_file(cls, path: Path) -> KeyRing:
        """The key ring whose secret lives in `path`, created once with a random secret."""
        return cls(load_or_create_secret(path))

    def key_for(self, owner: str) -> str:
        """The API key that acts as `owner`."""
        return f"{owner}.{self._sign(owner)}"

    def owner_of(self, key: str) -> str:
        """The owner a key stands for; ForgedKey unless this server signed it."""
        owner, dot, signature = key.strip().rpartition(".")
        if not dot or not _is_owner(owner) or not hmac.compare_digest(signature, self._sign(owner)):
            raise ForgedKey(
                "This API key is not valid. Copy your key from the Credits tab of the app "
                "and pass it as the first argument."
            )
        return owner

    def _sign(self, owner: str) -> str:
        digest = hmac.new(self._secret, owner.encode("utf-8"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Identity:
    """Who a page visitor is: whose credits they use, the API key to show them, what the browser keeps."""

    owner: str
    api_key: str
    browser_key: str | None
    """The key the browser should store (anonymous visitors), or None to leave the browser as it is."""
    new: bool = False
    """True when this request minted the owner (a browser seen for the first time)."""


def identify_visitor(keys: KeyRing, *, hf_username: str | None, browser_key: str | None) -> Identity:
    """Signed-in HF user first; else the browser's own key if genuine; else a brand-new owner."""
    if hf_username:
        owner = HF_PREFIX + hf_username
        return Identity(owner=owner, api_key=keys.key_for(owner), browser_key=None)
    if browser_key:
        try:
            owner = keys.owner_of(browser_key)
        except ForgedKey:
            pass
        else:
            if owner.startswith(BROWSER_PREFIX):
                return Identity(owner=owner, api_key=browser_key, browser_key=browser_key)
    owner = BROWSER_PREFIX + secrets.token_hex(16)
    key = keys.key_for(owner)
    return Identity(owner=owner, api_key=key, browser_key=key, new=True)


def load_or_create_secret(path: Path) -> bytes:
    """Read the secret at `path`, or write a new one atomically (two processes agree on one)."""
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_urlsafe(32))
            fh.flush()
            os.fsync(fh.fileno())
        # link() refuses to overwrite: whoever links first wins, the others read the winner's secret.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return _read_secret(path)


def _read_secret(path: Path) -> bytes:
    text = path.read_text(encoding="ascii").strip()
    if not text:
        raise ValueError(f"The API key secret file {path} is empty; delete it to make a new one.")
    return text.encode("ascii")


def _is_owner(owner: str) -> bool:
    """True for the two owner shapes the app mints."""
    for prefix in (HF_PREFIX, BROWSER_PREFIX):
        if owner.startswith(prefix) and len(owner) > len(prefix):
            return True
    return False
