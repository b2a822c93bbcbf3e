"""Lenient repairs: what the parser does with real gpt-oss output that strict parsing refuses.

Each repair works on the parser's :class:`~gptoss_cli.harmony.state.ParseState` and calls
nothing of the parser but the three operations of :class:`ParserOps`. They handle control
tokens in the wrong place, headers without ``<|message|>``, stray text between messages, output
whose special tokens the server stripped (``analysis...assistantfinal...``, read with
``markers``), tool-call arguments that end where their JSON value ends, and messages held until
what follows them tells whether they are the answer (``hold``/``settle``). Every repair is
recorded in the message's notes. Analysis text is never classified as final; text that cannot
be told from reasoning is not either (README, "How gptoss reads broken output").
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from gptoss_cli.harmony import tokens as T
from gptoss_cli.harmony.header import RUST_WHITESPACE, Header, parse_lenient
from gptoss_cli.harmony.markers import MARK, MORE, WEAK_WORDS, punct, stripped_header
from gptoss_cli.harmony.types import Message, Role

if TYPE_CHECKING:
    from gptoss_cli.harmony.state import ParseState, Provisional


class ParserOps(Protocol):
    """The parser operations a repair may call (:class:`~gptoss_cli.harmony.parser.StreamParser`'s)."""

    def end_header(self) -> None:
        """``<|message|>``: parse the header so far and open its message."""

    def open_message(self, header: Header) -> None:
        """Content of a message with this header follows (a held message is settled first)."""

    def finish_message(self, terminator: str | None) -> None:
        """The open message is complete: publish it, or hold it if its reading waits."""


TERMINATOR_TEXT = {
    T.END: "<|end|>",
    T.CALL: "<|call|>",
    T.RETURN: "<|return|>",
    T.ENDOFTEXT: "<|endoftext|>",
}

#: Decide that headerless output is text, not a header, after this many characters (or a newline).
_BARE_AFTER = 64
#: Wait at most this many characters to tell whether stripped text is a header.
_HOLD_MAX = 256
#: The role names, as a header may start with them.
_ROLE_WORDS = frozenset(r.value for r in Role)
#: Header text before the first special token that is a header, not the answer.
_HEADERISH = re.compile(
    r"(?:assistant)?(?:\s*(?:to=\S*|functions\.\S*|(?i:analysis)|commentary|final|json|code\S*))*\s*"
)


def drop_runon(s: ParseState) -> None:
    """End of output after a tool call's arguments: what ran on is dropped, with a note."""
    text = "".join(s.runon or ())
    s.runon = None
    note_last(s, f"output after the tool call dropped (written without its result): {text.strip()[:60]!r}")


def _could_be_header(head: str) -> bool:
    """Whether headerless text may still turn into a header once a special token arrives."""
    word = head.split(None, 1)[0] if head.strip() else ""
    return head.startswith("to=") or word in _ROLE_WORDS or any(r.value.startswith(head) for r in Role)


def special_in_header(p: ParserOps, s: ParseState, token: int) -> None:
    if token == T.START:
        partial = "".join(s.raw_header).strip()
        s.message_notes.append(
            f"incomplete header {partial[:40]!r} discarded at <|start|>" if partial else "repeated <|start|>"
        )
        notes, role = s.message_notes, s.next_role
        s.begin_header(implicit=False)
        s.message_notes, s.next_role = notes, role
    elif token in (T.CHANNEL, T.CONSTRAIN):
        s.raw_header.append(T.SPECIAL_TEXT[token])
    elif token in TERMINATOR_TEXT:
        header_ended_by(p, s, TERMINATOR_TEXT[token])
    else:
        s.message_notes.append(f"{T.SPECIAL_TEXT[token]} in header ignored")


def header_ended_by(p: ParserOps, s: ParseState, terminator: str | None) -> bool:
    """A header ended without ``<|message|>``; the text after its fields is the body."""
    text = s.header_text(strict=False)
    if not text.strip(RUST_WHITESPACE):
        return False
    if s.next_role is None and not s.implicit and not text.lstrip().startswith(tuple(r.value for r in Role)):
        s.message_notes.append(f"header without a role dropped: {text[:40]!r}")
        return False
    header, body, notes = parse_lenient(text, s.role_hint(), prefix_only=True)
    if not body:
        if terminator is not None:
            s.message_notes.append(f"{terminator} inside a header ignored")
        return False
    s.message_notes.extend(notes)
    s.message_notes.append("missing <|message|>: the header's remaining text taken as content")
    p.open_message(header)
    s.content.append(body)
    s.deltas.append(body)
    p.finish_message(terminator)
    return True


# --- headerless output: bare text or special tokens stripped by the server ---------------


def decide(p: ParserOps, s: ParseState, *, final: bool) -> str:
    """No special token yet at a message start: a header, stripped markers, or headerless text.

    Returns the text that now belongs to an opened message's content ("" while undecided).
    """
    head = "".join(s.raw_header).lstrip(RUST_WHITESPACE)
    strong = head.startswith("assistant")
    found = stripped_header(
        head[len("assistant") :] if strong else head, final=final, strong=strong, start=True
    )
    if found is MORE:
        if not final and len(head) < _HOLD_MAX:
            return ""
        found = None
    if isinstance(found, tuple):
        s.undecided = False
        return open_stripped(p, s, *found)
    if not final and _could_be_header(head):
        return ""
    if final or len(head) >= _BARE_AFTER or "\n" in head:
        s.undecided = False
        return open_headerless(p, s, head)
    return ""


def header_words(s: ParseState) -> bool:
    """Whether undecided text that a special token ends is header words, not a message of its own.

    Header words: nothing, ``assistant``, ``to=...``, a channel word, a content type. Anything
    else at the start of the output is a message without a header, which the token ends.
    """
    head = "".join(s.raw_header)
    return not head.strip(RUST_WHITESPACE) or _HEADERISH.fullmatch(head) is not None


def open_headerless(p: ParserOps, s: ParseState, text: str) -> str:
    """Open a message for text with no Harmony header; what it is is decided when it ends."""
    p.open_message(Header(Role.ASSISTANT))
    s.provisional = "headerless"
    s.message_notes.append("no Harmony header")
    _start_scan(s)
    return text


def open_stripped(
    p: ParserOps,
    s: ParseState,
    channel: str | None,
    recipient: str | None,
    content_type: str | None,
    rest: str,
) -> str:
    """Open a message whose markers the server stripped (``analysis...assistantfinal...``).

    A stripped ``final`` is held: it is the answer only if nothing but the end of output
    follows it (reasoning may itself contain the word ``assistantfinal``).
    """
    held = channel == "final" and recipient is None
    p.open_message(Header(Role.ASSISTANT, None, None if held else channel, recipient, content_type))
    if held:
        s.provisional = "final"
    s.message_notes.append("special tokens missing from the output (stripped by the server?)")
    _start_scan(s)
    return rest


def _start_scan(s: ParseState) -> None:
    s.stripped = True
    s.scan_held = ""
    s.scan_prev = ""


def stripped_text(p: ParserOps, s: ParseState, text: str) -> str:
    """Content of a message with markers stripped: look for the next message's marker.

    Returns the text after a marker (the next message's content) or "".
    """
    buf = s.scan_held + text
    prev = s.scan_prev
    pos = 0
    while True:
        m = MARK.search(prev + buf, pos + len(prev))
        if m is None:
            break
        at = m.start() - len(prev)
        strong = m.group() == "assistant"
        after = buf[at + len("assistant") :] if strong else buf[at:]
        before = buf[at - 1] if at > 0 else prev
        found = stripped_header(after, final=False, strong=strong, quote=before if before in "\"'`" else "")
        if found is MORE:
            if len(buf) - at < _HOLD_MAX:
                emit_stripped(s, buf[:at])
                s.scan_held = buf[at:]
                return ""
        elif isinstance(found, tuple):
            emit_stripped(s, buf[:at])
            s.scan_held = ""
            p.finish_message(None)
            return open_stripped(p, s, *found)
        pos = at + 1
    hold = 0
    for n in range(min(len(buf), len("assistant")), 0, -1):
        tail = buf[-n:]
        before = buf[-n - 1] if n < len(buf) else prev
        weak = any(w.startswith(tail.lower() if w == "analysis" else tail) for w in WEAK_WORDS)
        if "assistant".startswith(tail) or (weak and punct(before)):
            hold = n
            break
    emit_stripped(s, buf[: len(buf) - hold])
    s.scan_held = buf[len(buf) - hold :]
    return ""


def emit_stripped(s: ParseState, text: str) -> None:
    if text:
        s.content.append(text)
        s.deltas.append(text)
        s.last_delta = text
        s.scan_prev = text[-1]


def stripped_before_special(p: ParserOps, s: ParseState) -> str:
    """A special token ends stripped text: a marker held at its end (``...assistantfinal``) is
    complete, and opens its message (``<|message|>`` after it is then a header's end).

    Returns the text after the marker (the new message's first content) or "".
    """
    held = s.scan_held
    strong = held.startswith("assistant")
    found = None
    if held:  # the held text starts where a marker may: "assistant..." or a glued channel word
        quote = s.scan_prev if s.scan_prev in "\"'`" else ""
        found = stripped_header(
            held[len("assistant") :] if strong else held, final=True, strong=strong, quote=quote
        )
    if not isinstance(found, tuple):
        end_stripped(s)
        return ""
    s.scan_held = ""
    p.finish_message(None)
    return open_stripped(p, s, *found)


def end_stripped(s: ParseState) -> None:
    rest, s.scan_held = s.scan_held, ""
    s.stripped = False
    emit_stripped(s, rest)


# --- tool-call arguments: they end where their JSON value ends ---------------------------


def json_text(p: ParserOps, s: ParseState, text: str) -> str:
    """Content of a tool call: returns what is left once the arguments' JSON value has ended."""
    scan = s.json
    assert scan is not None
    if scan.done:
        i = len(text) - len(text.lstrip(RUST_WHITESPACE))
        if i == len(text):
            emit_stripped(s, text)
            return ""
        emit_stripped(s, text[:i])
        s.message_notes.append("arguments end where their JSON value ends")
        p.finish_message(None)
        # a tool call ends the turn: what follows was written without the tool's result
        s.expect_start()
        s.runon = [text[i:]]
        return ""
    end = scan.feed(text)
    if end is None:
        s.json = None
        return text
    if end < 0:
        emit_stripped(s, text)
        return ""
    emit_stripped(s, text[:end])
    return text[end:]


# --- messages whose reading waits for what follows them ----------------------------------

#: A message that is not shown as the answer because the output marks reasoning and nothing
#: tells whether this text is the answer or more reasoning.
UNCLEAR = "unclear whether this is the answer (the output has reasoning): not shown as one"
CUT_OFF = "output cut off before it could be read with certainty: not shown as the answer"
_READ_AS_REASONING = {
    "headerless": "text without a header followed by more Harmony structure: read as reasoning",
    "final": "a stripped 'final' marker followed by more output: read as reasoning",
}


def hold(s: ParseState, message: Message, kind: Provisional, terminator: str | None) -> None:
    """A finished message whose reading depends on what follows: keep it until that is known."""
    if kind == "headerless" and terminator == "<|end|>":
        _done(s, _as(message, "analysis", _READ_AS_REASONING[kind]), terminator)
    elif kind == "final" and terminator == "<|return|>":
        _done(s, _as(message, "final", None), terminator)
    else:
        s.held = (message, kind, terminator)


def settle(s: ParseState, *, at_end: bool, cut_off: bool = False) -> None:
    """Read the held message: another message follows it, or the output ended (or was cut off)."""
    pending = s.held
    if pending is None:
        return
    s.held = None
    message, kind, terminator = pending
    if not at_end:
        if kind in _READ_AS_REASONING:
            message = _as(message, "analysis", _READ_AS_REASONING[kind])
    elif any(m.channel == "final" and m.recipient is None for m in s.messages):
        message = replace(message, notes=(*message.notes, "after the final answer: not shown"))
    elif cut_off:
        message = replace(message, notes=(*message.notes, CUT_OFF))
    elif kind == "final":
        message = _as(message, "final", None)
    elif s.reasoning_seen:
        message = replace(message, notes=(*message.notes, UNCLEAR))
    else:
        message = _as(message, "final", "taken as the final answer: nothing in the output marks reasoning")
    _done(s, message, terminator)


def _as(message: Message, channel: str, note: str | None) -> Message:
    return replace(message, channel=channel, notes=(*message.notes, note) if note else message.notes)


def _done(s: ParseState, message: Message, terminator: str | None) -> None:
    if message.channel == "analysis":
        s.reasoning_seen = True
    s.publish(message, terminator)


# --- lenient repairs around content -----------------------------------------------------


def special_in_content(p: ParserOps, s: ParseState, token: int) -> None:
    if token == T.START:
        s.message_notes.append("missing <|end|>: message closed by <|start|>")
        p.finish_message(None)
        s.begin_header(implicit=False)
    elif token == T.CHANNEL:
        s.message_notes.append("missing <|end|>: message closed by a new <|channel|>")
        p.finish_message(None)
        s.begin_header(implicit=True, text=T.SPECIAL_TEXT[T.CHANNEL])
    else:
        s.message_notes.append(f"{T.SPECIAL_TEXT[token]} removed from content")


def special_between(p: ParserOps, s: ParseState, token: int) -> None:
    if token in (T.CHANNEL, T.MESSAGE):
        stray = "".join(s.stray).strip(RUST_WHITESPACE)
        s.stray = []
        role_word = stray if stray in _ROLE_WORDS else ""
        if stray and not role_word:
            note_last(s, f"text between messages ignored: {stray[:40]!r}")
        notes = s.message_notes
        s.begin_header(implicit=not role_word, text=role_word)
        s.message_notes = notes
        s.message_notes.append("missing <|start|> before the header")
        if token == T.CHANNEL:
            s.raw_header.append(T.SPECIAL_TEXT[token])
        else:
            p.end_header()
    elif token in TERMINATOR_TEXT:
        note_last(s, f"extra {T.SPECIAL_TEXT[token]} ignored")
    else:
        note_last(s, f"{T.SPECIAL_TEXT[token]} between messages ignored")


def drop_stray(s: ParseState, why: str) -> None:
    stray = "".join(s.stray)
    s.stray = []
    if stray.strip(RUST_WHITESPACE):
        note_last(s, f"{why}: {stray[:40]!r}")


def note_last(s: ParseState, note: str) -> None:
    """A repair between messages: on the parser, and on the message before it (or the next one)."""
    s.notes.append(note)
    if s.held is not None:
        message, kind, terminator = s.held
        s.held = (replace(message, notes=(*message.notes, note)), kind, terminator)
    elif s.messages:
        last = s.messages[-1]
        s.messages[-1] = replace(last, notes=(*last.notes, note))
    else:
        s.message_notes.append(note)
