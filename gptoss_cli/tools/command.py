"""Function tools that run a command: arguments as JSON on stdin, the answer on stdout.

The command is an argument list (a string is split with ``shlex``); it never goes through a
shell, so the model's arguments can never be interpolated into a command line. It runs with a
minimal environment (``environment.py``) plus the ``env`` its declaration gives.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .environment import minimal_env
from .registry import Approval, ToolOutput

MAX_OUTPUT = 20_000


def clip(text: str, limit: int = MAX_OUTPUT) -> str:
    """Cut long output, saying how much was cut."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[... {len(text) - limit} more characters cut]"


def run_process(
    argv: Sequence[str], stdin: str, *, timeout: float, cwd: Path | None, env: Mapping[str, str] | None = None
) -> ToolOutput:
    """Run a process to completion; every failure becomes an error output, never an exception."""
    try:
        done = subprocess.run(
            list(argv),
            input=stdin,
            capture_output=True,
            text=True,
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
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()[-2000:]
        return ToolOutput(clip(f"the tool failed (exit code {done.returncode}): {detail}"), error=True)
    return ToolOutput(clip(done.stdout.rstrip("\n")))


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
