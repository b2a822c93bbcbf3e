"""``gptoss serve`` starting the real llama-server: from a GGUF file, and from a Hugging Face repo id
downloaded from a local hub (tests/hf_hub.py). Then ``gptoss doctor`` judges the server it started."""

from __future__ import annotations

import json
import os
import selectors
import shlex
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..hf_hub import HubServer
from ..ui import test_tmux
from .pane import ask_and_leave, force_every_answer, killed_by, send_line, start_in_shell, wait_done, wait_for
from .server import Install, free_port

tmux = test_tmux.tmux  # the fixture: a private tmux server with one 100x30 pane running /bin/sh


@contextmanager
def _serving(
    install: Install, args: list[str], home: Path, extra_env: dict[str, str] | None = None
) -> Iterator[str]:
    """Run ``gptoss serve ARGS`` with the tier's llama-server on PATH; yield the base URL it prints once
    ready; Ctrl-C it afterwards."""
    path = f"{install.server.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**os.environ, "PATH": path, "GPTOSS_HOME": str(home), "NO_COLOR": "1", **(extra_env or {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gptoss_cli", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        url = _first_line(proc, timeout=600)
        assert url.startswith("http://127.0.0.1:"), (url, proc.stderr.read().decode() if proc.stderr else "")
        yield url
    finally:
        proc.send_signal(signal.SIGINT)  # what Ctrl-C in its terminal does
        proc.communicate(timeout=60)
    port = int(url.rsplit(":", 1)[1])
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the server outlived gptoss serve"


def _first_line(proc: subprocess.Popen[bytes], timeout: float) -> str:
    assert proc.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    if not selector.select(timeout):
        raise AssertionError("gptoss serve printed no URL in time")
    return proc.stdout.readline().decode().strip()


def _doctor(url: str, home: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "gptoss_cli", "doctor", "--base-url", url, "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "GPTOSS_HOME": str(home)},
        check=False,
    )
    report: dict[str, object] = json.loads(done.stdout)
    return report


def _statuses(report: dict[str, object]) -> dict[str, str]:
    checks = report["checks"]
    assert isinstance(checks, list)
    return {c["name"]: c["status"] for c in checks}


def test_serve_a_gguf_file_with_the_flags_gptoss_needs(llama_install: Install, tmp_path: Path) -> None:
    port = str(free_port())
    args = [str(llama_install.model), "--port", port, "--ctx", "4096", "-t", "2"]
    with _serving(llama_install, args, tmp_path) as url:
        report = _doctor(url, tmp_path)
    statuses = _statuses(report)
    assert statuses["llama --special"] == "ok"  # --special: terminators are in the text
    assert statuses["generation limit"] == "ok"
    checks: list[dict[str, str]] = report["checks"]  # type: ignore[assignment]
    limit = next(c for c in checks if c["name"] == "generation limit")
    assert "4,096-token context" in limit["detail"]  # -np 1: the whole context


def test_serve_a_repo_id_downloaded_from_the_hub(llama_install: Install, tmp_path: Path) -> None:
    with HubServer("acme/tiny-gpt-oss-GGUF", {"tiny-gpt-oss.gguf": llama_install.model}) as hub:
        env = {"HF_ENDPOINT": hub.url, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_DISABLE_TELEMETRY": "1"}
        args = ["acme/tiny-gpt-oss-GGUF", "--port", str(free_port()), "--ctx", "2048"]
        with _serving(llama_install, args, tmp_path, env) as url:
            report = _doctor(url, tmp_path)
        assert ("GET", "/acme/tiny-gpt-oss-GGUF/resolve/main/tiny-gpt-oss.gguf") in hub.requests
    assert report["server"]["kind"] == "llamacpp"  # type: ignore[index]
    cached = list((tmp_path / "hf").rglob("tiny-gpt-oss.gguf"))
    assert cached and cached[0].read_bytes()[:4] == b"GGUF"


def test_chat_with_no_server_offers_to_serve_and_answers(
    llama_install: Install, tmux: list[str], home: Path
) -> None:
    """A new user's first chat: no server on the usual port, so the chat offers one; the answer is the
    tier's tiny model; the real llama-server starts, loads it, and the chat answers from it."""
    force_every_answer(home)
    port = free_port()  # stands in for 8080 (tests/usual_port.py): the real one may be in use here
    path = f"{shlex.quote(str(llama_install.server.parent))}:$PATH"
    command = shlex.join([sys.executable, "-m", "tests.usual_port", str(port), "chat"])
    root = shlex.quote(str(Path(__file__).resolve().parents[2]))
    channel = start_in_shell(
        tmux, f"cd {root} && env GPTOSS_HOME={shlex.quote(str(home))} PATH={path} {command}"
    )
    pid = 0
    try:
        wait_for(tmux, "[y/N]")
        send_line(tmux, "y")
        wait_for(tmux, "Model to serve")
        send_line(tmux, str(llama_install.model))
        ready = wait_for(tmux, "›", timeout=300)
        pid = killed_by(ready)
        assert f"llama-server is ready at http://127.0.0.1:{port}" in ready
        ask_and_leave(tmux)
        screen = wait_done(tmux, channel)
        assert "gptoss-exit=0" in screen and "Traceback" not in screen
        assert f"still runs at http://127.0.0.1:{port} for the next chat; stop it with: kill {pid}" in screen
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) == 0, "the server should outlive the chat"
    finally:
        if pid:
            os.kill(pid, signal.SIGTERM)
