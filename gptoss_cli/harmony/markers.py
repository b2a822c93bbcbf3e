"""Reading what servers leave of Harmony's markers: pure text functions, no parser state.

With special tokens stripped, ``<|start|>assistant<|channel|>final<|message|>`` leaves the word
``assistantfinal`` glued between two messages; a header with a recipient leaves
``assistantcommentary to=functions.f json``. :func:`stripped_header` reads such a header from
the text where it may start; :class:`JsonEnd` finds where a tool call's JSON arguments end.
"""

from __future__ import annotations

import re

#: A channel word where a stripped header may start ("Analysis" capitalised too).
_CHANNEL_AT = re.compile(r"(?i:analysis)|commentary|final")
_GLUED_CHANNEL = re.compile(r"analysis|commentary|final")
_NAME_CHARS = r"[\w.\-:/]"
#: `` to=NAME``: the name stops before a channel word glued to it (``functions.fcommentary json``)
#: or at the first character a tool name cannot hold.
_TO = re.compile(
    r" ?to=([A-Za-z_]" + _NAME_CHARS + r"*?)"
    r"(?=(?:analysis|commentary|final)(?:[\s{\[<\"]|json|code|$)|(?:json|code)[{\[\n]|[^\w.\-:/]|$)"
)
#: The content type between a stripped header's recipient and its arguments: ``json``,
#: ``code``, ``code=python``, with up to 40 characters of junk before it (``<junk>json``).
_TYPE = re.compile(r"[ \t]*[^\n{\[\"]{0,40}?(json|code(?:=\w*)?)(?!\w)[ \t]*\n?")
#: A marker inside stripped text: ``assistant`` + header, or a channel word glued to punctuation
#: or a line break before it (``}.analysisWe need``, ``line.\nfinalHello``).
MARK = re.compile(r"assistant|(?<=[^\w ])(?:(?i:analysis)|final|commentary)")
WEAK_WORDS = ("analysis", "final", "commentary")
#: :func:`stripped_header`'s answer when the text so far cannot tell yet.
MORE = object()

StrippedHeader = tuple[str | None, str | None, str | None, str]


def stripped_header(
    text: str, *, final: bool, strong: bool, quote: str = "", start: bool = False
) -> StrippedHeader | object | None:
    """Read ``channel[ to=recipient][ type]`` (or `` to=recipient[channel][ type]``), markers stripped.

    ``strong``: the text followed the word ``assistant`` (``assistantfinal``); a weak marker is
    a channel word alone. A stripped marker is glued to the message it opens
    (``.assistantfinalThe answer``, ``analysisWe need``): with a space after it (``assistantfinal
    then``) or inside quotes (``"assistantfinal"``, ``quote`` is the character before it) it
    is the reasoning talking about the format. Only ``analysis`` is read more loosely: a false
    analysis costs nothing but hiding text. Returns (channel, recipient, content type, rest),
    ``MORE`` when the text so far cannot tell yet, or ``None`` when it is not such a header.
    ``final``: no more text will come. ``start``: the text opens the output, where a weak marker
    may be followed by any character but a lowercase letter or a space (``final{"a": 1}``).
    """
    channel: str | None = None
    pos = 0
    m = _CHANNEL_AT.match(text)
    if m:
        channel, pos = m.group().lower(), m.end()
        if channel != "analysis" and m.group() != channel:
            return None
        while (more := _CHANNEL_AT.match(text, pos)) is not None:
            # glued channel words (``finalanalysis``): any analysis makes it analysis
            if more.group().lower() == "analysis":
                channel = "analysis"
            pos = more.end()
        tail = text[pos:]
        if not tail:
            return (channel, None, None, "") if final else MORE
        if not final and any(w.startswith(tail.lower()) for w in WEAK_WORDS):
            return MORE  # "finala" may go on to "finalanalysis"
        if len(tail) < 4 and tail[0] == " " and " to=".startswith(tail) and not final:
            return MORE
        if not tail.startswith(" to="):
            if tail[0].isalpha() and tail[0].islower() and not strong:
                return None  # "finally", "analysiss": a word, not a marker
            if channel != "analysis" and (tail[0].isspace() or (quote and tail[0] == quote)):
                return None  # "final answer", "assistantfinal then", "`assistantfinal`": prose
            glued = tail[0].isupper() or tail[0] in "0123456789*#"
            if not (strong or start or channel == "analysis" or glued):
                return None  # "(final)", "final." in prose
            return channel, None, None, tail
    elif not (text.startswith("to=") or text.startswith(" to=")):
        if (
            not final
            and text
            and (
                any(w.startswith(text.lower()) for w in ("analysis", " to=", "to="))
                or any(w.startswith(text) for w in ("commentary", "final"))
            )
        ):
            return MORE
        return None
    r = _TO.match(text, pos)
    if r is None:
        return MORE if not final and text[pos:].lstrip(" ") == "to=" else None
    if r.end() == len(text) and not final:
        return MORE
    recipient, pos = r.group(1), r.end()
    if channel is None:
        c = _GLUED_CHANNEL.match(text, pos)
        if c:
            channel, pos = c.group(), c.end()
    rest = text[pos:]
    t = _TYPE.match(rest)
    if t and t.end() == len(rest) and not final:
        return MORE  # "code=" may go on to "code=python", "json" to "json\n"
    if t:
        kind = t.group(1).rstrip("=")
        return channel, recipient, "<|constrain|>json" if kind == "json" else kind, rest[t.end() :]
    if rest.lstrip(" \t\n")[:1] in ("{", "["):
        return channel, recipient, None, rest.lstrip(" \t\n")
    if not final and len(rest) < 48 and "\n" not in rest:
        return MORE
    return channel, recipient, None, rest.lstrip(" ")


def punct(ch: str) -> bool:
    """Whether a weak marker may follow ``ch``: punctuation or a line break, not a word or a space."""
    return bool(ch) and not ch.isalnum() and ch not in " _"


class JsonEnd:
    """Where a JSON object or array that arrives in pieces ends (strings and escapes respected)."""

    __slots__ = ("depth", "done", "escape", "in_string", "started")

    def __init__(self) -> None:
        self.depth = 0
        self.started = False
        self.in_string = False
        self.escape = False
        self.done = False

    def feed(self, text: str) -> int | None:
        """Index just past the value's end, -1 if it has not ended, None if this is not JSON."""
        for i, ch in enumerate(text):
            if not self.started:
                if ch.isspace():
                    continue
                if ch not in "{[":
                    return None
                self.started = True
                self.depth = 1
            elif self.in_string:
                if self.escape:
                    self.escape = False
                elif ch == "\\":
                    self.escape = True
                elif ch == '"':
                    self.in_string = False
            elif ch == '"':
                self.in_string = True
            elif ch in "{[":
                self.depth += 1
            elif ch in "}]":
                self.depth -= 1
                if self.depth == 0:
                    self.done = True
                    return i + 1
        return -1
