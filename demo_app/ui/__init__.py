"""The Gradio app: the visitor's page and the researchers' API (`build_ui`)."""

from demo_app.ui._page import build_ui

__all__ = ["build_ui"]
