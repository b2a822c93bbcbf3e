"""Settings in force: flags > environment > config file > ``OPENAI_*`` fallbacks > defaults.

:func:`resolve` takes the CLI's flag overrides as a plain dict (keys in :data:`FLAG_NAMES`; a
``None`` value means "flag not given") and returns :class:`Settings`: the selected profile, the
prompt and display settings, the API key (a :class:`Secret`, redacted in every ``repr``, ``str``
and ``to_dict``) and, for every value, where it came from.

``OPENAI_BASE_URL`` and ``OPENAI_API_KEY`` rank *below* the config file: they fill in only what the
selected profile leaves unset. Ranked above it, a key exported for OpenAI would be sent to every
profile's server (and a global ``OPENAI_BASE_URL`` would make every profile point at one URL).
``GPTOSS_*`` variables are meant for gptoss alone and override the file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from gptoss_cli.config.loader import ENV_CONFIG, ConfigFile, read_config_file
from gptoss_cli.config.schema import (
    FIELDS,
    ROLE_SETTINGS,
    DisplayConfig,
    HistoryConfig,
    ProfileConfig,
    PromptConfig,
    describe,
)
from gptoss_cli.errors import ConfigError, UsageError

__all__ = ["ENV_VARS", "FLAG_NAMES", "Secret", "Settings", "resolve"]

REDACTED = "<redacted>"

FLAG_NAMES: Mapping[str, str] = {
    "config": "--config",
    "profile": "--profile",
    "base_url": "--base-url",
    "model": "--model",
    "kind": "--kind",
    "api_key_env": "--api-key-env",
    "connect_timeout": "--connect-timeout",
    "read_timeout": "--read-timeout",
    "reasoning": "--reasoning",
    "identity": "--identity",
    "knowledge_cutoff": "--knowledge-cutoff",
    "date": "--date",
    "instructions": "--instructions",
    "show_reasoning": "--show-reasoning",
    "markdown": "--markdown",
    "stats": "--stats",
    "color": "--color",
    "save_history": "--no-log",
    "role": "--role",
}
"""Keys :func:`resolve` accepts in its ``flags`` dict, with the flag each names in messages."""

# Flag key -> dotted setting it overrides ("profile.X" is the selected profile's X).
_TARGET: Mapping[str, str] = {
    **{
        k: f"profile.{k}"
        for k in ("base_url", "model", "kind", "api_key_env", "connect_timeout", "read_timeout")
    },
    **{k: f"prompt.{k}" for k in ("reasoning", "identity", "knowledge_cutoff", "date", "instructions")},
    **{k: f"display.{k}" for k in ("show_reasoning", "markdown", "stats", "color")},
    "save_history": "history.save",
}

ENV_VARS: Mapping[str, str] = {
    "GPTOSS_HOME": "directory for config, conversations and cache (see gptoss_cli.paths)",
    ENV_CONFIG: "config file path (like --config)",
    "GPTOSS_PROFILE": "profile name (like --profile)",
    "GPTOSS_BASE_URL": "server URL (like --base-url)",
    "GPTOSS_MODEL": "model name (like --model)",
    "GPTOSS_KIND": "server kind (like --kind)",
    "GPTOSS_REASONING": "reasoning effort (like --reasoning)",
    "GPTOSS_API_KEY": "API key, used in place of the profile's api_key_env",
    "OPENAI_BASE_URL": "server URL when the profile sets none",
    "OPENAI_API_KEY": "API key when the profile names no api_key_env",
}
"""Environment variables gptoss reads, for the README and ``config show``."""

_ENV_OVERRIDES: Mapping[str, str] = {
    "GPTOSS_BASE_URL": "profile.base_url",
    "GPTOSS_MODEL": "profile.model",
    "GPTOSS_KIND": "profile.kind",
    "GPTOSS_REASONING": "prompt.reasoning",
}


class Secret:
    """A secret string (an API key). Its ``repr``/``str`` never show it; :meth:`reveal` does."""

    __slots__ = ("_value", "source")

    def __init__(self, value: str, source: str) -> None:
        self._value = value
        self.source = source
        """Where it came from, e.g. ``"env MY_KEY"`` (the variable's name, never its value)."""

    def reveal(self) -> str:
        """The secret itself: only for the Authorization header."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({REDACTED}, source={self.source!r})"

    def __str__(self) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value and other.source == self.source

    def __hash__(self) -> int:
        return hash((self._value, self.source))

    def __copy__(self) -> Secret:
        return self  # immutable: dataclasses.asdict and deepcopy may share it

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")  # nor cached to disk by accident


@dataclass(frozen=True)
class Settings:
    """Everything a command needs from config, environment and flags, resolved."""

    profile_name: str
    profile: ProfileConfig
    api_key: Secret | None
    prompt: PromptConfig
    display: DisplayConfig
    history: HistoryConfig
    config_file: Path
    config_file_exists: bool
    sources: dict[str, str]
    """Dotted setting (``profile.model``, ``prompt.reasoning``, ``api_key``...) -> where its value came
    from: ``"default"``, ``"file PATH:LINE"``, ``"env NAME"`` or ``"flag --NAME"``."""
    tools: dict[str, dict[str, Any]] = field(default_factory=dict)
    """``[tools.NAME]`` from the file (function tools always offered)."""
    mcp: dict[str, dict[str, Any]] = field(default_factory=dict)
    """``[mcp.NAME]`` from the file (MCP servers)."""
    builtins: dict[str, Any] = field(default_factory=dict)
    """``[builtins]`` from the file."""
    role: str | None = None
    """The ``--role`` in force, if any."""
    role_tools: tuple[str, ...] = ()
    """Tool files the role offers (added to ``--tools``)."""
    roles: dict[str, dict[str, Any]] = field(default_factory=dict)
    """``[roles.NAME]`` from the file (for the chat's ``/role``)."""
    key_variables: tuple[str, ...] = ()
    """Every environment variable any profile (or ``--api-key-env``) names as holding an API key:
    tools never see these (see ``tools/environment.py``)."""

    @property
    def harmony(self) -> str:
        """The Harmony form of every prompt: the profile's own, else ``[prompt] harmony``."""
        return self.profile.harmony or self.prompt.harmony

    @property
    def harmony_source(self) -> str:
        """Where :attr:`harmony` came from (as in :attr:`sources`)."""
        if self.profile.harmony is not None:
            return self.sources.get("profile.harmony", "default")
        return self.sources.get("prompt.harmony", "default")

    def to_dict(self) -> dict[str, Any]:
        """Every setting as plain data, the API key redacted (for ``config show`` and ``--json``)."""
        return {
            "config_file": str(self.config_file),
            "config_file_exists": self.config_file_exists,
            "profile_name": self.profile_name,
            "profile": self.profile.to_dict(),
            "api_key": None if self.api_key is None else REDACTED,
            "prompt": _plain(self.prompt),
            "display": _plain(self.display),
            "history": _plain(self.history),
            "sources": dict(self.sources),
        }


def _plain(section: Any) -> dict[str, Any]:
    return {f.name: getattr(section, f.name) for f in fields(section)}


def resolve(
    flags: Mapping[str, Any] | None = None, *, env: Mapping[str, str] | None = None, require_key: bool = True
) -> Settings:
    """The settings in force for the CLI's ``flags`` (see the module docstring for the order).

    Raises :class:`UsageError` for a bad flag value or an unknown ``--profile``, and
    :class:`ConfigError` for a bad file, environment value or unknown ``GPTOSS_PROFILE``. An
    ``api_key_env`` naming an unset variable is an error too, unless ``require_key`` is false
    (``config show``, ``--dry-run``): then the key is None and ``sources["api_key"]`` says why.
    ``env`` defaults to ``os.environ``.
    """
    env = os.environ if env is None else env
    given = {k: v for k, v in (flags or {}).items() if v is not None}
    unknown = sorted(set(given) - set(FLAG_NAMES))
    if unknown:
        raise ValueError(f"resolve() got unknown flag keys: {', '.join(unknown)}")  # a bug in the caller
    file = read_config_file(given.get("config"), env=env)
    builder = _Builder(file, env)
    builder.select_profile(given.get("profile"))
    builder.apply_fallbacks()
    for var, target in _ENV_OVERRIDES.items():
        if env.get(var):
            builder.set(target, env[var], f"env {var}", is_flag=False)
    role = builder.apply_role(given.get("role"))
    for key, value in given.items():
        if key in _TARGET:
            builder.set(_TARGET[key], value, f"flag {FLAG_NAMES[key]}", is_flag=True)
    api_key = builder.api_key(given.get("api_key_env"), required=require_key)
    return Settings(
        profile_name=builder.profile_name,
        profile=builder.sections["profile"],
        api_key=api_key,
        prompt=builder.sections["prompt"],
        display=builder.sections["display"],
        history=builder.sections["history"],
        config_file=file.path,
        config_file_exists=file.exists,
        sources=builder.sources,
        tools=file.config.tools,
        mcp=file.config.mcp,
        builtins=file.config.builtins,
        role=given.get("role"),
        role_tools=tuple(role.get("tools") or ()),
        roles=file.config.roles,
        key_variables=_key_variables(file.config.profiles.values(), given.get("api_key_env")),
    )


def _key_variables(profiles: Any, flag: str | None) -> tuple[str, ...]:
    names = {"GPTOSS_API_KEY", "OPENAI_API_KEY", *(p.api_key_env for p in profiles if p.api_key_env)}
    if flag:
        names.add(flag)
    return tuple(sorted(names))


class _Builder:
    """Applies one layer after another, recording where each value came from."""

    def __init__(self, file: ConfigFile, env: Mapping[str, str]) -> None:
        self.file = file
        self.env = env
        config = file.config
        self.sections: dict[str, Any] = {
            "prompt": config.prompt,
            "display": config.display,
            "history": config.history,
            "profile": ProfileConfig(),
        }
        self.profile_name = config.selected_profile_name()
        self.sources: dict[str, str] = {}
        for name in ("prompt", "display", "history"):
            for f in fields(self.sections[name]):
                self.sources[f"{name}.{f.name}"] = self.file_source((name, f.name))

    def file_source(self, path: tuple[str, ...]) -> str:
        if not _defined(self.file.data, path):
            return "default"
        line = self.file.line_of(path)
        return f"file {self.file.path}" + (f":{line}" if line else "")

    def select_profile(self, flag: str | None) -> None:
        config = self.file.config
        if flag is not None:
            name, source = flag, "flag --profile"
        elif self.env.get("GPTOSS_PROFILE"):
            name, source = self.env["GPTOSS_PROFILE"], "env GPTOSS_PROFILE"
        else:
            name = self.profile_name
            source = self.file_source(("default_profile",))
            if source == "default" and name in config.profiles:
                source = f"file {self.file.path} (its only profile)"
        profile = config.profile(name)
        if profile is None:
            known = ", ".join(config.profile_names())
            hint = f"known profiles: {known}" + (
                "" if self.file.exists else f" (no config file at {self.file.path})"
            )
            if flag is not None:
                raise UsageError(f"--profile {name}: no such profile", hint=hint)
            raise ConfigError(f"no profile named {name!r}", key="GPTOSS_PROFILE", hint=hint)
        self.profile_name = name
        self.sections["profile"] = profile
        self.sources["profile"] = source
        for f in fields(ProfileConfig):
            self.sources[f"profile.{f.name}"] = self.file_source(("profiles", name, f.name))

    def apply_role(self, name: str | None) -> dict[str, Any]:
        """``--role NAME``: the role's settings over the file's and the environment's (flags come later)."""
        if name is None:
            return {}
        roles = self.file.config.roles
        if name not in roles:
            known = ", ".join(sorted(roles)) or f"none: define [roles.{name}] in {self.file.path}"
            raise UsageError(f"--role {name}: no such role", hint=f"roles: {known}")
        role = roles[name]
        for key, target in ROLE_SETTINGS.items():
            if key in role:
                self.set(target, role[key], f"role {name}", is_flag=False)
        if role.get("options"):
            profile: ProfileConfig = self.sections["profile"]
            merged = {**profile.options, **role["options"]}
            self.sections["profile"] = replace(profile, options=merged)
            self.sources["profile.options"] = f"role {name}"
        return role

    def apply_fallbacks(self) -> None:
        """``OPENAI_BASE_URL`` where the file set no base URL for this profile."""
        url = self.env.get("OPENAI_BASE_URL")
        if url and self.sources["profile.base_url"] == "default":
            self.set("profile.base_url", url, "env OPENAI_BASE_URL", is_flag=False)

    def set(self, target: str, value: Any, source: str, *, is_flag: bool) -> None:
        section, key = target.split(".")
        schema_key = f"profiles.*.{key}" if section == "profile" else target
        spec = FIELDS[schema_key]
        try:
            checked = spec.check(value)
        except ValueError:
            got = "" if spec.secret_value else f", got {describe(value)}"
            where = source.split(" ", 1)[1]
            if is_flag:
                raise UsageError(f"{where}: expected {spec.expected}{got}") from None
            raise ConfigError(f"expected {spec.expected}{got}", key=where) from None
        self.sections[section] = replace(self.sections[section], **{key: checked})
        self.sources[target] = source

    def api_key(self, flag_env: str | None, *, required: bool) -> Secret | None:
        """--api-key-env > GPTOSS_API_KEY > the profile's api_key_env > OPENAI_API_KEY > none."""
        if flag_env is not None:
            value = self.env.get(flag_env)
            if not value:
                if not required:
                    self.sources["api_key"] = f"missing: ${flag_env} is not set"
                    return None
                raise UsageError(
                    f"--api-key-env {flag_env}: ${flag_env} is not set", hint=f"export {flag_env}=..."
                )
            return self._key(value, f"env {flag_env}")
        if self.env.get("GPTOSS_API_KEY"):
            return self._key(self.env["GPTOSS_API_KEY"], "env GPTOSS_API_KEY")
        profile: ProfileConfig = self.sections["profile"]
        if profile.api_key_env:
            value = self.env.get(profile.api_key_env)
            if not value:
                if not required:
                    self.sources["api_key"] = f"missing: ${profile.api_key_env} is not set"
                    return None
                path = ("profiles", self.profile_name, "api_key_env")
                raise ConfigError(
                    f"${profile.api_key_env} is not set"
                    f" (profile {self.profile_name!r} reads its API key from it)",
                    file=str(self.file.path),
                    line=self.file.line_of(path),
                    key=".".join(path),
                    hint=f"export {profile.api_key_env}=... or change api_key_env",
                )
            return self._key(value, f"env {profile.api_key_env}")
        if self.env.get("OPENAI_API_KEY"):
            return self._key(self.env["OPENAI_API_KEY"], "env OPENAI_API_KEY")
        self.sources["api_key"] = "none"
        return None

    def _key(self, value: str, source: str) -> Secret:
        self.sources["api_key"] = source
        return Secret(value.strip(), source)


def _defined(data: Mapping[str, Any], path: tuple[str, ...]) -> bool:
    node: Any = data
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True
