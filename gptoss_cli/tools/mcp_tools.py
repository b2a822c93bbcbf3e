"""The tools of an MCP server, through the official ``mcp`` package (an optional dependency).

The mcp client is async and gptoss is not: each server gets a private asyncio event loop in a
daemon thread. One long-lived task on that loop enters the transport (stdio or streamable HTTP)
and the ``ClientSession`` and holds them open until :meth:`close`, so every anyio cancel scope is
entered and left by the same task; calls are submitted with ``run_coroutine_threadsafe`` and
waited for with a time limit. A stdio server is spawned from an argument list (never a shell) in
its own process group, with the ``mcp`` package's small default environment plus ``env``; its
stderr goes to a temporary file whose tail explains a failed start.

Connecting happens in :func:`mcp_namespace`, which raises :class:`ToolError` naming the command
or URL; once connected, nothing raises: a failed call, an ``isError`` result, a timeout or a
lost connection is a ``ToolOutput(error=True)`` for the model.

With a ``cache_dir``, the tool list a server gave is kept (keyed on everything that configures the
server) and the next run declares the tools from it without starting the server: the connection is
made on the first call, so an ``ask`` that calls no MCP tool pays nothing for the server (starting a
stdio server and stopping it took seconds). The first call refreshes the cache.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import json
import os
import re
import shlex
import tempfile
import threading
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from gptoss_cli.errors import ToolError
from gptoss_cli.tools.registry import Approval, Namespace, ToolOutput

if TYPE_CHECKING:
    import mcp_types
    from mcp.client.session import ClientSession

__all__ = ["McpTool", "mcp_namespace"]

INSTALL_HINT = "MCP needs the mcp package: pip install 'gptoss-cli[mcp]'"
CLOSE_TIMEOUT = 10.0  # the stdio transport may take ~6 s to stop a server that ignores EOF
_NAMESPACE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_RESERVED = ("python", "browser", "assistant")

Opener = Callable[[AsyncExitStack, float], Awaitable[Any]]
"""Enters a transport on the stack and returns its ``(read, write)`` streams."""


class _Unavailable(Exception):
    """The connection is gone (the text says why)."""


def _describe(exc: BaseException) -> str:
    """A readable account of an exception, looking inside anyio's exception groups."""
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_describe(inner) for inner in exc.exceptions)
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _Connection:
    """One MCP client session, owned by a private event loop in a daemon thread."""

    def __init__(self, label: str, timeout: float, errlog: TextIO) -> None:
        self.label = label
        self.timeout = timeout
        self.session: ClientSession | None = None
        self.lost: str | None = None
        self.errlog = errlog
        self.stderr_tail = ""
        """The end of the server's stderr, kept when the connection closes."""
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._holder: concurrent.futures.Future[None] | None = None
        self._closed = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"mcp {label}", daemon=True)
        self._thread.start()

    def connect(self, opener: Opener) -> tuple[mcp_types.InitializeResult, list[mcp_types.Tool]]:
        """Open the transport and session, initialize and list the tools (raises on failure)."""
        ready: concurrent.futures.Future[tuple[mcp_types.InitializeResult, list[mcp_types.Tool]]]
        ready = concurrent.futures.Future()
        self._holder = asyncio.run_coroutine_threadsafe(self._hold(opener, ready), self._loop)
        return ready.result(self.timeout)

    async def _hold(
        self,
        opener: Opener,
        ready: concurrent.futures.Future[tuple[mcp_types.InitializeResult, list[mcp_types.Tool]]],
    ) -> None:
        from mcp.client.session import ClientSession

        try:
            async with AsyncExitStack() as stack:
                read, write = await opener(stack, self.timeout)
                session = await stack.enter_async_context(
                    ClientSession(read, write, read_timeout_seconds=self.timeout)
                )
                initialized = await session.initialize()
                tools = await _list_tools(session)
                self.session = session
                ready.set_result((initialized, tools))
                await self._stop.wait()
        except BaseException as exc:  # recorded for connect() or for the next call; cancellation re-raised
            if not ready.done():
                ready.set_exception(exc)
            else:
                self.lost = _describe(exc)
            if not isinstance(exc, Exception):
                raise
        finally:
            self.session = None

    def call(self, name: str, arguments: dict[str, Any]) -> mcp_types.CallToolResult:
        session = self.session
        if session is None:
            raise _Unavailable(self.lost or "the connection is closed")
        future = asyncio.run_coroutine_threadsafe(
            session.call_tool(name, arguments, read_timeout_seconds=self.timeout), self._loop
        )
        try:
            return future.result(self.timeout + 5)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._loop.call_soon_threadsafe(self._stop.set)
        if self._holder is not None:
            with contextlib.suppress(concurrent.futures.TimeoutError, concurrent.futures.CancelledError):
                self._holder.result(CLOSE_TIMEOUT)  # failures were recorded by _hold itself
        finishing = asyncio.run_coroutine_threadsafe(self._finish(), self._loop)
        with contextlib.suppress(concurrent.futures.TimeoutError):
            finishing.result(CLOSE_TIMEOUT)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(CLOSE_TIMEOUT)
        if not self._thread.is_alive():
            self._loop.close()
        self.stderr_tail = _tail(self.errlog)
        self.errlog.close()

    async def _finish(self) -> None:
        """Cancel whatever still runs on the loop (a connect that timed out) and let it unwind."""
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=CLOSE_TIMEOUT)
        await self._loop.shutdown_asyncgens()


