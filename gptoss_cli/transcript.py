"""Saved conversations as the events a live session yields, so the one stream renderer shows them.

``gptoss show`` feeds these to :class:`~gptoss_cli.ui.stream.StreamView` exactly as ``ask`` and
``chat`` feed a streaming turn: each assistant turn becomes its header, content and done events and a
:class:`~gptoss_cli.session.TurnEnd` rebuilt from the file's metadata (finish reason, tokens, times);
tool results become :class:`~gptoss_cli.agent.ToolResultEvent`. No Rich here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .agent import ToolResultEvent
from .harmony import ContentDelta, HeaderEvent, Message, MessageDone, Role
from .harmony.history import is_incomplete
from .limits import GenerationLimit
from .session import SessionEvent, Timings, TurnEnd, TurnResult
from .store import Turn
from .tools.calls import CallRecord
from .wire import Usage

__all__ = ["SavedPart", "UserText", "saved_parts"]


@dataclass(frozen=True, slots=True)
class UserText:
    """A user message of a saved conversation."""

    text: str


SavedPart = UserText | ToolResultEvent | tuple[SessionEvent, ...]


def saved_parts(
    messages: Sequence[Message], turns: Sequence[Turn] = (), tool_log: Sequence[Any] = ()
) -> Iterator[SavedPart]:
    """A saved conversation as a live session would have shown it: user messages, tool results (as
    :class:`~gptoss_cli.agent.ToolResultEvent`) and, for each assistant turn, the events its stream
    would have yielded (header, content, done, end). ``turns`` (the file's metadata) bound the turns
    and give their finish reasons, tokens and times; without it each run of assistant messages is one
    turn. ``tool_log`` (the metadata's ``tool_calls``) gives each result its approval decision."""
    owner = {i: n for n, t in enumerate(turns) for i in range(*t.messages)}
    group: list[int] = []
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
            logged = tool_log[calls] if calls < len(tool_log) and isinstance(tool_log[calls], Mapping) else {}
            calls += 1
            yield ToolResultEvent(
                CallRecord(
                    recipient=message.author.name or "tool",
                    arguments=str(logged.get("arguments", "")),
                    decision=str(logged.get("decision", "saved")),
                    output=message.text,
                    error=logged.get("error") is True,
                )
            )
    yield from flush()


def _turn_events(messages: Sequence[Message], indices: list[int], meta: Turn | None) -> tuple[Any, ...]:
    events: list[SessionEvent] = []
    for n, i in enumerate(indices):
        m = messages[i]
        events.append(HeaderEvent(n, m.role, m.channel, m.recipient, m.content_type, m.author.name))
        if m.text:
            events.append(ContentDelta(n, m.channel, m.recipient, m.text))
        events.append(MessageDone(n, m, "<|call|>" if m.recipient else "<|end|>"))
    turn_messages = tuple(messages[i] for i in indices)
    return (*events, TurnEnd(_saved_result(turn_messages, meta)))


def _saved_result(messages: tuple[Message, ...], meta: Turn | None) -> TurnResult:
    last = messages[-1]
    if (meta is not None and meta.incomplete) or is_incomplete(last):
        outcome = "incomplete"
    elif last.recipient is not None:
        outcome = "tool_call"
    elif any(m.channel == "final" for m in messages):
        outcome = "final"
    else:
        outcome = "no_answer"
    usage = meta.usage if meta is not None else {}
    timings = meta.timings if meta is not None else {}
    return TurnResult(
        messages=messages,
        outcome=outcome,
        finish_reason=meta.finish_reason if meta is not None else None,
        usage=Usage(
            _int(usage.get("prompt_tokens")),
            _int(usage.get("completion_tokens")),
            _int(usage.get("total_tokens")),
        )
        if usage
        else None,
        timings=Timings(
            _num(timings.get("ttft")), _num(timings.get("ttft_final")), _num(timings.get("total")) or 0.0
        ),
        analysis_tokens=_int(usage.get("analysis_tokens")) or 0,
        final_tokens=_int(usage.get("final_tokens")) or 0,
        prompt_sha256=(meta.prompt_sha256 if meta is not None else None) or "",
        limit=_limit(meta.extra.get("limit")) if meta is not None else None,
    )


def _limit(value: Any) -> GenerationLimit | None:
    """The generation limit a saved turn records (files from before it was recorded have none)."""
    if not isinstance(value, dict):
        return None
    try:
        return GenerationLimit.from_dict(value)
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
