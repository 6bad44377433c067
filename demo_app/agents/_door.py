"""The MCP endpoint beside the Gradio app: one address (`/mcp`), streamable HTTP, stateless.

Gradio 6.31's own MCP server would make a tool of every public endpoint, the page's handlers
and the key-first API included; this server offers only the API (`LipsyncTools`). It is
stateless: each POST is answered on its own (progress travels on that POST's event stream), so
nothing is kept per client and any worker can answer. Its session manager runs a task group
that must be open while requests arrive: the app's lifespan enters `running()`.

DNS-rebinding protection (a Host allow-list) is off: the tools act only on the key a caller
sends in a header, which no other web page's script can supply, and the Space's host name is
not known in advance. Request bodies are bounded to two files' worth of base64.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, MutableSet
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.routing import BaseRoute

from demo_app.agents._files import ToolFiles
from demo_app.agents._tools import LipsyncTools
from demo_app.settings import Settings
from demo_app.ui import ApiCalls
from demo_app.ui._handlers import ServicesSource
from demo_app.uploads import UploadPolicy, UploadQuota
from demo_app.visitors import Visitors

MCP_PATH = "/mcp"
FETCH_DEADLINE_S = 30.0
"""How long fetching one https input may take, redirects included."""
BODY_OVERHEAD_BYTES = 64 * 1024

INSTRUCTIONS = (
    "Lipsync Studio turns a face picture and a voice recording into a video of the face speaking. "
    "Call `models` to choose a model and learn its limits and price; `start` a job with the two files "
    "(data: URIs or public https links); `follow` it to the end (progress is reported) or poll `status`; "
    "`cancel` returns the hold; `credits` shows the balance. Every tool but `models` needs the caller's "
    "API key in the X-Api-Key header of the connection."
)


class McpDoor:
    """The MCP server's routes (for `launch(app_kwargs=...)`) and the context that runs it."""

    def __init__(self, tools: LipsyncTools, max_file_bytes: int) -> None:
        with _root_logging_kept():
            server: MCPServer[Any] = MCPServer(
                "lipsync-studio", title="Lipsync Studio", instructions=INSTRUCTIONS
            )
        tools.register(server)
        app = server.streamable_http_app(
            streamable_http_path=MCP_PATH,
            stateless_http=True,
            max_request_body_size=2 * (max_file_bytes * 4 // 3 + 4) + BODY_OVERHEAD_BYTES,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        self._routes = list(app.routes)
        self._server = server

    @property
    def routes(self) -> list[BaseRoute]:
        """The routes to put beside Gradio's."""
        return self._routes

    def running(self) -> AbstractAsyncContextManager[None]:
        """Keeps the session manager's task group open (enter it in the app's lifespan, once)."""
        return self._server.session_manager.run()


@contextlib.contextmanager
def _root_logging_kept() -> Iterator[None]:
    """The SDK's server configures the root logger when built (`logging.basicConfig`, a handler of
    its own); how the app logs is the app's choice, so the root logger is put back as it was."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def mcp_door(
    handle: ServicesSource,
    visitors: Visitors,
    uploads: UploadPolicy,
    uploaded: MutableSet[str],
    quota: UploadQuota,
    settings: Settings,
) -> McpDoor:
    """The MCP door over the same services, visitors, upload policy and quota as the Gradio API;
    tool files join `uploaded` (the Blocks' upload set) like any upload."""
    files = ToolFiles(
        Path(uploads.folder),
        uploaded,
        quota,
        max_bytes=settings.max_upload_bytes,
        fetch_deadline_s=FETCH_DEADLINE_S,
    )
    tools = LipsyncTools(ApiCalls(handle, visitors, uploads), files, settings)
    return McpDoor(tools, settings.max_upload_bytes)
