"""Which of a browser tab's overlapping calls of one event is the newest, so only its answer shows.

Gradio's front end runs an `always_last` event again when it is triggered while running, but it
decides that only once the running call's request is sent: two triggers a moment apart (a tick
and a file change) can both start a call. Both then run at once, and the older one can answer
last and put back what the newer inputs changed (an estimate, Generate disabled). The newest
call is the one that began last; an older one that ends after it leaves the page as it is.
The Create tab's estimate and the Compare tab's (asked again after a comparison, by a second
event) keep to that.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Awaitable
from typing import TypeVar

import gradio as gr

T = TypeVar("T")

MAX_TABS = 10_000
"""Tabs remembered; a forgotten tab's call counts as its newest (it shows its answer, as before)."""


class LatestCalls:
    """The newest call each tab began (a counter shared by all tabs, so no two calls are equal)."""

    def __init__(self, max_tabs: int = MAX_TABS) -> None:
        self._newest: OrderedDict[str, int] = OrderedDict()
        self._max_tabs = max_tabs
        self._count = 0

    def __len__(self) -> int:
        """How many tabs are remembered."""
        return len(self._newest)

    def begin(self, tab: str) -> int:
        """A call of `tab` begins: it is now the tab's newest; returns its number."""
        self._count += 1
        self._newest[tab] = self._count
        self._newest.move_to_end(tab)
        while len(self._newest) > self._max_tabs:
            self._newest.popitem(last=False)
        return self._count

    def is_newest(self, tab: str, call: int) -> bool:
        """Whether no later call of `tab` has begun since `call` did."""
        return self._newest.get(tab, call) == call

    async def answer(self, tab: str, work: Awaitable[T]) -> T | None:
        """`work`'s result as a call of `tab`, or None when a newer call of `tab` began meanwhile."""
        call = self.begin(tab)
        result = await work
        return result if self.is_newest(tab, call) else None


def tab_of(request: gr.Request) -> str:
    """The browser tab an event came from (a caller without a session is a tab of its own)."""
    return request.session_hash or secrets.token_hex(8)
