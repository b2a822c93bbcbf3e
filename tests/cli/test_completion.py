"""Tab completion: the scripts for bash, zsh and fish, and gptoss answering a shell's completion calls."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .runner import run


def _gptoss_on_path(tmp_path: Path) -> dict[str, str]:
    """A ``gptoss`` command on PATH running this checkout (as the console script would)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "gptoss"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m gptoss_cli "$@"\n', encoding="utf-8")
    script.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


def _call(env: dict[str, str], **extra: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "gptoss_cli"],
        env={**env, **extra},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize(("shell", "marker"), [("bash", "complete -o default -F"), ("zsh", "#compdef gptoss"),
                                               ("fish", "complete --command gptoss")])  # fmt: skip
def test_each_shell_gets_a_script(shell: str, marker: str) -> None:
    result = run(["completion", shell])
    assert result.code == 0 and marker in result.out and "_GPTOSS_COMPLETE" in result.out


def test_an_unknown_shell_is_a_clear_error() -> None:
    result = run(["completion", "tcsh"])
    assert result.code != 0 and "no completion for shell 'tcsh'" in result.stderr
    assert "bash, zsh, fish" in result.stderr


def test_bash_completes_commands_and_options_for_real(tmp_path: Path) -> None:
    env = _gptoss_on_path(tmp_path)
    script = (
        "source <(gptoss completion bash)\n"
        'COMP_WORDS=(gptoss his); COMP_CWORD=1; _gptoss_completion gptoss; echo "${COMPREPLY[@]}"\n'
        'COMP_WORDS=(gptoss ask --rea); COMP_CWORD=2; _gptoss_completion gptoss; echo "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["history", "--reasoning"]


def test_zsh_and_fish_completion_calls_are_answered(tmp_path: Path) -> None:
    env = _gptoss_on_path(tmp_path)
    zsh = _call(env, _GPTOSS_COMPLETE="complete_zsh", _TYPER_COMPLETE_ARGS="gptoss ask --show-r")
    assert "--show-reasoning" in zsh
    fish = _call(
        env,
        _GPTOSS_COMPLETE="complete_fish",
        _TYPER_COMPLETE_ARGS="gptoss doc",
        _TYPER_COMPLETE_FISH_ACTION="get-args",
    )
    assert fish.startswith("doctor")


def test_install_writes_the_script_where_the_shell_reads_it(tmp_path: Path) -> None:
    env = {**_gptoss_on_path(tmp_path), "HOME": str(tmp_path), "SHELL": "/bin/bash"}
    done = subprocess.run(
        [sys.executable, "-m", "gptoss_cli", "--install-completion"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "bash completion installed" in done.stdout
    assert "gptoss" in (tmp_path / ".bashrc").read_text(encoding="utf-8")
