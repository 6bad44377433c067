"""Gradio's per-visitor state, made lean: the same state, the page's config rendered only when read."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import gradio as gr
from gradio.state_holder import SessionState
from gradio_client import Client

from demo_app.server import build_app
from demo_app.settings import Settings
from demo_app.ui import LeanSessionState
from tests.ui.conftest import AppFactory, RunningApp


def build(tmp_path: Path) -> gr.Blocks:
    demo, _ = build_app(Settings(_env_file=None, data_dir=tmp_path, replicate_api_token=None))
    return demo


def test_the_lean_state_is_gradios_state_with_the_config_rendered_on_first_read(tmp_path: Path) -> None:
    demo = build(tmp_path)
    eager, lean = SessionState(demo), LeanSessionState(demo)
    assert set(vars(lean)) - {"_page_blocks"} == set(vars(eager))
    assert lean.config_values == {}, "nothing rendered at creation"
    some = next(key for key, block in demo.blocks.items() if isinstance(block, gr.Textbox))
    for state in (eager, lean):
        state._update_value_in_config(some, "a new value")
    assert set(lean.config_values) == {some}, "an event renders only the blocks it updates"
    assert list(lean.components) == list(eager.components)
    assert lean.STATE_TTL_WHEN_CLOSED == eager.STATE_TTL_WHEN_CLOSED and lean.is_closed is eager.is_closed


def test_a_launched_app_gives_its_visitors_lean_states(
    start_app: AppFactory, connect: Callable[[RunningApp], Client]
) -> None:
    app = start_app()
    connect(app).predict(api_name="/models")
    states = list(app.demo.state_holder.session_data.values())
    assert states and all(isinstance(state, LeanSessionState) for state in states)
