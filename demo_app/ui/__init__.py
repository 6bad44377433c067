"""The Gradio app: the visitor's page and the researchers' API (`build_ui`), and the API's
operations (`ApiCalls`) for its other door, the MCP tools."""

from demo_app.ui._calls import ApiCalls
from demo_app.ui._contract import snapshot_json
from demo_app.ui._page import build_ui, visitors_of
from demo_app.ui._quiet_queue import GRADIO_OPTIONAL_IMPORTS, check_progress_rarely, mark_absent
from demo_app.ui._sentences import SOMETHING_WENT_WRONG, Refused
from demo_app.ui._sessions import LeanSessionState, use_lean_sessions

__all__ = [
    "GRADIO_OPTIONAL_IMPORTS",
    "SOMETHING_WENT_WRONG",
    "ApiCalls",
    "LeanSessionState",
    "Refused",
    "build_ui",
    "check_progress_rarely",
    "mark_absent",
    "snapshot_json",
    "use_lean_sessions",
    "visitors_of",
]
