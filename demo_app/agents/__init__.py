"""The API for agents: MCP tools over streamable HTTP at `/mcp`, the key in the X-Api-Key header."""

from demo_app.agents._door import MCP_PATH, McpDoor, mcp_door
from demo_app.agents._tools import LipsyncTools

__all__ = ["MCP_PATH", "LipsyncTools", "McpDoor", "mcp_door"]
