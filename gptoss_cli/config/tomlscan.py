"""Where each key of a TOML document sits: a small scanner over the text (standard library only).

``tomllib`` returns values without positions, so errors about a key ("unknown key", "expected a
boolean") would name no line. This scanner walks the text once and records, for every table
header and every ``key = value`` pair, the full dotted key path, its line, and the span of its
value. It understands exactly what TOML 1.0 allows on the way: bare, "basic" and 'literal' keys,
dotted keys with spaces around the dots, ``[table]`` and ``[[array]]`` headers, comments, and
values that span lines (multi-line strings, arrays). It is meant for text ``tomllib`` has already
accepted; on other text it does its best and never raises.

The same spans let :mod:`gptoss_cli.config.edit` replace one value in place and keep comments.
"""

from __future__ import annotations

import bisect
import re
import tomllib
from dataclasses import dataclass

__all__ = ["Entry", "KeyPath", "Scan", "format_key", "parse_key", "scan"]

KeyPath = tuple[str, ...]
_BARE = re.compile(r"[A-Za-z0-9_-]+")
_WS = " \t"


@dataclass(frozen=True, slots=True)
class Entry:
    """One header or key/value pair: its full path and where it sits (lines are 1-based)."""

    path: KeyPath
    line: int
    kind: str
    """``"table"``, ``"array"`` (an ``[[array]]`` header) or ``"pair"``."""
    table: KeyPath = ()
    """For a pair: the header it sits under (``()`` at the top level)."""
    value_start: int = 0
    """For a pair: offset of the value's first character in the text."""
    value_end: int = 0
    """For a pair: offset just past the value (before trailing spaces and comment)."""
    end_line: int = 0
    """For a pair: the line the value ends on (a multi-line value ends below ``line``)."""


@dataclass(frozen=True, slots=True)
class Scan:
    """Every entry of a document, in order, with lookups by key path."""

    text: str
    entries: tuple[Entry, ...]

    def line_of(self, path: KeyPath) -> int | None:
        """The line that defines ``path``, or the closest line that explains it.

        An exact header or pair wins; else the pair whose inline value contains ``path``
        (``x = {a = 1}`` for ``x.a``); else the first entry under ``path`` (``[x.y]`` for ``x``).
        """
        inside: int | None = None
        below: int | None = None
        for entry in self.entries:
            if entry.path == path:
                return entry.line
            n = len(entry.path)
            if inside is None and entry.kind == "pair" and n < len(path) and path[:n] == entry.path:
                inside = entry.line
            if below is None and n > len(path) and entry.path[: len(path)] == path:
                below = entry.line
        return inside if inside is not None else below

    def pair(self, path: KeyPath) -> Entry | None:
        """The ``key = value`` pair defining exactly ``path``."""
        for entry in self.entries:
            if entry.kind == "pair" and entry.path == path:
                return entry
        return None

    def header(self, path: KeyPath) -> Entry | None:
        """The ``[table]`` header for exactly ``path``."""
        for entry in self.entries:
            if entry.kind == "table" and entry.path == path:
                return entry
        return None

    def duplicate(self) -> Entry | None:
        """The first pair or header that redefines an earlier one (what tomllib calls "overwrite")."""
        seen: set[KeyPath] = set()
        for entry in self.entries:
            if entry.kind == "array":
                continue
            if entry.path in seen:
                return entry
            seen.add(entry.path)
        return None


def scan(text: str) -> Scan:
    """Scan ``text`` (see the module docstring)."""
    return _Scanner(text).run()


def parse_key(text: str) -> KeyPath | None:
    """A dotted key as TOML reads it (``profiles."my.box".model``), or None if it is not one."""
    scanner = _Scanner(text)
    path = scanner.key()
    return path if path is not None and scanner.pos == len(text) else None


def format_key(part: str) -> str:
    """One key part as TOML writes it: bare when it can be, else a basic string."""
    if _BARE.fullmatch(part):
        return part
    return _basic_string(part)


