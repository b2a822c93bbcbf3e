"""Parsing a message header: ``role[:name] [to=recipient]<|channel|>channel [content type]``.

``parse_strict`` is the reference's algorithm, error for error (each form's: oss-harmony also
drops every further ``<|channel|>value`` after the first). ``parse_lenient`` accepts what
real gpt-oss output looks like (recipient in the role or after the channel, ``<|constrain|>``
with or without a space, garbled channel names, control-token text leaked into names, a body
with no ``<|message|>``) and says what it repaired.
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass, field

from gptoss_cli.errors import ParseError
from gptoss_cli.harmony.types import DEFAULT_FORM, HarmonyForm, Role

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


#: Where Rust's ``str`` Debug output switches between showing a character as is and escaping
#: it as ``\u{..}``: base-36 distances between the switch points, the first from U+0000 (which
#: is escaped). Escaped are the characters Rust's ``core::unicode`` calls non-printable
#: (controls, format characters, separators other than the space, surrogates, private use,
#: unassigned) and the Grapheme_Extend ones, per the Unicode 16.0 tables of the Rust that built
#: openai-harmony 0.0.8, measured against it over every code point. Python's ``unicodedata``
#: is not used: its Unicode version follows the interpreter's, not the reference's.
_DEBUG_ESCAPE_RUNS = (
    "0 w 2 1 1l 1 y y c 1 gi 34 8 2 6 4 7 1 1 1 k 1 68 7 4m 1 12 2 1e 2 3 1a 1 1 1 2 1 2 1 9 r 4 6 h a b "
    "1 1 1a l g 1 2t 8 1 6 2 2 1 4 w 2 1 1 u t 2h b 1 e 17 9 7 3 o 4 1 9 1 3 1 7 f 1 p 5 1 1 b 5 v h 16 "
    "1l 1j 1 1 1 4 8 4 1 3 7 a 2 t 1 2 1 8 2 2 2 m 1 7 1 1 3 4 3 1 1 2 6 2 2 2 1 1 d 2 1 3 4 o 5 1 1 6 4 "
    "2 2 m 1 7 1 2 1 2 1 2 4 3 o 4 1 1 7 a 2 3 1 1 c 1 1 9 1 3 1 m 1 7 1 2 1 5 3 4 8 1 1 2 3 1 f 2 4 c 7 "
    "1 8 2 1 8 2 2 2 m 1 7 1 2 1 5 3 1 2 1 6 2 2 2 f 2 1 3 4 i b 1 1 6 3 3 1 4 3 2 1 1 1 2 3 2 3 3 3 c 5 "
    "1 1 2 3 3 1 3 3 1 l l 6 3 1 8 1 3 1 n 1 g 3 1 3 4 j 3 2 1 2 2 4 a 7 a 1 b 1 3 1 n 1 a 1 5 3 2 2 1 1 "
    "2 o 2 1 2 4 a 1 3 e b 1 3 1 15 2 1 1 2 5 3 1 3 1 2 4 3 1 a 4 q 2 2 1 i 3 o 1 9 1 1 2 7 9 2 6 7 7 a 2 "
    "3 c 1c 1 2 b 8 8 d 11 2 1 1 1 5 1 o 1 1 1 a 1 2 9 1 2 5 1 1 9 a 2 4 w o 2 r 1 1 1 1 1 e 1 10 i 1 5 1 "
    "2 5 1d 8 1 6 1 d 11 19 4 1 6 1 2 2 2 p 2 4 3 g 4 d 1 2 2 6 1 f 1 14 1 1 5 1 2 ah 1 4 2 7 1 1 1 4 2 "
    "15 1 4 2 x 1 4 2 7 1 1 1 4 2 f 1 1l 1 4 2 1v 5 t 3 q 6 2e 2 6 2 hs 1 s 3 2h 7 i d j 3 2 9 i e d 1 3 "
    "f 1g 2 1 7 8 1 2 b 9 3 a 6 a 6 b 5 a 6 2h 7 5 2 y 1 1 5 1y a v 4 4 2 3 4 2 1 6 7 1 3 16 2 5 b 18 4 q "
    "6 b 3 1l 2 2 3 1k 1 1 9 1 1 2 8 6 d a 6 a 6 e 2e 1c a 4 3 8 1 t 9 c 2 w 4 2 6 1k 1 1 2 3 1 1 d 1c 8 "
    "2 5 f 3 1q 5 17 2 b b 1 d 1 7 4 1 6 1 3 2 1 5 5c 1s 7q 2 6 2 12 2 6 2 8 1 1 1 1 1 1 1 v 2 1h 1 f 1 e "
    "2 6 1 j 2 3 1 9 h o 8 1b h 2 2 r 1 d 3 x 1r 3w 4 ii m b l 1ec 2 w 1 9k 3 2 5 19 1 1 5 1 2 1k 7 2 f n "
    "9 7 1 7 1 7 1 7 1 7 1 7 1 7 1 7 x 2m y q 1 2h c 5y q g 1 15 6 g 1 2e 4 2t 5 17 1 2m 1 2e 9 1c 1 mlp "
    "3 1j 9 9o k 1b 4 1 a w 2 28 2 6 8 5q 2 2 1 1 1 8 l g 1 3 1 4 1 p 2 5 4 a 6 1k 8 1w a c o d 1 12 8 p "
    "b 1 c u 6 1c 1 2 4 2 2 2 1 d 1 b 4 7 1 p 1 15 6 2 2 2 b 3 1 8 1 1 2 a 2 w 1 1f 1 1 3 2 2 5 2 1 1 1 o "
    "h 2 8 b 6 2 6 2 6 9 7 1 7 1 1o 4 39 1 2 1 4 3 a 6 8mc c n 4 1d 6is a6 2 2y 12 7 c 5 5 1 1 o 1 5 1 1 "
    "1 2 1 2 1 3h g cd 2 1i 7 1 w g g a m z 1 j 1 4 4 5 1 3r 4 4d 2 v 3 6 2 6 2 6 2 3 3 7 1 7 d 2 2 c 1 q "
    "1 j 1 2 1 f 2 e y 3f 5 3 4 19 3 2g 1 d 3 1 1b 19 3n t 3 1d g r 4 10 9 u 5 12 a u 1 11 4 e 16 4e 2 a "
    "6 10 4 10 4 14 8 1g b c 1 f 1 7 1 2 1 b 1 f 1 7 1 2 3 1g c 8n 9 m a 8 o 6 1 16 1 9 1x 6 2 1 1 18 1 2 "
    "3 1 2 n 1 20 8 9 1c j 1 2 5 x 3 r 5 1 1s 1k 4 k 2 1b f 4 1 3 1 t a 9 7 9 7 1s w 11 6 c 9 1i 3 t 2 r "
    "5 q 7 4 c 7 28 21 1j 1f d 1f 7 16 c a 6 12 8 o 8 2 5s v 1 16 3 1 2 2 g 3 1n 14 8 m b 9 m i 4 4 12 s "
    "k n 9 1 1 1i f 7 4 u 1 2 2 1 c 1d 4 2 2 2 1 4 e p 7 a 9 10 5 1 9 i 8 z 1 3 b 1g 9 1 1 8 4 2 1 g 1 k "
    "b i 1 s 3 2 4 6 1 2 1r 7 1 1 1 4 1 f 1 b 6 1b 1 3 d a 8 2 1 8 2 2 2 m 1 7 1 2 1 5 3 1 1 1 1 4 2 2 2 "
    "2 3 1 c 7 s a 1 1 2 1 1 12 1 1 1 2 f 1 1 2 3 1 1 3 1 2 13 1k 8 2 3 1 1 l 1 1 1 3 u 1c 1 2 6 1 1 2 1 "
    "1 2 1 2 4 8 a 4m 1b 1 2 6 4 2 1 2 r 10 1f 8 2 1 1 2 4 b a 6 d j 17 1 1 1 2 8 2 6 a 6 k s r 3 1 1 2 4 "
    "1 9 n 55 1b 9 1 2 1 2s 2b c 8 2 1 2 8 1 2 1 o 1 5 1 2 6 4 1 3 9 a 1y 8 2 16 8 4 1 4 r 1 a 14 6 2 4 8 "
    "9 1 6 2 3 1a d 1 2 9 d 21 7 a 52 y e a 6 9 1 12 e 1 1 6 a t 3 w p 1 7 1 2 1 23 7 1 2 1 12 l 1 9 a 6 "
    "6 1 2 1 11 4 2 1 1 1 1 7 a 8m j 2 4 9 f 1 10 8 2 3 n 2e 1 f 1e d pn 2u 33 1 5 b 5g 218 2r d ts h 6 p "
    "32z 5 g7 5a1 u c 3 3 a 1c6 ft 7 v 1 a 4 29 1 a 6 u 7 1 a 1c 7 f a a 1 7 1 l 5 j c0 1m 5i 2j 2t 23 5 "
    "1k b d 1s 4 s 4qg 8 ye 15 a 6w7 4 1 7 1 2 1 83 f 1 t 3 2 1 e 4 8 b0 1s4 2z 5 d 3 9 7 a 2 1 2 1 31c "
    "6y 6 c4 4c 38 1o 6u a 13 2 1o 5 3 m 2 7 u 4 1p l 1u 3 1 3e k c k c 2f 9 p 3r 2d 1 1z 1 2 2 1 2 2 2 4 "
    "1 c 1 1 1 7 1 1t 1 4 2 8 1 7 1 s 1 4 1 5 1 1 3 7 1 9g 2 84 2 fm 1j 4 1e 8 1 e 1 7 vo v 6 6 79 1q 42 "
    "19 a 7 2 a 4 2 8w u i 18 4 a 5 1 cw s 4 a 5y u 2 b 4 1 dc 7 1 4 1 2 1 f 1 5h 2 9 1c 1w 7 1 4 a 4 2 "
    "lt 1w 24 1p 5e 4 1 r 1 2 1 1 2 1 1 a 1 4 1 1 1 1 6 1 4 1 1 1 1 1 1 3 1 2 1 1 2 1 1 1 1 1 1 1 1 1 1 2 "
    "1 1 2 4 1 7 1 4 1 4 1 1 1 a 1 h 5 3 1 5 1 h 1g 2 7i 18 4 2s c f 2 f 1 f 1 11 a 4u 1k t d 18 4 9 7 2 "
    "e 6 4a rc 4 h 3 d 3 3b 4 2n 6 c 4 1 f c 4 1k 8 a 6 14 8 u 2 c 4 2 1q 9g c e 2 d 3 a 5 1k 7 f 2 b 6 9 "
    "7 43 1 2u sm wyo w 37e 6 66 2 4g2 e 5rl f ha 1wi f2 15u 3t7 5 38g"
)
_SHORT_ESCAPES = {"\0": "\\0", "\t": "\\t", "\r": "\\r", "\n": "\\n", '"': '\\"', "\\": "\\\\"}


@functools.cache
def _debug_escape_switches() -> tuple[int, ...]:
    switches: list[int] = []
    point = 0
    for distance in _DEBUG_ESCAPE_RUNS.split():
        point += int(distance, 36)
        switches.append(point)
    return tuple(switches)


def _debug_escaped(ch: str) -> bool:
    """Whether Rust's ``str`` Debug writes ``ch`` as ``\\u{..}``."""
    return bisect.bisect_right(_debug_escape_switches(), ord(ch)) % 2 == 1


