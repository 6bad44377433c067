"""Gradio's queue without the per-frame work this page never uses."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import gradio as gr
import pytest

from demo_app.server import build_app
from demo_app.settings import Settings
from demo_app.ui import check_progress_rarely, mark_absent
from demo_app.ui._quiet_queue import PROGRESS_CHECK_EVERY_S

ABSENT = "lipsync_no_such_module"


def test_the_apps_queue_looks_for_progress_updates_once_a_second(tmp_path: Path) -> None:
    demo, _ = build_app(Settings(_env_file=None, data_dir=tmp_path, replicate_api_token=None))
    assert demo._queue.progress_update_sleep_when_free == PROGRESS_CHECK_EVERY_S == 1.0


def test_a_queue_without_the_setting_is_left_alone() -> None:
    with gr.Blocks() as unqueued:
        gr.Markdown("no queue yet")
    unqueued._queue = object()  # type: ignore[assignment]
    assert check_progress_rarely(unqueued) is False
    assert not hasattr(unqueued._queue, "progress_update_sleep_when_free")


def test_a_module_marked_absent_fails_to_import_without_a_search(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, ABSENT, raising=False)
    assert mark_absent([ABSENT, "json"]) == [ABSENT], "an importable module is not marked"
    try:
        assert sys.modules[ABSENT] is None
        searched: list[str] = []
        monkeypatch.setattr(sys, "meta_path", [_Recorder(searched), *sys.meta_path])
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module(ABSENT)
        assert searched == [], "no finder was asked"
        assert mark_absent([ABSENT]) == [], "marked once"
    finally:
        sys.modules.pop(ABSENT, None)


class _Recorder:
    """A finder that only notes which modules it was asked for."""

    def __init__(self, asked: list[str]) -> None:
        self._asked = asked

    def find_spec(self, name: str, *_: object) -> None:
        self._asked.append(name)
