"""Streaming Markdown to a terminal: finished blocks printed once, only the last block live.

A block is finished at a blank line outside a fenced code block. The live region shows the
bottom of the unfinished block cut to the screen height, so nothing is ever duplicated when a
block grows past the screen; its cost per token is independent of the answer's length.

Everything is drawn from the caller's thread: the live region is refreshed by :meth:`feed`
(at most ``REFRESH_PER_SECOND`` times a second), never by Rich's refresh thread, whose redraws
raced with the printing of finished blocks and left copies of them on the screen. Finished
blocks are separated by one blank line, as Rich separates the blocks of one document.
"""

from __future__ import annotations

import time
from typing import TextIO

from rich.console import Console, ConsoleOptions, RenderResult
from rich.live import Live
from rich.markdown import Markdown
from rich.segment import Segment, SegmentLines

REFRESH_PER_SECOND = 12


def _block_lines(console: Console, text: str, options: ConsoleOptions) -> list[list[Segment]]:
    """``text`` rendered as Markdown, without the empty lines Rich puts before or after some blocks."""
    lines = console.render_lines(Markdown(text), options, pad=False)
    start, end = 0, len(lines)
    while start < end and not any(segment.text for segment in lines[start]):
        start += 1
    while end > start and not any(segment.text for segment in lines[end - 1]):
        end -= 1
    return lines[start:end]


class _Tail:
    """The unfinished block, rendered at refresh time and cut to the last screenful."""

    def __init__(self) -> None:
        self.text = ""
        self.gap = False
        """Whether a finished block is above it (then one blank line separates them)."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if not self.text.strip():
            return
        lines = _block_lines(console, self.text, options)
        if self.gap:
            lines.insert(0, [])
        height = max(1, console.size.height - 2)
        for line in lines[-height:]:
            yield from line
            yield Segment.line()


def split_finished(text: str, in_fence: bool) -> tuple[int, bool]:
    """Where the finished blocks of ``text`` end (after a blank line outside a fence), and whether
    that point is inside a fence (``in_fence``: whether ``text`` starts inside one)."""
    end = 0
    pos = 0
    fence = in_fence
    while True:
        nl = text.find("\n", pos)
        if nl < 0:
            return end, in_fence
        line = text[pos:nl].strip()
        if line.startswith(("```", "~~~")):
            fence = not fence
        elif not line and not fence and pos > end:
            end = nl + 1
            in_fence = fence
        pos = nl + 1


class MarkdownOut:
    """Final text to a terminal as Markdown."""

    def __init__(self, stream: TextIO, *, color: bool) -> None:
        self.console = Console(file=stream, no_color=not color, highlight=False)
        self._tail = _Tail()
        self._pending = ""
        self._fence = False
        self._live: Live | None = None
        self._printed = False
        self._last_refresh = 0.0

    def start(self) -> None:
        if self._live is None:
            self._live = Live(self._tail, console=self.console, transient=True, auto_refresh=False)
            self._live.start()

    def feed(self, text: str) -> None:
        self._pending += text
        if "\n" in text:
            end, fence = split_finished(self._pending, self._fence)
            if end:
                done, self._pending = self._pending[:end], self._pending[end:]
                self._fence = fence
                # the live region is redrawn right after the print: it must no longer hold `done`
                self._tail.text = self._pending
                self._print(done)
        self._tail.text = self._pending
        self._refresh()

    def close(self) -> None:
        if self._live is not None:
            self._tail.text = ""
            self._live.stop()
            self._live = None
        if self._pending.strip():
            self._print(self._pending)
        self._pending = ""

    def _print(self, text: str) -> None:
        lines = _block_lines(self.console, text, self.console.options)
        if not lines:
            return
        if self._printed:
            lines.insert(0, [])
        self._printed = self._tail.gap = True
        self.console.print(SegmentLines(lines, new_lines=True))
        self._last_refresh = time.monotonic()  # printing redrew the live region

    def _refresh(self) -> None:
        now = time.monotonic()
        if self._live is not None and now - self._last_refresh >= 1 / REFRESH_PER_SECOND:
            self._last_refresh = now
            self._live.refresh()
