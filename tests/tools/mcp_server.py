"""A small MCP server for the tests: ``python mcp_server.py stdio`` or ``python mcp_server.py http PORT``.

Two tools: ``add`` (adds two integers) and ``fail`` (always fails, so the client sees ``isError``).
With ``MCP_TEST_PIDFILE`` set, the server writes its pid to that file (relative to its working
directory), so a test can check both that ``env``/``cwd`` reach it and that it is gone after close.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("gptoss-test", instructions="Arithmetic for the tests.", log_level="WARNING")


@server.tool()
def add(a: int, b: int) -> str:
    """Add two integers."""
    return f"{a} + {b} = {a + b}"


@server.tool()
def fail(reason: str) -> str:
    """Always fails with the given reason."""
    raise ToolError(f"failed on purpose: {reason}")


if __name__ == "__main__":
    if pidfile := os.environ.get("MCP_TEST_PIDFILE"):
        Path(pidfile).write_text(str(os.getpid()))
    if sys.argv[1:2] == ["http"]:
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run("stdio")
