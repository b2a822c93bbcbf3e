"""Lenient repairs: what the parser does with real gpt-oss output that strict parsing refuses.

Functions of the :class:`~gptoss_cli.harmony.parser.StreamParser` they repair: control tokens in
the wrong place, headers without ``<|message|>``, stray text between messages, output whose
special tokens the server stripped (``analysis...assistantfinal...``, read with ``markers``),
tool-call arguments that end where their JSON value ends, and messages held until what follows
them tells whether they are the answer (``hold``/``settle``). Every repair is recorded in the
message's notes. Analysis text is never classified as final; text that cannot be told from
reasoning is not either (README, "How gptoss reads broken output").
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from gptoss_cli.harmony import tokens as T
from gptoss_cli.harmony.header import RUST_WHITESPACE, Header, parse_lenient
from gptoss_cli.harmony.markers import MARK, MORE, WEAK_WORDS, punct, stripped_header
from gptoss_cli.harmony.types import Message, Role

if TYPE_CHECKING:
    from gptoss_cli.harmony.parser import StreamParser

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
#: Header text before the first special token that is a header, not the answer.
_HEADERISH = re.compile(
    r"(?:assistant)?(?:\s*(?:to=\S*|functions\.\S*|(?i:analysis)|commentary|final|json|code\S*))*\s*"
)


def drop_runon(p: StreamParser) -> None:
    """End of output after a tool call's arguments: what ran on is dropped, with a note."""
    text = "".join(p._runon or ())
    p._runon = None
    note_last(p, f"output after the tool call dropped (written without its result): {text.strip()[:60]!r}")


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
    p._open_message(header)
    p._content.append(body)
    p._deltas.append(body)
    p._finish_message(terminator)
    return True


# --- headerless output: bare text or special tokens stripped by the server ---------------


def decide(p: StreamParser, *, final: bool) -> str:
    """No special token yet at a message start: a header, stripped markers, or headerless text.

    Returns the text that now belongs to an opened message's content ("" while undecided).
    """
    head = "".join(p._header).lstrip(RUST_WHITESPACE)
    strong = head.startswith("assistant")
    found = stripped_header(
        head[len("assistant") :] if strong else head, final=final, strong=strong, start=True
    )
    if found is MORE:
        if not final and len(head) < _HOLD_MAX:
            return ""
        found = None
    if isinstance(found, tuple):
        p._undecided = False
        return open_stripped(p, *found)
    if not final and _could_be_header(head):
        return ""
    if final or len(head) >= _BARE_AFTER or "\n" in head:
        p._undecided = False
        return open_headerless(p, head)
    return ""


def header_words(p: StreamParser) -> bool:
    """Whether undecided text that a special token ends is header words, not a message of its own.

    Header words: nothing, ``assistant``, ``to=...``, a channel word, a content type. Anything
    else at the start of the output is a message without a header, which the token ends.
    """
    head = "".join(p._header)
    return not head.strip(RUST_WHITESPACE) or _HEADERISH.fullmatch(head) is not None


def open_headerless(p: StreamParser, text: str) -> str:
    """Open a message for text with no Harmony header; what it is is decided when it ends."""
    p._open_message(Header(Role.ASSISTANT))
    p._provisional = "headerless"
    p._notes.append("no Harmony header")
    _start_scan(p)
    return text


def open_stripped(
    p: StreamParser, channel: str | None, recipient: str | None, content_type: str | None, rest: str
) -> str:
    """Open a message whose markers the server stripped (``analysis...assistantfinal...``).

    A stripped ``final`` is held: it is the answer only if nothing but the end of output
    follows it (reasoning may itself contain the word ``assistantfinal``).
    """
    held = channel == "final" and recipient is None
    p._open_message(Header(Role.ASSISTANT, None, None if held else channel, recipient, content_type))
    if held:
        p._provisional = "final"
    p._notes.append("special tokens missing from the output (stripped by the server?)")
    _start_scan(p)
    return rest


def _start_scan(p: StreamParser) -> None:
    p._stripped = True
    p._sbuf = ""
    p._sprev = ""


