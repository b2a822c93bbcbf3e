"""Function tools that run a command: arguments as JSON on stdin, the answer on stdout.

The command is an argument list (a string is split with ``shlex``); it never goes through a
shell, so the model's arguments can never be interpolated into a command line. It runs with a
minimal environment (``environment.py``) plus the ``env`` its declaration gives.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from gptoss_cli.bounds import TOOL_OUTPUT
from gptoss_cli.tools.environment import minimal_env
from gptoss_cli.tools.registry import Approval, ToolOutput


def clip(text: str, limit: int | None = None) -> str:
    """Cut long output at the tool output limit, saying how much was cut and how to raise the limit."""
    limit = TOOL_OUTPUT.value if limit is None else limit
    if len(text) <= limit:
        return text
    return text[:limit] + (
        f"\n[... {len(text) - limit} more characters cut: the tool output limit is {limit:,} characters"
        f" ({TOOL_OUTPUT.env})]"
    )


def _read_capped(file: IO[bytes], limit: int) -> tuple[str, int]:
    """The start of a captured stream (at most ``limit`` characters' worth of bytes), and how many
    bytes were left unread."""
    size = file.seek(0, os.SEEK_END)
    file.seek(0)
    data = file.read(limit * 4 + 4)
    return data.decode("utf-8", "replace"), size - len(data)


def run_process(
    argv: Sequence[str], stdin: str, *, timeout: float, cwd: Path | None, env: Mapping[str, str] | None = None
) -> ToolOutput:
    """Run a process to completion; every failure becomes an error output, never an exception.

    Its output goes to temporary files, of which only the first characters up to the tool output
    limit are read: a tool printing gigabytes cannot exhaust gptoss's memory.
    """
    limit = TOOL_OUTPUT.value
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            done = subprocess.run(
                list(argv),
                input=stdin.encode("utf-8"),
                stdout=out,
                stderr=err,
                timeout=timeout,
                cwd=cwd,
                env=minimal_env(extra=env),
                check=False,
            )
        except subprocess.TimeoutExpired:
            return ToolOutput(f"the tool timed out after {timeout:g} s and was stopped", error=True)
        except FileNotFoundError:
            return ToolOutput(f"the tool's command was not found: {argv[0]}", error=True)
        except OSError as exc:
            return ToolOutput(f"the tool could not start: {exc.strerror or exc}", error=True)
        text, unread = _read_capped(out, limit)
        if done.returncode != 0:
            problem, _ = _read_capped(err, limit)
            detail = (problem or text).strip()[-2000:]
            return ToolOutput(clip(f"the tool failed (exit code {done.returncode}): {detail}"), error=True)
    if unread:  # cut while reading: say so
        return ToolOutput(
            text[:limit] + f"\n[... the rest ({unread:,} bytes more) cut: the tool output limit is"
            f" {limit:,} characters ({TOOL_OUTPUT.env})]"
        )
    return ToolOutput(clip(text.replace("\r\n", "\n").rstrip("\n")))


@dataclass(frozen=True)
class CommandTool:
    """A function tool backed by a command."""

    name: str
    description: str
    parameters: Mapping[str, Any] | None
    command: tuple[str, ...]
    timeout: float = 30.0
    cwd: Path | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    approve: Approval = "ask"

    def run(self, arguments: Any) -> ToolOutput:
        return run_process(
            self.command, json.dumps(arguments), timeout=self.timeout, cwd=self.cwd, env=self.env
        )

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class PythonFunctionTool:
    """A function from a ``--functions`` file, run in a child Python process (never in ours)."""

    name: str
    description: str
    parameters: Mapping[str, Any] | None
    file: Path
    timeout: float = 60.0
    approve: Approval = "ask"

    def run(self, arguments: Any) -> ToolOutput:
        import sys

        driver = Path(__file__).with_name("_functions_driver.py")
        argv = [sys.executable, str(driver), "call", str(self.file), self.name]
        return run_process(argv, json.dumps(arguments), timeout=self.timeout, cwd=self.file.parent)

    def close(self) -> None:
        pass
