"""The offer ``gptoss chat`` makes when it finds no server: start one with ``gptoss serve``?

Plain line prompts on the terminal (no prompt_toolkit session yet: the chat has not started). The
answers: ``y`` then a model (Enter takes the default), or anything else for no. Ctrl-D is no; Ctrl-C
is left to raise, so the command exits 130 as everywhere else.

The server started this way is left running when the chat ends, as Ollama's server outlives
``ollama run``: it listens on its usual port, so the next ``gptoss chat`` finds it with the model
already loaded. The chat says so, with the command that stops it, when it starts and when it ends.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from gptoss_cli import errors
from gptoss_cli.ui.sanitize import sanitize
from gptoss_cli.ui.signals import terminate_gracefully

if TYPE_CHECKING:
    from gptoss_cli.servers.serve import Running

__all__ = ["Progress", "ask_model", "left_running", "offer_server"]


def offer_server(
    missing: errors.ServerError,
    configured_model: str | None,
    cache_dir: Path,
    *,
    stdin: TextIO,
    stderr: TextIO,
) -> Running:
    """Offer to start a server in place of the one not found; ``missing`` is raised again on no.

    Nothing is offered when neither llama-server nor vLLM is installed (the error's hint says how to
    get one).
    """
    from gptoss_cli.servers.serve import default_model, launch, model_problem

    default = default_model(configured_model)
    if default is None:
        raise missing
    model = ask_model(str(missing), default, model_problem, stdin=stdin, stderr=stderr)
    if model is None:
        raise missing
    progress = Progress(stderr)
    try:
        with terminate_gracefully():  # a hang-up while it loads stops the server too (launch does)
            running = launch(model, cache_dir=cache_dir, say=progress.say, tick=progress.tick)
    finally:
        progress.clear()
    progress.say(f"{running.plan.title} is ready at {running.plan.base_url}; {left_running(running)}")
    return running


def left_running(running: Running) -> str:
    """What the user is told about a server the chat started: it stays, and how to stop it."""
    pid = running.process.pid
    return f"it keeps running after the chat, for the next one (stop it with: kill {pid}; log: {running.log})"


_YES = ("y", "yes")


def ask_model(
    why: str,
    default: str,
    problem: Callable[[str], str | None],
    *,
    stdin: TextIO,
    stderr: TextIO,
) -> str | None:
    """Ask whether to start a server, then for which model; None for no.

    ``why`` says what was not found; ``problem`` tells why a typed model cannot be served (asked again).
    """
    stderr.write(f"gptoss: {sanitize(why)}\n")
    answer = _ask("Start a local server now with `gptoss serve`? [y/N] ", stdin, stderr)
    if answer is None or answer.strip().lower() not in _YES:
        return None
    while True:
        typed = _ask(
            f"Model to serve (a file, a directory or a Hugging Face repo id) [{default}]: ",
            stdin,
            stderr,
        )
        if typed is None:
            return None
        model = _unquote(typed.strip()) or default
        wrong = problem(model)
        if wrong is None:
            return model
        stderr.write(f"gptoss: {sanitize(wrong)}\n")


def _ask(question: str, stdin: TextIO, stderr: TextIO) -> str | None:
    """One line typed after ``question``; None at end of input (Ctrl-D)."""
    stderr.write(question)
    stderr.flush()
    line = stdin.readline()
    if not line:
        stderr.write("\n")
        return None
    return line


def _unquote(text: str) -> str:
    """A path as a shell would read it (terminals quote or escape a dropped file's path)."""
    try:
        words = shlex.split(text)
    except ValueError:
        return text
    return words[0] if len(words) == 1 else text


class Progress:
    """Tells on stderr what the start-up is doing; on a terminal, one line counting the seconds."""

    def __init__(self, stderr: TextIO) -> None:
        self.stderr = stderr
        self.live = stderr.isatty()
        self._shown = -1

    def say(self, text: str) -> None:
        self.clear()
        self.stderr.write(f"gptoss: {text}\n")
        self.stderr.flush()

    def tick(self, waited: float) -> None:
        """Called while the server loads its model (about four times a second)."""
        seconds = int(waited)
        if not self.live or seconds == self._shown:
            return
        self._shown = seconds
        self.stderr.write(f"\r\x1b[2Kgptoss: waiting for the server to load the model… {seconds} s")
        self.stderr.flush()

    def clear(self) -> None:
        if self._shown >= 0:
            self.stderr.write("\r\x1b[2K")
            self.stderr.flush()
            self._shown = -1


def offer_on_terminal(missing: errors.ServerError, configured_model: str | None) -> tuple[str, int]:
    """:func:`offer_server` on this process's terminal: the started server's base URL and pid."""
    import sys

    from gptoss_cli.paths import cache_dir

    running = offer_server(missing, configured_model, cache_dir(), stdin=sys.stdin, stderr=sys.stderr)
    return running.plan.base_url, running.process.pid
