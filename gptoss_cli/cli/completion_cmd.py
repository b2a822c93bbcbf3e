"""``gptoss completion SHELL``: tab completion for bash, zsh and fish (Typer's, loaded only when used).

The script a shell sources calls ``gptoss`` back with ``_GPTOSS_COMPLETE`` set; :func:`enable` makes
:func:`gptoss_cli.cli.main` answer those calls. Nothing here is imported by ``gptoss --version``.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from gptoss_cli.cli import app

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_GPTOSS_COMPLETE"  # cli/__init__ reads it before importing this module


def enable() -> None:
    """Register Typer's completion classes (bash, zsh, fish, powershell) with Click."""
    from typer.completion import completion_init  # type: ignore[attr-defined]

    completion_init()


def install(shell: str | None) -> None:
    """Write the completion script where the shell reads it, and say where."""
    from typer.completion import install as typer_install  # type: ignore[attr-defined]

    enable()
    try:
        used, path = typer_install(shell=shell, prog_name="gptoss", complete_var=COMPLETE_VAR)
    except OSError as exc:
        from gptoss_cli.errors import GptossError

        raise GptossError(
            f"cannot install completion: {exc}", hint="use `gptoss completion SHELL` instead"
        ) from exc
    sys.stdout.write(f"{used} completion installed in {path}; open a new shell to use it\n")


@app.command()
def completion(
    shell: Annotated[str, typer.Argument(help="bash, zsh or fish.")],
    install_it: Annotated[
        bool, typer.Option("--install", help="Add it to the shell's startup files instead of printing it.")
    ] = False,
) -> None:
    """Print the tab-completion script for SHELL (e.g. `eval "$(gptoss completion bash)"`)."""
    from gptoss_cli.errors import UsageError

    name = shell.lower()
    if name not in SHELLS:
        raise UsageError(f"no completion for shell {shell!r}", hint=f"use one of: {', '.join(SHELLS)}")
    if install_it:
        install(name)
        return
    from typer.completion import get_completion_script  # type: ignore[attr-defined]

    enable()
    sys.stdout.write(get_completion_script(prog_name="gptoss", complete_var=COMPLETE_VAR, shell=name))
    sys.stdout.write("\n")
