"""What the talking commands share: settings -> server target -> session, stdin, saving."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gptoss_cli.errors import UsageError
from gptoss_cli.servers.kinds import SERVER_KINDS

if TYPE_CHECKING:
    pass

# Flags shared by every command that talks to a server (ask, chat, replay).
ProfileOpt = Annotated[str | None, typer.Option("--profile", help="Server profile from the config.")]
BaseUrlOpt = Annotated[str | None, typer.Option("--base-url", help="Server URL.")]
ModelOpt = Annotated[str | None, typer.Option("--model", "-m", help="Model name.")]
KIND_HELP = f"Server kind: {', '.join(SERVER_KINDS)}."
KindOpt = Annotated[str | None, typer.Option("--kind", help=KIND_HELP)]
ApiKeyEnvOpt = Annotated[str | None, typer.Option("--api-key-env", help="Env var holding the API key.")]
ConfigOpt = Annotated[str | None, typer.Option("--config", help="Config file.")]
SystemOpt = Annotated[
    str | None, typer.Option("-s", "--system", "--instructions", help="Instructions (the developer message).")
]
RoleOpt = Annotated[str | None, typer.Option("--role", help="A saved role from the config ([roles.NAME]).")]
ReasoningOpt = Annotated[
    str | None, typer.Option("-r", "--reasoning", help="Reasoning effort: low, medium, high.")
]
OptionOpt = Annotated[
    list[str] | None,
    typer.Option("-o", "--option", help="Request field: -o KEY VALUE (VALUE as JSON when it parses)."),
]
ShowReasoningOpt = Annotated[bool, typer.Option("--show-reasoning", help="Show reasoning (dim, on stderr).")]
StatsOpt = Annotated[bool, typer.Option("--stats", help="Timings and token counts on stderr.")]
NoLogOpt = Annotated[bool, typer.Option("-n", "--no-log", help="Do not save the conversation.")]
ToolsOpt = Annotated[
    list[str] | None,
    typer.Option("--tools", help="Enable the tools declared in a TOML/JSON file (repeatable)."),
]
FunctionsOpt = Annotated[
    list[str] | None,
    typer.Option("--functions", help="Python file whose functions become tools (repeatable)."),
]
PythonToolOpt = Annotated[
    bool, typer.Option("--python", help="Enable the built-in python tool (a separate, stateful process).")
]
BrowserOpt = Annotated[bool, typer.Option("--browser", help="Enable the built-in browser tool (open, find).")]
YesOpt = Annotated[bool, typer.Option("-y", "--yes", help="Run tool calls without asking.")]
MaxStepsOpt = Annotated[
    int, typer.Option("--max-steps", min=1, help="Most tool calls for one request (at least 1).")
]
SchemaOpt = Annotated[
    str | None, typer.Option("--schema", help="Structured output: a JSON Schema (a file, or inline JSON).")
]


def server_flags(
    config: str | None,
    profile: str | None,
    base_url: str | None,
    model: str | None,
    kind: str | None,
    api_key_env: str | None,
) -> dict[str, Any]:
    """The server part of :func:`resolve`'s flags."""
    return {
        "config": config,
        "profile": profile,
        "base_url": base_url,
        "model": model,
        "kind": kind,
        "api_key_env": api_key_env,
    }


def read_stdin_if_piped() -> str | None:
    """Piped stdin as text (as ``llm`` does), or None when stdin is a terminal or empty."""
    stdin = sys.stdin
    if stdin is None or stdin.isatty():
        return None
    data = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read().encode()
    text = data.decode("utf-8", "replace")
    return text if text.strip() else None


def split_options(values: Sequence[str]) -> list[tuple[str, str]]:
    """``KEY=VALUE`` strings (what ``-o KEY VALUE`` became) as pairs."""
    pairs = []
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise UsageError(f"bad option {value!r}", hint="use -o KEY VALUE")
        pairs.append((key, rest))
    return pairs
