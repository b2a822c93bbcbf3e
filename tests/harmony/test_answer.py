"""What a parsed completion answers: final text, a tool call, or no clean answer."""

from __future__ import annotations

from gptoss_cli.harmony import Author, Message, Role, TextContent, read_answer


def _m(text: str, channel: str | None, recipient: str | None = None, role: Role = Role.ASSISTANT) -> Message:
    return Message(Author(role), (TextContent(text),), channel, recipient)


def test_final_messages_are_the_answer() -> None:
    answer = read_answer([_m("think", "analysis"), _m("Hello", "final"), _m(" there", "final")])
    assert (answer.kind, answer.final, answer.unclear) == ("final", "Hello there", "")


def test_a_tool_call_at_the_end() -> None:
    call = _m('{"a": 1}', "commentary", "functions.f")
    answer = read_answer([_m("think", "analysis"), call])
    assert (answer.kind, answer.final, answer.calls) == ("tool_call", "", (call,))


def test_text_on_no_known_channel_is_unclear_without_a_final() -> None:
    messages = [_m("think", "analysis"), _m("maybe", "fnal"), _m("  ", None), _m("x", None, role=Role.USER)]
    answer = read_answer(messages)
    assert (answer.kind, answer.final, answer.unclear) == ("no_answer", "", "maybe")
    assert read_answer([*messages, _m("Yes", "final")]).unclear == ""


def test_nothing_at_all() -> None:
    answer = read_answer([])
    assert (answer.kind, answer.final, answer.unclear, answer.calls) == ("no_answer", "", "", ())