def rust_debug_str(value: str) -> str:
    """A string as Rust's ``{:?}`` shows it (quotes, escapes), for the reference's messages."""
    out = ['"']
    for ch in value:
        short = _SHORT_ESCAPES.get(ch)
        if short is not None:
            out.append(short)
        elif _debug_escaped(ch):
            out.append(f"\\u{{{ord(ch):x}}}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _cut_channel(header: str, idx: int) -> tuple[str, str]:
    """The header without the ``<|channel|>value`` at ``idx``, and that value (up to a space or ``<``)."""
    after = header[idx + len(CHANNEL_MARK) :]
    m = _CHANNEL_END.search(after)
    end = m.start() if m else len(after)
    return header[:idx] + after[end:], after[:end]


def _extract_channel(header: str, form: HarmonyForm = DEFAULT_FORM) -> tuple[str, str | None]:
    """Take the first ``<|channel|>value`` out of the header (reference rule).

    oss-harmony then removes every further ``<|channel|>`` marker with its value (an empty value
    included), so ``<|channel|>final<|channel|>analysis`` is the final channel and nothing else;
    openai-harmony leaves them in the header, where they become a recipient or content type.
    """
    idx = header.find(CHANNEL_MARK)
    if idx < 0:
        return header, None
    header, value = _cut_channel(header, idx)
    if not value:
        raise ParseError("channel marker present but no channel value found in header")
    if form == "oss":
        extra = header.find(CHANNEL_MARK)
        while extra >= 0:
            header = _cut_channel(header, extra)[0]
            extra = header.find(CHANNEL_MARK)
    return header, value


def _split_parts(header: str) -> list[str]:
    header = header.strip(RUST_WHITESPACE)
    if CONSTRAIN_MARK in header:
        header = header.replace(CONSTRAIN_MARK, " " + CONSTRAIN_MARK).strip(RUST_WHITESPACE)
    return [p for p in _ASCII_WS.split(header) if p]


def parse_strict(header: str, role: Role | None, form: HarmonyForm = DEFAULT_FORM) -> Header:
    """The reference's ``parse_header_from_tokens`` on decoded header text (``form``'s reference)."""
    header, channel = _extract_channel(header, form)
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


def parse_stop_in_header(header: str, role: Role, form: HarmonyForm = DEFAULT_FORM) -> tuple[Header, str]:
    """The reference's non-strict path for a header ended by a stop token: the rest is content."""
    header, channel = _extract_channel(header, form)
    parts = _split_parts(header)
    if parts and parts[0] == role.value:
        parts.pop(0)
    return Header(role, None, channel, None, None), " ".join(parts)


# --- lenient ---------------------------------------------------------------------------------

_GLUED_CHANNEL = re.compile(r"(?:(?i:analysis)|commentary|final)+")
_LEX = re.compile(r"<\|[A-Za-z0-9_]*\|>|[^\s<]+|<")
_NAME = re.compile(r"^[A-Za-z_][\w.\-:/]*$")
_CONTENT_TYPES = ("json", "code", "text", "markdown")


def _looks_like_tool(word: str) -> bool:
    """A bare header word taken as a recipient only when it names a tool (``functions.x``, ``python``)."""
    return bool(_NAME.match(word)) and ("." in word or word in ("python", "browser", "container"))


def normalize_channel(raw: str) -> str | None:
    """A garbled channel name as a known channel, or ``None`` when it is not clearly one.

    Letters decide: ``final??`` and ``--final`` are final, ``Analysis`` is analysis,
    ``commentary.extra`` is commentary. A name that mentions analysis anywhere is analysis
    (``finalanalysis``): reasoning is never promoted to the answer by a guess. Anything else
    (``fnal``, ``final_answer``) is no known channel.
    """
    if raw in KNOWN_CHANNELS:
        return raw
    letters = re.sub(r"[^a-z]", "", raw.lower())
    if "analysis" in letters:
        return "analysis"
    if letters == "final":
        return "final"
    if letters.startswith("commentary"):
        return "commentary"
    return None


def is_clean(h: Header) -> bool:
    """Whether a strictly parsed header has nothing a careful reader would repair."""
    if h.channel is not None and h.channel not in KNOWN_CHANNELS:
        return False
    if h.recipient is not None and (
        "<|" in h.recipient
        or not h.recipient
        or h.recipient in KNOWN_CHANNELS
        or h.recipient in _CONTENT_TYPES
    ):
        return False  # a channel word or a content type alone is not a recipient
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
            glued = _GLUED_CHANNEL.match(nxt) if prefix_only and nxt_is_value and nxt is not None else None
            if glued is not None and nxt is not None and glued.end() < len(nxt):
                # no <|message|>: the body is glued to the channel name (``<|channel|>finalHello``)
                s.channels.append(glued.group())
                notes.append(f"body glued to the channel name {glued.group()!r}")
                s.end = tokens[i + 1][1] + glued.end()
                break
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
    if channel is None:
        # a channel word elsewhere in the header (``<|channel|>@ analysis``)
        for word in s.words:
            known = normalize_channel(word) if _GLUED_CHANNEL.search(word.lower()) else None
            if known is not None:
                channel = known
                s.words.remove(word)
                notes.append(f"channel {known!r} read from the header word {word!r}")
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
        elif (
            s.recipient is not None
            and content_type is not None
            and content_type.startswith(CONSTRAIN_MARK)
            and words
            and all(_NAME.match(w) for w in words)
        ):
            # a tool name with a space (LM Studio's "Web Search"): the words up to <|constrain|>
            recipient = " ".join([s.recipient, *words])
            notes.append(f"recipient with spaces: {recipient!r}")
            words = []
        if content_type is None and words and _NAME.match(words[-1]):
            content_type = words.pop()
        if words:
            notes.append(f"extra header words ignored: {' '.join(words)!r}")
    if recipient is not None and (recipient == "" or recipient.startswith("<|")):
        recipient = None
    return Header(role, name, channel, recipient, content_type), body, notes
