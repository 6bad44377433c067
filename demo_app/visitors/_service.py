"""Admission: who a request is, whether a new owner gets the starting grant, and their account.

The page and the API ask this one service, so both follow the same policy: a page visitor is
identified (signed-in HF user, else the browser's genuine key, else a brand-new owner), a
brand-new owner is counted under the address the proxy saw (the cap on starting grants), and
the owner's account is opened; an API caller is the owner its signed key names, nothing more.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from demo_app.credits import Balance, Ledger, OpenHold, StatementLine
from demo_app.settings import Settings
from demo_app.visitors._addresses import GrantGate, HasHeaders
from demo_app.visitors._keys import KeyRing, identify_visitor

SECRET_FILE = "api-key-secret"
"""Where the key ring's secret is kept in the data directory when no secret is configured."""


@dataclass(frozen=True)
class Visitor:
    """An admitted page visitor: whose credits they use, their API key, what the browser keeps."""

    owner: str
    api_key: str
    browser_key: str | None
    """The key the browser should store (anonymous visitors), or None to leave the browser as it is."""
    balance: Balance


@dataclass(frozen=True)
class Account:
    """What an owner reads about their credits: the totals, the open holds and every entry."""

    balance: Balance
    open_holds: list[OpenHold]
    statement: list[StatementLine]


class Visitors:
    """Admits page visitors and API callers against the ledger the server opened."""

    def __init__(
        self, keys: Callable[[], Awaitable[KeyRing]], gate: GrantGate, ledger: Callable[[], Awaitable[Ledger]]
    ) -> None:
        self._keys = keys
        self._gate = gate
        self._ledger = ledger

    async def admit(self, hf_user: str | None, browser_key: str | None, request: HasHeaders) -> Visitor:
        """Identify the visitor and open their account; the grant comes once, capped per address."""
        identity = identify_visitor(await self._keys(), hf_username=hf_user, browser_key=browser_key)
        address = self._gate.address(request) if identity.new else None
        ledger = await self._ledger()
        balance = await ledger.open_account(identity.owner, address=address)
        return Visitor(identity.owner, identity.api_key, identity.browser_key, balance)

    async def caller(self, api_key: str) -> str:
        """The owner an API key stands for (ForgedKey unless this server signed it)."""
        owner = (await self._keys()).owner_of(api_key)
        # Idempotent: the page that showed the key opened the owner; the grant is never repeated.
        await (await self._ledger()).open_account(owner)
        return owner

    async def account(self, owner: str) -> Account:
        """The owner's balance, open holds and statement, as the Credits tab and the API show them."""
        ledger = await self._ledger()
        balance = await ledger.balance(owner)
        holds = await ledger.open_holds(owner)
        return Account(balance, holds, await ledger.statement(owner))


def key_ring(settings: Settings) -> KeyRing:
    """The configured secret's key ring, else one whose secret is made once in the data directory."""
    if settings.api_key_secret is not None:
        return KeyRing(settings.api_key_secret.get_secret_value().encode())
    return KeyRing.from_file(settings.data_dir / SECRET_FILE)


def visitors_from(
    settings: Settings,
    ledger: Callable[[], Awaitable[Ledger]],
    keys: Callable[[], Awaitable[KeyRing]] | None = None,
) -> Visitors:
    """The visitors service of these settings, opening accounts in the ledger `ledger()` returns and
    signing with the key ring `keys()` returns (default: the settings' secret, or the data directory's)."""
    if keys is None:
        ring = key_ring(settings)

        async def configured() -> KeyRing:
            return ring

        keys = configured
    return Visitors(keys, GrantGate(settings.trusted_proxy_hops), ledger)
