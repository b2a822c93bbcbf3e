"""Parsing a message header: ``role[:name] [to=recipient]<|channel|>channel [content type]``.

``parse_strict`` is the reference's algorithm, error for error. ``parse_lenient`` accepts what
real gpt-oss output looks like (recipient in the role or after the channel, ``<|constrain|>``
with or without a space, garbled channel names, control-token text leaked into names, a body
with no ``<|message|>``) and says what it repaired.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import ParseError
from .types import Role

CHANNEL_MARK = "<|channel|>"
CONSTRAIN_MARK = "<|constrain|>"
KNOWN_CHANNELS = ("analysis", "commentary", "final")
#: Rust's ``char::is_whitespace`` (Unicode White_Space), unlike Python's ``str.isspace``.
RUST_WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
_ASCII_WS = re.compile(r"[\t\n\x0c\r ]+")
_CHANNEL_END = re.compile("[" + re.escape(RUST_WHITESPACE) + "<]")


@dataclass(frozen=True, slots=True)
class Header:
    """A parsed header (the author's name is set only for tools named in the header)."""

    role: Role
    name: str | None = None
    channel: str | None = None
    recipient: str | None = None
    content_type: str | None = None


def rust_debug_str(value: str) -> str:
    """A string as Rust's ``{:?}`` shows it (quotes, escapes), for the reference's messages."""
    out = ['"']
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{{{ord(ch):x}}}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _extract_channel(header: str) -> tuple[str, str | None]:
    """Take the first ``<|channel|>value`` out of the header (reference rule)."""
    idx = header.find(CHANNEL_MARK)
    if idx < 0:
        return header, None
    after = header[idx + len(CHANNEL_MARK) :]
    m = _CHANNEL_END.search(after)
    end = m.start() if m else len(after)
    value = after[:end]
    if not value:
        raise ParseError("channel marker present but no channel value found in header")
    return header[:idx] + after[end:], value


def _split_parts(header: str) -> list[str]:
    header = header.strip(RUST_WHITESPACE)
    if CONSTRAIN_MARK in header:
        header = header.replace(CONSTRAIN_MARK, " " + CONSTRAIN_MARK).strip(RUST_WHITESPACE)
    return [p for p in _ASCII_WS.split(header) if p]


def parse_strict(header: str, role: Role | None) -> Header:
    """The reference's ``parse_header_from_tokens`` on decoded header text."""
    header, channel = _extract_channel(header)
    parts = _split_parts(header)
    name: str | None = None
    if role is None:
        if not parts:
            raise ParseError("message header did not contain a role")
        role_str = parts[0]
        try:
            role = Role.parse(role_str)
        except ValueError:
            if len(parts) > 1 or parts[0].startswith("to="):
                parts.pop(0)
                role = Role.TOOL
            else:
                raise ParseError(f"Unknown role: {role_str}") from None
        if role is Role.TOOL:
            name = role_str
    if parts and parts[0] == role.value:
        parts.pop(0)
    recipient: str | None = None
    content_type: str | None = None
    if parts:
        count = len(parts)
        last = parts.pop()
        if last.startswith("to="):
            recipient = last[3:]
        elif count == 1:
            recipient = last
        else:
            content_type = last
            if parts:
                raw = parts.pop()
                recipient = raw[3:] if raw.startswith("to=") else raw
    if parts:
        rest = " ".join(parts)
        raise ParseError(f"unexpected tokens remaining in message header: Some({rust_debug_str(rest)})")
    return Header(role, name, channel, recipient, content_type)


def parse_stop_in_header(header: str, role: Role) -> tuple[Header, str]:
    """The reference's non-strict path for a header ended by a stop token: the rest is content."""
    header, channel = _extract_channel(header)
    parts = _split_parts(header)
    if parts and parts[0] == role.value:
        parts.pop(0)
    return Header(role, None, channel, None, None), " ".join(parts)


# --- lenient ---------------------------------------------------------------------------------

_LEX = re.compile(r"<\|[A-Za-z0-9_]*\|>|[^\s<]+|<")
_NAME = re.compile(r"^[A-Za-z_][\w.\-:/]*$")
_CONTENT_TYPES = ("json", "code", "text", "markdown")


def _looks_like_tool(word: str) -> bool:
    """A bare header word taken as a recipient only when it names a tool (``functions.x``, ``python``)."""
    return bool(_NAME.match(word)) and ("." in word or word in ("python", "browser", "container"))


def normalize_channel(raw: str) -> str | None:
    """A garbled channel name (``commentary?``, ``--final``) as a known channel, or ``None``."""
    if raw in KNOWN_CHANNELS:
        return raw
    letters = re.sub(r"[^a-z]", "", raw.lower())
    for known in KNOWN_CHANNELS:
        if letters == known or letters.startswith(known):
            return known
    return None


def is_clean(h: Header) -> bool:
    """Whether a strictly parsed header has nothing a careful reader would repair."""
    if h.channel is not None and h.channel not in KNOWN_CHANNELS:
        return False
    if h.recipient is not None and ("<|" in h.recipient or not h.recipient):
        return False
    if h.content_type is not None:
        rest = h.content_type.removeprefix(CONSTRAIN_MARK)
        if "<|" in rest or not rest:
            return False
    return not (h.name is not None and "<|" in h.name)


def _clean_name(value: str) -> str:
    """Cut leaked control-token text off a name: ``manage_cart<|channel|>x`` -> ``manage_cart``."""
    return value.split("<|", 1)[0].strip()


@dataclass(slots=True)
class _Scan:
    role: Role | None = None
    name: str | None = None
    channels: list[str] = field(default_factory=list)
    recipient: str | None = None
    content_type: str | None = None
    words: list[str] = field(default_factory=list)
    end: int = 0  # where the header elements stop (for a body with no <|message|>)


def _scan(header: str, role_hint: Role | None, *, prefix_only: bool) -> tuple[_Scan, list[str]]:
    notes: list[str] = []
    s = _Scan()
    tokens = [(m.group(), m.start(), m.end()) for m in _LEX.finditer(header)]
    i = 0
    while i < len(tokens):
        tok, _start, stop = tokens[i]
        nxt = tokens[i + 1][0] if i + 1 < len(tokens) else None
        nxt_is_value = nxt is not None and not nxt.startswith("<|")
        if tok == CHANNEL_MARK:
            if nxt_is_value and nxt is not None:
                s.channels.append(nxt)
                i += 1
                stop = tokens[i][2]
            else:
                notes.append("empty channel name")
        elif tok == CONSTRAIN_MARK:
            if nxt_is_value and nxt is not None:
                s.content_type = CONSTRAIN_MARK + _clean_name(nxt)
                i += 1
                stop = tokens[i][2]
            else:
                notes.append("<|constrain|> without a format")
        elif tok.startswith("<|"):
            notes.append(f"control token {tok} in header ignored")
        elif tok.startswith("to=") and s.recipient is None:
            s.recipient = _clean_name(tok[3:]) or None
        elif s.role is None and not s.words and tok.split(":", 1)[0] in Role._value2member_map_:
            role_word, _, name = tok.partition(":")
            s.role = Role(role_word)
            s.name = name or None
        elif not s.channels and not s.words and tok in KNOWN_CHANNELS and s.recipient is None:
            s.channels.append(tok)
            notes.append(f"channel {tok!r} without <|channel|>")
        elif prefix_only:
            break
        else:
            s.words.append(tok)
        s.end = stop
        i += 1
    return s, notes


def parse_lenient(
    header: str, role_hint: Role | None, *, prefix_only: bool = False
) -> tuple[Header, str, list[str]]:
    """Parse a header however it came out; returns the header, leftover body text, and notes.

    With ``prefix_only`` the header was ended by a stop token or the end of output (no
    ``<|message|>``): header elements are read from the front and the rest is the body.
    """
    if not prefix_only:
        try:
            strict = parse_strict(header, role_hint)
        except ParseError:
            pass
        else:
            if is_clean(strict):
                return strict, "", []
    s, notes = _scan(header, role_hint, prefix_only=prefix_only)
    notes.insert(0, f"malformed header repaired: {header[:80]!r}")
    words = s.words
    role = role_hint or s.role
    name: str | None = s.name if role_hint is None else None
    if role is None:
        if words and _NAME.match(words[0]) and words[0] not in _CONTENT_TYPES:
            role, name = Role.TOOL, words.pop(0)
            notes.append(f"unknown role {name!r}: read as a tool's name")
        else:
            role = Role.ASSISTANT
            notes.append("no role in header: assumed assistant")
    elif role is Role.TOOL and name is None and words and _NAME.match(words[0]):
        name = words.pop(0)
    elif role_hint is not None and s.role is not None and s.role is not role_hint:
        notes.append(f"role {s.role.value!r} in header ignored")
    channel: str | None = None
    for raw in s.channels:
        known = normalize_channel(_clean_name(raw) or raw)
        if known is not None:
            if known != raw:
                notes.append(f"channel {raw!r} read as {known!r}")
            channel = known
            break
    if channel is None and s.channels:
        channel = s.channels[0]
        notes.append(f"unknown channel {channel!r}")
    if len(s.channels) > 1:
        notes.append(f"several channels in header: {s.channels}")
    recipient, content_type = s.recipient, s.content_type
    body = ""
    if prefix_only:
        body = header[s.end :].lstrip(RUST_WHITESPACE)
    else:
        if recipient is None and words and _looks_like_tool(words[0]):
            recipient = words.pop(0)
        if content_type is None and words and _NAME.match(words[-1]):
            content_type = words.pop()
        if words:
            notes.append(f"extra header words ignored: {' '.join(words)!r}")
    if recipient is not None and (recipient == "" or recipient.startswith("<|")):
        recipient = None
    return Header(role, name, channel, recipient, content_type), body, notes