def _basic_string(value: str) -> str:
    out = ['"']
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line_starts = [0] + [m.end() for m in re.finditer(r"\n", text)]
        self.entries: list[Entry] = []
        self.table: KeyPath = ()

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self.line_starts, offset)

    def run(self) -> Scan:
        text = self.text
        while self.pos < len(text):
            self.skip_blank()
            if self.pos >= len(text):
                break
            ch = text[self.pos]
            if ch == "[":
                self.header()
            elif ch != "#":
                self.pair()
            self.skip_to_eol()  # the rest of the line: a comment, or nothing
        return Scan(text, tuple(self.entries))

    # ------------------------------------------------------------------------------------ lexing

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in _WS:
            self.pos += 1

    def skip_blank(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def skip_to_eol(self) -> None:
        end = self.text.find("\n", self.pos)
        self.pos = len(self.text) if end < 0 else end + 1

    def key(self) -> KeyPath | None:
        """A dotted key at ``pos``; ``pos`` ends after it (and after trailing blanks)."""
        parts: list[str] = []
        while True:
            self.skip_ws()
            part = self.key_part()
            if part is None:
                return None
            parts.append(part)
            self.skip_ws()
            if self.pos < len(self.text) and self.text[self.pos] == ".":
                self.pos += 1
                continue
            return tuple(parts)

    def key_part(self) -> str | None:
        text = self.text
        if self.pos >= len(text):
            return None
        ch = text[self.pos]
        if ch in "\"'":
            end = self.string_end(self.pos)
            quoted = text[self.pos : end]
            self.pos = end
            try:
                value = tomllib.loads(f"{quoted} = 0")
            except tomllib.TOMLDecodeError:
                return None
            return next(iter(value))
        match = _BARE.match(text, self.pos)
        if not match:
            return None
        self.pos = match.end()
        return match.group()

    def string_end(self, start: int) -> int:
        """Offset just past the string starting at ``start`` (any of TOML's four kinds)."""
        text = self.text
        quote = text[start]
        triple = text.startswith(quote * 3, start)
        if triple:
            i = start + 3
            while i < len(text):
                if quote == '"' and text[i] == "\\":
                    i += 2
                    continue
                if text.startswith(quote * 3, i):
                    i += 3
                    while i < len(text) and text[i] == quote:  # up to two quotes may end the content
                        i += 1
                    return i
                i += 1
            return len(text)
        i = start + 1
        while i < len(text) and text[i] != "\n":
            if quote == '"' and text[i] == "\\":
                i += 2
                continue
            if text[i] == quote:
                return i + 1
            i += 1
        return i

    # ----------------------------------------------------------------------------------- grammar

    def header(self) -> None:
        start = self.pos
        is_array = self.text.startswith("[[", self.pos)
        self.pos += 2 if is_array else 1
        path = self.key()
        if path is None:
            return
        self.table = path
        self.entries.append(Entry(path, self.line(start), "array" if is_array else "table"))

    def pair(self) -> None:
        start = self.pos
        rel = self.key()
        if rel is None or self.pos >= len(self.text) or self.text[self.pos] != "=":
            return
        self.pos += 1
        self.skip_ws()
        value_start = self.pos
        value_end = self.value_end()
        self.pos = value_end
        self.entries.append(
            Entry(
                self.table + rel,
                self.line(start),
                "pair",
                table=self.table,
                value_start=value_start,
                value_end=value_end,
                end_line=self.line(max(value_start, value_end - 1)),
            )
        )

    def value_end(self) -> int:
        """Offset just past the value at ``pos``: strings and brackets may span lines."""
        text = self.text
        i = self.pos
        depth = 0
        last = i  # just past the last character that belongs to the value
        while i < len(text):
            ch = text[i]
            if ch in "\"'":
                i = self.string_end(i)
                last = i
                continue
            if ch == "#":
                end = text.find("\n", i)
                i = len(text) if end < 0 else end
                continue
            if ch == "\n":
                if depth == 0:
                    break
                i += 1
                continue
            if ch in "[{":
                depth += 1
            elif ch in "]}":
                depth -= 1
            if ch not in " \t\r":
                last = i + 1
            i += 1
        return last
