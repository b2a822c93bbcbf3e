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

from collections.abc import Iterable

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
from gptoss_cli.harmony.state import (
    ContentDelta,
    HeaderEvent,
    MessageDone,
    ParseEvent,
    ParserState,
    ParseState,
)
from gptoss_cli.harmony.types import DEFAULT_FORM, Author, HarmonyForm, Message, Role, TextContent

_REPLACEMENT = "\ufffd"
_UNEXPECTED_START = "while expecting start token 200006"


class StreamParser:
    """Parse a completion incrementally: ``process(token)``, ``feed_text(chunk)``, then ``finish()``.

    Its mutable state is one :class:`~gptoss_cli.harmony.state.ParseState`, which the lenient
    repairs are given along with the parser.
    """

    def __init__(
        self, role: Role | None = Role.ASSISTANT, *, strict: bool = False, form: HarmonyForm = DEFAULT_FORM
    ) -> None:
        self.strict = strict
        self.form: HarmonyForm = form
        """Which reference strict parsing follows; lenient parsing reads both forms alike."""
        self._st = ParseState(
            ParserState.HEADER if role is not None else ParserState.EXPECT_START,
            role,
            undecided=role is Role.ASSISTANT and not strict,
        )
        self._table: list[bytes] | None = None  # the tokenizer's bytes per id, looked up on first use

    # --- public state (the reference's StreamableParser) -----------------------------------

    @property
    def state(self) -> ParserState:
        return self._st.phase

    @property
    def current_role(self) -> Role | None:
        hdr = self._st.header
        return hdr.role if hdr is not None else self._st.next_role

    @property
    def current_channel(self) -> str | None:
        hdr = self._st.header
        return hdr.channel if hdr is not None else None

    @property
    def current_recipient(self) -> str | None:
        hdr = self._st.header
        return hdr.recipient if hdr is not None else None

    @property
    def current_content_type(self) -> str | None:
        hdr = self._st.header
        return hdr.content_type if hdr is not None else None

    @property
    def last_content_delta(self) -> str | None:
        return self._st.last_delta

    @property
    def current_content(self) -> str:
        st = self._st
        return "".join(st.content) if st.phase is ParserState.CONTENT else ""

    @property
    def messages(self) -> list[Message]:
        """Finished messages, in order."""
        return self._st.messages

    @property
    def notes(self) -> list[str]:
        """Repairs made between messages (each also noted on a message next to it)."""
        return self._st.notes

    @property
    def finished(self) -> bool:
        """Whether :meth:`finish` was called."""
        return self._st.finished

    @property
    def reasoning_seen(self) -> bool:
        """Whether the output so far marks reasoning (an analysis message, however it was written)."""
        return self._st.reasoning_seen

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
        st = self._st
        state = st.phase
        if state is ParserState.CONTENT:
            if st.pending or st.stuck:
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
        lexer = self._st.lexer
        if lexer is None:
            lexer = self._st.lexer = TextLexer()
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
        if self._st.lexer is not None:
            for piece in self._st.lexer.flush():
                self._text(piece)
        self._eos(cut_off)
        self._st.finished = True
        return self.drain()

    def drain(self) -> list[ParseEvent]:
        """Events produced since the last call (consecutive deltas merged)."""
        self._flush_deltas()
        st = self._st
        events, st.events = st.events, []
        return events

    # --- lexemes ----------------------------------------------------------------------------

    def _text(self, text: str) -> None:
        st = self._st
        # a lenient repair may end the message inside this text: the rest goes round again
        while text:
            state = st.phase
            if state is ParserState.CONTENT:
                if st.json is not None:
                    text = repair.json_text(self, st, text)
                elif st.stripped:
                    text = repair.stripped_text(self, st, text)
                else:
                    st.content.append(text)
                    st.last_delta = text
                    st.deltas.append(text)
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
        st = self._st
        st.raw_header.append(text)
        if st.undecided:
            return repair.decide(self, st, final=False)
        return ""

    def _stray_text(self, text: str) -> None:
        st = self._st
        if st.runon is not None:
            st.runon.append(text)
            return
        st.stray.append(text)

    def _special(self, token: int) -> None:
        st = self._st
        if st.runon is not None:
            st.runon.append(T.SPECIAL_TEXT[token])
            return
        state = st.phase
        if state is ParserState.CONTENT:
            if st.stripped:
                rest = repair.stripped_before_special(self, st)
                if rest:
                    self._text(rest)
            if token in T.STOP_TOKENS:
                self.finish_message(TERMINATOR_TEXT[token])
            elif st.stuck:
                return
            elif self.strict:
                # the reference decodes a non-stop special token into the content like any other
                # token: behind bytes still waiting to complete a UTF-8 character, if any
                if st.pending:
                    self._content_bytes(T.SPECIAL_TEXT[token].encode())
                else:
                    self._text(T.SPECIAL_TEXT[token])
            else:
                repair.special_in_content(self, st, token)
        elif state is ParserState.HEADER:
            if st.undecided:
                st.undecided = False
                if not repair.header_words(st):
                    rest = repair.decide(self, st, final=True)
                    if st.phase is ParserState.CONTENT:
                        if rest:
                            self._text(rest)
                        self._special(token)
                        return
            if token == T.MESSAGE:
                self.end_header()
            elif self.strict:
                st.raw_header.append(T.SPECIAL_TEXT[token])
            else:
                repair.special_in_header(self, st, token)
        elif token == T.START:
            repair.drop_stray(st, "text between messages ignored")
            st.begin_header(implicit=False)
        elif self.strict:
            raise ParseError(f"Unexpected token {token} {_UNEXPECTED_START}")
        else:
            repair.special_between(self, st, token)

    def _unknown(self, token: int) -> None:
        """An id outside the vocabulary: the reference cannot decode it and keeps waiting."""
        st = self._st
        if st.runon is not None:
            return
        if st.phase is ParserState.CONTENT:
            st.stuck = True
            st.last_delta = None
        elif self.strict:
            if st.phase is ParserState.HEADER:
                st.raw_header.append("\udcff")  # makes the header undecodable, as in the reference
            else:
                raise ParseError(f"Unexpected token {token} {_UNEXPECTED_START}")
        else:
            repair.note_last(st, f"unknown token id {token} ignored")

    # --- the operations the lenient repairs call (repair.ParserOps); not for feeding output --

    def end_header(self) -> None:
        """``<|message|>``: parse the header so far and open its message."""
        st = self._st
        text = st.header_text(strict=self.strict)
        if self.strict:
            header = parse_strict(text, st.next_role, self.form)
        else:
            header, _, notes = parse_lenient(text, st.role_hint())
            st.message_notes.extend(notes)
            if st.implicit:
                st.message_notes.append("missing <|start|>: assumed <|start|>assistant")
        self.open_message(header)

    def open_message(self, header: Header) -> None:
        """Content of a message with this header follows (a held message is settled first)."""
        st = self._st
        if not self.strict:
            repair.settle(st, at_end=False)
            # an assistant message on no known channel: whether it is the answer waits for the end
            st.provisional = (
                "doubtful"
                if header.role is Role.ASSISTANT
                and header.recipient is None
                and header.channel not in KNOWN_CHANNELS
                else None
            )
            st.json = JsonEnd() if header.recipient is not None else None
            if header.channel == "analysis":
                st.reasoning_seen = True
        st.next_role = None
        st.header = header
        st.phase = ParserState.CONTENT
        st.content = []
        st.pending.clear()
        st.stuck = False
        st.last_delta = None
        self._flush_deltas()
        st.events.append(
            HeaderEvent(
                len(st.messages),
                header.role,
                header.channel,
                header.recipient,
                header.content_type,
                header.name,
            )
        )

    def finish_message(self, terminator: str | None) -> None:
        """The open message is complete: publish it, or hold it if its reading waits."""
        st = self._st
        hdr = st.header
        if hdr is None:
            return
        if st.stripped:
            repair.end_stripped(st)
        text = "".join(st.content)
        if st.stuck:
            text += _REPLACEMENT
        if st.pending:
            text += st.pending.decode("utf-8", "replace")
        self._flush_deltas()
        message = Message(
            Author(hdr.role, hdr.name),
            (TextContent(text),),
            hdr.channel,
            hdr.recipient,
            hdr.content_type,
            tuple(st.message_notes),
            terminator,
        )
        kind, st.provisional = st.provisional, None
        st.json = None
        if kind is not None and not self.strict:
            repair.hold(st, message, kind, terminator)
        else:
            st.publish(message, terminator)
        st.message_notes = []
        st.header = None
        st.content = []
        st.pending.clear()
        st.stuck = False
        st.last_delta = None
        st.phase = ParserState.EXPECT_START
        st.next_role = None

    # --- content bytes (token ids): the reference's incremental UTF-8 rule -----------------

    def _content_bytes(self, data: bytes) -> None:
        st = self._st
        if st.stuck:
            return
        buf = st.pending
        buf += data
        try:
            text = buf.decode()
        except UnicodeDecodeError as exc:
            delta = buf[: exc.start].decode()
            del buf[: exc.start]
            if exc.reason == "unexpected end of data" and exc.end == len(exc.object):
                st.last_delta = None
            else:
                delta += _REPLACEMENT
                del buf[: exc.end - exc.start]
            if delta:
                self._deliver(delta)
            return
        buf.clear()
        self._deliver(text)

    def _deliver(self, text: str) -> None:
        st = self._st
        if st.json is not None or st.stripped:
            self._text(text)  # lenient scanning of tool-call arguments or stripped output
            return
        st.content.append(text)
        st.last_delta = text
        st.deltas.append(text)

    # --- ends -------------------------------------------------------------------------------

    def _flush_deltas(self) -> None:
        st = self._st
        deltas = st.deltas
        if deltas:
            text = deltas[0] if len(deltas) == 1 else "".join(deltas)
            st.deltas = []
            hdr = st.header
            if hdr is not None and text:
                st.events.append(ContentDelta(len(st.messages), hdr.channel, hdr.recipient, text))

    def _eos(self, cut_off: bool = False) -> None:
        self._eos_state()
        if not self.strict:
            repair.settle(self._st, at_end=True, cut_off=cut_off)

    def _eos_state(self) -> None:
        st = self._st
        if st.runon is not None:
            repair.drop_runon(st)
            return
        state = st.phase
        if state is ParserState.CONTENT:
            self.finish_message(None)
        elif state is ParserState.HEADER:
            if self.strict:
                raise ParseError("Unexpected EOS while waiting for message header to complete")
            if st.undecided:
                st.undecided = False
                rest = repair.decide(self, st, final=True)
                if st.phase is ParserState.CONTENT:
                    if rest:
                        self._text(rest)
                    self.finish_message(None)
                    return
            if not repair.header_ended_by(self, st, None):
                repair.note_last(st, "output ended inside a message header")
            st.phase = ParserState.EXPECT_START
        elif not self.strict:
            stray = "".join(st.stray).strip(RUST_WHITESPACE)
            if stray and not st.messages and st.held is None:
                st.stray = []
                self._text(repair.open_headerless(self, st, stray))
                self.finish_message(None)
            else:
                repair.drop_stray(st, "text after the last message ignored")


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