async def _list_tools(session: ClientSession) -> list[mcp_types.Tool]:
    import mcp_types

    tools: list[mcp_types.Tool] = []
    cursor: str | None = None
    while True:
        params = mcp_types.PaginatedRequestParams(cursor=cursor) if cursor else None
        page = await session.list_tools(params=params)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            return tools


def _stdio_opener(
    command: list[str], env: Mapping[str, str] | None, cwd: Path | str | None, errlog: TextIO
) -> Opener:
    async def opener(stack: AsyncExitStack, timeout: float) -> Any:
        from mcp.client.stdio import StdioServerParameters, stdio_client

        params = StdioServerParameters(
            command=command[0], args=command[1:], env=dict(env) if env else None, cwd=cwd
        )
        return await stack.enter_async_context(stdio_client(params, errlog=errlog))

    return opener


def _http_opener(url: str, headers: Mapping[str, str] | None) -> Opener:
    async def opener(stack: AsyncExitStack, timeout: float) -> Any:
        import httpx2
        from mcp.client.streamable_http import streamable_http_client

        client = httpx2.AsyncClient(headers=dict(headers or {}), timeout=httpx2.Timeout(timeout, read=300.0))
        await stack.enter_async_context(client)
        return await stack.enter_async_context(streamable_http_client(url, http_client=client))

    return opener


def _output(result: mcp_types.CallToolResult) -> ToolOutput:
    """The result's content as text: text parts verbatim, other parts summarised."""
    import mcp_types

    parts: list[str] = []
    for block in result.content:
        if isinstance(block, mcp_types.TextContent):
            parts.append(block.text)
        elif isinstance(block, mcp_types.ImageContent | mcp_types.AudioContent):
            size = len(block.data) * 3 // 4
            parts.append(f"[{block.type}: {block.mime_type}, about {size} bytes, not shown]")
        elif isinstance(block, mcp_types.ResourceLink):
            about = f": {block.description}" if block.description else ""
            parts.append(f"[resource link: {block.name} <{block.uri}>{about}]")
        elif isinstance(block, mcp_types.EmbeddedResource):
            resource = block.resource
            if isinstance(resource, mcp_types.TextResourceContents):
                parts.append(f"[resource <{resource.uri}>]\n{resource.text}")
            else:
                parts.append(f"[resource <{resource.uri}>: {resource.mime_type or 'binary'}, not shown]")
        else:
            parts.append(f"[{getattr(block, 'type', 'unknown')} content, not shown]")
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False))
    return ToolOutput("\n".join(parts) or "[no output]", error=result.is_error)


