"""How the page is put together: page events hidden and unlimited, sign-in only on a Space."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import gradio as gr
import pytest

from demo_app.server import build_app
from demo_app.settings import Settings
from tests.ui.conftest import REPO

API = {"models", "start", "status", "generate", "cancel", "credits", "manifest", "share", "unshare"}
API |= {"compare_start", "compare_status"}
API |= {"batch_start", "batch_status", "batch_results", "batch_cancel"}


def build(tmp_path: Path) -> gr.Blocks:
    demo, _ = build_app(Settings(_env_file=None, data_dir=tmp_path, replicate_api_token=None))
    return demo


def test_only_the_api_is_public_and_nothing_waits_behind_another_visitor(tmp_path: Path) -> None:
    fns = build(tmp_path).fns.values()
    public = {fn.api_name for fn in fns if fn.api_visibility == "public"}
    assert public == API
    for fn in fns:
        if fn.api_name in API or fn.api_name.startswith("page_"):
            assert fn.concurrency_limit is None, fn.api_name
            assert fn.show_progress == "hidden", fn.api_name


def test_no_sign_in_button_off_spaces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPACE_ID", raising=False)
    blocks = build(tmp_path).blocks.values()
    assert not any(isinstance(block, gr.LoginButton) for block in blocks)


SPACE_ENV = {
    "SYSTEM": "spaces",
    "SPACE_ID": "owner/lipsync-studio",
    "SPACE_HOST": "owner-lipsync-studio.hf.space",
    "OAUTH_CLIENT_ID": "client-id",
    "OAUTH_CLIENT_SECRET": "client-secret",
    "OAUTH_SCOPES": "openid profile",
    "OPENID_PROVIDER_URL": "https://huggingface.co",
}

COUNT_LOGIN_BUTTONS = """
import sys, gradio as gr
from demo_app.server import build_app
from demo_app.settings import Settings
from tests.ui.conftest import REPO
demo, _ = build_app(Settings(_env_file=None, data_dir=sys.argv[1], replicate_api_token=None))
print(sum(isinstance(block, gr.LoginButton) for block in demo.blocks.values()))
"""


@pytest.mark.slow
def test_sign_in_button_on_a_space(tmp_path: Path) -> None:
    """A fresh process, as on a Space: Gradio reads the OAuth variables when it is imported."""
    env = dict(os.environ, **SPACE_ENV)
    out = subprocess.run(
        [sys.executable, "-c", COUNT_LOGIN_BUTTONS, str(tmp_path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert out.stdout.strip().splitlines()[-1] == "1"
