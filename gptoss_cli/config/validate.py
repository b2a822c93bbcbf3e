"""Checking a parsed config file against the schema, naming file, dotted key and line.

:func:`config_from_dict` turns ``tomllib``'s dict into a :class:`~.schema.Config`; an unknown key or
a wrong type raises :class:`~gptoss_cli.errors.ConfigError` with the file, the key, the line (found
by :mod:`.tomlscan`) and what is expected. :func:`config_problems` lists every problem.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from gptoss_cli.config.schema import (
    FIELDS,
    OPTION_VALUE,
    SECTIONS,
    TOOL_FIELDS,
    Config,
    Field,
    ProfileConfig,
    describe,
)
from gptoss_cli.config.tomlscan import Scan
from gptoss_cli.errors import ConfigError

__all__ = ["config_from_dict", "config_problems"]

_BAD = object()


class _Checker:
    """Walks tomllib's dict against the schema, collecting one ConfigError per problem."""

    def __init__(self, file: str | None, where: Scan | None) -> None:
        self.file = file
        self.where = where
        self.problems: list[ConfigError] = []

    def error(self, path: tuple[str, ...], message: str, hint: str | None = None) -> None:
        line = self.where.line_of(path) if self.where is not None else None
        self.problems.append(ConfigError(message, file=self.file, line=line, key=".".join(path), hint=hint))

    def unknown(self, path: tuple[str, ...], known: list[str]) -> None:
        if path[-1] in ("api_key", "key", "token") and path[0] == "profiles":
            self.error(
                path,
                "API keys are never stored in the config file",
                hint='put the key in an environment variable and name it: api_key_env = "MY_KEY_VAR"',
            )
            return
        import difflib  # only on this error path

        close = difflib.get_close_matches(path[-1], known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known keys here: {', '.join(known)}"
        self.error(path, "unknown key", hint=hint)

    def value(self, path: tuple[str, ...], value: Any, spec: Field) -> Any:
        """The checked value, or ``_BAD`` after recording the problem."""
        try:
            return spec.check(value)
        except ValueError:
            got = "" if spec.secret_value else f", got {describe(value)}"
            self.error(path, f"expected {spec.expected}{got}")
            return _BAD

    def section(self, path: tuple[str, ...], raw: Any, keys: Mapping[str, Field]) -> dict[str, Any] | None:
        if not isinstance(raw, dict):
            self.error(path, f"expected a table [{'.'.join(path)}], got {describe(raw)}")
            return None
        out: dict[str, Any] = {}
        for key, value in raw.items():
            spec = keys.get(key)
            if spec is None:
                self.unknown((*path, key), list(keys))
                continue
            checked = self.value((*path, key), value, spec)
            if checked is not _BAD:
                out[key] = checked
        return out

    def options(self, path: tuple[str, ...], raw: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in raw.items():
            for sub_path, bad in _non_json(value, (*path, key)):
                self.error(sub_path, f"expected {OPTION_VALUE.expected}, got {describe(bad)}")
            out[key] = value
        return out


def _non_json(value: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(value, (dt.date, dt.time)):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _non_json(v, (*path, k))
    elif isinstance(value, list):
        for v in value:
            yield from _non_json(v, path)


def _keys(prefix: str) -> dict[str, Field]:
    return {
        k[len(prefix) :]: f for k, f in FIELDS.items() if k.startswith(prefix) and "." not in k[len(prefix) :]
    }


def config_problems(
    data: Mapping[str, Any], *, file: str | None = None, where: Scan | None = None
) -> list[ConfigError]:
    """Every problem in a parsed config file, in file order; empty when it is valid."""
    return _check(data, file, where)[1]


def config_from_dict(
    data: Mapping[str, Any], *, file: str | None = None, where: Scan | None = None
) -> Config:
    """A :class:`Config` from ``tomllib``'s dict; raises the first :class:`ConfigError` found."""
    config, problems = _check(data, file, where)
    if problems:
        first = problems[0]
        if len(problems) > 1 and first.hint is None:
            first.hint = f"fix it and run again: {len(problems) - 1} more problem(s) in this file"
        raise first
    return config


def _check(data: Mapping[str, Any], file: str | None, where: Scan | None) -> tuple[Config, list[ConfigError]]:
    checker = _Checker(file, where)
    top_known = ["default_profile", *SECTIONS, "profiles", "tools", "mcp", "builtins", "roles"]
    config = Config()
    for key, raw in data.items():
        if key == "default_profile":
            name = checker.value((key,), raw, FIELDS[key])
            if name is not _BAD:
                config = replace(config, default_profile=name)
        elif key in SECTIONS:
            values = checker.section((key,), raw, _keys(f"{key}."))
            if values is not None:
                config = replace(config, **{key: replace(getattr(config, key), **values)})
        elif key == "profiles":
            config = replace(config, profiles=_profiles(checker, raw))
        elif key == "tools":
            config = replace(config, tools=_named_tables(checker, key, raw))
        elif key == "mcp":
            config = replace(config, mcp=_named_tables(checker, key, raw))
        elif key == "roles":
            config = replace(config, roles=_named_tables(checker, key, raw))
        elif key == "builtins":
            values = checker.section((key,), raw, _tool_keys("builtins."))
            config = replace(config, builtins=values or {})
        else:
            checker.unknown((key,), top_known)
    if config.default_profile and config.profile(config.default_profile) is None:
        checker.error(
            ("default_profile",),
            f"no profile named {config.default_profile!r}",
            hint=f"define [profiles.{config.default_profile}]"
            f" or use one of: {', '.join(config.profile_names())}",
        )
    problems = sorted(checker.problems, key=lambda e: e.line or 0)
    return config, problems


def _tool_keys(prefix: str) -> dict[str, Field]:
    return {k[len(prefix) :]: f for k, f in TOOL_FIELDS.items() if k.startswith(prefix)}


def _named_tables(checker: _Checker, key: str, raw: Any) -> dict[str, dict[str, Any]]:
    """``[tools.NAME]`` or ``[mcp.NAME]`` tables, each checked key by key."""
    if not isinstance(raw, dict):
        checker.error((key,), f"expected tables [{key}.NAME], got {describe(raw)}")
        return {}
    out: dict[str, dict[str, Any]] = {}
    for name, table in raw.items():
        values = checker.section((key, name), table, _tool_keys(f"{key}.*."))
        if values is None:
            continue
        if key == "tools" and "command" not in table:
            checker.error((key, name), "a tool needs a command", hint='command = ["program", "arg"]')
            continue
        if key == "mcp" and ("command" in table) == ("url" in table):
            checker.error((key, name), "an MCP server needs a command or a url (one of them)")
            continue
        out[name] = values
    return out


def _profiles(checker: _Checker, raw: Any) -> dict[str, ProfileConfig]:
    if not isinstance(raw, dict):
        checker.error(("profiles",), f"expected a table of profiles ([profiles.NAME]), got {describe(raw)}")
        return {}
    profiles: dict[str, ProfileConfig] = {}
    for name, table in raw.items():
        values = checker.section(("profiles", name), table, _keys("profiles.*."))
        if values is None:
            continue
        if isinstance(values.get("options"), dict):
            values["options"] = checker.options(("profiles", name, "options"), values["options"])
        profiles[name] = replace(ProfileConfig(), **values)
    return profiles
