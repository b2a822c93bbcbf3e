"""What a completion answers: the final text shown on stdout, a tool call, or no clean answer.

The one place that decides it, for ``ask``, ``chat``, ``replay`` and ``gptoss parse --answer``.
The answer is the assistant's ``final``-channel messages with no recipient; nothing else is.
When there is none, assistant text on no known channel is *unclear*: the lenient parser could
not tell whether it is the answer or reasoning (see ``repair.settle``), so it is shown on
stderr, labelled, and never as the answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from gptoss_cli.harmony.header import KNOWN_CHANNELS
from gptoss_cli.harmony.types import Message, Role


def is_answer(message: Message) -> bool:
    """Whether the message is (part of) the final answer."""
    return message.channel == "final" and message.recipient is None


def final_text(messages: Sequence[Message]) -> str:
    return "".join(m.text for m in messages if is_answer(m))


def unclear_messages(messages: Sequence[Message]) -> list[Message]:
    """Assistant text on no known channel, in output with no final answer."""
    if any(is_answer(m) for m in messages):
        return []
    return [
        m
        for m in messages
        if m.author.role is Role.ASSISTANT
        and m.recipient is None
        and m.channel not in KNOWN_CHANNELS
        and m.text.strip()
    ]


@dataclass(frozen=True, slots=True)
class Answer:
    """What a parsed completion amounts to for the user."""

    kind: Literal["final", "tool_call", "no_answer"]
    final: str
    unclear: str
    calls: tuple[Message, ...]


def read_answer(messages: Sequence[Message]) -> Answer:
    calls = tuple(m for m in messages if m.recipient is not None and m.author.role is Role.ASSISTANT)
    last = messages[-1] if messages else None
    unclear = "\n".join(m.text for m in unclear_messages(messages))
    if last is not None and last.recipient is not None:
        kind: Literal["final", "tool_call", "no_answer"] = "tool_call"
    elif any(is_answer(m) for m in messages):
        kind = "final"
    else:
        kind = "no_answer"
    return Answer(kind, final_text(messages), unclear, calls)
