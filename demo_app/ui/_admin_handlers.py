"""What the Admin tab's events do; every one re-checks that its caller is an admin.

Hiding the tab is not enough: any page event can be called by anyone, by its fn_index, with any
arguments. So each handler asks again: a Hugging Face sign-in named in `LIPSYNC_ADMINS` (read
from the session's cookie, never from the arguments), or a session the admin key unlocked (an
`Admin` in server-side session state, which a caller cannot send).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import gradio as gr

from demo_app.admin import Admin, AdminAccess, AdminDesk, DeskRefused, NotAnAdmin
from demo_app.admin._access import VIA_KEY
from demo_app.credits import AdjustRefused, Balance
from demo_app.presenters import credits_summary_html, statement_rows
from demo_app.ui._admin_text import desk_message, failure_rows, running_rows, spend_html
from demo_app.ui._sentences import refusal, speaks

log = logging.getLogger(__name__)

NOT_AN_ADMIN = "The Admin tab is for this Space's admins only."


class AdminHandlers:
    """The Admin tab's handlers over the desk, each behind `_admin`."""

    def __init__(self, desk: AdminDesk, access: AdminAccess) -> None:
        self._desk = desk
        self._access = access

    @property
    def anyone_signs_in(self) -> bool:
        """False when `LIPSYNC_ADMINS` is empty: no page load needs asking who is an admin."""
        return self._access.has_admins

    @speaks
    async def check(self, profile: gr.OAuthProfile | None) -> tuple[Any, Any, str]:
        """On load: show the tab to a signed-in admin, and to nobody else."""
        admin = self._access.signed_in(profile.username if profile is not None else None)
        if admin is None:
            return gr.Tab(visible=False), None, ""
        return gr.Tab(visible=True), admin, _who(admin)

    @speaks
    async def unlock(self, key: Any, name: Any) -> tuple[Any, Any, str, str, str]:
        """The admin key opens the tab for this session, under the name given for the ledger."""
        try:
            admin = self._access.key_holder(key if isinstance(key, str) else None, name)
        except NotAnAdmin as exc:
            raise refusal(str(exc), "Admins only") from None
        return gr.Tab(visible=True), admin, _who(admin), "The Admin tab is open.", ""

    @speaks
    async def overview(self, held: Any, profile: gr.OAuthProfile | None) -> tuple[str, Any, Any]:
        """Today's spend against the budget, every running job and the latest failures."""
        self._admin(held, profile)
        return (
            spend_html(await self._desk.spend()),
            running_rows(await self._desk.running()),
            failure_rows(await self._desk.failures()),
        )

    @speaks
    async def pick(self, held: Any, evt: gr.SelectData, profile: gr.OAuthProfile | None) -> str:
        """A clicked row's job id, ready to cancel."""
        self._admin(held, profile)
        row = evt.row_value if isinstance(evt.row_value, Sequence) else None
        return str(row[-1]) if row else ""

    @speaks
    async def cancel(self, held: Any, job_id: Any, profile: gr.OAuthProfile | None) -> tuple[str, Any, Any]:
        """Cancel anyone's job; its hold goes back to its owner."""
        admin = self._admin(held, profile)
        try:
            snap = await self._desk.cancel(job_id)
        except DeskRefused as exc:
            return desk_message(str(exc)), gr.skip(), gr.skip()
        log.info("job %s of %s canceled by %s", snap.job_id, snap.owner, admin.label)
        said = desk_message(f"Job {snap.job_id} of {snap.owner}: {snap.message}")
        return said, running_rows(await self._desk.running()), failure_rows(await self._desk.failures())

    @speaks
    async def statement(self, held: Any, owner: Any, profile: gr.OAuthProfile | None) -> tuple[str, Any, str]:
        """A visitor's totals and every entry of their credits."""
        self._admin(held, profile)
        try:
            account = await self._desk.statement(owner)
        except DeskRefused as exc:
            return "", [], desk_message(str(exc))
        return credits_summary_html(account.balance), statement_rows(account.statement), ""

    @speaks
    async def grant(
        self, held: Any, owner: Any, credits: Any, reason: Any, profile: gr.OAuthProfile | None
    ) -> tuple[str, Any, Any]:
        """Give a visitor credits; the ledger entry names this admin."""
        admin = self._admin(held, profile)
        return await self._changed(owner, self._desk.grant(admin, owner, credits, reason), "Granted")

    @speaks
    async def take(
        self, held: Any, owner: Any, credits: Any, reason: Any, profile: gr.OAuthProfile | None
    ) -> tuple[str, Any, Any]:
        """Take credits back (never those held by running jobs); the entry names this admin."""
        admin = self._admin(held, profile)
        return await self._changed(owner, self._desk.take(admin, owner, credits, reason), "Took")

    async def _changed(self, owner: Any, change: Any, verb: str) -> tuple[str, Any, Any]:
        try:
            balance: Balance = await change
        except (DeskRefused, AdjustRefused) as exc:
            return desk_message(str(exc)), gr.skip(), gr.skip()
        account = await self._desk.statement(owner)
        said = desk_message(f"{verb}: {balance.owner} now has {balance.available:,} credits available.")
        return said, credits_summary_html(account.balance), statement_rows(account.statement)

    def _admin(self, held: Any, profile: gr.OAuthProfile | None) -> Admin:
        """The admin calling, asked again on every event; anyone else is refused."""
        signed = self._access.signed_in(profile.username if profile is not None else None)
        if signed is not None:
            return signed
        if isinstance(held, Admin) and held.via == VIA_KEY and self._access.has_key:
            return held
        raise refusal(NOT_AN_ADMIN, "Admins only")


def _who(admin: Admin) -> str:
    return f"Admin: **{desk_message(admin.name)}** ({admin.via}). Every change below names you in the ledger."
