"""MCP servers: a real server (tests/tools/mcp_server.py) over stdio and streamable HTTP on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gptoss_cli.errors import ToolError
from gptoss_cli.tools.mcp_tools import INSTALL_HINT, mcp_namespace
from gptoss_cli.tools.registry import Registry

SERVER = str(Path(__file__).with_name("mcp_server.py"))


def _pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _mcp_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("mcp ")]


def test_stdio_server_tools_are_listed_called_and_closed(tmp_path: Path) -> None:
    ns = mcp_namespace(
        "arith",
        command=[sys.executable, SERVER, "stdio"],
        env={"MCP_TEST_PIDFILE": "server.pid"},
        cwd=tmp_path,
        approve="auto",
        timeout=20,
    )
    pid = int((tmp_path / "server.pid").read_text())  # env and cwd reached the server
    registry = Registry()
    registry.add(ns)
    try:
        assert ns.name == "arith" and not ns.builtin
        assert ns.description == "Arithmetic for the tests."
        tools = {t.name: t for t in ns.tools}
        assert sorted(tools) == ["add", "fail"]
        add = tools["add"]
        assert add.description == "Add two integers." and add.approve == "auto"
        assert add.parameters is not None
        assert add.parameters["properties"]["a"]["type"] == "integer"
        assert add.parameters["required"] == ["a", "b"]
        config = registry.developer_namespaces()[0]
        assert [t.name for t in config.tools] == ["add", "fail"]

        assert registry.resolve("arith.add") is add
        ok = add.run({"a": 2, "b": 40})
        assert ok.text == "2 + 40 = 42" and not ok.error
        failed = tools["fail"].run({"reason": "boom"})
        assert failed.error and "failed on purpose: boom" in failed.text
        invalid = add.run({"a": "x"})
        assert invalid.error and "validation error" in invalid.text
        assert add.run(["not", "an", "object"]).error
    finally:
        registry.close()  # closes every tool: the shared connection once
    assert _pid_gone(pid)
    assert _mcp_threads() == []
    after = add.run({"a": 1, "b": 1})
    assert after.error and "not connected" in after.text


def test_tools_can_go_in_the_functions_namespace() -> None:
    ns = mcp_namespace("arith", command=[sys.executable, SERVER, "stdio"], namespace="functions", timeout=20)
    try:
        assert ns.name == "functions" and ns.description is None  # the server's text is not functions'
        assert {t.name for t in ns.tools} == {"add", "fail"}
    finally:
        ns.tools[0].close()


def test_a_server_that_dies_at_start_is_a_tool_error_with_its_stderr() -> None:
    command = [sys.executable, "-c", "import sys; print('missing API key', file=sys.stderr); sys.exit(2)"]
    with pytest.raises(ToolError) as caught:
        mcp_namespace("broken", command=command, timeout=10)
    message = str(caught.value)
    assert message.startswith("MCP server 'broken' (command `")
    assert "could not be started or reached" in message
    assert message.endswith("its stderr ends with:\nmissing API key")
    assert _mcp_threads() == []


def test_a_missing_command_or_a_silent_server_is_a_tool_error(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match=r"command `.*nope`.*FileNotFoundError"):
        mcp_namespace("gone", command=[str(tmp_path / "nope")])
    silent = [sys.executable, "-c", "import sys; sys.stdin.read()"]  # never answers, exits at EOF
    started = time.monotonic()
    with pytest.raises(ToolError, match=r"no answer within 0.5 s"):
        mcp_namespace("silent", command=silent, timeout=0.5)
    assert time.monotonic() - started < 5
    assert _mcp_threads() == []


def test_configuration_errors() -> None:
    with pytest.raises(ToolError, match="either a command or a url"):
        mcp_namespace("none")
    with pytest.raises(ToolError, match="either a command or a url"):
        mcp_namespace("both", command=["x"], url="http://127.0.0.1:9/mcp")
    with pytest.raises(ToolError, match="cannot be a namespace name"):
        mcp_namespace("bad.name", command=["x"])
    with pytest.raises(ToolError, match="cannot be a namespace name"):
        mcp_namespace("srv", command=["x"], namespace="python")


def test_without_the_mcp_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mcp", None)  # makes `import mcp` raise ImportError
    with pytest.raises(ToolError) as caught:
        mcp_namespace("srv", command=["x"])
    assert str(caught.value) == INSTALL_HINT == "MCP needs the mcp package: pip install 'gptoss-cli[mcp]'"


@pytest.fixture
def http_server() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, SERVER, "http", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(10)


def test_streamable_http_server(http_server: str) -> None:
    ns = mcp_namespace("web", url=http_server, headers={"X-Test": "yes"}, timeout=20)
    try:
        tools = {t.name: t for t in ns.tools}
        assert sorted(tools) == ["add", "fail"]
        assert tools["add"].run({"a": 1, "b": 2}).text == "1 + 2 = 3"
        failed = tools["fail"].run({"reason": "http"})
        assert failed.error and "failed on purpose: http" in failed.text
    finally:
        tools["add"].close()
    assert _mcp_threads() == []
    assert tools["add"].run({"a": 1, "b": 2}).error


def test_an_unreachable_url_is_a_tool_error() -> None:
    with pytest.raises(ToolError, match=r"MCP server 'web' \(URL http://127.0.0.1:9/mcp\) could not be"):
        mcp_namespace("web", url="http://127.0.0.1:9/mcp", timeout=10)
    assert _mcp_threads() == []


def test_a_cached_tool_list_declares_the_tools_without_starting_the_server(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    cache = tmp_path / "cache"
    args = {"command": [sys.executable, SERVER, "stdio"], "env": {"MCP_TEST_PIDFILE": str(pidfile)}}
    first = mcp_namespace("arith", **args, timeout=20, cache_dir=cache)  # type: ignore[arg-type]
    try:
        assert pidfile.exists()  # no cache yet: started to list its tools
    finally:
        for tool in first.tools:
            tool.close()
    pidfile.unlink()
    second = mcp_namespace("arith", **args, timeout=20, cache_dir=cache)  # type: ignore[arg-type]
    try:
        assert [t.name for t in second.tools] == [t.name for t in first.tools]
        assert second.description == "Arithmetic for the tests."
        assert not pidfile.exists()  # declared from the cache: nothing started
        add = next(t for t in second.tools if t.name == "add")
        assert add.run({"a": 2, "b": 3}).text == "2 + 3 = 5"  # the first call connects
        assert pidfile.exists()
    finally:
        for tool in second.tools:
            tool.close()
    changed = mcp_namespace("arith", **{**args, "env": {"OTHER": "1"}}, timeout=20, cache_dir=cache)  # type: ignore[arg-type]
    for tool in changed.tools:
        tool.close()
    assert len(list(cache.glob("*.json"))) == 2  # another configuration, another entry


def test_a_cached_server_that_cannot_start_tells_the_model(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    script = tmp_path / "srv.py"
    script.write_text(Path(SERVER).read_text(encoding="utf-8"))
    ns = mcp_namespace("arith", command=[sys.executable, str(script), "stdio"], timeout=20, cache_dir=cache)
    for tool in ns.tools:
        tool.close()
    script.write_text("import sys; sys.exit('gone for good')\n")
    again = mcp_namespace(
        "arith", command=[sys.executable, str(script), "stdio"], timeout=20, cache_dir=cache
    )
    add = next(t for t in again.tools if t.name == "add")
    output = add.run({"a": 1, "b": 1})
    assert output.error and "could not be started or reached" in output.text
    for tool in again.tools:
        tool.close()
