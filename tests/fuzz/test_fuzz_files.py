"""Random config, conversation and tool files through the commands that read them."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import tomli_w
from hypothesis import given
from hypothesis import strategies as st

from ..cli.runner import run
from ..scripted_server import Reply, ScriptedServer, llamacpp_stream
from .conftest import assert_clean, fuzz

_scalar = (
    st.none()
    | st.booleans()
    | st.integers(-(2**65), 2**65)
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
)
_json = st.recursive(
    _scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
_toml_scalar = (
    st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False) | st.text(max_size=12)
)
_toml = st.recursive(
    _toml_scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
_raw_file = (
    st.binary(max_size=200)
    | st.text(max_size=200).map(str.encode)
    | st.sampled_from(
        [bytes(range(256)), b"\xff\xfe{\x00", "{}".encode("utf-16"), b"[" * 5000, b"\xef\xbb\xbf{}"]
    )
)


def _keyed(keys: list[str], values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Tables with mostly known keys (so validation, not only parsing, is reached)."""
    return st.dictionaries(st.sampled_from(keys) | st.text(max_size=6), values, max_size=4)


_PROFILE_KEYS = ["base_url", "model", "kind", "api_key_env", "options", "connect_timeout", "read_timeout"]
_TOOL_KEYS = ["description", "command", "parameters", "approve", "timeout", "cwd", "env", "namespace", "name"]


@st.composite
def _config(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 4)) == 0:
        return draw(_raw_file)
    data: dict[str, Any] = {}
    for section, keys in [
        ("prompt", ["reasoning", "instructions", "identity", "knowledge_cutoff", "date"]),
        ("display", ["show_reasoning", "stats", "markdown", "color"]),
        ("history", ["save", "dir"]),
        ("builtins", ["python", "browser", "python_timeout", "search_command"]),
    ]:
        if draw(st.booleans()):
            data[section] = draw(_keyed(keys, _toml))
    if draw(st.booleans()):
        data["profiles"] = draw(
            st.dictionaries(st.text(max_size=6), _keyed(_PROFILE_KEYS, _toml), max_size=2)
        )
    if draw(st.booleans()):
        data["default_profile"] = draw(_toml)
    if draw(st.booleans()):
        data["tools"] = draw(st.dictionaries(st.text(max_size=6), _keyed(_TOOL_KEYS, _toml), max_size=2))
    return tomli_w.dumps(data).encode()


@fuzz(15)
@given(
    config=_config(), key=st.sampled_from(["prompt.reasoning", "profiles.x.model", "display.color", "a..b"])
)
def test_random_config_files(config: bytes, key: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "config.toml"
        file.write_bytes(config)
        assert_clean(run(["config", "show", "--config", str(file)]))
        assert_clean(run(["config", "get", key, "--config", str(file)]))
        assert_clean(run(["render", "-", "--no-next-role"], stdin=b'{"messages": []}'))


_ROLES = st.sampled_from(["system", "developer", "user", "assistant", "tool"]) | st.text(max_size=6)
_content = (
    st.text(max_size=30)
    | st.lists(
        st.fixed_dictionaries(
            {"type": st.sampled_from(["text", "system_content", "developer_content"])}
        ).flatmap(
            lambda d: st.fixed_dictionaries(
                {**{k: st.just(v) for k, v in d.items()}, "text": st.text(max_size=20)}
            )
        )
        | _json,
        max_size=3,
    )
    | _json
)


@st.composite
def _message(draw: st.DrawFn) -> Any:
    message: dict[str, Any] = {"role": draw(_ROLES), "content": draw(_content)}
    for key in ("name", "channel", "recipient", "content_type"):
        if draw(st.booleans()):
            message[key] = draw(st.text(max_size=12) | _json)
    return message if draw(st.integers(0, 9)) else draw(_json)


@st.composite
def _conversation(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 5)) == 0:
        return draw(_raw_file)
    messages = draw(st.lists(_message(), max_size=5))
    data: Any = {"messages": messages} if draw(st.integers(0, 5)) else messages
    if isinstance(data, dict) and draw(st.booleans()):
        data["gptoss"] = draw(_json)
    return json.dumps(data).encode()


@fuzz(12)
@given(conversation=_conversation())
def test_random_conversation_files(conversation: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "c.json"
        file.write_bytes(conversation)
        for command in (["render"], ["render", "--training"], ["show"], ["history", "import"]):
            assert_clean(run([*command, str(file)]))
        assert_clean(run(["history", "import", "-"], stdin=conversation))
        assert_clean(run(["parse", "--tokens", str(file)]))


@st.composite
def _tool_file(draw: st.DrawFn) -> tuple[str, bytes]:
    if draw(st.integers(0, 5)) == 0:
        return draw(st.sampled_from(["t.toml", "t.json"])), draw(_raw_file)
    tools: dict[str, Any] = {}
    for name in draw(
        st.lists(st.text(max_size=8) | st.sampled_from(["f", "get_weather", "a-b"]), max_size=2)
    ):
        table = draw(_keyed(_TOOL_KEYS, _toml))
        if draw(st.booleans()):
            table["command"] = ["true"]
        if draw(st.booleans()):
            table["parameters"] = draw(
                st.fixed_dictionaries(
                    {
                        "type": st.just("object"),
                        "properties": _toml | st.dictionaries(st.text(max_size=5), _toml, max_size=3),
                    }
                )
                | _toml
            )
        tools[name] = table
    if draw(st.booleans()):
        return "t.json", json.dumps(
            {"tools": tools} if draw(st.booleans()) else list(tools.values())
        ).encode()
    return "t.toml", tomli_w.dumps({"tools": tools}).encode()


@fuzz(25)
@given(tool=_tool_file())
def test_random_tool_files(tool: tuple[str, bytes]) -> None:
    name, content = tool
    with tempfile.TemporaryDirectory() as tmp, ScriptedServer() as server:
        file = Path(tmp) / name
        file.write_bytes(content)
        server.script("/v1/completions", Reply.sse(llamacpp_stream(["<|channel|>final<|message|>", "ok"])))
        result = run(["ask", "q", "-n", "--tools", str(file), "--base-url", server.url, "--kind", "llamacpp"])
    assert_clean(result)
