"""What a streaming parser holds between two chunks, and the events it hands out.

:class:`ParseState` is the whole mutable state of a
:class:`~gptoss_cli.harmony.parser.StreamParser`: the parser owns one and passes it to the
lenient repairs (``repair.py``), which read and write its fields and call nothing of the parser
but its few public operations (``open_message``, ``finish_message``, ``end_header``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Literal

from gptoss_cli.errors import ParseError
from gptoss_cli.harmony.header import Header
from gptoss_cli.harmony.lexer import TextLexer
from gptoss_cli.harmony.markers import JsonEnd
from gptoss_cli.harmony.types import Message, Role


class ParserState(enum.StrEnum):
    """Where the parser is: between messages, in a header, or in content."""

    EXPECT_START = "ExpectStart"
    HEADER = "Header"
    CONTENT = "Content"


@dataclass(frozen=True, slots=True)
class HeaderEvent:
    """A message's header is known (its content follows)."""

    index: int
    role: Role
    channel: str | None
    recipient: str | None
    content_type: str | None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ContentDelta:
    """New content text of the current message."""

    index: int
    channel: str | None
    recipient: str | None
    text: str


@dataclass(frozen=True, slots=True)
class MessageDone:
    """A message is complete; ``token`` is what ended it (``<|end|>``...), ``None`` for end of output."""

    index: int
    message: Message
    token: str | None


ParseEvent = HeaderEvent | ContentDelta | MessageDone

#: Why a finished message's reading waits for what follows it: an assistant message on no known
#: channel ("doubtful"), text with no Harmony header ("headerless"), a stripped ``final`` marker.
Provisional = Literal["doubtful", "headerless", "final"]


@dataclass(slots=True, eq=False)
class ParseState:
    """Everything a parser knows mid-stream. Lenient-only fields stay at their defaults when strict."""

    phase: ParserState
    """The reference's state: between messages, in a header, or in content."""
    next_role: Role | None
    """The role the coming header is for when the caller gave it (the header then starts with its channel)."""
    undecided: bool = False
    """No special token yet at the start of the output: a header, stripped markers or bare text?"""
    # --- the header being read
    raw_header: list[str] = field(default_factory=list)
    """Header text so far (undecodable bytes as surrogate escapes)."""
    implicit: bool = False
    """The header began without ``<|start|>`` (an assistant header is assumed)."""
    # --- the message being read
    header: Header | None = None
    """The open message's header; ``None`` outside content."""
    message_notes: list[str] = field(default_factory=list)
    """Repairs recorded for the message being read (its ``notes`` once finished)."""
    content: list[str] = field(default_factory=list)
    """The open message's content so far, in pieces."""
    deltas: list[str] = field(default_factory=list)
    """Content not yet handed out in a :class:`ContentDelta`."""
    last_delta: str | None = None
    """The reference's ``last_content_delta``."""
    pending: bytearray = field(default_factory=bytearray)
    """Content bytes (from token ids) still waiting to complete a UTF-8 character."""
    stuck: bool = False
    """An id outside the vocabulary arrived in content: like the reference, nothing more is decoded."""
    provisional: Provisional | None = None
    """Whether the open message's reading will wait for what follows it, and why."""
    json: JsonEnd | None = None
    """Where a tool call's JSON arguments end (lenient; ``None`` once the content is not JSON)."""
    stripped: bool = False
    """The content is scanned for markers whose special tokens the server stripped."""
    scan_held: str = ""
    """Stripped-scan text held back: it may start the next message's marker."""
    scan_prev: str = ""
    """The last character of content the stripped scan let through (for a quote before a marker)."""
    # --- between messages
    stray: list[str] = field(default_factory=list)
    """Text between messages, outside any header."""
    runon: list[str] | None = None
    """Output after a tool call's arguments ended (dropped at the end); ``None`` if none."""
    held: tuple[Message, Provisional, str | None] | None = None
    """A finished message (with why, and its terminator) waiting for what follows to be read."""
    # --- results
    events: list[ParseEvent] = field(default_factory=list)
    """Events not yet drained."""
    messages: list[Message] = field(default_factory=list)
    """Finished messages, in order."""
    notes: list[str] = field(default_factory=list)
    """Repairs made between messages (each also noted on a message next to it)."""
    reasoning_seen: bool = False
    """Whether the output so far marks reasoning (an analysis message, however it was written)."""
    finished: bool = False
    """End of output was processed."""
    lexer: TextLexer | None = None
    """Text chunks' lexer (holds a tail that may still become a special token); made on first use."""

    def begin_header(self, *, implicit: bool, text: str = "") -> None:
        """A header starts (at ``<|start|>``, or implied by a ``<|channel|>``); ``text`` is its start."""
        self.phase = ParserState.HEADER
        self.raw_header = [text] if text else []
        self.implicit = implicit
        self.header = None

    def expect_start(self) -> None:
        """Between messages: only ``<|start|>`` may come next."""
        self.raw_header = []
        self.phase = ParserState.EXPECT_START
        self.next_role = None

    def role_hint(self) -> Role | None:
        """The role for a header naming none: the caller's, or assistant when ``<|start|>`` was implied."""
        if self.next_role is not None:
            return self.next_role
        return Role.ASSISTANT if self.implicit else None

    def header_text(self, *, strict: bool) -> str:
        """The header as text: undecodable bytes fail strictly, or become U+FFFD with a note."""
        raw = "".join(self.raw_header)
        if raw.isascii():
            return raw
        try:
            return raw.encode("utf-8", "surrogateescape").decode("utf-8")
        except UnicodeError:
            if strict:
                raise ParseError("could not decode header") from None
            self.message_notes.append("header was not valid UTF-8")
            return raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")

    def publish(self, message: Message, terminator: str | None) -> None:
        """A message is final: it joins ``messages`` and its :class:`MessageDone` is queued."""
        self.messages.append(message)
        self.events.append(MessageDone(len(self.messages) - 1, message, terminator))


__all__ = [
    "ContentDelta",
    "HeaderEvent",
    "MessageDone",
    "ParseEvent",
    "ParseState",
    "ParserState",
    "Provisional",
]
