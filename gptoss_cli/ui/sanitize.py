"""The one sanitiser for text shown on a terminal (model text, tool activity, approval prompts, ``show``).

Text from a model, a tool or a conversation file is data: it must never drive the terminal. Every
control character but tab and newline is replaced by a visible stand-in, so a control sequence shows
as what it is instead of acting:

- C0 controls and DEL become their Unicode control pictures: ``ESC [ 2 J`` shows as ``␛[2J``, an OSC
  title change ``ESC ] 0 ; x BEL`` as ``␛]0;x␇``. With its ESC (or C1 introducer) replaced, no CSI,
  OSC, DCS, APC or PM sequence can start, so their remaining bytes are inert printable text.
- C1 controls (U+0080..U+009F, which some terminals read as 8-bit CSI/OSC/DCS) become ``\\x9b``-style text.
- Bidirectional overrides and isolates (U+202A..U+202E, U+2066..U+2069), which can make a line display
  in another order than it runs, become ``<U+202E>``-style text.
- CRLF becomes a newline; a lone CR (which would let later text overwrite the line) becomes ``␍``.

Piped output is not sanitised: a file or pipe receives the model's text byte for byte. The fast path
(no such character, nearly every streamed token) is ``str.isprintable()`` or one regular-expression search.
"""

from __future__ import annotations

import re
from typing import TextIO

__all__ = ["for_stream", "sanitize"]

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

_TABLE: dict[int, str] = {c: chr(0x2400 + c) for c in range(0x20) if c not in (0x09, 0x0A)}
_TABLE[0x7F] = "\u2421"  # ␡
_TABLE.update({c: f"\\x{c:02x}" for c in range(0x80, 0xA0)})
_TABLE.update({c: f"<U+{c:04X}>" for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))})


def sanitize(text: str) -> str:
    """``text`` safe to write to a terminal: every control character neutralised, visibly."""
    # str.isprintable() is False for every control (Cc) and format (Cf, bidi) character, and costs
    # ~50 ns on a token; tokens with a newline or tab take the regular expression.
    if text.isprintable() or _UNSAFE.search(text) is None:
        return text
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    return text.translate(_TABLE)


def for_stream(stream: TextIO, text: str) -> str:
    """``text`` sanitised when ``stream`` is a terminal, untouched for a pipe or file."""
    return sanitize(text) if _isatty(stream) else text


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or exotic stream
        return False
