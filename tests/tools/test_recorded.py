"""Recorded results (``replay --tool-results recorded``) are the conversation's calls as ToolCall values."""

from __future__ import annotations

from gptoss_cli.harmony import Author, Message, Role, TextContent
from gptoss_cli.toolcall import ToolCall
from gptoss_cli.tools.recorded import RecordedTool, recorded_calls


def _call(recipient: str, text: str) -> Message:
    return Message(Author(Role.ASSISTANT), (TextContent(text),), channel="commentary", recipient=recipient)


def _result(name: str, text: str) -> Message:
    return Message(Author(Role.TOOL, name), (TextContent(text),), channel="commentary", recipient="assistant")


def test_each_result_answers_the_oldest_open_call_to_its_tool() -> None:
    messages = [
        _result("functions.orphan", "no call before it"),
        _call("functions.weather", '{"city": "Oslo"}'),
        _call("python", "print(1)"),
        _result("functions.weather", "rain"),
        _result("python", "1"),
        _call("functions.weather", '{"city": "Paris"}'),
    ]
    assert recorded_calls(messages) == [
        ToolCall("functions.weather", '{"city": "Oslo"}', "saved", "rain"),
        ToolCall("python", "print(1)", "saved", "1"),
    ]


def test_a_recorded_tool_matches_arguments_by_json_value() -> None:
    oslo = ToolCall("functions.weather", '{"city": "Oslo", "days": 1}', output="rain")
    again = ToolCall("functions.weather", '{"city":"Oslo","days":1}', output="snow")
    tool = RecordedTool("weather", [oslo, again])
    assert tool.recorded({"days": 1, "city": "Oslo"}) is oslo
    assert tool.recorded('```json\n{"days": 1, "city": "Oslo"}\n```') is again
    assert tool.recorded({"days": 1, "city": "Oslo"}) is again  # the last one again after that
    assert tool.recorded({"city": "Paris", "days": 1}) is None
    assert not tool.peek({"city": "Paris"}) and tool.peek({"city": "Oslo", "days": 1})
    assert tool.run({"city": "Paris", "days": 1}).error
