"""One streaming parser for Harmony completions, fed token ids or text chunks cut anywhere.

Its public face follows openai-harmony's ``StreamableParser`` (state, current role/channel/
recipient/content type, last content delta, finished messages) plus a typed event stream.

``strict=True`` reproduces the reference exactly, errors included. The default, lenient,
never raises: it returns what strict returns for clean output and recovers what a careful
reader would from real malformed output, recording every repair in the message's ``notes``.
Analysis text is never classified as final.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from ..errors import ParseError
from . import tokens as T
from .header import KNOWN_CHANNELS, RUST_WHITESPACE, Header, parse_lenient, parse_stop_in_header, parse_strict
from .lexer import TextLexer
from .types import Author, Message, Role, TextContent

_REPLACEMENT = "\ufffd"
_UNEXPECTED_START = "while expecting start token 200006"
_TERMINATOR_TEXT = {
    T.END: "<|end|>",
    T.CALL: "<|call|>",
    T.RETURN: "<|return|>",
    T.ENDOFTEXT: "<|endoftext|>",
}
#: Decide that headerless output is bare text after this many characters.
_BARE_AFTER = 64
_CHANNEL_WORD = re.compile(r"(analysis|commentary|final)")
_RECIPIENT_AFTER = re.compile(r" to=(\S+?)(?=\s)")
_RECIPIENT_BEFORE = re.compile(r" ?to=(\S+?)(analysis|commentary|final)")
_STRIPPED_TYPE = re.compile(r" ?(json|code)(?=[^\w])")
_MORE = object()  # a stripped header that needs more text to be read


def _stripped_header(text: str, *, final: bool) -> tuple[str, str | None, str | None, str] | object | None:
    """Read ``channel[ to=recipient][ json]`` (or `` to=recipientchannel...``) with markers stripped.

    Returns (channel, recipient, content type, rest), ``_MORE`` when the text so far cannot
    tell yet, or ``None`` when it is not such a header.
    """
    m = _CHANNEL_WORD.match(text)
    recipient: str | None = None
    if m:
        channel, pos = m.group(1), m.end()
        tail = text[pos:]
        if tail.startswith(" to="):
            r = _RECIPIENT_AFTER.match(tail)
            if r is None:
                return None if final else _MORE
            recipient, pos = r.group(1), pos + r.end()
        elif not final and " to=".startswith(tail) and tail:
            return _MORE
    else:
        r = _RECIPIENT_BEFORE.match(text)
        if r is None:
            stripped = text.lstrip(" ")
            if not final and (stripped.startswith("to=") or "to=".startswith(stripped)):
                return _MORE
            if not final and any(w.startswith(text) for w in KNOWN_CHANNELS) and text:
                return _MORE
            return None
        recipient, channel, pos = r.group(1), r.group(2), r.end()
    content_type = None
    if recipient is not None:
        rest = text[pos:]
        t = _STRIPPED_TYPE.match(rest)
        if t:
            content_type = "<|constrain|>json" if t.group(1) == "json" else t.group(1)
            pos += t.end()
        elif not final and len(rest) < 6:
            return _MORE
    return channel, recipient, content_type, text[pos:]


def _could_be_header(head: str) -> bool:
    """Whether headerless text may still turn into a header once a special token arrives."""
    word = head.split(None, 1)[0] if head.strip() else ""
    return (
        head.startswith("to=")
        or word in Role._value2member_map_
        or any(r.value.startswith(head) for r in Role)
    )


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


class StreamParser:
    """Parse a completion incrementally: ``process(token)``, ``feed_text(chunk)``, then ``finish()``."""

    def __init__(self, role: Role | None = Role.ASSISTANT, *, strict: bool = False) -> None:
        self.strict = strict
        self._next_role = role
        self._state = ParserState.HEADER if role is not None else ParserState.EXPECT_START
        self._header: list[str] = []
        self._implicit = False
        self._undecided = role is not None and not strict
        self._hdr: Header | None = None
        self._notes: list[str] = []
        self._content: list[str] = []
        self._pending = bytearray()
        self._stuck = False
        self._stripped = False
        self._sbuf = ""
        self._stray: list[str] = []
        self._last_delta: str | None = None
        self._deltas: list[str] = []
        self._events: list[ParseEvent] = []
        self._lexer: TextLexer | None = None
        self._table: list[bytes] | None = None
        self.messages: list[Message] = []
        self.notes: list[str] = []
        self.finished = False

    # --- public state (the reference's StreamableParser) -----------------------------------

    @property
    def state(self) -> ParserState:
        return self._state

    @property
    def current_role(self) -> Role | None:
        return self._hdr.role if self._hdr is not None else self._next_role

    @property
    def current_channel(self) -> str | None:
        return self._hdr.channel if self._hdr is not None else None

    @property
    def current_recipient(self) -> str | None:
        return self._hdr.recipient if self._hdr is not None else None

    @property
    def current_content_type(self) -> str | None:
        return self._hdr.content_type if self._hdr is not None else None

    @property
    def last_content_delta(self) -> str | None:
        return self._last_delta

    @property
    def current_content(self) -> str:
        return "".join(self._content) if self._state is ParserState.CONTENT else ""

    # --- feeding ----------------------------------------------------------------------------

    def process(self, token: int) -> None:
        """Consume one token id (the reference's ``process``)."""
        if token >= T.FIRST_SPECIAL:
            if token <= T.LAST_SPECIAL:
                self._special(token)
            else:
                self._unknown(token)
            return
        table = self._table
        if table is None:
            table = self._table = T.get_tokenizer()._bytes
        data = table[token]
        state = self._state
        if state is ParserState.CONTENT:
            if self._pending or self._stuck:
                self._content_bytes(data)
                return
            try:
                text = data.decode()
            except UnicodeDecodeError:
                self._content_bytes(data)
                return
            self._text(text)
        elif state is ParserState.HEADER:
            self._header_text(data.decode("utf-8", "surrogateescape"))
        elif self.strict:
            raise ParseError(f"Unexpected token {token} {_UNEXPECTED_START}")
        else:
            self._stray_text(data.decode("utf-8", "replace"))

    def feed_tokens(self, tokens: Iterable[int]) -> list[ParseEvent]:
        """Consume token ids; returns the events they produced."""
        for token in tokens:
            self.process(token)
        return self.drain()

    def feed_text(self, chunk: str) -> list[ParseEvent]:
        """Consume a chunk of completion text (cut anywhere); returns the events it produced."""
        lexer = self._lexer
        if lexer is None:
            lexer = self._lexer = TextLexer()
        if "<" not in chunk and not lexer.holding:
            # nothing here can start a special token: skip the lexer (most chunks, one per token)
            if chunk:
                self._text(chunk)
            return self.drain()
        for piece in lexer.feed(chunk):
            if isinstance(piece, int):
                self._special(piece)
            else:
                self._text(piece)
        return self.drain()

    def finish(self) -> list[ParseEvent]:
        """End of output (the reference's ``process_eos``); returns the last events."""
        if self._lexer is not None:
            for piece in self._lexer.flush():
                self._text(piece)
        self._eos()
        self.finished = True
        return self.drain()

    def drain(self) -> list[ParseEvent]:
        """Events produced since the last call (consecutive deltas merged)."""
        self._flush_deltas()
        events, self._events = self._events, []
        return events

    # --- lexemes ----------------------------------------------------------------------------

    def _text(self, text: str) -> None:
        state = self._state
        if state is ParserState.CONTENT:
            if self._stripped:
                self._stripped_text(text)
                return
            self._content.append(text)
            self._last_delta = text
            self._deltas.append(text)
        elif state is ParserState.HEADER:
            self._header_text(text)
        elif self.strict:
            raise ParseError(f"Unexpected text {text[:40]!r} {_UNEXPECTED_START}")
        else:
            self._stray_text(text)

    def _header_text(self, text: str) -> None:
        self._header.append(text)
        if self._undecided:
            self._decide(final=False)

    def _stray_text(self, text: str) -> None:
        self._stray.append(text)

    def _special(self, token: int) -> None:
        state = self._state
        if state is ParserState.CONTENT:
            if self._stripped:
                self._end_stripped()
            if token in T.STOP_TOKENS:
                self._finish_message(_TERMINATOR_TEXT[token])
            elif self._stuck:
                return
            elif self.strict:
                # the reference decodes a non-stop special token into the content like any other
                # token: behind bytes still waiting to complete a UTF-8 character, if any
                if self._pending:
                    self._content_bytes(T.SPECIAL_TEXT[token].encode())
                else:
                    self._text(T.SPECIAL_TEXT[token])
            else:
                self._lenient_special_in_content(token)
        elif state is ParserState.HEADER:
            self._undecided = False
            if token == T.MESSAGE:
                self._end_header()
            elif self.strict:
                self._header.append(T.SPECIAL_TEXT[token])
            else:
                self._lenient_special_in_header(token)
        elif token == T.START:
            self._drop_stray("text between messages ignored")
            self._begin_header(implicit=False)
        elif self.strict:
            raise ParseError(f"Unexpected token {token} {_UNEXPECTED_START}")
        else:
            self._lenient_special_between(token)

    def _unknown(self, token: int) -> None:
        """An id outside the vocabulary: the reference cannot decode it and keeps waiting."""
        if self._state is ParserState.CONTENT:
            self._stuck = True
            self._last_delta = None
        elif self.strict:
            if self._state is ParserState.HEADER:
                self._header.append("\udcff")  # makes the header undecodable, as in the reference
            else:
                raise ParseError(f"Unexpected token {token} {_UNEXPECTED_START}")
        else:
            self._note_last(f"unknown token id {token} ignored")

    # --- headers ----------------------------------------------------------------------------

    def _begin_header(self, *, implicit: bool, text: str = "") -> None:
        self._state = ParserState.HEADER
        self._header = [text] if text else []
        self._implicit = implicit
        self._hdr = None

    def _header_string(self) -> str:
        raw = "".join(self._header)
        if raw.isascii():
            return raw
        try:
            return raw.encode("utf-8", "surrogateescape").decode("utf-8")
        except UnicodeError:
            if self.strict:
                raise ParseError("could not decode header") from None
            self._notes.append("header was not valid UTF-8")
            return raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")

    def _role_hint(self) -> Role | None:
        if self._next_role is not None:
            return self._next_role
        return Role.ASSISTANT if self._implicit else None

    def _end_header(self) -> None:
        """``<|message|>``: the header is complete."""
        text = self._header_string()
        if self.strict:
            header = parse_strict(text, self._next_role)
        else:
            header, _, notes = parse_lenient(text, self._role_hint())
            self._notes.extend(notes)
            if self._implicit:
                self._notes.append("missing <|start|>: assumed <|start|>assistant")
        self._open_message(header)

    def _open_message(self, header: Header) -> None:
        self._next_role = None
        self._hdr = header
        self._state = ParserState.CONTENT
        self._content = []
        self._pending.clear()
        self._stuck = False
        self._last_delta = None
        self._flush_deltas()
        self._events.append(
            HeaderEvent(
                len(self.messages),
                header.role,
                header.channel,
                header.recipient,
                header.content_type,
                header.name,
            )
        )

    def _lenient_special_in_header(self, token: int) -> None:
        if token == T.START:
            partial = "".join(self._header).strip()
            self._notes.append(
                f"incomplete header {partial[:40]!r} discarded at <|start|>"
                if partial
                else "repeated <|start|>"
            )
            notes, role = self._notes, self._next_role
            self._begin_header(implicit=False)
            self._notes, self._next_role = notes, role
        elif token in (T.CHANNEL, T.CONSTRAIN):
            self._header.append(T.SPECIAL_TEXT[token])
        elif token in _TERMINATOR_TEXT:
            self._header_ended_by(_TERMINATOR_TEXT[token])
        else:
            self._notes.append(f"{T.SPECIAL_TEXT[token]} in header ignored")

    def _header_ended_by(self, terminator: str | None) -> bool:
        """A header ended without ``<|message|>``; the text after its fields is the body."""
        text = self._header_string()
        if not text.strip(RUST_WHITESPACE):
            return False
        if (
            self._next_role is None
            and not self._implicit
            and not text.lstrip().startswith(tuple(r.value for r in Role))
        ):
            self._notes.append(f"header without a role dropped: {text[:40]!r}")
            return False
        header, body, notes = parse_lenient(text, self._role_hint(), prefix_only=True)
        if not body:
            if terminator is not None:
                self._notes.append(f"{terminator} inside a header ignored")
            return False
        self._notes.extend(notes)
        self._notes.append("missing <|message|>: the header's remaining text taken as content")
        if header.channel is None and header.recipient is None and header.role is Role.ASSISTANT:
            header = Header(header.role, header.name, "final", None, header.content_type)
            self._notes.append("no channel: treated as final")
        self._open_message(header)
        self._content.append(body)
        self._deltas.append(body)
        self._finish_message(terminator)
        return True

    # --- headerless output: bare text or special tokens stripped by the server ---------------

    def _decide(self, *, final: bool) -> None:
        """First message, no special token yet: normal header, stripped markers, or bare text."""
        head = "".join(self._header).lstrip(RUST_WHITESPACE)
        found = _stripped_header(head.removeprefix("assistant"), final=final)
        if found is _MORE:
            if not final and len(head) < 256:
                return
            found = None
        if isinstance(found, tuple):
            self._undecided = False
            self._open_stripped(*found, first=True)
            return
        if not final and _could_be_header(head):
            return
        if final or len(head) >= _BARE_AFTER or "\n" in head:
            self._undecided = False
            self._open_message(Header(self._next_role or Role.ASSISTANT, None, "final"))
            self._notes.append("no Harmony header: the text taken as the final answer")
            self._emit_stripped(head)

    def _open_stripped(
        self, channel: str, recipient: str | None, content_type: str | None, rest: str, *, first: bool
    ) -> None:
        """Open a message whose markers the server stripped (``analysis...assistantfinal...``)."""
        role = (self._next_role or Role.ASSISTANT) if first else Role.ASSISTANT
        self._open_message(Header(role, None, channel, recipient, content_type))
        self._notes.append("special tokens missing from the output (stripped by the server?)")
        self._stripped = True
        self._sbuf = ""
        if rest:
            self._stripped_text(rest)

    def _stripped_text(self, text: str) -> None:
        buf = self._sbuf + text
        pos = 0
        while True:
            at = buf.find("assistant", pos)
            if at < 0:
                break
            found = _stripped_header(buf[at + len("assistant") :], final=False)
            if found is _MORE:
                if len(buf) - at < 256:
                    self._emit_stripped(buf[:at])
                    self._sbuf = buf[at:]
                    return
            elif isinstance(found, tuple):
                self._emit_stripped(buf[:at])
                self._finish_message(None)
                self._open_stripped(*found, first=False)
                return
            pos = at + 1
        hold = 0
        for n in range(min(len(buf), len("assistant")), 0, -1):
            if "assistant".startswith(buf[-n:]):
                hold = n
                break
        self._emit_stripped(buf[: len(buf) - hold])
        self._sbuf = buf[len(buf) - hold :]

    def _emit_stripped(self, text: str) -> None:
        if text:
            self._content.append(text)
            self._deltas.append(text)
            self._last_delta = text

    def _end_stripped(self) -> None:
        rest, self._sbuf = self._sbuf, ""
        self._stripped = False
        self._emit_stripped(rest)

    # --- lenient repairs around content -----------------------------------------------------

    def _lenient_special_in_content(self, token: int) -> None:
        if token == T.START:
            self._notes.append("missing <|end|>: message closed by <|start|>")
            self._finish_message(None)
            self._begin_header(implicit=False)
        elif token == T.CHANNEL:
            self._notes.append("missing <|end|>: message closed by a new <|channel|>")
            self._finish_message(None)
            self._begin_header(implicit=True, text=T.SPECIAL_TEXT[T.CHANNEL])
        else:
            self._notes.append(f"{T.SPECIAL_TEXT[token]} removed from content")

    def _lenient_special_between(self, token: int) -> None:
        if token in (T.CHANNEL, T.MESSAGE):
            stray = "".join(self._stray).strip(RUST_WHITESPACE)
            self._stray = []
            role_word = stray if stray in Role._value2member_map_ else ""
            if stray and not role_word:
                self._note_last(f"text between messages ignored: {stray[:40]!r}")
            notes = self._notes
            self._begin_header(implicit=not role_word, text=role_word)
            self._notes = notes
            self._notes.append("missing <|start|> before the header")
            if token == T.CHANNEL:
                self._header.append(T.SPECIAL_TEXT[token])
            else:
                self._end_header()
        elif token in _TERMINATOR_TEXT:
            self._note_last(f"extra {T.SPECIAL_TEXT[token]} ignored")
        else:
            self._note_last(f"{T.SPECIAL_TEXT[token]} between messages ignored")

    def _drop_stray(self, why: str) -> None:
        stray = "".join(self._stray)
        self._stray = []
        if stray.strip(RUST_WHITESPACE):
            self._note_last(f"{why}: {stray[:40]!r}")

    def _note_last(self, note: str) -> None:
        """A repair between messages: on the parser, and on the message before it (or the next one)."""
        self.notes.append(note)
        if self.messages:
            last = self.messages[-1]
            self.messages[-1] = replace(last, notes=(*last.notes, note))
        else:
            self._notes.append(note)

    # --- content bytes (token ids): the reference's incremental UTF-8 rule -----------------

    def _content_bytes(self, data: bytes) -> None:
        if self._stuck:
            return
        buf = self._pending
        buf += data
        try:
            text = buf.decode()
        except UnicodeDecodeError as exc:
            delta = buf[: exc.start].decode()
            del buf[: exc.start]
            if exc.reason == "unexpected end of data" and exc.end == len(exc.object):
                self._last_delta = None
            else:
                delta += _REPLACEMENT
                del buf[: exc.end - exc.start]
            if delta:
                self._content.append(delta)
                self._last_delta = delta
                self._deltas.append(delta)
            return
        buf.clear()
        self._content.append(text)
        self._last_delta = text
        self._deltas.append(text)

    # --- ends -------------------------------------------------------------------------------

    def _flush_deltas(self) -> None:
        if self._deltas:
            text = self._deltas[0] if len(self._deltas) == 1 else "".join(self._deltas)
            self._deltas = []
            hdr = self._hdr
            if hdr is not None and text:
                self._events.append(ContentDelta(len(self.messages), hdr.channel, hdr.recipient, text))

    def _finish_message(self, terminator: str | None) -> None:
        hdr = self._hdr
        if hdr is None:
            return
        if self._stripped:
            self._end_stripped()
        text = "".join(self._content)
        if self._stuck:
            text += _REPLACEMENT
        if self._pending:
            text += self._pending.decode("utf-8", "replace")
        self._flush_deltas()
        message = Message(
            Author(hdr.role, hdr.name),
            (TextContent(text),),
            hdr.channel,
            hdr.recipient,
            hdr.content_type,
            tuple(self._notes),
            terminator,
        )
        self.messages.append(message)
        self._events.append(MessageDone(len(self.messages) - 1, message, terminator))
        self._notes = []
        self._hdr = None
        self._content = []
        self._pending.clear()
        self._stuck = False
        self._last_delta = None
        self._state = ParserState.EXPECT_START
        self._next_role = None

    def _eos(self) -> None:
        state = self._state
        if state is ParserState.CONTENT:
            self._finish_message(None)
        elif state is ParserState.HEADER:
            if self.strict:
                raise ParseError("Unexpected EOS while waiting for message header to complete")
            if self._undecided:
                self._decide(final=True)
                if self._state is ParserState.CONTENT:
                    self._finish_message(None)
                    return
            if not self._header_ended_by(None):
                self._note_last("output ended inside a message header")
            self._state = ParserState.EXPECT_START
        elif not self.strict:
            stray = "".join(self._stray).strip(RUST_WHITESPACE)
            if stray and not self.messages:
                self._open_message(Header(Role.ASSISTANT, None, "final"))
                self._notes.append("no Harmony header: the text taken as the final answer")
                self._content.append(stray)
                self._deltas.append(stray)
                self._finish_message(None)
            else:
                self._drop_stray("text after the last message ignored")


def parse_tokens(
    tokens: Iterable[int], role: Role | None = Role.ASSISTANT, *, strict: bool = False
) -> list[Message]:
    """All messages of a completion given as token ids."""
    parser = StreamParser(role, strict=strict)
    for token in tokens:
        parser.process(token)
    parser.finish()
    return parser.messages


def parse_text(text: str, role: Role | None = Role.ASSISTANT, *, strict: bool = False) -> list[Message]:
    """All messages of a completion given as text."""
    parser = StreamParser(role, strict=strict)
    parser.feed_text(text)
    parser.finish()
    return parser.messages


__all__ = [
    "KNOWN_CHANNELS",
    "ContentDelta",
    "HeaderEvent",
    "MessageDone",
    "ParseEvent",
    "ParserState",
    "StreamParser",
    "parse_stop_in_header",
    "parse_text",
    "parse_tokens",
]