class _Lazy:
    """A connection made on the first call, from a cached tool list (see the module's docstring)."""

    def __init__(self, label: str, timeout: float, connect: Callable[[], _Connection]) -> None:
        self.label = label
        self.timeout = timeout
        self._connect = connect
        self._connection: _Connection | None = None
        self._failed: str | None = None
        self._lock = threading.Lock()

    def call(self, name: str, arguments: dict[str, Any]) -> mcp_types.CallToolResult:
        with self._lock:
            if self._connection is None and self._failed is None:
                try:
                    self._connection = self._connect()
                except ToolError as exc:
                    self._failed = str(exc)
        if self._connection is None:
            raise _Unavailable(self._failed or "not connected")
        return self._connection.call(name, arguments)

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()


@dataclass(frozen=True, eq=False)
class McpTool:
    """One tool of an MCP server, called by its server-side name ``remote``."""

    name: str
    description: str
    parameters: Mapping[str, Any] | None
    approve: Approval
    remote: str
    connection: _Connection | _Lazy

    def run(self, arguments: Any) -> ToolOutput:
        if arguments is None or arguments == "":
            arguments = {}
        if not isinstance(arguments, Mapping):
            return ToolOutput(f"{self.name} expects a JSON object of arguments.", error=True)
        where = f"MCP server {self.connection.label!r}"
        try:
            return _output(self.connection.call(self.remote, dict(arguments)))
        except concurrent.futures.TimeoutError:
            return ToolOutput(
                f"{where} did not answer {self.remote} within {self.connection.timeout:g} s.", error=True
            )
        except _Unavailable as exc:
            return ToolOutput(f"{where} is not connected: {exc}", error=True)
        except Exception as exc:  # the mcp client's or the server's failure: the model is told, never raised
            return ToolOutput(f"{where} failed to run {self.remote}: {_describe(exc)}", error=True)

    def close(self) -> None:
        self.connection.close()


def _harmony_names(tools: list[mcp_types.Tool]) -> list[str]:
    """Names usable after ``to=namespace.``: no dots, slashes or spaces, and no two alike."""
    return _harmony_names_of([tool.name for tool in tools])


def _harmony_names_of(remote: list[str]) -> list[str]:
    names: list[str] = []
    for tool_name in remote:
        base = re.sub(r"[^A-Za-z0-9_-]", "_", tool_name) or "tool"
        name, n = base, 2
        while name in names:
            name, n = f"{base}_{n}", n + 1
        names.append(name)
    return names


