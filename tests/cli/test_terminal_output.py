"""``show`` and ``history show`` on a terminal: a conversation file's escape sequences are shown, not
obeyed; piped, the text is kept byte for byte (issue 11)."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

from gptoss_cli.cli import main

CLEAR, TITLE = "\x1b[2J", "\x1b]0;pwned\x07"


class _Tty(io.TextIOWrapper):
    def isatty(self) -> bool:
        return True


def _run_on_terminal(args: list[str]) -> tuple[int, str, str]:
    out, err = io.BytesIO(), io.BytesIO()
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin = _Tty(io.BytesIO(), encoding="utf-8")
    sys.stdout = _Tty(out, encoding="utf-8", write_through=True)
    sys.stderr = _Tty(err, encoding="utf-8", write_through=True)
    try:
        code = main(args)
        sys.stdout.flush()
        sys.stderr.flush()
        return code, out.getvalue().decode(), err.getvalue().decode()
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved


def _conversation(tmp_path: Path) -> Path:
    file = tmp_path / "evil.json"
    messages = [
        {"role": "user", "content": f"question{CLEAR}"},
        {"role": "assistant", "channel": "analysis", "content": f"thinking{TITLE}"},
        {"role": "assistant", "channel": "final", "content": f"answer{TITLE}{CLEAR}"},
    ]
    file.write_text(json.dumps({"messages": messages}))
    return file


def test_show_on_a_terminal_neutralises_escapes(tmp_path: Path) -> None:
    code, out, err = _run_on_terminal(["show", str(_conversation(tmp_path)), "--show-reasoning"])
    assert code == 0, err
    for text in (out, err):
        assert CLEAR not in text and "\x1b]0;" not in text
    assert "question␛[2J" in out and "answer␛]0;pwned␇␛[2J" in out
    assert "thinking␛]0;pwned␇" in err


def test_history_show_on_a_terminal_neutralises_escapes(tmp_path: Path) -> None:
    file = _conversation(tmp_path)
    code, out, err = _run_on_terminal(["history", "show", str(file)])
    assert code == 0, err
    assert CLEAR not in out and "\x1b]0;" not in out and "␛[2J" in out


def test_show_piped_keeps_the_answer_byte_for_byte(tmp_path: Path) -> None:
    from .runner import run

    result = run(["show", str(_conversation(tmp_path))])
    assert result.code == 0
    assert f"answer{TITLE}{CLEAR}" in result.out
