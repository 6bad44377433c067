"""Gradio's per-visitor session state, without its eager copy of the whole page's config.

Gradio makes a `SessionState` for every session that sends an event (each browser tab, each
`gradio_client`), and its constructor renders the config of every block of the page into
`config_values`, which only deep links and component updates of that session read. For this page
(89 blocks) that costs about 8.5 ms of the event loop and 131 KiB per new session: at 50 new
visitors a second nearly half a core, and 131 MiB per thousand waiting visitors. The lean state
renders that config the first time something reads it, and is otherwise the same object.
"""

from __future__ import annotations

import os
from copy import copy
from typing import Any

import gradio as gr
from gradio.state_holder import SessionState, StateHolder


class LeanSessionState(SessionState):
    """`SessionState` whose `config_values` are rendered on first use instead of at creation."""

    def __init__(self, blocks: gr.Blocks) -> None:
        # Not `super().__init__()`: rendering every config up front is what this class avoids.
        self.blocks_config = copy(blocks.default_config)
        self._page_blocks = blocks.blocks
        self._config_values: dict[int, Any] | None = None
        self.state_data: dict[int, Any] = {}
        self._state_ttl: dict[int, Any] = {}
        self.is_closed = False
        self.STATE_TTL_WHEN_CLOSED = 1 if os.getenv("GRADIO_IS_E2E_TEST", None) else 3600

    @property
    def config_values(self) -> dict[int, Any]:
        if self._config_values is None:
            config = self.blocks_config
            self._config_values = {
                key: config.config_for_block(key, [], block)
                for key, block in config.blocks.items()
                if key in self._page_blocks
            }
        return self._config_values

    @config_values.setter
    def config_values(self, value: dict[int, Any]) -> None:
        self._config_values = value


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
