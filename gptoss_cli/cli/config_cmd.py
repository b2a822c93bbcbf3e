"""``gptoss config``: the commented TOML config file."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from gptoss_cli.cli import app

config_app = typer.Typer(
    help="Show and edit the config file (profiles, prompt defaults, display).", no_args_is_help=True
)
app.add_typer(config_app, name="config")

_ConfigPath = Annotated[str | None, typer.Option("--config", help="Config file (default: the platform's).")]


@config_app.command("path")
def config_path(config: _ConfigPath = None) -> None:
    """Print where the config file is (or would be)."""
    from gptoss_cli.config.loader import config_file_path

    sys.stdout.write(f"{config_file_path(config)}\n")


@config_app.command("init")
def config_init(
    config: _ConfigPath = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write the commented template config file."""
    from gptoss_cli.config.loader import init_config

    path = init_config(config, force=force)
    sys.stderr.write(f"wrote {path}\n")


@config_app.command("show")
def config_show(
    config: _ConfigPath = None,
    profile: Annotated[str | None, typer.Option("--profile", help="Profile to show.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (for scripts).")] = False,
) -> None:
    """Print the settings in force (file, environment, defaults) and where each came from; keys redacted."""
    from gptoss_cli.config.resolve import resolve
    from gptoss_cli.transport.urls import redact_url

    settings = resolve({"config": config, "profile": profile}, require_key=False)
    data = settings.to_dict()
    if isinstance(data["profile"].get("base_url"), str):  # no password in a paste
        data["profile"]["base_url"] = redact_url(data["profile"]["base_url"])
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    sys.stdout.write(settings_table(data))


def settings_table(data: dict[str, Any]) -> str:
    """``config show``'s table: one row per setting, its value as TOML writes it, and where it came from."""
    from gptoss_cli.config.edit import format_value

    sources: dict[str, str] = data["sources"]
    exists = "" if data["config_file_exists"] else " (not created yet: gptoss config init)"
    rows = [("profile", data["profile_name"], sources.get("profile", "default"))]
    for section in ("profile", "prompt", "display", "history"):
        for key, value in data[section].items():
            name = f"{section}.{key}"
            source = sources.get(name, "default")
            shown = value if isinstance(value, str) else format_value(value)
            if name == "profile.base_url" and source == "default":
                shown = "(none: a local server is found on the usual ports)"
            rows.append((name, shown, source))
    key_source = sources.get("api_key", "none")
    rows.append(("api_key", "<redacted>" if data["api_key"] else "(none)", key_source))
    width = max(len(r[0]) for r in rows)
    value_width = min(60, max(len(r[1]) for r in rows))
    lines = [f"config file: {data['config_file']}{exists}", ""]
    lines.append(f"{'KEY':<{width}}  {'VALUE':<{value_width}}  FROM")
    for name, value, source in rows:
        cut = value if len(value) <= value_width else value[: value_width - 1] + "…"
        lines.append(f"{name:<{width}}  {cut:<{value_width}}  {source}")
    return "\n".join(lines) + "\n"


@config_app.command("get")
def config_get(
    key: Annotated[str, typer.Argument(help="Dotted key, e.g. prompt.reasoning or profiles.local.model.")],
    config: _ConfigPath = None,
) -> None:
    """Print one setting from the config file (merged over the defaults), raw: strings without quotes."""
    from gptoss_cli.config.edit import format_value, get_value
    from gptoss_cli.config.loader import load_config

    value = get_value(load_config(config), key)
    sys.stdout.write(f"{value if isinstance(value, str) else format_value(value)}\n")


@config_app.command("set")
def config_set(
    key: Annotated[str, typer.Argument(help="Dotted key.")],
    value: Annotated[str, typer.Argument(help="Value (a TOML value when it parses, else a string).")],
    config: _ConfigPath = None,
) -> None:
    """Set one setting in the config file (written atomically, comments kept)."""
    from gptoss_cli.config.edit import set_value

    result = set_value(key, value, path=config)
    note = "" if result.comments_kept else " (the file was rewritten: comments lost)"
    sys.stderr.write(f"set {result.key} in {result.path}{note}\n")
