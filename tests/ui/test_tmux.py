"""A long streamed answer in a real terminal (tmux): every line shown exactly once, in order.

``gptoss ask`` runs in a tmux pane of a fixed size (100x30, TERM=xterm-256color, colour on) against
the scripted server, which streams a long Markdown answer token by token as llama-server does: 200
paragraphs, code blocks, one code block and one list taller than the screen. The whole scrollback
is then captured and every line of the answer must be there once, in order: the live region of
the Markdown view must neither leave copies behind nor lose lines that scrolled past the screen.

tmux is required: without it this test fails (``.ci/run`` installs it).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..scripted_server import Pause, Reply, ScriptedServer, Step, llamacpp_stream

WIDTH, HEIGHT = 100, 30


def _answer() -> tuple[str, list[str]]:
    """The Markdown answer, and the text of each line it must show, in order."""
    blocks: list[str] = []
    expected: list[str] = []
    for i in range(1, 201):
        line = f"para-{i:03d}: the quick brown fox jumps over the lazy dog, streamed token by token."
        blocks.append(line)
        expected.append(line)
        if i % 40 == 0:  # a short code block, with a blank line inside the fence
            code = [f"code-{i:03d}-{j:02d} = compute({j}, 'a string')" for j in range(1, 7)]
            blocks.append("```python\n" + "\n".join(code[:3]) + "\n\n" + "\n".join(code[3:]) + "\n```")
            expected += code
        if i == 100:  # a code block taller than the screen
            code = [f"tall-{j:03d} = [{j}, {j + 1}, {j + 2}]" for j in range(1, 46)]
            blocks.append("```\n" + "\n".join(code) + "\n```")
            expected += code
        if i == 150:  # one list block (no blank lines) taller than the screen
            items = [f"item-{j:03d}: a list item that belongs to one long block" for j in range(1, 41)]
            blocks.append("\n".join(f"- {item}" for item in items))
            expected += items
    return "\n\n".join(blocks) + "\n", expected


def _stream(answer: str) -> list[Step]:
    """llama-server events, one per word-sized token, paced so the live view redraws many times."""
    tokens = re.findall(r"\S+\s*|\s+", answer)
    steps = llamacpp_stream(["<|channel|>", "final", "<|message|>", *tokens])
    paced: list[Step] = []
    for n, step in enumerate(steps):
        paced.append(step)
        if n % 10 == 9:
            paced.append(Pause(0.01))
    return paced


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[list[str]]:
    """A private tmux server (its own socket) with one 100x30 session running /bin/sh."""
    binary = shutil.which("tmux")
    if binary is None:
        pytest.fail(
            "tmux is not installed, so the real-terminal check cannot run: "
            "install it (apt-get install tmux; .ci/run does)"
        )
    conf = tmp_path / "tmux.conf"
    conf.write_text(
        "set -g history-limit 100000\n"
        "set -g default-terminal xterm-256color\n"
        "set -g status off\n"
        "set -g remain-on-exit on\n"
    )
    base = [binary, "-L", f"gptoss-test-{uuid.uuid4().hex[:12]}", "-f", str(conf)]
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES", "TMUX", "TMUX_PANE", "TERM")
    }
    env["TERM"] = "xterm-256color"
    subprocess.run(
        [*base, "new-session", "-d", "-s", "t", "-x", str(WIDTH), "-y", str(HEIGHT), "/bin/sh"],
        env=env,
        check=True,
        timeout=20,
    )
    try:
        yield base
    finally:
        subprocess.run([*base, "kill-server"], check=False, timeout=20, capture_output=True)


def _capture(tmux: list[str], *args: str) -> str:
    return subprocess.run(
        [*tmux, "capture-pane", "-p", "-t", "t", *args],
        check=True,
        timeout=20,
        capture_output=True,
        text=True,
    ).stdout


def _wait_for_prompt(tmux: list[str]) -> None:
    """Until the shell has drawn its prompt (keys sent earlier would be echoed before it)."""
    deadline = time.monotonic() + 20
    while not _capture(tmux).strip():
        if time.monotonic() > deadline:
            pytest.fail("the shell in tmux never showed a prompt")
        time.sleep(0.05)


def test_long_markdown_answer_shows_every_line_once(
    tmux: list[str], scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    answer, expected = _answer()
    scripted_server.script("/v1/completions", Reply.sse(_stream(answer)))
    channel = f"gptoss-done-{uuid.uuid4().hex[:8]}"
    command = [sys.executable, "-m", "gptoss_cli", "ask", "Write the long answer."]
    command += ["--base-url", scripted_server.url, "--kind", "llamacpp", "-n"]
    line = f'{shlex.join(command)}; echo "gptoss-exit=$?"; tmux wait-for -S {channel}'
    _wait_for_prompt(tmux)
    subprocess.run([*tmux, "send-keys", "-t", "t", "-l", line], check=True, timeout=20)
    subprocess.run([*tmux, "send-keys", "-t", "t", "Enter"], check=True, timeout=20)
    subprocess.run([*tmux, "wait-for", channel], check=True, timeout=120)
    size = subprocess.run(
        [*tmux, "display-message", "-p", "-t", "t", "#{pane_width}x#{pane_height}"],
        check=True,
        timeout=20,
        capture_output=True,
        text=True,
    ).stdout.strip()
    screen = _capture(tmux, "-S", "-", "-E", "-")
    assert size == f"{WIDTH}x{HEIGHT}"
    saved = tmp_path / "screen.txt"
    saved.write_text(screen)
    lines = screen.splitlines()
    assert "gptoss-exit=0" in lines, f"gptoss failed, see {saved}:\n{screen[-2000:]}"
    where = {text: [n for n, shown in enumerate(lines) if text in shown] for text in expected}
    missing = [text for text, found in where.items() if not found]
    repeated = {text: len(found) for text, found in where.items() if len(found) > 1}
    assert not missing, f"{len(missing)} lines missing (screen: {saved}), first: {missing[:5]}"
    assert not repeated, f"{len(repeated)} lines shown twice or more (screen: {saved}): {list(repeated)[:5]}"
    order = [found[0] for found in where.values()]
    assert order == sorted(order), f"lines out of order (screen: {saved})"
    # it was the Markdown view that drew them (Rich's bullets), not plain text
    assert all("• item-" in lines[where[text][0]] for text in expected if text.startswith("item-"))
    # nothing but the answer's lines carries a marker: no half-drawn copies left by the live view
    marked = [shown for shown in lines if re.search(r"\b(para|code|tall|item)-\d{3}\b", shown)]
    assert len(marked) == len(expected), [m for m in marked if not any(t in m for t in expected)][:5]


def _wait_for(tmux: list[str], text: str) -> str:
    deadline = time.monotonic() + 30
    while text not in (screen := _capture(tmux)):
        if time.monotonic() > deadline:
            pytest.fail(f"{text!r} never appeared on the screen:\n{screen}")
        time.sleep(0.05)
    return screen


def test_ctrl_c_in_chat_leaves_one_copy_of_the_partial_answer(
    tmux: list[str], scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    """A typed Ctrl-C is echoed by the tty as ``^C`` at the end of the live region; that used to
    shift it, and clearing it left a copy of the partial answer above the printed one (issue 11)."""
    from ..scripted_server import PingUntilGone

    words = [f"word{i} " for i in range(120)]
    pieces = ["<|channel|>final<|message|>", "- item one\n", "- item two\n", *words]
    steps = llamacpp_stream(pieces, done=False)[:-1]
    scripted_server.script("/v1/completions", Reply.sse([*steps, PingUntilGone(limit=30)]))
    command = [sys.executable, "-m", "gptoss_cli", "chat", "--base-url", scripted_server.url]
    command += ["--kind", "llamacpp", "-n"]
    _wait_for_prompt(tmux)
    subprocess.run(
        [*tmux, "send-keys", "-t", "t", "-l", f"clear; {shlex.join(command)}"], check=True, timeout=20
    )
    subprocess.run([*tmux, "send-keys", "-t", "t", "Enter"], check=True, timeout=20)
    _wait_for(tmux, "›")
    subprocess.run([*tmux, "send-keys", "-t", "t", "-l", "hello"], check=True, timeout=20)
    subprocess.run([*tmux, "send-keys", "-t", "t", "Enter"], check=True, timeout=20)
    _wait_for(tmux, "item one")
    time.sleep(0.5)  # every token has arrived; the stream now only pings
    subprocess.run([*tmux, "send-keys", "-t", "t", "C-c"], check=True, timeout=20)
    screen = _wait_for(tmux, "(stopped;")
    subprocess.run([*tmux, "send-keys", "-t", "t", "C-d"], check=True, timeout=20)
    assert screen.count("item one") == 1, screen
    assert screen.count("word119") == 1, screen
    assert "^C" not in screen


def test_a_slow_server_shows_a_spinner_then_only_the_answer(
    tmux: list[str], scripted_server: ScriptedServer
) -> None:
    """A server that takes seconds to its first token: a spinner on stderr says gptoss is waiting
    (issue 12), and it is gone once the answer streams."""
    steps = llamacpp_stream(["<|channel|>final<|message|>", "The answer ", "arrived."])
    scripted_server.script("/v1/completions", Reply.sse(steps, delay=2.5))
    channel = f"gptoss-done-{uuid.uuid4().hex[:8]}"
    command = [sys.executable, "-m", "gptoss_cli", "ask", "Slow?", "--base-url", scripted_server.url]
    command += ["--kind", "llamacpp", "-n"]
    _wait_for_prompt(tmux)
    line = f'clear; {shlex.join(command)}; echo "gptoss-exit=$?"; tmux wait-for -S {channel}'
    subprocess.run([*tmux, "send-keys", "-t", "t", "-l", line], check=True, timeout=20)
    subprocess.run([*tmux, "send-keys", "-t", "t", "Enter"], check=True, timeout=20)
    waiting = _wait_for(tmux, "waiting for the server")
    assert re.search(r"[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] waiting for the server \d+\.\ds", waiting), waiting
    subprocess.run([*tmux, "wait-for", channel], check=True, timeout=60)
    screen = _capture(tmux)
    assert "The answer arrived." in screen and "gptoss-exit=0" in screen
    assert "waiting for the server" not in screen, screen


def test_chat_starts_with_a_banner(tmux: list[str], scripted_server: ScriptedServer) -> None:
    command = [sys.executable, "-m", "gptoss_cli", "chat", "--base-url", scripted_server.url]
    command += ["--kind", "llamacpp", "-n", "-m", "gpt-oss-20b", "-r", "high"]
    _wait_for_prompt(tmux)
    subprocess.run(
        [*tmux, "send-keys", "-t", "t", "-l", f"clear; {shlex.join(command)}"], check=True, timeout=20
    )
    subprocess.run([*tmux, "send-keys", "-t", "t", "Enter"], check=True, timeout=20)
    screen = _wait_for(tmux, "›")
    subprocess.run([*tmux, "send-keys", "-t", "t", "C-d"], check=True, timeout=20)
    assert f"gptoss · gpt-oss-20b on llama.cpp at {scripted_server.url} · reasoning high" in screen
    assert "/help lists the commands" in screen
