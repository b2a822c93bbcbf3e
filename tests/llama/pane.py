"""Driving ``gptoss chat`` in a tmux pane (the ``tmux`` fixture of tests/ui/test_tmux.py) against the
real llama-server, with every answer forced (the tiny model's weights are random; see grammar.py)."""

from __future__ import annotations

import re
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import tomli_w

from ..ui.test_tmux import _capture, _wait_for_prompt
from .grammar import force_text
from .test_llama_server import ANSWER

FINAL = "2 + 2 = 4."
"""The final-channel text of :data:`ANSWER`, what the chat shows."""


def force_every_answer(home: Path) -> None:
    """A config in ``home`` whose default profile adds the fields that force :data:`ANSWER` to every
    request, and names no base URL (so the server is found, or offered)."""
    home.mkdir(parents=True, exist_ok=True)
    options = force_text(ANSWER).fields
    (home / "config.toml").write_text(tomli_w.dumps({"profiles": {"default": {"options": options}}}))


def send_line(tmux: list[str], text: str) -> None:
    subprocess.run([*tmux, "send-keys", "-t", "t", "-l", text], check=True, timeout=20)
    subprocess.run([*tmux, "send-keys", "-t", "t", "Enter"], check=True, timeout=20)


def start_in_shell(tmux: list[str], line: str) -> str:
    """Type ``line`` at the pane's shell; the tmux channel signalled once it has run, after which
    ``gptoss-exit=N`` on the screen is its exit code."""
    channel = f"gptoss-done-{uuid.uuid4().hex[:8]}"
    _wait_for_prompt(tmux)
    send_line(tmux, f'clear; {line}; echo "gptoss-exit=$?"; tmux wait-for -S {channel}')
    return channel


def wait_for(tmux: list[str], text: str, timeout: float = 60.0) -> str:
    """The screen (wrapped lines joined) once ``text`` is on it."""
    deadline = time.monotonic() + timeout
    while text not in (screen := _capture(tmux, "-J")):
        if time.monotonic() > deadline:
            pytest.fail(f"{text!r} never appeared on the screen:\n{_capture(tmux, '-J', '-S', '-')}")
        time.sleep(0.1)
    return screen


def wait_done(tmux: list[str], channel: str, timeout: float = 60.0) -> str:
    subprocess.run([*tmux, "wait-for", channel], check=True, timeout=timeout)
    return _capture(tmux, "-J", "-S", "-")


def ask_and_leave(tmux: list[str]) -> None:
    """At the chat's prompt: ask, see the (forced) answer, leave with /exit."""
    send_line(tmux, "What is 2+2?")
    wait_for(tmux, FINAL, timeout=120)
    send_line(tmux, "/exit")


def killed_by(screen: str) -> int:
    """The pid in the chat's "stop it with: kill PID"."""
    found = re.search(r"stop it with: kill (\d+)", screen)
    assert found, screen
    return int(found.group(1))
