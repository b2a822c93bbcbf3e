"""ruff (lint and format) and mypy --strict are part of the tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_ruff_lint() -> None:
    result = _run("ruff", "check", "gptoss_cli", "tests", "benchmarks")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = _run("ruff", "format", "--check", "gptoss_cli", "tests", "benchmarks")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict() -> None:
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def readme_commands() -> tuple[str, str]:
    """The README quick start's two commands, without their comments: install and chat, and the tests."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Quick start", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    install, tests = (line.split("  #", 1)[0].strip() for line in block.strip().splitlines())
    return install, tests


def test_ci_runs_the_readme_test_command_word_for_word() -> None:
    """The README's quick start gives two commands; CI runs the second (the tests) exactly as written,
    and the llama tier the first (tests/llama/test_readme_quick_start.py)."""
    install, tests = readme_commands()
    assert install.startswith("python3 -m venv .venv && ") and install.endswith("gptoss chat")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert tests in ci
