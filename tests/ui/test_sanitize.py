"""The terminal sanitiser: model text never drives the terminal; a pipe still gets it byte for byte."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gptoss_cli.harmony import ContentDelta, HeaderEvent, Role
from gptoss_cli.ui.approval import line_asker
from gptoss_cli.ui.sanitize import for_stream, sanitize
from gptoss_cli.ui.stream import StreamView, ViewOptions

TITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J"
ERASE = "\x1b[2K\x1b[1G"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _controls(text: str) -> set[str]:
    return {c for c in text if (ord(c) < 0x20 and c not in "\t\n") or 0x7F <= ord(c) <= 0x9F}


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (TITLE + "hi", "␛]0;pwned␇hi"),
        (CLEAR, "␛[2J"),
        ("a\x9b2Jb", "a\\x9b2Jb"),  # 8-bit CSI
        ("\x1bP1;2|data\x1b\\", "␛P1;2|data␛\\"),  # DCS
        ("x\r\ny\rz", "x\ny␍z"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),
        ("safe\u202eevil", "safe<U+202E>evil"),
        ("plain text, ünïcode ✓", "plain text, ünïcode ✓"),
    ],
)
def test_controls_are_shown_not_obeyed(raw: str, shown: str) -> None:
    assert sanitize(raw) == shown


@given(st.text())
def test_nothing_unsafe_survives(text: str) -> None:
    clean = sanitize(text)
    assert not _controls(clean)
    assert "\u202e" not in clean
    assert sanitize(clean) == clean


def test_only_terminals_are_sanitised() -> None:
    assert for_stream(io.StringIO(), CLEAR) == CLEAR
    assert for_stream(_Terminal(), CLEAR) == "␛[2J"


def _final(text: str) -> list[object]:
    return [
        HeaderEvent(0, Role.ASSISTANT, "final", None, None),
        ContentDelta(0, "final", None, text),
    ]


@pytest.mark.parametrize("markdown", [True, False])
def test_the_final_answer_on_a_terminal_is_neutralised(markdown: bool) -> None:
    out, err = _Terminal(), _Terminal()
    view = StreamView(ViewOptions(markdown=markdown, color=False), stdout=out, stderr=err)
    for event in _final(f"Title{TITLE} then{CLEAR} done"):
        view.handle(event)
    view.close()
    assert "\x1b]" not in out.getvalue() and "\x1b[2J" not in out.getvalue()
    assert "␛]0;pwned␇" in out.getvalue() and "␛[2J" in out.getvalue()


def test_a_pipe_gets_the_answer_byte_for_byte() -> None:
    out, err = io.StringIO(), io.StringIO()
    view = StreamView(ViewOptions(color=False), stdout=out, stderr=err)
    for event in _final(f"A{TITLE}{CLEAR}\x9b\r\n"):
        view.handle(event)
    view.close()
    assert out.getvalue() == f"A{TITLE}{CLEAR}\x9b\r\n"


def test_reasoning_and_tool_calls_on_a_terminal_are_neutralised() -> None:
    out, err = _Terminal(), _Terminal()
    view = StreamView(ViewOptions(show_reasoning=True, color=False), stdout=out, stderr=err)
    view.handle(HeaderEvent(0, Role.ASSISTANT, "analysis", None, None))
    view.handle(ContentDelta(0, "analysis", None, "think" + CLEAR))
    view.handle(HeaderEvent(1, Role.ASSISTANT, "commentary", "functions.f\x1b[8m", None))
    view.handle(ContentDelta(1, "commentary", "functions.f\x1b[8m", '{"a": "' + TITLE + '"}'))
    view.close()
    assert not _controls(err.getvalue().replace("\r", ""))
    assert "think␛[2J" in err.getvalue() and "functions.f␛[8m" in err.getvalue()


def test_the_approval_prompt_shows_exactly_what_will_run() -> None:
    code = "import os\nos.system('rm -rf ~')  " + ERASE + "print('hello')\n" + "x = 1\n" * 200
    err = _Terminal()
    ask = line_asker(io.StringIO("n\n"), err)
    assert ask("python", code) == "no"
    shown = err.getvalue()
    assert "\x1b" not in shown
    assert "os.system('rm -rf ~')  ␛[2K␛[1Gprint('hello')" in shown
    assert shown.count("x = 1") == 200  # never cut: the whole call is what will run
