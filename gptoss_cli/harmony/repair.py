"""Lenient repairs: what the parser does with real gpt-oss output that strict parsing refuses.

Functions of the :class:`~gptoss_cli.harmony.parser.StreamParser` they repair: control tokens in
the wrong place, headers without ``<|message|>``, stray text between messages, and output whose
special tokens the server stripped (``analysis...assistantfinal...``). Every repair is recorded in
the message's notes. Analysis text is never classified as final.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from . import tokens as T
from .header import KNOWN_CHANNELS, RUST_WHITESPACE, Header, parse_lenient
from .types import Role

if TYPE_CHECKING:
    from .parser import StreamParser

TERMINATOR_TEXT = {
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


def special_in_header(p: StreamParser, token: int) -> None:
    if token == T.START:
        partial = "".join(p._header).strip()
        p._notes.append(
            f"incomplete header {partial[:40]!r} discarded at <|start|>" if partial else "repeated <|start|>"
        )
        notes, role = p._notes, p._next_role
        p._begin_header(implicit=False)
        p._notes, p._next_role = notes, role
    elif token in (T.CHANNEL, T.CONSTRAIN):
        p._header.append(T.SPECIAL_TEXT[token])
    elif token in TERMINATOR_TEXT:
        header_ended_by(p, TERMINATOR_TEXT[token])
    else:
        p._notes.append(f"{T.SPECIAL_TEXT[token]} in header ignored")


def header_ended_by(p: StreamParser, terminator: str | None) -> bool:
    """A header ended without ``<|message|>``; the text after its fields is the body."""
    text = p._header_string()
    if not text.strip(RUST_WHITESPACE):
        return False
    if (
        p._next_role is None
        and not p._implicit
        and not text.lstrip().startswith(tuple(r.value for r in Role))
    ):
        p._notes.append(f"header without a role dropped: {text[:40]!r}")
        return False
    header, body, notes = parse_lenient(text, p._role_hint(), prefix_only=True)
    if not body:
        if terminator is not None:
            p._notes.append(f"{terminator} inside a header ignored")
        return False
    p._notes.extend(notes)
    p._notes.append("missing <|message|>: the header's remaining text taken as content")
    if header.channel is None and header.recipient is None and header.role is Role.ASSISTANT:
        header = Header(header.role, header.name, "final", None, header.content_type)
        p._notes.append("no channel: treated as final")
    p._open_message(header)
    p._content.append(body)
    p._deltas.append(body)
    p._finish_message(terminator)
    return True


# --- headerless output: bare text or special tokens stripped by the server ---------------


def decide(p: StreamParser, *, final: bool) -> None:
    """First message, no special token yet: normal header, stripped markers, or bare text."""
    head = "".join(p._header).lstrip(RUST_WHITESPACE)
    found = _stripped_header(head.removeprefix("assistant"), final=final)
    if found is _MORE:
        if not final and len(head) < 256:
            return
        found = None
    if isinstance(found, tuple):
        p._undecided = False
        open_stripped(p, *found, first=True)
        return
    if not final and _could_be_header(head):
        return
    if final or len(head) >= _BARE_AFTER or "\n" in head:
        p._undecided = False
        p._open_message(Header(p._next_role or Role.ASSISTANT, None, "final"))
        p._notes.append("no Harmony header: the text taken as the final answer")
        emit_stripped(p, head)


def open_stripped(
    p: StreamParser, channel: str, recipient: str | None, content_type: str | None, rest: str, *, first: bool
) -> None:
    """Open a message whose markers the server stripped (``analysis...assistantfinal...``)."""
    role = (p._next_role or Role.ASSISTANT) if first else Role.ASSISTANT
    p._open_message(Header(role, None, channel, recipient, content_type))
    p._notes.append("special tokens missing from the output (stripped by the server?)")
    p._stripped = True
    p._sbuf = ""
    if rest:
        stripped_text(p, rest)


def stripped_text(p: StreamParser, text: str) -> None:
    buf = p._sbuf + text
    pos = 0
    while True:
        at = buf.find("assistant", pos)
        if at < 0:
            break
        found = _stripped_header(buf[at + len("assistant") :], final=False)
        if found is _MORE:
            if len(buf) - at < 256:
                emit_stripped(p, buf[:at])
                p._sbuf = buf[at:]
                return
        elif isinstance(found, tuple):
            emit_stripped(p, buf[:at])
            p._finish_message(None)
            open_stripped(p, *found, first=False)
            return
        pos = at + 1
    hold = 0
    for n in range(min(len(buf), len("assistant")), 0, -1):
        if "assistant".startswith(buf[-n:]):
            hold = n
            break
    emit_stripped(p, buf[: len(buf) - hold])
    p._sbuf = buf[len(buf) - hold :]


def emit_stripped(p: StreamParser, text: str) -> None:
    if text:
        p._content.append(text)
        p._deltas.append(text)
        p._last_delta = text


def end_stripped(p: StreamParser) -> None:
    rest, p._sbuf = p._sbuf, ""
    p._stripped = False
    emit_stripped(p, rest)


# --- lenient repairs around content -----------------------------------------------------


def special_in_content(p: StreamParser, token: int) -> None:
    if token == T.START:
        p._notes.append("missing <|end|>: message closed by <|start|>")
        p._finish_message(None)
        p._begin_header(implicit=False)
    elif token == T.CHANNEL:
        p._notes.append("missing <|end|>: message closed by a new <|channel|>")
        p._finish_message(None)
        p._begin_header(implicit=True, text=T.SPECIAL_TEXT[T.CHANNEL])
    else:
        p._notes.append(f"{T.SPECIAL_TEXT[token]} removed from content")


def special_between(p: StreamParser, token: int) -> None:
    if token in (T.CHANNEL, T.MESSAGE):
        stray = "".join(p._stray).strip(RUST_WHITESPACE)
        p._stray = []
        role_word = stray if stray in Role._value2member_map_ else ""
        if stray and not role_word:
            note_last(p, f"text between messages ignored: {stray[:40]!r}")
        notes = p._notes
        p._begin_header(implicit=not role_word, text=role_word)
        p._notes = notes
        p._notes.append("missing <|start|> before the header")
        if token == T.CHANNEL:
            p._header.append(T.SPECIAL_TEXT[token])
        else:
            p._end_header()
    elif token in TERMINATOR_TEXT:
        note_last(p, f"extra {T.SPECIAL_TEXT[token]} ignored")
    else:
        note_last(p, f"{T.SPECIAL_TEXT[token]} between messages ignored")


def drop_stray(p: StreamParser, why: str) -> None:
    stray = "".join(p._stray)
    p._stray = []
    if stray.strip(RUST_WHITESPACE):
        note_last(p, f"{why}: {stray[:40]!r}")


def note_last(p: StreamParser, note: str) -> None:
    """A repair between messages: on the parser, and on the message before it (or the next one)."""
    p.notes.append(note)
    if p.messages:
        last = p.messages[-1]
        p.messages[-1] = replace(last, notes=(*last.notes, note))
    else:
        p._notes.append(note)
