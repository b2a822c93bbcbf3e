"""Streamed Markdown looks like the whole answer rendered at once, and draws from one thread only.

(The real-terminal check of the same view is ``test_tmux.py``.)
"""

from __future__ import annotations

import io
import threading

import pytest
from rich.console import Console
from rich.markdown import Markdown

from gptoss_cli.ui.markdown import MarkdownOut, split_finished

DOCUMENT = (
    "# Title\n\nIntro with *emphasis* and `code`.\n\n```python\nx = 1\n\ny = 2\n```\n\n"
    "- one\n- two\n\n1. first\n2. second\n\n> a quote\n\n---\n\nLast paragraph.\n"
)


def _whole(text: str) -> list[str]:
    out = io.StringIO()
    Console(file=out, width=60, no_color=True).print(Markdown(text))
    return [line.rstrip() for line in out.getvalue().splitlines()]


def _streamed(text: str, cuts: list[int]) -> list[str]:
    out = io.StringIO()
    view = MarkdownOut(out, color=False)
    view.console.width = 60
    view.start()
    start = 0
    for cut in [*cuts, len(text)]:
        view.feed(text[start:cut])
        start = cut
    view.close()
    return [line.rstrip() for line in out.getvalue().splitlines()]


@pytest.mark.parametrize("size", [1, 2, 7, 40, 1000])
def test_streamed_blocks_match_the_whole_document(size: int) -> None:
    """Finished blocks are printed apart but separated as Rich separates one document's blocks."""
    cuts = list(range(size, len(DOCUMENT), size))
    assert _streamed(DOCUMENT, cuts) == _whole(DOCUMENT)


def test_fence_state_is_the_one_at_the_split() -> None:
    """A block that ends before a fence opens in the same text leaves the rest *outside* the fence."""
    text = "para\n\n```py\ncode\n"
    assert split_finished(text, False) == (len("para\n\n"), False)
    assert split_finished("```\na\n\nb\n```\n\nafter\n", False) == (len("```\na\n\nb\n```\n\n"), False)
    assert split_finished("still code\n\nmore\n", True) == (0, True)


def test_a_code_block_opened_with_the_previous_block_end_stays_whole() -> None:
    text = "para\n\n```py\nx = 1\n\ny = 2\n```\n\nafter\n"
    cut = text.index("x = 1\n") + len("x = 1\n")  # the first read ends inside the fence
    assert _streamed(text, [cut]) == _whole(text)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_refresh_thread_draws_behind_the_callers_back() -> None:
    """Rich's auto-refresh thread raced with printing finished blocks (copies left on screen)."""
    before = threading.active_count()
    view = MarkdownOut(_Terminal(), color=False)
    view.start()
    view.feed("a paragraph\n\nanother")
    assert threading.active_count() == before
    view.close()
