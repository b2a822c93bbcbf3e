"""``gptoss chat`` in a real terminal (tmux) against the real vLLM: one turn, typed as a user types it.

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
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .forcing import force, saved_conversations
from .server import VllmServer
from .test_cli_vllm import ANSWER

PROMPT = "›"  # the REPL's input prompt
ANSWER_LINE = "\n2 + 2 = 4.\n"
EXIT = re.compile(r"^gptoss-exit=(\d+)$", re.MULTILINE)


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[list[str]]:
    """A private tmux server (its own socket) with one 100x30 session running /bin/sh."""
    binary = shutil.which("tmux")
    if binary is None:
        pytest.fail("tmux is not installed: install it (apt-get install tmux; .ci/run does)")
    conf = tmp_path / "tmux.conf"
    conf.write_text("set -g history-limit 10000\nset -g status off\nset -g remain-on-exit on\n")
    base = [binary, "-L", f"gptoss-vllm-{uuid.uuid4().hex[:12]}", "-f", str(conf)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GPTOSS_", "OPENAI_", "TMUX"))}
    env |= {"TERM": "xterm-256color", "GPTOSS_HOME": str(tmp_path / "home"), "NO_COLOR": "1"}
    subprocess.run(
        [*base, "new-session", "-d", "-s", "t", "-x", "100", "-y", "30", "/bin/sh"], env=env, check=True
    )
    try:
        yield base
    finally:
        subprocess.run([*base, "kill-server"], check=False, timeout=20, capture_output=True)


def _capture(tmux: list[str]) -> str:
    command = [*tmux, "capture-pane", "-p", "-t", "t", "-S", "-"]
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=20).stdout


def _wait_for(tmux: list[str], what: str, seen: Callable[[str], bool], timeout: float = 120) -> str:
    """The pane's whole text once ``seen`` accepts it; the test fails with the screen otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        screen = _capture(tmux)
        if seen(screen):
            return screen
        if time.monotonic() > deadline:
            pytest.fail(f"never saw {what} in the terminal:\n{screen}")
        time.sleep(0.1)


def _prompt_shown(screen: str) -> bool:
    """The REPL waits for input: its prompt is the last thing on the screen."""
    return screen.rstrip().endswith(PROMPT)


def _keys(tmux: list[str], *keys: str, literal: bool = False) -> None:
    subprocess.run(
        [*tmux, "send-keys", "-t", "t", *(["-l"] if literal else []), *keys], check=True, timeout=20
    )


def test_one_chat_turn(tmux: list[str], vllm_server: VllmServer, tmp_path: Path) -> None:
    """Forces token ids (analysis, final, <|return|>). Proves: the REPL in a terminal sends the typed
    question, shows the final answer and not the reasoning, and saves the conversation on exit."""
    command = [sys.executable, "-m", "gptoss_cli", "chat", "--base-url", vllm_server.base_url, *force(ANSWER)]
    deadline = time.monotonic() + 20
    while not _capture(tmux).strip() and time.monotonic() < deadline:
        time.sleep(0.05)  # the shell's prompt: keys sent earlier would be echoed before it
    _keys(tmux, f"{shlex.join(command)}; echo gptoss-exit=$?", literal=True)
    _keys(tmux, "Enter")
    _wait_for(tmux, "the REPL's prompt", _prompt_shown)
    _keys(tmux, "What is 2+2?", literal=True)
    _keys(tmux, "Enter")
    screen = _wait_for(
        tmux, "the answer and the next prompt", lambda s: ANSWER_LINE in s and _prompt_shown(s)
    )
    assert "User asks 2+2" not in screen
    _keys(tmux, "C-d")
    screen = _wait_for(tmux, "gptoss exit", lambda s: EXIT.search(s) is not None)
    assert EXIT.findall(screen) == ["0"], screen
    [data] = saved_conversations(tmp_path / "home")
    messages = data["messages"]
    assert isinstance(messages, list)
    texts = [
        (m["role"], m.get("channel"), m["content"][0]["text"]) for m in messages if m["role"] != "system"
    ]
    assert texts[-3:] == [
        ("user", None, "What is 2+2?"),
        ("assistant", "analysis", "User asks 2+2. Answer is 4."),
        ("assistant", "final", "2 + 2 = 4."),
    ]
