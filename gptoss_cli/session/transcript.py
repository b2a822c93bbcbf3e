"""Saved conversations as the events a live session yields, so the one stream renderer shows them.

``gptoss show`` feeds these to :class:`~gptoss_cli.ui.stream.StreamView` exactly as ``ask`` and
``chat`` feed a streaming turn: each assistant turn becomes its header, content and done events and a
:class:`~gptoss_cli.session.turn.TurnEnd` carrying the file's turn record (outcome, tokens, times);
tool results become :class:`~gptoss_cli.session.agent.ToolResultEvent`. No Rich here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from gptoss_cli.harmony import (
    SPECIAL_TEXT,
    ContentDelta,
    HeaderEvent,
    Message,
    MessageDone,
    Role,
    message_terminator,
)
from gptoss_cli.session.agent import ToolResultEvent
from gptoss_cli.session.turn import SessionEvent, TurnEnd, TurnResult
from gptoss_cli.store import Turn
from gptoss_cli.toolcall import ToolCall

__all__ = ["SavedPart", "UserText", "saved_parts"]


@dataclass(frozen=True, slots=True)
class UserText:
    """A user message of a saved conversation."""

    text: str


SavedPart = UserText | ToolResultEvent | tuple[SessionEvent, ...]


def saved_parts(messages: Sequence[Message], turns: Sequence[Turn] = ()) -> Iterator[SavedPart]:
    """A saved conversation as a live session would have shown it: user messages, tool results (as
    :class:`~gptoss_cli.session.agent.ToolResultEvent`) and, for each assistant turn, the events its stream
    would have yielded (header, content, done, end). ``turns`` (the file's metadata) bound the turns
    and give their outcomes, tokens, times and tool calls (with each call's approval decision);
    without them each run of assistant messages is one turn."""
    owner = {i: n for n, t in enumerate(turns) for i in range(*t.messages)}
    group: list[int] = []
    made = [call for turn in turns for call in turn.tool_calls]  # in the order the results follow
    calls = 0

    def flush() -> Iterator[SavedPart]:
        if group:
            meta = turns[owner[group[0]]] if group[0] in owner else None
            yield _turn_events(messages, group, meta)
            group.clear()

    for i, message in enumerate(messages):
        if message.role is Role.ASSISTANT:
            if group and owner.get(group[-1]) != owner.get(i):
                yield from flush()
            group.append(i)
            continue
        yield from flush()
        if message.role is Role.USER:
            yield UserText(message.text)
        elif message.role is Role.TOOL:
            logged = made[calls] if calls < len(made) else ToolCall("", "")
            calls += 1
            # the record's call, with the name and text the conversation's message has
            yield ToolResultEvent(
                replace(logged, recipient=message.author.name or "tool", output=message.text)
            )
    yield from flush()


def _turn_events(messages: Sequence[Message], indices: list[int], meta: Turn | None) -> tuple[Any, ...]:
    events: list[SessionEvent] = []
    for n, i in enumerate(indices):
        m = messages[i]
        events.append(HeaderEvent(n, m.role, m.channel, m.recipient, m.content_type, m.author.name))
        if m.text:
            events.append(ContentDelta(n, m.channel, m.recipient, m.text))
        events.append(MessageDone(n, m, SPECIAL_TEXT[message_terminator(m)]))
    turn_messages = tuple(messages[i] for i in indices)
    return (*events, TurnEnd(TurnResult.from_record(turn_messages, meta)))