def stripped_text(p: StreamParser, text: str) -> str:
    """Content of a message with markers stripped: look for the next message's marker.

    Returns the text after a marker (the next message's content) or "".
    """
    buf = p._sbuf + text
    prev = p._sprev
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
                emit_stripped(p, buf[:at])
                p._sbuf = buf[at:]
                return ""
        elif isinstance(found, tuple):
            emit_stripped(p, buf[:at])
            p._sbuf = ""
            p._finish_message(None)
            return open_stripped(p, *found)
        pos = at + 1
    hold = 0
    for n in range(min(len(buf), len("assistant")), 0, -1):
        tail = buf[-n:]
        before = buf[-n - 1] if n < len(buf) else prev
        weak = any(w.startswith(tail.lower() if w == "analysis" else tail) for w in WEAK_WORDS)
        if "assistant".startswith(tail) or (weak and punct(before)):
            hold = n
            break
    emit_stripped(p, buf[: len(buf) - hold])
    p._sbuf = buf[len(buf) - hold :]
    return ""


def emit_stripped(p: StreamParser, text: str) -> None:
    if text:
        p._content.append(text)
        p._deltas.append(text)
        p._last_delta = text
        p._sprev = text[-1]


def stripped_before_special(p: StreamParser) -> None:
    """A special token ends stripped text: a marker held at its end (``...assistantfinal``) is
    complete, and opens its message (``<|message|>`` after it is then a header's end)."""
    held = p._sbuf
    strong = held.startswith("assistant")
    found = None
    if held:  # the held text starts where a marker may: "assistant..." or a glued channel word
        quote = p._sprev if p._sprev in "\"'`" else ""
        found = stripped_header(
            held[len("assistant") :] if strong else held, final=True, strong=strong, quote=quote
        )
    if not isinstance(found, tuple):
        end_stripped(p)
        return
    p._sbuf = ""
    p._finish_message(None)
    rest = open_stripped(p, *found)
    if rest:
        p._text(rest)


def end_stripped(p: StreamParser) -> None:
    rest, p._sbuf = p._sbuf, ""
    p._stripped = False
    emit_stripped(p, rest)


# --- tool-call arguments: they end where their JSON value ends ---------------------------


def json_text(p: StreamParser, text: str) -> str:
    """Content of a tool call: returns what is left once the arguments' JSON value has ended."""
    scan = p._json
    assert scan is not None
    if scan.done:
        i = len(text) - len(text.lstrip(RUST_WHITESPACE))
        if i == len(text):
            emit_stripped(p, text)
            return ""
        emit_stripped(p, text[:i])
        p._notes.append("arguments end where their JSON value ends")
        p._finish_message(None)
        # a tool call ends the turn: what follows was written without the tool's result
        p._expect_start()
        p._runon = [text[i:]]
        return ""
    end = scan.feed(text)
    if end is None:
        p._json = None
        return text
    if end < 0:
        emit_stripped(p, text)
        return ""
    emit_stripped(p, text[:end])
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


def hold(p: StreamParser, message: Message, kind: str, terminator: str | None) -> None:
    """A finished message whose reading depends on what follows: keep it until that is known."""
    if kind == "headerless" and terminator == "<|end|>":
        _done(p, _as(message, "analysis", _READ_AS_REASONING[kind]), terminator)
    elif kind == "final" and terminator == "<|return|>":
        _done(p, _as(message, "final", None), terminator)
    else:
        p._held = (message, kind, terminator)


def settle(p: StreamParser, *, at_end: bool, cut_off: bool = False) -> None:
    """Read the held message: another message follows it, or the output ended (or was cut off)."""
    pending = p._held
    if pending is None:
        return
    p._held = None
    message, kind, terminator = pending
    if not at_end:
        if kind in _READ_AS_REASONING:
            message = _as(message, "analysis", _READ_AS_REASONING[kind])
    elif any(m.channel == "final" and m.recipient is None for m in p.messages):
        message = replace(message, notes=(*message.notes, "after the final answer: not shown"))
    elif cut_off:
        message = replace(message, notes=(*message.notes, CUT_OFF))
    elif kind == "final":
        message = _as(message, "final", None)
    elif p.reasoning_seen:
        message = replace(message, notes=(*message.notes, UNCLEAR))
    else:
        message = _as(message, "final", "taken as the final answer: nothing in the output marks reasoning")
    _done(p, message, terminator)


def _as(message: Message, channel: str, note: str | None) -> Message:
    return replace(message, channel=channel, notes=(*message.notes, note) if note else message.notes)


def _done(p: StreamParser, message: Message, terminator: str | None) -> None:
    if message.channel == "analysis":
        p.reasoning_seen = True
    p._publish(message, terminator)


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
    if p._held is not None:
        message, kind, terminator = p._held
        p._held = (replace(message, notes=(*message.notes, note)), kind, terminator)
    elif p.messages:
        last = p.messages[-1]
        p.messages[-1] = replace(last, notes=(*last.notes, note))
    else:
        p._notes.append(note)
