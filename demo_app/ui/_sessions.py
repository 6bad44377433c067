"""Gradio's per-visitor session state, without its eager copy of the whole page's config.

Gradio makes a `SessionState` for every session that sends an event (each browser tab, each
`gradio_client`), and its constructor renders the config of every block of the page into
`config_values`, which only deep links and component updates of that session read. For this page
(89 blocks) that costs about 8.5 ms of the event loop and 131 KiB per new session: at 50 new
visitors a second nearly half a core, and 131 MiB per thousand waiting visitors. Each event then
updates only its input blocks' entries. The lean state renders a block's config when an event
first touches it, and all of them only for a deep link; it is otherwise the same object.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from copy import copy
from typing import Any

import gradio as gr
from gradio.state_holder import SessionState, StateHolder


class LeanSessionState(SessionState):
    """`SessionState` whose `config_values` hold only the blocks something has read or updated;
    the rest are rendered when a deep link asks for them all (`components`)."""

    def __init__(self, blocks: gr.Blocks) -> None:
        # Not `super().__init__()`: rendering every config up front is what this class avoids.
        self.blocks_config = copy(blocks.default_config)
        self._page_blocks = blocks.blocks
        self.config_values: dict[int, Any] = {}
        self.state_data: dict[int, Any] = {}
        self._state_ttl: dict[int, Any] = {}
        self.is_closed = False
        self.STATE_TTL_WHEN_CLOSED = 1 if os.getenv("GRADIO_IS_E2E_TEST", None) else 3600

    @property
    def components(self) -> Iterator[dict[str, Any]]:
        """Every block's config, in the page's order, as Gradio's own state would list them."""
        config, done = self.blocks_config, self.config_values
        page = {
            key: done[key] if key in done else config.config_for_block(key, [], block)
            for key, block in config.blocks.items()
            if key in self._page_blocks
        }
        self.config_values = page | {key: value for key, value in done.items() if key not in page}
        return (value for value in self.config_values.values() if value)


class LeanStateHolder(StateHolder):
    """Gradio's `StateHolder`, making lean session states."""

    def __getitem__(self, session_id: str) -> SessionState:
        if session_id not in self.session_data:
            self.session_data[session_id] = LeanSessionState(self.blocks)
        return super().__getitem__(session_id)


def use_lean_sessions(app: Any) -> None:
    """Give the running Gradio app (before its first event) lean session states."""
    holder = LeanStateHolder()
    holder.set_blocks(app.get_blocks())
    app.state_holder = holder
