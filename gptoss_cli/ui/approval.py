"""Asking the user whether a tool call may run."""

from __future__ import annotations

from typing import Any, TextIO

from gptoss_cli.tools.calls import AskFn, Decision
from gptoss_cli.ui.sanitize import sanitize
from gptoss_cli.ui.terminal import echo

_ANSWERS: dict[str, Decision] = {"y": "yes", "yes": "yes", "a": "always", "always": "always"}


def _question(recipient: str, arguments: str) -> str:
    """The whole call, exactly as it will run: never cut, every control character made visible
    (an ``ESC[2K`` in the code must not erase the line the user is approving)."""
    shown = sanitize(arguments)
    if "\n" in shown.strip():
        shown = "\n" + shown.strip("\n") + "\n"
    return f"run {sanitize(recipient)} {shown}? [y]es / [N]o / [a]lways for this tool: "


def line_asker(stdin: TextIO, stderr: TextIO) -> AskFn:
    """Ask on the terminal with plain lines (``ask`` with a terminal on stdin)."""

    def ask(recipient: str, arguments: str) -> Decision:
        stderr.write("\n" + _question(recipient, arguments))
        stderr.flush()
        with echo(stdin):  # the answer is typed while a turn streams (echo is off then)
            line = stdin.readline()
        return _ANSWERS.get(line.strip().lower(), "no")

    return ask


def prompt_asker(input: Any = None, output: Any = None) -> AskFn:
    """Ask with prompt_toolkit (the chat), on the same input and output as the chat's prompt."""
    from prompt_toolkit import PromptSession

    session: PromptSession[str] = PromptSession(input=input, output=output)

    def ask(recipient: str, arguments: str) -> Decision:
        try:
            answer = session.prompt(_question(recipient, arguments))
        except (EOFError, KeyboardInterrupt):
            return "no"
        return _ANSWERS.get(answer.strip().lower(), "no")

    return ask
