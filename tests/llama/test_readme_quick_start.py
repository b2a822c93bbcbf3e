"""The README's first quick-start command, word for word, in a fresh copy of the repository: it makes a
venv, installs gptoss from the tree (not editable) and starts ``gptoss chat``, which finds the real
llama-server on llama-server's usual port (8080) and answers in a real terminal (tmux).

The command is read from README.md (as tests/test_tooling.py reads the second), never retyped here.
The copy holds the files git would commit (tracked, or new and not ignored), so its ``.venv`` is new.
Port 8080 must be free: discovery looks there and nowhere else for llama-server.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..test_tooling import ROOT, readme_commands
from ..ui import test_tmux
from .pane import ask_and_leave, force_every_answer, send_line, start_in_shell, wait_for
from .server import GOOD, Install, LlamaServer

tmux = test_tmux.tmux  # the fixture: a private tmux server with one 100x30 pane running /bin/sh
USUAL_PORT = 8080


class OnUsualPort(LlamaServer):
    """The tier's llama-server (with ``--special``) on port 8080, where ``gptoss chat`` looks for it."""

    def start(self, timeout: float = 60.0, attempts: int = 1) -> None:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", USUAL_PORT)) == 0:
                pytest.fail(f"port {USUAL_PORT} is taken on this machine; the test needs it free")
        self.port = USUAL_PORT
        if not self._try_start(timeout):
            pytest.fail(f"llama-server did not start on port {USUAL_PORT}:\n{self.log_tail()}")


@pytest.fixture
def usual_server(llama_install: Install, llama_logs: Path) -> Iterator[LlamaServer]:
    with OnUsualPort(llama_install, GOOD, llama_logs) as server:
        yield server


def _fresh_copy(target: Path) -> Path:
    """The repository's files as git would commit them, copied to ``target`` (no .venv, no caches)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the work tree is not copied
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def test_the_readme_install_and_chat_command_gives_a_working_chat(
    usual_server: LlamaServer, tmux: list[str], tmp_path: Path, home: Path
) -> None:
    install_and_chat, _ = readme_commands()
    copy = _fresh_copy(tmp_path / "gptoss-cli")
    assert not (copy / ".venv").exists()
    force_every_answer(home)
    send_line(tmux, f"export GPTOSS_HOME='{home}'; cd '{copy}'")
    channel = start_in_shell(tmux, install_and_chat)  # the command exactly as the README gives it
    found = wait_for(tmux, "›", timeout=600)  # pip installs from its (warm) cache, then the chat starts
    assert f"using http://127.0.0.1:{USUAL_PORT}, the usual port of llama-server" in found
    ask_and_leave(tmux)
    subprocess.run([*tmux, "wait-for", channel], check=True, timeout=60)
    screen = wait_for(tmux, "gptoss-exit=")
    assert "gptoss-exit=0" in screen and "Traceback" not in screen
    assert (copy / ".venv" / "bin" / "gptoss").is_file()
    installed = subprocess.run(
        [str(copy / ".venv" / "bin" / "python"), "-c", "import gptoss_cli; print(gptoss_cli.__file__)"],
        cwd=tmp_path,  # not a directory holding a gptoss_cli of its own
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert (
        installed.startswith(str(copy / ".venv")) and "site-packages" in installed
    )  # a real install of the package, not the tree on sys.path
