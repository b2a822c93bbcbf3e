"""``gptoss chat`` that finds no server offers to start one (ui/offer.py), in a real terminal (tmux).

No server listens on the usual port (a free one stands in for 8080: tests/usual_port.py); the
``llama-server`` on PATH is tests/stand_in_llama_server.py. The answers are typed as a user would.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..stand_in_llama_server import ROOT, install, records
from . import test_tmux
from .test_tmux import _capture, _wait_for_prompt

tmux = test_tmux.tmux  # the fixture: a private tmux server with one 100x30 pane running /bin/sh

ANSWER = "Served by the stand-in."


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def stand_in(tmp_path: Path) -> Iterator[Path]:
    """The stand-in llama-server installed in tmp_path/bin; the record file of its starts. Every
    stand-in started is killed afterwards (the chat leaves the server it started running)."""
    record = tmp_path / "started.jsonl"
    install(tmp_path / "bin", record, ANSWER)
    try:
        yield record
    finally:
        for started in records(record):
            pid = int(str(started["pid"]))
            if _alive(pid):
                os.kill(pid, signal.SIGTERM)


def _wait_for(tmux: list[str], text: str) -> str:
    """The screen (wrapped lines joined) once ``text`` is on it."""
    deadline = time.monotonic() + 30
    while text not in (screen := _capture(tmux, "-J")):
        if time.monotonic() > deadline:
            pytest.fail(f"{text!r} never appeared on the screen:\n{screen}")
        time.sleep(0.05)
    return screen


def _send(tmux: list[str], *keys: str, literal: bool = False) -> None:
    subprocess.run(
        [*tmux, "send-keys", "-t", "t", *(["-l"] if literal else []), *keys], check=True, timeout=20
    )


def _type(tmux: list[str], text: str) -> None:
    _send(tmux, text, literal=True)
    _send(tmux, "Enter")


def _start_chat(tmux: list[str], home: Path, bin_dir: Path, port: int, *, pipe: str = "") -> str:
    """Start ``gptoss chat -n`` in the pane with no server on the usual port; the tmux channel that
    is signalled when it has exited (its exit code is then on the screen as ``gptoss-exit=N``)."""
    channel = f"gptoss-done-{uuid.uuid4().hex[:8]}"
    command = shlex.join([sys.executable, "-m", "tests.usual_port", str(port), "chat", "-n"])
    env = f'env GPTOSS_HOME={shlex.quote(str(home))} PATH={shlex.quote(str(bin_dir))}:"$PATH"'
    line = f"clear; cd {shlex.quote(str(ROOT))} && {env} {command}{pipe}; echo gptoss-exit=$?; "
    line += f"tmux wait-for -S {channel}"
    _wait_for_prompt(tmux)
    _type(tmux, line)
    return channel


def test_chat_offers_to_start_a_server_and_chats_with_it(
    tmux: list[str], stand_in: Path, tmp_path: Path, home: Path
) -> None:
    model = tmp_path / "models" / "tiny gpt-oss.gguf"
    model.parent.mkdir()
    model.write_bytes(b"GGUF")
    port = _free_port()
    channel = _start_chat(tmux, home, tmp_path / "bin", port)
    offer = _wait_for(tmux, "[y/N]")
    assert f"no server found on 127.0.0.1 (ports {port} (llama-server))" in offer
    _type(tmux, "y")
    asked = _wait_for(tmux, "Model to serve")
    assert "[ggml-org/gpt-oss-20b-GGUF]" in asked  # the default, with llama-server installed
    _type(tmux, shlex.quote(str(model)))  # as a terminal pastes a dropped file with a space in its name
    ready = _wait_for(tmux, "›")
    (started,) = records(stand_in)
    argv = [str(a) for a in started["argv"]]  # type: ignore[union-attr]
    assert argv[argv.index("-m") + 1] == str(model) and argv[argv.index("--port") + 1] == str(port)
    assert "--special" in argv and argv[argv.index("-np") + 1] == "1"
    pid = int(str(started["pid"]))
    assert f"is ready at http://127.0.0.1:{port}" in ready and f"kill {pid}" in _capture(tmux, "-J")
    _type(tmux, "hello")
    _wait_for(tmux, ANSWER)
    _type(tmux, "/exit")
    subprocess.run([*tmux, "wait-for", channel], check=True, timeout=60)
    screen = _capture(tmux, "-J")
    assert "gptoss-exit=0" in screen, screen
    assert f"still runs at http://127.0.0.1:{port} for the next chat; stop it with: kill {pid}" in screen
    assert _alive(pid), "the server should outlive the chat that started it, as Ollama's does"
    assert "Traceback" not in screen
    again = _ask_again(home, port)
    assert again.returncode == 0 and again.stdout == ANSWER + "\n", again.stderr  # the next run finds it


def _ask_again(home: Path, port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.usual_port", str(port), "ask", "hello again", "-n"],
        cwd=ROOT,
        env={**os.environ, "GPTOSS_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_no_to_the_offer_exits_with_the_hint(
    tmux: list[str], stand_in: Path, tmp_path: Path, home: Path
) -> None:
    channel = _start_chat(tmux, home, tmp_path / "bin", _free_port())
    _wait_for(tmux, "[y/N]")
    _type(tmux, "n")
    subprocess.run([*tmux, "wait-for", channel], check=True, timeout=60)
    screen = _capture(tmux, "-J")
    assert "gptoss-exit=1" in screen
    assert "gptoss: error: no server found" in screen and "start one with `gptoss serve MODEL`" in screen
    assert records(stand_in) == [] and "Traceback" not in screen


def test_ctrl_c_at_the_offer_exits_130(tmux: list[str], stand_in: Path, tmp_path: Path, home: Path) -> None:
    channel = _start_chat(tmux, home, tmp_path / "bin", _free_port())
    _wait_for(tmux, "[y/N]")
    _type(tmux, "y")
    _wait_for(tmux, "Model to serve")
    _send(tmux, "C-c")
    subprocess.run([*tmux, "wait-for", channel], check=True, timeout=60)
    screen = _capture(tmux)
    assert "gptoss-exit=130" in screen and "Traceback" not in screen
    assert records(stand_in) == []


def test_a_model_that_cannot_be_served_is_asked_for_again(
    tmux: list[str], stand_in: Path, tmp_path: Path, home: Path
) -> None:
    channel = _start_chat(tmux, home, tmp_path / "bin", _free_port())
    _wait_for(tmux, "[y/N]")
    _type(tmux, "y")
    _wait_for(tmux, "Model to serve")
    _type(tmux, str(tmp_path / "missing.gguf"))
    screen = _wait_for(tmux, "missing.gguf: no such file or directory")
    assert screen.count("Model to serve") == 2  # asked again
    _send(tmux, "C-d")  # end of input: no server after all
    subprocess.run([*tmux, "wait-for", channel], check=True, timeout=60)
    assert "gptoss-exit=1" in _capture(tmux) and records(stand_in) == []


def test_chat_with_stdout_piped_does_not_offer(
    tmux: list[str], stand_in: Path, tmp_path: Path, home: Path
) -> None:
    """Only a chat on a terminal asks: with stdout piped there is no one to see the question."""
    channel = _start_chat(tmux, home, tmp_path / "bin", _free_port(), pipe=" | cat")
    subprocess.run([*tmux, "wait-for", channel], check=True, timeout=60)
    screen = _capture(tmux, "-J")
    assert "[y/N]" not in screen and "start one with `gptoss serve MODEL`" in screen
    assert records(stand_in) == []


def test_the_stand_in_records_its_start(tmp_path: Path) -> None:
    """The stand-in itself: started as llama-server would be, it answers /health and records argv."""
    record = tmp_path / "r.jsonl"
    binary = install(tmp_path / "bin", record, ANSWER)
    port = _free_port()
    proc = subprocess.Popen([str(binary), "-m", "x.gguf", "--port", str(port), "--special"])
    try:
        deadline = time.monotonic() + 30
        while not records(record) or not _answers(port):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
    finally:
        proc.terminate()
    assert proc.wait(timeout=10) == 0
    assert json.loads(record.read_text())["argv"] == ["-m", "x.gguf", "--port", str(port), "--special"]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"GET /health HTTP/1.0\r\n\r\n")
            return s.recv(100).split(b"\r\n", 1)[0].split()[1:2] == [b"200"]
    except OSError:
        return False
