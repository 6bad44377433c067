"""The Gradio app: the visitor's page and the researchers' API (`build_ui`)."""

from demo_app.ui._page import build_ui
from demo_app.ui._sessions import LeanSessionState, use_lean_sessions

__all__ = ["LeanSessionState", "build_ui", "use_lean_sessions"]
