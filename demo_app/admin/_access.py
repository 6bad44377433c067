"""Who is an admin: a Hugging Face user named in `LIPSYNC_ADMINS`, or whoever holds `LIPSYNC_ADMIN_KEY`.

The key is compared in constant time (both sides hashed first, so not even its length leaks)
and never kept anywhere but the settings' `SecretStr`. A key holder names themselves for the
ledger; the name is recorded as given, marked as coming from the key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import SecretStr

if TYPE_CHECKING:  # the command line imports this module and should start fast
    from demo_app.settings import Settings

MAX_NAME_CHARS = 40
NAME_SHAPE = re.compile(rf"[A-Za-z0-9][A-Za-z0-9 ._@-]{{0,{MAX_NAME_CHARS - 1}}}")
VIA_HUGGING_FACE = "Hugging Face"
VIA_KEY = "admin key"


class NotAnAdmin(PermissionError):
    """The caller is not an admin (or named themselves badly); `str()` says what to do."""


@dataclass(frozen=True)
class Admin:
    """An admin as the ledger names them: `alice (Hugging Face)`, `ops (admin key)`."""

    name: str
    via: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.via})"


class AdminAccess:
    """Decides whether a signed-in user or a presented key is an admin."""

    def __init__(self, admins: frozenset[str], key: SecretStr | None) -> None:
        self._admins = admins
        self._key_digest = _digest(key.get_secret_value()) if key is not None else None

    @classmethod
    def from_settings(cls, settings: Settings) -> AdminAccess:
        return cls(settings.admin_names, settings.admin_key)

    @property
    def has_key(self) -> bool:
        """True when `LIPSYNC_ADMIN_KEY` is set (the routes and the unlock box are open)."""
        return self._key_digest is not None

    @property
    def has_admins(self) -> bool:
        """True when `LIPSYNC_ADMINS` names someone (a sign-in may open the tab)."""
        return bool(self._admins)

    def signed_in(self, username: str | None) -> Admin | None:
        """The admin a Hugging Face sign-in makes, or None for anyone not in `LIPSYNC_ADMINS`."""
        if username is None or username not in self._admins:
            return None
        return Admin(username, VIA_HUGGING_FACE)

    def key_opens(self, candidate: str | None) -> bool:
        """True only for the admin key itself (constant time; False whenever no key is set)."""
        if self._key_digest is None or not candidate:
            return False
        return hmac.compare_digest(self._key_digest, _digest(candidate))

    def key_holder(self, candidate: str | None, name: str | None) -> Admin:
        """The admin holding `candidate`, under the name they give; `NotAnAdmin` otherwise."""
        if not self.key_opens(candidate):
            raise NotAnAdmin("That is not the admin key; check LIPSYNC_ADMIN_KEY and try again.")
        return Admin(admin_name(name), VIA_KEY)

    def __repr__(self) -> str:
        return f"AdminAccess(admins={sorted(self._admins)!r}, key={'set' if self.has_key else 'unset'})"


def admin_name(value: str | None) -> str:
    """A key holder's name for the ledger: letters, digits, spaces and ._@- , up to 40 characters."""
    name = value.strip() if isinstance(value, str) else ""
    if not NAME_SHAPE.fullmatch(name):
        raise NotAnAdmin(
            f"Give your name for the ledger (letters, digits, spaces, . _ @ -; at most {MAX_NAME_CHARS} "
            "characters)."
        )
    return name


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
