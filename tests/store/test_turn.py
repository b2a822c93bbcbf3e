"""The one turn record: typed, round-tripped, classified once, read from version-1 files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gptoss_cli.errors import StoreError
from gptoss_cli.harmony import Author, Message, Role, TextContent
from gptoss_cli.store import TokenUsage, ToolCall, Turn, TurnTimings, classify, read_record

from ..cli.runner import run
from ..scripted_server import Reply, ScriptedServer, llamacpp_stream


def _msg(role: Role, text: str, channel: str | None = None, recipient: str | None = None) -> Message:
    return Message(Author(role), (TextContent(text),), channel=channel, recipient=recipient)


def test_round_trip() -> None:
    turn = Turn(
        (3, 5),
        "tool_call",
        finish_reason="stop",
        usage=TokenUsage(74, 29, 103, 20, 9),
        timings=TurnTimings(0.12, None, 0.9),
        tool_calls=(ToolCall("functions.f", '{"a": 1}', "yes (--yes)", "ok", False),),
        prompt_sha256="ab",
        model="m",
        reasoning_effort="low",
        error=None,
    )
    data = json.loads(json.dumps(turn.to_dict()))
    assert Turn.from_dict(data) == turn
    assert data["incomplete"] is False and data["timings"] == {"ttft": 0.12, "ttft_final": None, "total": 0.9}


def test_wrong_shapes_name_the_key() -> None:
    with pytest.raises(StoreError, match=r"turn.outcome: expected one of final, tool_call"):
        Turn.from_dict({"messages": [0, 1], "outcome": "done"})
    with pytest.raises(StoreError, match=r"turn.usage.final_tokens: expected a whole number"):
        Turn.from_dict({"messages": [0, 1], "usage": {"final_tokens": "3"}})
    with pytest.raises(StoreError, match=r"turn.tool_calls\[1\]: expected an object, got a string"):
        Turn.from_dict({"messages": [0, 1], "tool_calls": [{"recipient": "python"}, "python"]})


def test_classify() -> None:
    final = _msg(Role.ASSISTANT, "4", "final")
    call = _msg(Role.ASSISTANT, "{}", "commentary", "functions.f")
    thought = _msg(Role.ASSISTANT, "hmm", "analysis")
    assert classify([thought, final]) == "final"
    assert classify([thought, call]) == "tool_call"
    assert classify([thought]) == "no_answer"
    assert classify([thought, final], cut=True) == "incomplete"
    assert classify([]) == "no_answer"


def test_version_1_files_get_outcomes_and_their_tool_calls_on_the_turns(tmp_path: Path) -> None:
    """A file as the previous version wrote it: no outcome per turn, tool calls in one list."""
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "weather?"}]},
        {
            "role": "assistant",
            "channel": "commentary",
            "recipient": "functions.get_weather",
            "content_type": "<|constrain|>json",
            "content": [{"type": "text", "text": '{"city": "Paris"}'}],
        },
        {
            "role": "tool",
            "name": "functions.get_weather",
            "channel": "commentary",
            "recipient": "assistant",
            "content": [{"type": "text", "text": "sunny"}],
        },
        {"role": "assistant", "channel": "final", "content": [{"type": "text", "text": "Sunny."}]},
    ]
    meta = {
        "version": 1,
        "id": "abc123",
        "created": "2026-01-01T10:00:00+00:00",
        "updated": "2026-01-01T10:00:00+00:00",
        "turns": [
            {"messages": [1, 2], "finish_reason": "stop", "incomplete": False, "usage": {"final_tokens": 0}},
            {"messages": [3, 4], "finish_reason": "stop", "incomplete": False, "timings": {"total": 0.5}},
        ],
        "tool_calls": [
            {"recipient": "functions.get_weather", "arguments": '{"city": "Paris"}', "decision": "yes"}
        ],
    }
    path = tmp_path / "abc123.json"
    path.write_text(json.dumps({"messages": messages, "gptoss": meta}))
    record = read_record(path)
    first, second = record.meta.turns
    assert first.outcome == "tool_call" and second.outcome == "final"
    assert first.tool_calls == (ToolCall("functions.get_weather", '{"city": "Paris"}', "yes"),)
    assert "tool_calls" not in record.meta.extra
    assert second.timings.total == 0.5


def test_ask_json_is_the_stored_turn(scripted_server: ScriptedServer) -> None:
    """``ask --json`` prints the same record the store keeps (plus the text and messages)."""
    from gptoss_cli.store import Store

    scripted_server.script(
        "/v1/completions", Reply.sse(llamacpp_stream(["<|channel|>final<|message|>", "Four."]))
    )
    result = run(["ask", "2+2?", "--json", "--base-url", scripted_server.url, "--kind", "llamacpp"])
    assert result.code == 0
    printed = json.loads(result.out)
    (summary,) = Store().summaries()
    (stored,) = Store().load(summary.id).meta.turns
    kept = stored.to_dict()
    for key in ("outcome", "finish_reason", "incomplete", "usage", "timings", "prompt_sha256"):
        assert printed[key] == kept[key], key
    assert printed["final"] == "Four." and printed["outcome"] == "final"
    assert printed["tool_calls"] == []
