"""Streaming Markdown: finished blocks once, only the last block live."""

from __future__ import annotations

import io

from gptoss_cli.ui.markdown import MarkdownOut, split_finished


def test_blocks_end_at_blank_lines_outside_fences() -> None:
    assert split_finished("para one\n\npara two", False) == (len("para one\n\n"), False)
    text = "```\ncode\n\nmore code\n```\n\nafter"
    end, fence = split_finished(text, False)
    assert text[:end] == "```\ncode\n\nmore code\n```\n\n"
    assert not fence
    assert split_finished("no blank line yet\n", False)[0] == 0


def test_every_line_printed_once_whatever_the_chunking() -> None:
    answer = "".join(f"Paragraph {i} has some words.\n\n" for i in range(60)) + "```py\nx = 1\n\ny = 2\n```\n"
    out = io.StringIO()
    view = MarkdownOut(out, color=False)
    view.console.width = 80
    view.start()
    for i in range(0, len(answer), 7):
        view.feed(answer[i : i + 7])
    view.close()
    lines = [line.strip() for line in out.getvalue().splitlines() if line.strip()]
    paragraphs = [line for line in lines if line.startswith("Paragraph")]
    assert paragraphs == [f"Paragraph {i} has some words." for i in range(60)]
    assert sum("x = 1" in line for line in lines) == 1
    assert sum("y = 2" in line for line in lines) == 1
