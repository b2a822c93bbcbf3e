"""Splitting streamed Harmony text into ordinary text and special tokens.

Chunks may be cut anywhere, even inside a special token (``<|chan`` + ``nel|>``): a tail that
could still become a special token is held back until the next chunk decides it.
"""

from __future__ import annotations

import functools

from gptoss_cli.harmony.tokens import MAX_SPECIAL_LEN, SPECIAL_IDS

Lexeme = str | int


@functools.cache
def _prefixes() -> frozenset[str]:
    return frozenset(text[:n] for text in SPECIAL_IDS for n in range(1, len(text)))


class TextLexer:
    """Feed text chunks, get text pieces and special-token ids; the result never depends on the cuts."""

    __slots__ = ("_hold",)

    def __init__(self) -> None:
        self._hold = ""

    def feed(self, chunk: str) -> list[Lexeme]:
        text = self._hold + chunk if self._hold else chunk
        self._hold = ""
        out: list[Lexeme] = []
        last = 0
        pos = text.find("<|")
        while pos >= 0:
            close = text.find("|>", pos + 2, pos + MAX_SPECIAL_LEN)
            token = SPECIAL_IDS.get(text[pos : close + 2]) if close >= 0 else None
            if token is None:
                pos = text.find("<|", pos + 1)
                continue
            if pos > last:
                out.append(text[last:pos])
            out.append(token)
            last = close + 2
            pos = text.find("<|", last)
        tail_start = text.rfind("<", max(last, len(text) - MAX_SPECIAL_LEN + 1))
        if tail_start >= 0 and text[tail_start:] in _prefixes():
            self._hold = text[tail_start:]
            end = tail_start
        else:
            end = len(text)
        if end > last:
            out.append(text[last:end])
        return out

    @property
    def holding(self) -> bool:
        """Whether a possible start of a special token is held back."""
        return bool(self._hold)

    def flush(self) -> list[str]:
        """The held-back tail at the end of the stream (it was ordinary text after all)."""
        hold, self._hold = self._hold, ""
        return [hold] if hold else []