def mcp_namespace(
    name: str,
    *,
    command: list[str] | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
    url: str | None = None,
    headers: Mapping[str, str] | None = None,
    namespace: str | None = None,
    approve: Approval = "ask",
    timeout: float = 60.0,
    cache_dir: Path | None = None,
) -> Namespace:
    """Connect to the MCP server ``name`` (spawning ``command``, or at ``url``) and list its tools.

    The tools go in the namespace ``namespace`` (``functions`` merges them with the function
    tools), by default one named after the server. Raises :class:`ToolError` when the ``mcp``
    package is missing or the server cannot be reached, initialized or listed. With ``cache_dir``
    and a tool list cached there, nothing is started until a tool is called.
    """
    if (command is None) == (url is None) or command == []:
        raise ToolError(f"MCP server {name!r}: give either a command or a url")
    target = namespace or name
    if not _NAMESPACE.fullmatch(target) or target in _RESERVED:
        raise ToolError(
            f"MCP server {name!r}: {target!r} cannot be a namespace name "
            "(letters, digits, _ and -; not python, browser or assistant)"
        )
    key = json.dumps(
        [name, command, dict(env or {}), str(cwd or ""), url, dict(headers or {})], sort_keys=True
    )
    cache = cache_dir / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.json" if cache_dir else None

    def connect() -> tuple[_Connection, list[mcp_types.Tool], str | None]:
        connection, listed, description = _connect(name, command, env, cwd, url, headers, timeout)
        if cache is not None:
            _save_listing(cache, listed, description)
        return connection, listed, description

    cached = _load_listing(cache) if cache is not None else None
    if cached is not None:
        listed_cached, description = cached
        lazy = _Lazy(name, timeout, lambda: connect()[0])
        tools = tuple(
            McpTool(harmony, str(t.get("description") or ""), t.get("input_schema"), approve, t["name"], lazy)
            for harmony, t in zip(
                _harmony_names_of([t["name"] for t in listed_cached]), listed_cached, strict=True
            )
        )
        return Namespace(target, tools, description if target == name else None)
    connection, listed, description = connect()
    tools_live = tuple(
        McpTool(harmony, tool.description or "", tool.input_schema, approve, tool.name, connection)
        for harmony, tool in zip(_harmony_names(listed), listed, strict=True)
    )
    return Namespace(target, tools_live, description if target == name else None)


CACHE_MAX_AGE = 7 * 24 * 3600.0


def _load_listing(path: Path) -> tuple[list[dict[str, Any]], str | None] | None:
    """A cached tool list, or None (missing, old, or not one)."""
    import time

    try:
        if time.time() - path.stat().st_mtime > CACHE_MAX_AGE:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        tools = data["tools"]
        if not isinstance(tools, list) or not all(
            isinstance(t, dict) and isinstance(t.get("name"), str) for t in tools
        ):
            return None
        description = data.get("description")
        return tools, description if isinstance(description, str) else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _save_listing(path: Path, listed: list[mcp_types.Tool], description: str | None) -> None:
    """Keep a server's tool list (atomically); a cache that cannot be written only costs speed."""
    doc = {
        "tools": [
            {"name": t.name, "description": t.description, "input_schema": t.input_schema} for t in listed
        ],
        "description": description,
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(doc, handle)
        os.replace(tmp, path)
    except (OSError, TypeError, ValueError):
        Path(tmp).unlink(missing_ok=True)


def _connect(
    name: str,
    command: list[str] | None,
    env: Mapping[str, str] | None,
    cwd: Path | str | None,
    url: str | None,
    headers: Mapping[str, str] | None,
    timeout: float,
) -> tuple[_Connection, list[mcp_types.Tool], str | None]:
    """Start or reach the server, initialize and list its tools; ToolError naming it otherwise."""
    try:
        import mcp  # noqa: F401
    except ImportError as exc:
        raise ToolError(INSTALL_HINT) from exc
    where = f"command `{shlex.join(command)}`" if command else f"URL {url}"
    errlog = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")  # noqa: SIM115 (the connection's)
    connection = _Connection(name, timeout, errlog)
    opener = _stdio_opener(command, env, cwd, errlog) if command else _http_opener(str(url), headers)
    try:
        initialized, listed = connection.connect(opener)
    except Exception as exc:  # whatever the transport raised: one ToolError naming the server
        connection.close()
        why = f"no answer within {timeout:g} s" if isinstance(exc, TimeoutError) else _describe(exc)
        stderr = connection.stderr_tail
        raise ToolError(
            f"MCP server {name!r} ({where}) could not be started or reached: {why}"
            + (f"\nits stderr ends with:\n{stderr}" if stderr else "")
        ) from exc
    except BaseException:
        connection.close()
        raise
    info = initialized.server_info
    return connection, listed, initialized.instructions or info.description or info.title


def _tail(errlog: TextIO, lines: int = 20) -> str:
    try:
        errlog.flush()
        errlog.seek(0)
        return "\n".join(errlog.read().strip().splitlines()[-lines:])
    except (OSError, ValueError):
        return ""
