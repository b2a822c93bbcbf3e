"""One streaming parser for Harmony completions, fed token ids or text chunks cut anywhere.

Its public face follows openai-harmony's ``StreamableParser`` (state, current role/channel/
recipient/content type, last content delta, finished messages) plus a typed event stream.

``strict=True`` reproduces the reference exactly, errors included (``form`` picks which reference:
the two parse alike but for a header holding several ``<|channel|>`` markers). The default, lenient,
never raises: it returns what strict returns for clean output and recovers what a careful
reader would from real malformed output, recording every repair in the message's ``notes``.
Analysis text is never classified as final.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from gptoss_cli.errors import ParseError
from gptoss_cli.harmony import repair
from gptoss_cli.harmony import tokens as T
from gptoss_cli.harmony.header import (
    KNOWN_CHANNELS,
    RUST_WHITESPACE,
    Header,
    parse_lenient,
    parse_stop_in_header,
    parse_strict,
)
from gptoss_cli.harmony.lexer import TextLexer
from gptoss_cli.harmony.markers import JsonEnd
from gptoss_cli.harmony.repair import TERMINATOR_TEXT
from gptoss_cli.harmony.types import DEFAULT_FORM, Author, HarmonyForm, Message, Role, TextContent

_REPLACEMENT = "\ufffd"
_UNEXPECTED_START = "while expecting start token 200006"


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

    def __init__(
        self, role: Role | None = Role.ASSISTANT, *, strict: bool = False, form: HarmonyForm = DEFAULT_FORM
    ) -> None:
        self.strict = strict
        self.form: HarmonyForm = form
        """Which reference strict parsing follows; lenient parsing reads both forms alike."""
        self._next_role = role
        self._state = ParserState.HEADER if role is not None else ParserState.EXPECT_START
        self._header: list[str] = []
        self._implicit = False
        self._undecided = role is Role.ASSISTANT and not strict
        self._hdr: Header | None = None
        self._notes: list[str] = []
        self._content: list[str] = []
        self._pending = bytearray()
        self._stuck = False
        self._stripped = False
        self._sbuf = ""
        self._sprev = ""
        self._provisional: str | None = None
        self._held: tuple[Message, str, str | None] | None = None
        self._json: JsonEnd | None = None
        self._runon: list[str] | None = None  # output after a tool call's arguments: dropped
        self._stray: list[str] = []
        self._last_delta: str | None = None
        self._deltas: list[str] = []
        self._events: list[ParseEvent] = []
        self._lexer: TextLexer | None = None
        self._table: list[bytes] | None = None
        self.messages: list[Message] = []
        self.notes: list[str] = []
        self.finished = False
        #: whether the output so far marks reasoning (an analysis message, however it was written)
        self.reasoning_seen = False

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
            rest = self._header_text(data.decode("utf-8", "surrogateescape"))
            if rest:
                self._text(rest)
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

    def finish(self, *, cut_off: bool = False) -> list[ParseEvent]:
        """End of output (the reference's ``process_eos``); returns the last events.

        ``cut_off``: the output did not end on its own (token limit, disconnect, Ctrl-C). Text
        whose reading waited for the end is then not read as the answer: only a message on the
        ``final`` channel is, since the lost rest could have shown the text to be reasoning.
        """
        if self._lexer is not None:
            for piece in self._lexer.flush():
                self._text(piece)
        self._eos(cut_off)
        self.finished = True
        return self.drain()

    def drain(self) -> list[ParseEvent]:
        """Events produced since the last call (consecutive deltas merged)."""
        self._flush_deltas()
        events, self._events = self._events, []
        return events

    # --- lexemes ----------------------------------------------------------------------------

    def _text(self, text: str) -> None:
        # a lenient repair may end the message inside this text: the rest goes round again
        while text:
            state = self._state
            if state is ParserState.CONTENT:
                if self._json is not None:
                    text = repair.json_text(self, text)
                elif self._stripped:
                    text = repair.stripped_text(self, text)
                else:
                    self._content.append(text)
                    self._last_delta = text
                    self._deltas.append(text)
                    return
            elif state is ParserState.HEADER:
                text = self._header_text(text)
            elif self.strict:
                raise ParseError(f"Unexpected text {text[:40]!r} {_UNEXPECTED_START}")
            else:
                self._stray_text(text)
                return

    def _header_text(self, text: str) -> str:
        """Header text; returns what became message content when headerless text was recognised."""
        self._header.append(text)
        if self._undecided:
            return repair.decide(self, final=False)
        return ""

    def _stray_text(self, text: str) -> None:
        if self._runon is not None:
            self._runon.append(text)
            return
        self._stray.append(text)

    def _special(self, token: int) -> None:
        if self._runon is not None:
            self._runon.append(T.SPECIAL_TEXT[token])
            return
        state = self._state
        if state is ParserState.CONTENT:
            if self._stripped:
                repair.stripped_before_special(self)
            if token in T.STOP_TOKENS:
                self._finish_message(TERMINATOR_TEXT[token])
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
                repair.special_in_content(self, token)
        elif state is ParserState.HEADER:
            if self._undecided:
                self._undecided = False
                if not repair.header_words(self):
                    rest = repair.decide(self, final=True)
                    if self._state is ParserState.CONTENT:
                        if rest:
                            self._text(rest)
                        self._special(token)
                        return
            if token == T.MESSAGE:
                self._end_header()
            elif self.strict:
                self._header.append(T.SPECIAL_TEXT[token])
            else:
                repair.special_in_header(self, token)
        elif token == T.START:
            repair.drop_stray(self, "text between messages ignored")
            self._begin_header(implicit=False)
        elif self.strict:
            raise ParseError(f"Unexpected token {token} {_UNEXPECTED_START}")
        else:
            repair.special_between(self, token)

    def _unknown(self, token: int) -> None:
        """An id outside the vocabulary: the reference cannot decode it and keeps waiting."""
        if self._runon is not None:
            return
        if self._state is ParserState.CONTENT:
            self._stuck = True
            self._last_delta = None
        elif self.strict:
            if self._state is ParserState.HEADER:
                self._header.append("\udcff")  # makes the header undecodable, as in the reference
            else:
                raise ParseError(f"Unexpected token {token} {_UNEXPECTED_START}")
        else:
            repair.note_last(self, f"unknown token id {token} ignored")

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
            header = parse_strict(text, self._next_role, self.form)
        else:
            header, _, notes = parse_lenient(text, self._role_hint())
            self._notes.extend(notes)
            if self._implicit:
                self._notes.append("missing <|start|>: assumed <|start|>assistant")
        self._open_message(header)

    def _expect_start(self) -> None:
        self._header = []
        self._state = ParserState.EXPECT_START
        self._next_role = None

    def _open_message(self, header: Header) -> None:
        if not self.strict:
            repair.settle(self, at_end=False)
            # an assistant message on no known channel: whether it is the answer waits for the end
            self._provisional = (
                "doubtful"
                if header.role is Role.ASSISTANT
                and header.recipient is None
                and header.channel not in KNOWN_CHANNELS
                else None
            )
            self._json = JsonEnd() if header.recipient is not None else None
            if header.channel == "analysis":
                self.reasoning_seen = True
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
                self._deliver(delta)
            return
        buf.clear()
        self._deliver(text)

    def _deliver(self, text: str) -> None:
        if self._json is not None or self._stripped:
            self._text(text)  # lenient scanning of tool-call arguments or stripped output
            return
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
            repair.end_stripped(self)
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
        kind, self._provisional = self._provisional, None
        self._json = None
        if kind is not None and not self.strict:
            repair.hold(self, message, kind, terminator)
        else:
            self._publish(message, terminator)
        self._notes = []
        self._hdr = None
        self._content = []
        self._pending.clear()
        self._stuck = False
        self._last_delta = None
        self._state = ParserState.EXPECT_START
        self._next_role = None

    def _publish(self, message: Message, terminator: str | None) -> None:
        self.messages.append(message)
        self._events.append(MessageDone(len(self.messages) - 1, message, terminator))

    def _eos(self, cut_off: bool = False) -> None:
        self._eos_state()
        if not self.strict:
            repair.settle(self, at_end=True, cut_off=cut_off)

    def _eos_state(self) -> None:
        if self._runon is not None:
            repair.drop_runon(self)
            return
        state = self._state
        if state is ParserState.CONTENT:
            self._finish_message(None)
        elif state is ParserState.HEADER:
            if self.strict:
                raise ParseError("Unexpected EOS while waiting for message header to complete")
            if self._undecided:
                self._undecided = False
                rest = repair.decide(self, final=True)
                if self._state is ParserState.CONTENT:
                    if rest:
                        self._text(rest)
                    self._finish_message(None)
                    return
            if not repair.header_ended_by(self, None):
                repair.note_last(self, "output ended inside a message header")
            self._state = ParserState.EXPECT_START
        elif not self.strict:
            stray = "".join(self._stray).strip(RUST_WHITESPACE)
            if stray and not self.messages and self._held is None:
                self._stray = []
                self._text(repair.open_headerless(self, stray))
                self._finish_message(None)
            else:
                repair.drop_stray(self, "text after the last message ignored")


def parse_tokens(
    tokens: Iterable[int],
    role: Role | None = Role.ASSISTANT,
    *,
    strict: bool = False,
    form: HarmonyForm = DEFAULT_FORM,
) -> list[Message]:
    """All messages of a completion given as token ids."""
    parser = StreamParser(role, strict=strict, form=form)
    for token in tokens:
        parser.process(token)
    parser.finish()
    return parser.messages


def parse_text(
    text: str,
    role: Role | None = Role.ASSISTANT,
    *,
    strict: bool = False,
    form: HarmonyForm = DEFAULT_FORM,
) -> list[Message]:
    """All messages of a completion given as text."""
    parser = StreamParser(role, strict=strict, form=form)
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
