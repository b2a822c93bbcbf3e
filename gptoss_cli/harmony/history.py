"""Format rules for replaying a conversation to the model as the next prompt.

- Chain of thought of a finished turn is dropped: once an assistant turn has ended with a
  final answer, its analysis messages are not shown to the model again. Inside a tool-call
  chain (no final answer yet) the analysis stays, as the format requires. (The reference's
  ``auto_drop_analysis`` only drops analysis before the *first* final answer; this drops it
  before the *last* one, which is what the gpt-oss guide asks of a client.)
- A message the stream cut off (``incomplete``) is never replayed as if it were complete.
- Special-token text inside message content must not become a control token when the prompt
  is sent as text: :func:`neutralize` breaks ``<|`` with a word joiner (U+2060), invisible to
  a reader and tokenized as ordinary text.
"""

from __future__ import annotations

from collections.abc import Sequence

from gptoss_cli.harmony.types import Message, Role

INCOMPLETE = "incomplete"
_WORD_JOINER = "\u2060"


def is_incomplete(message: Message) -> bool:
    """Whether the stream was cut off inside this message (Ctrl-C, disconnect, max tokens)."""
    return INCOMPLETE in message.notes


def for_prompt(messages: Sequence[Message]) -> list[Message]:
    """The messages to show the model next: no cut-off messages, no analysis of finished turns."""
    kept = [m for m in messages if not is_incomplete(m)]
    last_final = -1
    for i, m in enumerate(kept):
        if m.author.role is Role.ASSISTANT and m.channel == "final":
            last_final = i
    return [
        m
        for i, m in enumerate(kept)
        if not (i < last_final and m.author.role is Role.ASSISTANT and m.channel == "analysis")
    ]


def neutralize(text: str) -> str:
    """Make special-token text inert in a text prompt: ``<|end|>`` becomes ``<\u2060|end|>``."""
    return text.replace("<|", "<" + _WORD_JOINER + "|") if "<|" in text else text
