"""Streaming Markdown to a terminal: finished blocks printed once, only the last block live.

A block is finished at a blank line outside a fenced code block. The live region shows the
bottom of the unfinished block cut to the screen height, so nothing is ever duplicated when a
block grows past the screen; its cost per token is independent of the answer's length.
"""

from __future__ import annotations

from typing import TextIO

from rich.console import Console, ConsoleOptions, RenderResult
from rich.live import Live
from rich.markdown import Markdown
from rich.segment import Segment


class _Tail:
    """The unfinished block, rendered at refresh time and cut to the last screenful."""

    def __init__(self) -> None:
        self.text = ""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if not self.text:
            return
        lines = console.render_lines(Markdown(self.text), options, pad=False)
        height = max(1, console.size.height - 2)
        for line in lines[-height:]:
            yield from line
            yield Segment.line()


def split_finished(text: str, in_fence: bool) -> tuple[int, bool]:
    """Where the finished blocks of ``text`` end (after a blank line outside a fence)."""
    end = 0
    pos = 0
    fence = in_fence
    while True:
        nl = text.find("\n", pos)
        if nl < 0:
            return end, fence
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

    def start(self) -> None:
        if self._live is None:
            self._live = Live(
                self._tail, console=self.console, refresh_per_second=12, transient=True, auto_refresh=True
            )
            self._live.start()

    def feed(self, text: str) -> None:
        self._pending += text
        if "\n" not in text:
            self._tail.text = self._pending
            return
        end, fence = split_finished(self._pending, self._fence)
        if end:
            done, self._pending = self._pending[:end], self._pending[end:]
            self._fence = fence
            self.console.print(Markdown(done))
        self._tail.text = self._pending

    def close(self) -> None:
        if self._live is not None:
            self._tail.text = ""
            self._live.stop()
            self._live = None
        if self._pending.strip():
            self.console.print(Markdown(self._pending))
        self._pending = ""
